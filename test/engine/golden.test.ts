import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { type LoadedBundle, loadBundle } from "../../src/bundles/candidate.ts";
import type { Entrypoint } from "../../src/domain/policy-contract.ts";

// The golden cases `opa test rego golden` runs through the Rego interpreter, run here through the
// *built* wasm the service serves — so the interpreter and the wasm can never silently disagree.
// The comparison is golden/golden_test.rego's: every key a case expects, nothing else.

type GoldenCase = { name: string; entrypoint: Entrypoint; input: unknown; expect: Record<string, unknown> };

const cases = (JSON.parse(readFileSync("golden/data.json", "utf8")) as { golden: { cases: GoldenCase[] } })
  .golden.cases;

function actual(result: Record<string, unknown>, key: string): unknown {
  if (key === "reason_code") return (result.reason as { code: string }).code;
  if (key === "violation_codes")
    return (result.violations as Array<{ code: string }>).map((v) => v.code).sort();
  return result[key];
}

describe("golden cases against the built wasm bundle", () => {
  let bundle: LoadedBundle;
  beforeAll(async () => {
    bundle = await loadBundle(readFileSync("bundles/residency.tar.gz"));
  });

  it("covers all three entrypoints and SPEC's examples", () => {
    const entrypoints = new Set(cases.map((c) => c.entrypoint));
    expect([...entrypoints].sort()).toEqual(["inference/route", "residency/decision", "residency/validate"]);
    expect(cases.length).toBeGreaterThanOrEqual(40);
    expect(cases.some((c) => c.name === "bench_realistic")).toBe(true);
  });

  it.each(cases.map((c) => [c.name, c] as const))("%s", (_name, c) => {
    const result = bundle.evaluate<Record<string, unknown>>(c.entrypoint, c.input);
    for (const [key, want] of Object.entries(c.expect)) {
      expect(actual(result, key), `${c.name}: ${key}`).toEqual(want);
    }
  });
});
