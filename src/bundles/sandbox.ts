import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { WASM_MEMORY_MB } from "../engine/index.ts";
import { BundleError } from "./bundle-error.ts";
import type { AuditRow, DryRunReport } from "./dry-run.ts";
import type { CheckReport, SandboxReply, SandboxTask } from "./sandbox-protocol.ts";

// Candidate bundles run their code here before they may serve: the self-check and probes before an
// activation, the replay of a dry run. Each task gets a worker thread of its own, so a bundle that
// never ends or allocates without bound costs that thread and never the event loop:
// - time: the whole task has a wall-clock budget, and every single evaluation one of its own
//   (the worker stamps each evaluation's start in shared memory; a timer here reads it). Past
//   either, the worker is terminated — V8 stops wasm at its next loop back-edge — and the
//   candidate is refused with BUNDLE_BUDGET_EXCEEDED.
// - memory: the worker's V8 heap is capped (resourceLimits; past it the worker dies with
//   ERR_WORKER_OUT_OF_MEMORY, the process does not) and the wasm memory has a maximum, so a
//   runaway allocation fails inside the evaluation.
// The worker is started fresh per task and terminated after it: nothing of a candidate stays.
// See docs/decisions/0012-hostile-bundles.md for what this guarantees and what it does not.

export type SandboxBudget = {
  /** Wall clock of a self-check (load + invariants + probes), ms. */
  checkMs: number;
  /** Wall clock of a dry run's replay (both bundles loaded + every row), ms. */
  replayMs: number;
  /** Any one evaluation, ms. */
  evaluationMs: number;
  /** The worker's V8 old-generation heap, MiB. */
  heapMb: number;
  /** The wasm linear memory maximum, MiB. */
  wasmMemoryMb: number;
};

/**
 * Far above what the shipped bundle needs (load ~40 ms; ~1,000 evaluations in ~0.3 s, the slowest
 * ~15 ms — a first call), so a loaded machine (CI on 2 cores) never refuses a good bundle; a
 * candidate that hangs is still stopped within about a second.
 */
export const SANDBOX_BUDGET: SandboxBudget = {
  checkMs: 20_000,
  replayMs: 60_000,
  evaluationMs: 1_000,
  heapMb: 256,
  wasmMemoryMb: WASM_MEMORY_MB,
};

export type { CheckReport, SandboxReply, SandboxRequest, SandboxTask } from "./sandbox-protocol.ts";

// The worker is TypeScript: it registers tsx itself (a worker does not inherit the parent's loader).
// tsx's ESM entry, by its package's own export map (resolving from here would pick the CJS one).
const tsxApi = (() => {
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = JSON.parse(readFileSync(manifest, "utf8")).exports["./esm/api"].import.default;
  return new URL(exports, pathToFileURL(manifest)).href;
})();
const workerFile = new URL("./sandbox-worker.ts", import.meta.url).href;
const BOOTSTRAP = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerFile)}); });`;

const budgetExceeded = (message: string) => new BundleError("BUNDLE_BUDGET_EXCEEDED", message);

function runWorker(
  request: SandboxTask,
  budget: SandboxBudget,
  wallMs: number,
): Promise<SandboxReply & { ok: true }> {
  const shared = new SharedArrayBuffer(16);
  const clock = new BigInt64Array(shared, 0, 1);
  const state = new Int32Array(shared, 8, 2);
  const worker = new Worker(BOOTSTRAP, {
    eval: true,
    workerData: { ...request, shared, wasmMemoryMb: budget.wasmMemoryMb },
    resourceLimits: { maxOldGenerationSizeMb: budget.heapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  });
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(wall);
      clearInterval(watch);
      void worker.terminate();
      outcome();
    };
    const wall = setTimeout(
      () =>
        finish(() =>
          reject(
            budgetExceeded(
              `the ${request.kind === "check" ? "self-check" : "dry run"} took longer than its ${wallMs} ms budget`,
            ),
          ),
        ),
      wallMs,
    );
    // Checked a few times per evaluation budget: an overrun is stopped within ~1.25× the budget.
    const watch = setInterval(
      () => {
        if (Atomics.load(state, 0) !== 1) return;
        const ran = Date.now() - Number(Atomics.load(clock, 0));
        if (ran > budget.evaluationMs) {
          finish(() =>
            reject(
              budgetExceeded(
                `an evaluation ran longer than its ${budget.evaluationMs} ms budget (stopped after ${ran} ms, evaluation ${Atomics.load(state, 1) + 1})`,
              ),
            ),
          );
        }
      },
      Math.max(5, Math.floor(budget.evaluationMs / 4)),
    );
    worker.on("message", (reply: SandboxReply) =>
      finish(() =>
        reply.ok
          ? resolve(reply)
          : reject(new BundleError(reply.code, reply.message, { details: reply.details })),
      ),
    );
    worker.on("error", (err: Error & { code?: string }) =>
      finish(() =>
        reject(
          err.code === "ERR_WORKER_OUT_OF_MEMORY"
            ? budgetExceeded(`the bundle exceeded its ${budget.heapMb} MiB memory budget`)
            : new BundleError("BUNDLE_WASM_INVALID", `the bundle's sandbox failed: ${err.message}`),
        ),
      ),
    );
    worker.on("exit", (code) =>
      finish(() =>
        reject(
          new BundleError("BUNDLE_WASM_INVALID", `the bundle's sandbox exited (${code}) without an answer`),
        ),
      ),
    );
  });
}

/**
 * Loads the candidate in a worker and runs self-check.ts's invariants and the probes (probes.ts,
 * with `recorded`: recent audited decisions). Resolves with the report when every answer is
 * well-formed and within budget; otherwise throws a BundleError (BUNDLE_SELF_CHECK_FAILED,
 * BUNDLE_BUDGET_EXCEEDED, or what loading refused).
 */
export async function checkInSandbox(
  bytes: Buffer,
  options: { recorded?: AuditRow[]; budget?: Partial<SandboxBudget> } = {},
): Promise<CheckReport> {
  const budget = { ...SANDBOX_BUDGET, ...options.budget };
  const reply = await runWorker(
    { kind: "check", bytes, recorded: options.recorded ?? [] },
    budget,
    budget.checkMs,
  );
  if (reply.kind !== "check") throw new Error("sandbox answered another task");
  const { ok: _ok, kind: _kind, ...report } = reply;
  if (report.failures.length > 0) {
    throw new BundleError("BUNDLE_SELF_CHECK_FAILED", `self-check failed: ${report.failures.join("; ")}`);
  }
  return report;
}

/** A dry run's replay (dry-run.ts) in a worker, within the replay budget. */
export async function replayInSandbox(
  candidate: Buffer,
  active: Buffer | null,
  rows: AuditRow[],
  options: { examples: number; budget?: Partial<SandboxBudget> },
): Promise<DryRunReport> {
  const budget = { ...SANDBOX_BUDGET, ...options.budget };
  const reply = await runWorker(
    { kind: "replay", bytes: candidate, activeBytes: active, rows, examples: options.examples },
    budget,
    budget.replayMs,
  );
  if (reply.kind !== "replay") throw new Error("sandbox answered another task");
  return reply.report;
}
