import { describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundles/candidate.ts";
import { createPolicyEngine } from "../../src/engine/index.ts";
import { spinningForVictim } from "../bundles/hostile-support.ts";
import { buildBundle } from "../bundles/support.ts";
import { watchEventLoop } from "../support/event-loop.ts";

// With a hard limit, a bundle's serving evaluations go to its evaluation thread once that is up:
// the same answers as its own instance, the event loop free meanwhile, a never-ending one stopped
// at the limit by ending the thread — the evaluations queued behind it sent on to the next thread,
// where one that never ends is stopped too — and the event loop never held by them.

const input = (tenant: string, operation = "read", region?: string) => ({
  now_ms: Date.UTC(2026, 0, 1),
  region_health: {},
  settings: { required_approvals: 2 },
  overrides: [],
  policy: {
    tenant_id: tenant,
    primary_region: "eu-west",
    allowed_regions: ["eu-central", "ca-central"],
    compliance_frameworks: ["gdpr"],
  },
  request: {
    tenant_id: tenant,
    operation_type: operation,
    resource_type: "document",
    resource_id: "r",
    ...(region ? { requested_region: region } : {}),
  },
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A bundle that never ends for "victim-tenant", limited to 200 ms, memo off; `seen`: each evaluation stopped or not. */
async function hostile(revision: string) {
  const seen: boolean[] = [];
  const bundle = await loadBundle(buildBundle(revision, { edit: spinningForVictim }), {
    evaluationTimeoutMs: 200,
    memoEntries: 0,
    onEvaluation: (_e, _ms, timedOut) => seen.push(timedOut),
  });
  return { bundle, seen };
}

describe("evaluation thread", () => {
  it("answers as the bundle's own instance does, and a never-ending evaluation ends its thread, not the bundle", async () => {
    const { bundle, seen } = await hostile("rev-thread");
    expect(bundle.servesOnThread()).toBe(false);
    await bundle.evaluateServing("residency/decision", input("acme")); // the first one starts the thread
    await until(() => bundle.servesOnThread(), "the evaluation thread");

    const inputs = [
      input("acme"),
      input("acme", "write", "eu-central"),
      input("acme", "read", "us-east"),
      input("beta", "write", "ca-central"),
      input("beta", "delete"),
    ];
    const expected = inputs.map((i) => bundle.evaluate("residency/decision", i, { fresh: true }));
    const answers = inputs.map((i) => bundle.evaluateServing("residency/decision", i));
    expect(bundle.servesOnThread()).toBe(true);
    expect(await Promise.all(answers)).toEqual(expected);

    // The never-ending one, with two sent after it: the event loop runs timers meanwhile.
    let ticks = 0;
    const ticking = setInterval(() => ticks++, 10);
    const started = performance.now();
    const victim = bundle.evaluateServing("residency/decision", input("victim-tenant"));
    const behind = [inputs[1]!, inputs[3]!].map((i) => bundle.evaluateServing("residency/decision", i));
    await expect(victim).rejects.toThrow("the evaluation exceeded its 200 ms budget and was stopped");
    const tookMs = performance.now() - started;
    clearInterval(ticking);
    expect(tookMs).toBeLessThan(1_000);
    expect(ticks).toBeGreaterThan(5);
    expect(bundle.servesOnThread()).toBe(false);
    expect(seen.filter(Boolean)).toHaveLength(1);
    // Queued behind it, they were answered on the next thread.
    expect(await Promise.all(behind)).toEqual([expected[1], expected[3]]);
    expect(bundle.servesOnThread()).toBe(true);

    // Queued behind a stopped one, another that never ends is stopped on the next thread too: the
    // event loop keeps ticking throughout, and the innocent ones behind both are answered.
    const watch = watchEventLoop(10);
    const started2 = performance.now();
    const first = bundle.evaluateServing("residency/decision", input("victim-tenant"));
    const second = bundle.evaluateServing("residency/decision", input("victim-tenant"));
    const after = bundle.evaluateServing("residency/decision", inputs[2]!);
    await expect(first).rejects.toThrow("200 ms budget");
    await expect(second).rejects.toThrow("200 ms budget");
    expect(await after).toEqual(expected[2]);
    const took2Ms = performance.now() - started2;
    const longestGapMs = watch.stop();
    // 400+ ms of wasm that never ends, none of it on the event loop (in-process, a gap of 200 ms).
    expect(longestGapMs).toBeLessThan(200);
    expect(seen.filter(Boolean)).toHaveLength(3);
    expect(await bundle.evaluateServing("residency/decision", inputs[2]!)).toEqual(expected[2]);
    bundle.close();
    console.log(
      `never-ending evaluation on the thread stopped after ${tookMs.toFixed(0)} ms (limit 200 ms); ` +
        `two queued one behind the other, and an innocent one behind them, settled in ${took2Ms.toFixed(0)} ms, the event loop's longest gap ${longestGapMs.toFixed(0)} ms`,
    );
  });

  it("closing a bundle lets its thread answer what it was sent, stops what never ends there, and never runs it on the event loop", async () => {
    const { bundle, seen } = await hostile("rev-thread-close");
    await bundle.warm();
    expect(bundle.servesOnThread()).toBe(true);
    const expected = bundle.evaluate("residency/decision", input("acme"), { fresh: true });
    const watch = watchEventLoop(10);
    const innocent = bundle.evaluateServing("residency/decision", input("acme"));
    const victims = [1, 2].map(() => bundle.evaluateServing("residency/decision", input("victim-tenant")));
    const behind = bundle.evaluateServing("residency/decision", input("acme"));
    bundle.close(); // replaced, with all four sent to its thread
    expect(await innocent).toEqual(expected); // answered before the hang, on the thread
    await expect(victims[0]).rejects.toThrow("200 ms budget");
    // Behind a stop on a bundle no longer serving: refused (fail closed), not re-run here.
    await expect(victims[1]).rejects.toThrow("stopped at its limit");
    await expect(behind).rejects.toThrow("stopped at its limit");
    expect(watch.stop()).toBeLessThan(200); // the limit: what a run on the event loop would hold it for
    expect(seen.filter(Boolean)).toHaveLength(1);
    expect(bundle.servesOnThread()).toBe(false);
    // Still answers, on its own instance.
    expect(await bundle.evaluateServing("residency/decision", input("acme"))).toEqual(expected);
  });

  it("the bundle an activation replaces ends its thread; without a limit there is none", async () => {
    const engine = createPolicyEngine();
    const first = await loadBundle(buildBundle("rev-first"), { evaluationTimeoutMs: 500 });
    const second = await loadBundle(buildBundle("rev-second"), { evaluationTimeoutMs: 500 });
    engine.activate(first);
    await first.evaluateServing("residency/decision", input("acme"));
    await until(() => first.servesOnThread(), "the first bundle's thread");
    engine.activate(second);
    expect(first.servesOnThread()).toBe(false);
    // Kept to fall back to, it still answers — on its own instance, starting no thread for the
    // decisions that read it before the swap — and on a thread again once warmed.
    expect(await first.evaluateServing("residency/decision", input("acme"))).toEqual(
      second.evaluate("residency/decision", input("acme"), { fresh: true }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(first.servesOnThread()).toBe(false);
    await first.warm();
    expect(first.servesOnThread()).toBe(true);
    first.close();
    second.close();

    const unlimited = await loadBundle(buildBundle("rev-unlimited"), { evaluationTimeoutMs: 0 });
    await unlimited.evaluateServing("residency/decision", input("acme"));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(unlimited.servesOnThread()).toBe(false);
  });
});
