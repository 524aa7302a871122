import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import { type Api, api } from "../support/http.ts";
import { ADMIN_KEY, BUNDLE_PATH, startTestService, type TestService } from "../support/service.ts";
import { putBundle } from "./support.ts";

// SPEC §11.A1: if the EU-US Data Privacy Framework falls in court, a compliance engineer flips
// `mechanisms.dpf_valid` to false in bundle data. The dry run of that bundle shows exactly the
// decisions that would change: the ones a DPF (or UK Extension) basis alone allowed.

async function withDpfWithdrawn(bytes: Buffer): Promise<Buffer> {
  const files = await readTarGz(bytes);
  const data = JSON.parse(files.get("data.json")!.toString("utf8"));
  data.reference.mechanisms = { ...data.reference.mechanisms, dpf_valid: false };
  files.set("data.json", Buffer.from(JSON.stringify(data)));
  const manifest = JSON.parse(files.get(".manifest")!.toString("utf8"));
  files.set(".manifest", Buffer.from(JSON.stringify({ ...manifest, revision: "rev-test-dpf-withdrawn" })));
  return await writeTarGz(files);
}

describe("a bundle with dpf_valid: false", () => {
  let t: TestService;
  let svc: Api;
  let publisher: string;

  beforeAll(async () => {
    t = await startTestService({ decisionMemoEntries: 0 });
    const admin = api(t.handler, ADMIN_KEY);
    svc = api(t.handler, await t.keyFor(["service"]));
    publisher = await t.keyFor(["bundle_publisher"]);
    for (const policy of [
      {
        tenant_id: "eu-school",
        primary_region: "eu-west",
        allowed_regions: ["us-east"],
        compliance_frameworks: ["gdpr"],
        transfer_mechanisms: { dpf: ["us-east"], scc_tia: ["us-west"] },
      },
      {
        tenant_id: "uk-school",
        primary_region: "eu-west",
        compliance_frameworks: ["uk_gdpr"],
        transfer_mechanisms: { uk_extension: ["us-east"], idta: ["us-west"] },
      },
    ]) {
      expect((await admin.post("/api/v1/policies", policy)).status).toBe(201);
    }
  });
  afterAll(() => t.close());

  const write = (tenant: string, region: string) =>
    svc.post("/api/v1/access/resolve", {
      tenant_id: tenant,
      operation_type: "replicate",
      resource_type: "document",
      resource_id: "r",
      requested_region: region,
    });

  it("dry run: exactly the decisions a DPF basis alone allowed would deny; live decisions unchanged", async () => {
    for (let i = 0; i < 3; i++) expect((await write("eu-school", "us-east")).body.allowed).toBe(true);
    for (let i = 0; i < 2; i++) expect((await write("uk-school", "us-east")).body.allowed).toBe(true);
    // SCCs and the IDTA do not rest on the DPF: unchanged.
    expect((await write("uk-school", "us-west")).body.allowed).toBe(true);
    expect((await write("eu-school", "eu-west")).body.allowed).toBe(true);
    const res = await putBundle(
      t.handler,
      publisher,
      await withDpfWithdrawn(readFileSync(BUNDLE_PATH)),
      "?dry_run=true&limit=7",
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ replayed: 7, changed: 5, unchanged: 2, errors: 0 });
    expect(res.body.transitions).toEqual([
      { before: "ALLOW_PERMITTED_REGION", after: "DENY_NO_TRANSFER_MECHANISM", count: 5 },
    ]);
    expect(new Set(res.body.examples.map((e: { tenant_id: string }) => e.tenant_id))).toEqual(
      new Set(["eu-school", "uk-school"]),
    );
    // A dry run activates nothing.
    expect((await write("eu-school", "us-east")).body.allowed).toBe(true);
  });

  it("once active, those writes deny with DENY_NO_TRANSFER_MECHANISM and flag DPF_WITHDRAWN", async () => {
    const res = await putBundle(t.handler, publisher, await withDpfWithdrawn(readFileSync(BUNDLE_PATH)));
    expect(res.status).toBe(201);
    for (const tenant of ["eu-school", "uk-school"]) {
      const denied = await write(tenant, "us-east");
      expect(denied.body).toMatchObject({ allowed: false, flags: ["DPF_WITHDRAWN"] });
      expect(denied.body.reason.code).toBe("DENY_NO_TRANSFER_MECHANISM");
      expect(denied.body.eliminated["us-east"]).toBe(
        tenant === "eu-school" ? "gdpr:no_transfer_mechanism" : "uk_gdpr:no_transfer_mechanism",
      );
    }
    expect((await write("uk-school", "us-west")).body.allowed).toBe(true);
  });
});
