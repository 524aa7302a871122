import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type LoadedBundle, loadBundle } from "../../src/bundles/candidate.ts";
import { readTarGz, writeTarGz } from "../../src/bundles/tar.ts";
import type { Entrypoint } from "../../src/domain/policy-contract.ts";

// The golden cases `opa test rego golden` runs through the Rego interpreter, run here through the
// *built* wasm the service serves — so the interpreter and the wasm can never silently disagree.
// The comparison is golden/golden_test.rego's: every key a case expects, nothing else.

type GoldenCase = {
  name: string;
  entrypoint: Entrypoint;
  input: unknown;
  expect: Record<string, unknown>;
  /** Bundle data merged over `data.reference` (a test catalog, `mechanisms.dpf_valid: false`, ...). */
  data?: Record<string, unknown>;
};

const cases = (JSON.parse(readFileSync("golden/data.json", "utf8")) as { golden: { cases: GoldenCase[] } })
  .golden.cases;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** object.union of Rego: objects merge key by key, anything else is replaced. */
function union(base: unknown, patch: unknown): unknown {
  if (!isRecord(base) || !isRecord(patch)) return patch;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(patch)) out[k] = k in base ? union(base[k], v) : v;
  return out;
}

/** The shipped bundle with its data.json's `reference` changed as a compliance engineer would. */
async function variant(bytes: Buffer, data: Record<string, unknown>): Promise<LoadedBundle> {
  const files = await readTarGz(bytes);
  const doc = JSON.parse((files.get("data.json") as Buffer).toString("utf8")) as Record<string, unknown>;
  doc.reference = union(doc.reference, data);
  files.set("data.json", Buffer.from(JSON.stringify(doc)));
  // Cases with a malformed catalog test the Rego's own fail-closed reading: the host would refuse it.
  return loadBundle(await writeTarGz(files), { uncheckedCatalog: true });
}

function actual(result: Record<string, unknown>, key: string): unknown {
  const obligations = result.obligations as Record<string, unknown> | undefined;
  if (key === "reason_code") return (result.reason as { code: string }).code;
  if (key === "reason_framework") return (result.reason as { framework: string | null }).framework;
  if (key === "erasure_deadline_days") return obligations?.erasure_deadline_days;
  if (key === "erasure_deadline_framework") return obligations?.erasure_deadline_framework;
  if (key === "ai_act_high_risk_category")
    return (obligations?.ai_act_high_risk as { category?: string } | null)?.category ?? null;
  if (key === "violation_codes")
    return (result.violations as Array<{ code: string }>).map((v) => v.code).sort();
  return result[key];
}

describe("golden cases against the built wasm bundle", () => {
  let bundle: LoadedBundle;
  const variants = new Map<string, LoadedBundle>();
  beforeAll(async () => {
    const bytes = readFileSync("bundles/residency.tar.gz");
    bundle = await loadBundle(bytes);
    for (const c of cases) {
      const key = JSON.stringify(c.data ?? null);
      if (c.data && !variants.has(key)) variants.set(key, await variant(bytes, c.data));
    }
  });

  it("covers all three entrypoints and SPEC's examples", () => {
    const entrypoints = new Set(cases.map((c) => c.entrypoint));
    expect([...entrypoints].sort()).toEqual(["inference/route", "residency/decision", "residency/validate"]);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.some((c) => c.name === "bench_realistic")).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const loaded = c.data ? (variants.get(JSON.stringify(c.data)) as LoadedBundle) : bundle;
    const result = loaded.evaluate<Record<string, unknown>>(c.entrypoint, c.input);
    for (const [key, want] of Object.entries(c.expect)) {
      expect(actual(result, key), `${c.name}: ${key}`).toEqual(want);
    }
  });
});
