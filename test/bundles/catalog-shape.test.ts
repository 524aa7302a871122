import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { catalogIssues } from "../../src/bundles/catalog-shape.ts";
import { readTarGz } from "../../src/bundles/tar.ts";
import { FILE_BUNDLE } from "./support.ts";

// SPEC §11.A6: the catalog's shape, and the switch data beside it, checked before activation.

const shipped = JSON.parse(
  (await readTarGz(readFileSync(FILE_BUNDLE))).get("data.json")!.toString("utf8"),
).reference;
const entry = () => structuredClone(shipped.providers.catalog[0]);
const withEntry = (e: unknown, extra: Record<string, unknown> = {}) => ({
  ...shipped,
  ...extra,
  providers: { catalog: [...shipped.providers.catalog, e] },
});
const last = shipped.providers.catalog.length;

describe("provider catalog shape", () => {
  it("the shipped catalog and switch data pass", () => {
    expect(catalogIssues(shipped)).toEqual([]);
    expect(
      catalogIssues({ ...shipped, mechanisms: { dpf_valid: false }, dpdp: { restricted_countries: ["CN"] } }),
    ).toEqual([]);
  });

  it.each([
    ["trains_on_data", "yes"],
    ["attested", 1],
    ["dpa", null],
    ["zero_data_retention", "true"],
    ["dpf_certified", "false"],
  ])("a flag that is not a boolean is refused: %s = %o", (field, value) => {
    const e = { ...entry(), provider: "other-provider", [field]: value };
    expect(catalogIssues(withEntry(e))).toEqual([
      {
        code: "CATALOG_INVALID",
        index: last,
        field,
        message: expect.stringContaining(`${field} must be true or false`),
      },
    ]);
  });

  it("an absent flag is allowed (the Rego reads it fail-closed)", () => {
    const e = { ...entry(), provider: "other-provider" };
    delete e.attested;
    delete e.dpa;
    expect(catalogIssues(withEntry(e))).toEqual([]);
  });

  it("a geo route needs at least one destination, including its region", () => {
    const e = { ...entry(), provider: "geo-provider", route: "geo:eu", destinations: [] };
    expect(catalogIssues(withEntry(e))).toMatchObject([{ index: last, field: "destinations" }]);
    expect(catalogIssues(withEntry({ ...e, destinations: undefined }))).toMatchObject([
      { field: "destinations" },
    ]);
    expect(catalogIssues(withEntry({ ...e, destinations: ["eu-central"], region: "eu-west" }))).toMatchObject(
      [{ field: "destinations" }],
    );
    expect(
      catalogIssues(withEntry({ ...e, destinations: ["us-east", "us-east"], region: "us-east" })),
    ).toMatchObject([{ field: "destinations", message: expect.stringContaining("distinct") }]);
    expect(catalogIssues(withEntry({ ...e, destinations: [e.region, "eu-central"] }))).toEqual([]);
  });

  it("a single route's destinations are exactly its region; a global route may omit them", () => {
    const e = { ...entry(), provider: "route-provider" };
    expect(catalogIssues(withEntry({ ...e, destinations: ["eu-west", "us-east"] }))).toMatchObject([
      { field: "destinations" },
    ]);
    expect(catalogIssues(withEntry({ ...e, route: "global", destinations: undefined }))).toEqual([]);
    expect(catalogIssues(withEntry({ ...e, route: "geo:global" }))).toMatchObject([{ field: "route" }]);
    expect(catalogIssues(withEntry({ ...e, route: "everywhere" }))).toMatchObject([{ field: "route" }]);
  });

  it("required keys, their types, and (provider, region, route) unique", () => {
    const issues = catalogIssues(
      withEntry({ provider: "Bad Name", region: "mars", models: [], endpoint: "http://x", route: "single" }),
    );
    expect(issues.map((i) => i.field).sort()).toEqual([
      "destinations",
      "endpoint",
      "models",
      "provider",
      "region",
    ]);
    expect(catalogIssues(withEntry(entry()))).toMatchObject([
      {
        index: last,
        field: "(provider, region, route)",
        message: "the same provider, region and route as entry 0",
      },
    ]);
    expect(catalogIssues(withEntry("not an entry"))).toMatchObject([{ index: last, field: "(entry)" }]);
    expect(catalogIssues({ ...shipped, providers: { catalog: {} } })).toMatchObject([
      { index: null, field: "providers.catalog" },
    ]);
  });

  it("bundle data: mechanisms.* are booleans, dpdp.restricted_countries two-letter upper-case codes", () => {
    expect(catalogIssues({ ...shipped, mechanisms: { dpf_valid: "no", uk_extension_valid: true } })).toEqual([
      {
        code: "CATALOG_INVALID",
        index: null,
        field: "mechanisms.dpf_valid",
        message: 'mechanisms.dpf_valid must be true or false, got "no"',
      },
    ]);
    expect(catalogIssues({ ...shipped, dpdp: { restricted_countries: ["cn"] } })).toMatchObject([
      { index: null, field: "dpdp.restricted_countries" },
    ]);
    expect(catalogIssues({ ...shipped, dpdp: { restricted_countries: "CN" } })).toMatchObject([
      { field: "dpdp.restricted_countries" },
    ]);
  });
});
