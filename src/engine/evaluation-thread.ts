import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";
import { EvaluationTimeout } from "./deadline.ts";

// The serving bundle's wasm, a second instance of it on a thread of its own. Two things pay for it:
// - a cheap hard deadline. `vm`'s timeout (deadline.ts) starts and joins a watchdog thread per
//   call: 110–130 µs of CPU per call measured alone here, and under load 190–520 µs per decision
//   with the memo off (docs/decisions/0015, sixth pass) — more than the evaluation. This thread
//   stamps when each evaluation starts; a timer on the event loop reads the stamp, and an
//   evaluation past its limit is stopped by terminating the thread (V8 stops wasm at its next loop
//   back-edge).
// - the event loop goes on serving while the wasm runs, on another core when there is one.
// Evaluations run one after another in the order they were sent. close() takes no more and ends
// the thread once those sent are answered. When the thread ends at a limit or a crash, the
// evaluations still waiting on it are answered `ThreadEnded`: they did nothing wrong; the
// evaluator sends them to the next thread (after a limit) or answers them itself (see evaluator.ts).

// The thread's own heap (the wasm memory is separate and has its own maximum).
const HEAP_MB = 256;

const opaWasm = createRequire(import.meta.url).resolve("@open-policy-agent/opa-wasm");

// Plain JavaScript: a worker does not inherit the parent's TypeScript loader, and this needs none.
// running[0]: the number of the evaluation running (0: none), stored atomically after
// startedAt[0]: when it started (ms since the epoch, timeOrigin + now, comparable across threads),
// so a reader that sees a number sees its start time or a later one, never an earlier one.
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
const { loadPolicy } = require(workerData.opaWasm);
const { shared, wasm, data, memory } = workerData;
const running = new Int32Array(shared, 0, 1);
const startedAt = new Float64Array(shared, 8, 1);
const encoder = new TextEncoder();
const clock = () => performance.timeOrigin + performance.now();
loadPolicy(wasm, memory).then((policy) => {
  policy.setData(data);
  parentPort.on("message", ({ id, entrypoint, json }) => {
    const bytes = encoder.encode(json).buffer;
    const started = clock();
    startedAt[0] = started;
    Atomics.store(running, 0, id);
    let reply;
    try {
      reply = { id, result: policy.evaluate(bytes, entrypoint) };
    } catch (err) {
      reply = { id, error: err instanceof Error ? err.message : String(err) };
    }
    Atomics.store(running, 0, 0);
    reply.ms = clock() - started;
    parentPort.postMessage(reply);
  });
  parentPort.postMessage({ ready: true });
}, (err) => parentPort.postMessage({ failed: err instanceof Error ? err.message : String(err) }));`;

/** The thread ended before this evaluation ran (another's limit, a crash, close()): not its fault. */
export class ThreadEnded extends Error {
  readonly code = "EVALUATION_THREAD_ENDED";
  /** Whether another evaluation on the thread was stopped at its limit (not a close or a crash). */
  readonly stopped: boolean;
  constructor(message: string, stopped = false) {
    super(message);
    this.stopped = stopped;
  }
}

export type ThreadAnswer = { resultSet: unknown; ms: number };

export type EvaluationThread = {
  /** The wasm's result set for `json` (the input as JSON text) and how long it ran. */
  evaluate(entrypoint: string, json: string): Promise<ThreadAnswer>;
  /** Whether it takes evaluations (false once closing or ended). */
  readonly alive: boolean;
  /**
   * Takes no more evaluations and ends once those sent are answered — each still stopped at the
   * limit — so closing a bundle that is being replaced neither drops nor re-runs them.
   */
  close(): void;
};

/** How long a thread may take to be ready before it is given up (it normally takes ~50 ms). */
const START_TIMEOUT_MS = 10_000;

type Pending = { resolve: (a: ThreadAnswer) => void; reject: (e: Error) => void };

/**
 * Starts a thread with its own instance of `wasm` and `data`, each evaluation limited to
 * `limitMs`; resolves once it can evaluate.
 */
export async function startEvaluationThread(
  wasm: Uint8Array,
  data: object,
  memory: { initial: number; maximum: number },
  limitMs: number,
): Promise<EvaluationThread> {
  const shared = new SharedArrayBuffer(16);
  const running = new Int32Array(shared, 0, 1);
  const startedAt = new Float64Array(shared, 8, 1);
  // async: a Worker that cannot be created throws here, and that is a rejection, not a throw.
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { opaWasm, shared, wasm, data, memory },
    resourceLimits: { maxOldGenerationSizeMb: HEAP_MB, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
  });
  worker.unref(); // serving threads never keep the process alive
  const pending = new Map<number, Pending>();
  let alive = true;
  let closing = false;
  let calls = 0;
  let watch: NodeJS.Timeout | null = null;

  const end = (why: () => Error) => {
    if (!alive) return;
    alive = false;
    if (watch) clearInterval(watch);
    void worker.terminate();
    for (const p of pending.values()) p.reject(why());
    pending.clear();
  };
  // Reads the stamp while anything is pending: the running evaluation past its limit ends the thread.
  const check = () => {
    const id = Atomics.load(running, 0);
    if (id !== 0 && performance.timeOrigin + performance.now() - startedAt[0]! > limitMs) {
      const guilty = pending.get(id);
      pending.delete(id);
      end(() => new ThreadEnded("another evaluation on this thread was stopped at its limit", true));
      guilty?.reject(new EvaluationTimeout(limitMs));
    } else if (pending.size === 0 && watch) {
      clearInterval(watch);
      watch = null;
    }
  };

  worker.on("message", (m: { id: number; result?: unknown; error?: string; ms: number }) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error !== undefined) p.reject(new Error(m.error));
    else p.resolve({ resultSet: m.result, ms: m.ms });
    if (closing && pending.size === 0) end(() => new ThreadEnded("the evaluation thread was closed"));
  });
  worker.on("exit", () => end(() => new ThreadEnded("the evaluation thread exited")));

  const thread: EvaluationThread = {
    get alive() {
      return alive && !closing;
    },
    close() {
      closing = true;
      if (pending.size === 0) end(() => new ThreadEnded("the evaluation thread was closed"));
    },
    evaluate(entrypoint, json) {
      if (!alive || closing) return Promise.reject(new ThreadEnded("the evaluation thread has ended"));
      const id = ++calls;
      worker.postMessage({ id, entrypoint, json });
      if (!watch) watch = setInterval(check, Math.max(5, Math.min(50, limitMs / 4))).unref();
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
  };

  const abandon = () => end(() => new ThreadEnded("the evaluation thread did not start"));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      abandon();
      reject(new Error(`evaluation thread: not ready within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    timer.unref();
    const onReady = (m: { ready?: true; failed?: string }) => {
      if (m.ready) resolve(thread);
      else if (m.failed !== undefined) {
        abandon();
        reject(new Error(`evaluation thread: ${m.failed}`));
      } else return;
      clearTimeout(timer);
      worker.off("message", onReady);
    };
    worker.on("message", onReady);
    worker.once("error", (err) => {
      clearTimeout(timer);
      abandon();
      reject(err);
    });
    worker.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`evaluation thread exited (${code}) before it was ready`));
    });
  });
}
