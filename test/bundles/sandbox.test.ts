import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { BundleError } from "../../src/bundles/bundle-error.ts";
import { checkInSandbox, replayInSandbox } from "../../src/bundles/sandbox.ts";
import { watchEventLoop } from "../support/event-loop.ts";
import { allocatingDecision, spinningDecision, spinningForVictim } from "./hostile-support.ts";
import { buildBundle, FILE_BUNDLE } from "./support.ts";

// The sandbox stops a candidate that does not end within its budget, on a worker thread, while
// this thread stays free (a timer keeps firing during the attempt).

const shipped = readFileSync(FILE_BUNDLE);

async function refusal(p: Promise<unknown>): Promise<BundleError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BundleError);
  return err as BundleError;
}

/** The longest gap between ticks of a 5 ms timer while `p` runs: how long this thread was blocked. */
async function worstStall<T>(p: Promise<T>): Promise<{ result: T | Error; stallMs: number }> {
  const watch = watchEventLoop(5);
  const result = await p.catch((e: Error) => e);
  return { result, stallMs: watch.stop() };
}

describe("sandboxed candidate checks", () => {
  it("passes the shipped bundle with every probe evaluated", async () => {
    const report = await checkInSandbox(shipped);
    expect(report.failures).toEqual([]);
    expect(report.probes).toBeGreaterThan(500);
    expect(report.evaluations).toBeGreaterThan(report.probes);
    console.log(
      `sandbox check of the shipped bundle: ${report.evaluations} evaluations, slowest ${report.slowest_ms.toFixed(2)} ms (${report.slowest}), load ${report.load_ms.toFixed(0)} ms`,
    );
  });

  it("stops a never-ending evaluation at its budget while this thread keeps running", async () => {
    const hostile = buildBundle("rev-spinning", { edit: spinningDecision });
    const started = performance.now();
    const { result, stallMs } = await worstStall(checkInSandbox(hostile, { budget: { evaluationMs: 200 } }));
    const tookMs = performance.now() - started;
    expect(result).toBeInstanceOf(BundleError);
    expect((result as BundleError).code).toBe("BUNDLE_BUDGET_EXCEEDED");
    expect((result as BundleError).message).toMatch(/200 ms budget/);
    console.log(
      `spinning candidate refused after ${tookMs.toFixed(0)} ms; worst stall of this thread ${stallMs.toFixed(1)} ms`,
    );
  });

  it("refuses a bundle slow only for a tenant it has seen in recorded decisions", async () => {
    const hostile = buildBundle("rev-victim", { edit: spinningForVictim });
    // Without records of that tenant the matrix does not hit it…
    await expect(checkInSandbox(hostile)).resolves.toMatchObject({ failures: [] });
    // …with one recorded decision of it, the candidate is refused.
    const recorded = [
      {
        event_id: "e1",
        type: "decision.access",
        occurred_at: new Date(),
        tenant_id: "victim-tenant",
        learner_id: null,
        bundle_revision: "rev-x",
        payload: {
          request: {
            tenant_id: "victim-tenant",
            operation_type: "read",
            resource_type: "document",
            resource_id: "r",
          },
          evaluation: {
            now_ms: Date.now(),
            region_health: {},
            settings: { required_approvals: 2 },
            overrides: [],
            policy: null,
          },
        },
      },
    ];
    const err = await refusal(checkInSandbox(hostile, { recorded }));
    expect(err.code).toBe("BUNDLE_BUDGET_EXCEEDED");
  });

  it("caps the wasm memory: a runaway allocation fails inside the evaluation", async () => {
    const hostile = buildBundle("rev-allocating", { edit: allocatingDecision });
    const err = await refusal(
      checkInSandbox(hostile, { budget: { wasmMemoryMb: 16, evaluationMs: 20_000 } }),
    );
    expect(err.code).toBe("BUNDLE_BUDGET_EXCEEDED");
    expect(err.message).toMatch(/16 MiB wasm memory/);
  });

  it("holds a whole task to its wall-clock budget", async () => {
    const err = await refusal(checkInSandbox(shipped, { budget: { checkMs: 1 } }));
    expect(err.code).toBe("BUNDLE_BUDGET_EXCEEDED");
    expect(err.message).toMatch(/self-check took longer than its 1 ms budget/);
  });

  it("reports what loading refused (a corrupt archive) with its own code", async () => {
    const err = await refusal(checkInSandbox(Buffer.from("not a bundle")));
    expect(err.code).toBe("BUNDLE_CORRUPT");
  });

  it("replays rows in the worker; a spinning candidate stops the replay at its budget", async () => {
    const report = await replayInSandbox(shipped, shipped, [], { examples: 5 });
    expect(report).toMatchObject({ replayed: 0, changed: 0 });
    const hostile = buildBundle("rev-spinning", { edit: spinningDecision });
    const rows = [
      {
        event_id: "e1",
        type: "decision.access",
        occurred_at: new Date(),
        tenant_id: "t",
        learner_id: null,
        bundle_revision: "rev-x",
        payload: {
          request: { tenant_id: "t", operation_type: "read", resource_type: "document", resource_id: "r" },
          evaluation: {
            now_ms: Date.now(),
            region_health: {},
            settings: { required_approvals: 2 },
            overrides: [],
            policy: null,
          },
        },
      },
    ];
    const err = await refusal(
      replayInSandbox(hostile, shipped, rows, { examples: 5, budget: { evaluationMs: 150 } }),
    );
    expect(err.code).toBe("BUNDLE_BUDGET_EXCEEDED");
  });
});
