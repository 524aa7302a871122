import { REGION_CODES, type RegionCode } from "../domain/vocabulary.ts";

// The shape of a bundle's provider catalog and of its switch data (SPEC §11.A6), checked before a
// candidate may serve. The Rego reads the same data fail-closed (a flag counts only when exactly
// true / false), so a malformed entry that got past this check still denies; this check makes the
// mistake visible at publication instead: `PUT /api/v1/bundles` answers 422 POLICY_VIOLATION with
// one `{code: "CATALOG_INVALID", index, field, message}` per defect, and the serving bundle stays.

export type CatalogIssue = {
  code: "CATALOG_INVALID";
  /** The catalog entry's position; null for bundle data outside the catalog. */
  index: number | null;
  field: string;
  message: string;
};

const FLAGS = [
  "dpa",
  "attested",
  "trains_on_data",
  "zero_data_retention",
  "dpf_certified",
  "uk_extension",
  "apec_cbpr",
] as const;

const PROVIDER = /^[a-z0-9-]{1,64}$/;
const GEO = /^geo:([a-z0-9-]{1,32})$/;
const COUNTRY = /^[A-Z]{2}$/;

const isRegion = (v: unknown): v is RegionCode => REGION_CODES.includes(v as RegionCode);
const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
const show = (v: unknown) => (v === undefined ? "absent" : JSON.stringify(v));

function httpsUrl(v: unknown): boolean {
  if (typeof v !== "string" || !v.startsWith("https://")) return false;
  try {
    return new URL(v).protocol === "https:";
  } catch {
    return false;
  }
}

function entryIssues(entry: unknown, index: number): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const issue = (field: string, message: string) =>
    issues.push({ code: "CATALOG_INVALID", index, field, message });
  if (!isObject(entry)) {
    issue("(entry)", `catalog entry ${index} is not an object`);
    return issues;
  }
  if (typeof entry.provider !== "string" || !PROVIDER.test(entry.provider)) {
    issue("provider", `provider must be a string of [a-z0-9-]{1,64}, got ${show(entry.provider)}`);
  }
  if (!isRegion(entry.region)) {
    issue("region", `region must be one of ${REGION_CODES.join(", ")}, got ${show(entry.region)}`);
  }
  if (
    !Array.isArray(entry.models) ||
    entry.models.length === 0 ||
    !entry.models.every((m) => typeof m === "string" && m !== "")
  ) {
    issue("models", `models must be a non-empty list of non-empty strings, got ${show(entry.models)}`);
  }
  if (!httpsUrl(entry.endpoint))
    issue("endpoint", `endpoint must be an https:// URL, got ${show(entry.endpoint)}`);

  const route = entry.route;
  const geo = typeof route === "string" ? GEO.exec(route) : null;
  const routeOk = route === "single" || route === "global" || (geo !== null && geo[1] !== "global");
  if (!routeOk) {
    issue(
      "route",
      `route must be "single", "geo:<name>" ([a-z0-9-]{1,32}, not global) or "global", got ${show(route)}`,
    );
  }

  const destinations = entry.destinations;
  if (destinations !== undefined || (routeOk && route !== "global")) {
    if (!Array.isArray(destinations) || !destinations.every(isRegion)) {
      issue("destinations", `destinations must be a list of region codes, got ${show(destinations)}`);
    } else if (new Set(destinations).size !== destinations.length) {
      issue("destinations", `destinations must be distinct, got ${show(destinations)}`);
    } else if (route === "single" && !(destinations.length === 1 && destinations[0] === entry.region)) {
      issue(
        "destinations",
        `a single route's destinations must be exactly [region], got ${show(destinations)}`,
      );
    } else if (geo && (destinations.length === 0 || !destinations.includes(entry.region as RegionCode))) {
      issue(
        "destinations",
        `a ${String(route)} route needs at least one destination, including its region, got ${show(destinations)}`,
      );
    }
  }

  for (const flag of FLAGS) {
    if (flag in entry && typeof entry[flag] !== "boolean") {
      issue(flag, `${flag} must be true or false when present, got ${show(entry[flag])}`);
    }
  }
  return issues;
}

/**
 * Every shape defect of `reference` (the bundle's `data.reference`): its provider catalog, the
 * `mechanisms.*` switches (booleans) and `dpdp.restricted_countries` (two-letter upper-case codes).
 * Absent switch data is allowed (the defaults apply); present with the wrong type is a defect.
 */
export function catalogIssues(reference: unknown): CatalogIssue[] {
  const issues: CatalogIssue[] = [];
  const data = isObject(reference) ? reference : {};
  const catalog = isObject(data.providers) ? data.providers.catalog : undefined;
  if (!Array.isArray(catalog)) {
    return [
      {
        code: "CATALOG_INVALID",
        index: null,
        field: "providers.catalog",
        message: `the provider catalog must be a list, got ${show(catalog)}`,
      },
    ];
  }
  const seen = new Map<string, number>();
  catalog.forEach((entry, index) => {
    issues.push(...entryIssues(entry, index));
    if (!isObject(entry)) return;
    const key = JSON.stringify([entry.provider, entry.region, entry.route]);
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else {
      issues.push({
        code: "CATALOG_INVALID",
        index,
        field: "(provider, region, route)",
        message: `the same provider, region and route as entry ${first}`,
      });
    }
  });

  if (data.mechanisms !== undefined) {
    if (!isObject(data.mechanisms)) {
      issues.push({
        code: "CATALOG_INVALID",
        index: null,
        field: "mechanisms",
        message: "mechanisms must be an object",
      });
    } else {
      for (const [name, value] of Object.entries(data.mechanisms)) {
        if (typeof value !== "boolean") {
          issues.push({
            code: "CATALOG_INVALID",
            index: null,
            field: `mechanisms.${name}`,
            message: `mechanisms.${name} must be true or false, got ${show(value)}`,
          });
        }
      }
    }
  }
  if (data.dpdp !== undefined) {
    const countries = isObject(data.dpdp) ? data.dpdp.restricted_countries : data.dpdp;
    if (
      !isObject(data.dpdp) ||
      (countries !== undefined &&
        !(Array.isArray(countries) && countries.every((c) => typeof c === "string" && COUNTRY.test(c))))
    ) {
      issues.push({
        code: "CATALOG_INVALID",
        index: null,
        field: "dpdp.restricted_countries",
        message: `dpdp.restricted_countries must be a list of ISO 3166-1 alpha-2 upper-case codes, got ${show(countries)}`,
      });
    }
  }
  return issues;
}
