import { describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundles/candidate.ts";
import { spinningForVictim } from "../bundles/hostile-support.ts";
import { buildBundle } from "../bundles/support.ts";

// On the serving path the wasm runs on the event loop; the deadline stops an evaluation that does
// not end, and the same instance keeps answering other inputs afterwards.

const input = (tenant: string) => ({
  now_ms: Date.UTC(2026, 0, 1),
  region_health: {},
  settings: { required_approvals: 2 },
  overrides: [],
  policy: null,
  request: { tenant_id: tenant, operation_type: "read", resource_type: "document", resource_id: "r" },
});

describe("evaluation deadline", () => {
  it("stops a never-ending evaluation at its limit; the bundle still answers other inputs", async () => {
    const seen: Array<{ ms: number; timedOut: boolean }> = [];
    const bundle = await loadBundle(buildBundle("rev-victim", { edit: spinningForVictim }), {
      evaluationTimeoutMs: 150,
      onEvaluation: (_e, ms, timedOut) => seen.push({ ms, timedOut }),
    });
    expect(bundle.evaluate("residency/decision", input("acme"))).toMatchObject({ allowed: false });
    const started = performance.now();
    expect(() => bundle.evaluate("residency/decision", input("victim-tenant"))).toThrow(
      "the evaluation exceeded its 150 ms budget and was stopped",
    );
    const tookMs = performance.now() - started;
    expect(bundle.evaluate("residency/decision", input("acme"))).toMatchObject({ allowed: false });
    expect(seen.map((s) => s.timedOut)).toEqual([false, true, false]);
    console.log(`never-ending evaluation stopped after ${tookMs.toFixed(0)} ms (limit 150 ms)`);
  });
});
