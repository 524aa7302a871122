import { parentPort, workerData } from "node:worker_threads";
import { BundleError } from "./bundle-error.ts";
import { type LoadedBundle, loadBundle } from "./candidate.ts";
import { replayRows } from "./dry-run.ts";
import { matrixProbes, recordedProbes, runProbes } from "./probes.ts";
import type { SandboxReply, SandboxRequest } from "./sandbox-protocol.ts";
import { selfCheck } from "./self-check.ts";

// The worker side of sandbox.ts: loads the candidate (and, for a dry run, the serving bundle) in
// this thread and runs the checks or the replay. Each evaluation is stamped in shared memory so the
// parent can stop this thread the moment one runs past its budget; the heap is bounded by the
// worker's resourceLimits and the wasm memory by its maximum.

const request = workerData as SandboxRequest;
const clock = new BigInt64Array(request.shared, 0, 1);
const state = new Int32Array(request.shared, 8, 2);
/** Set when an evaluation failed for want of wasm memory (the maximum was reached). */
let outOfMemory = false;

/** Wraps `evaluate` so every call is visible to the parent's watchdog. */
function watched(bundle: LoadedBundle): LoadedBundle {
  const evaluate = bundle.evaluate.bind(bundle);
  bundle.evaluate = ((entrypoint, input, how) => {
    // Once the memory ran out the verdict is known: the remaining checks fail fast.
    if (outOfMemory) throw new Error("the wasm memory budget is exhausted");
    Atomics.store(clock, 0, BigInt(Date.now()));
    Atomics.store(state, 0, 1);
    try {
      return evaluate(entrypoint, input, how);
    } catch (err) {
      if (err instanceof RangeError || /opa_malloc/.test((err as Error)?.message ?? "")) outOfMemory = true;
      throw err;
    } finally {
      Atomics.store(state, 0, 0);
      Atomics.add(state, 1, 1);
    }
  }) as LoadedBundle["evaluate"];
  return bundle;
}

async function load(bytes: Uint8Array): Promise<LoadedBundle> {
  return watched(
    await loadBundle(Buffer.from(bytes), { memoEntries: 0, wasmMemoryMb: request.wasmMemoryMb }),
  );
}

const memoryExhausted = (): SandboxReply => ({
  ok: false,
  code: "BUNDLE_BUDGET_EXCEEDED",
  message: `an evaluation ran out of the ${request.wasmMemoryMb} MiB wasm memory budget`,
});

async function run(): Promise<SandboxReply> {
  const started = performance.now();
  const candidate = await load(request.bytes);
  const loadMs = performance.now() - started;
  if (request.kind === "check") {
    const failures = selfCheck(candidate);
    const probes = [...matrixProbes(), ...recordedProbes(request.recorded)];
    const report = runProbes(candidate, probes);
    if (outOfMemory) return memoryExhausted();
    return {
      ok: true,
      kind: "check",
      revision: candidate.revision,
      failures: [...failures, ...report.failures],
      evaluations: Atomics.load(state, 1),
      probes: probes.length,
      slowest_ms: report.slowest_ms,
      slowest: report.slowest,
      load_ms: loadMs,
    };
  }
  const active = request.activeBytes ? await load(request.activeBytes) : null;
  const report = await replayRows(request.rows, { candidate, active }, { examples: request.examples });
  if (outOfMemory) return memoryExhausted();
  return { ok: true, kind: "replay", report, evaluations: Atomics.load(state, 1), load_ms: loadMs };
}

run().then(
  (reply) => parentPort!.postMessage(reply),
  (err: unknown) => {
    const code = err instanceof BundleError ? err.code : "BUNDLE_WASM_INVALID";
    parentPort!.postMessage({
      ok: false,
      code,
      message: (err as Error)?.message ?? String(err),
      details: err instanceof BundleError ? err.details : null,
    } satisfies SandboxReply);
  },
);
