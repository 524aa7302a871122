import { loadPolicy } from "@open-policy-agent/opa-wasm";
import type { Entrypoint } from "../domain/policy-contract.ts";
import { toError } from "../errors.ts";
import { createDeadline, type Deadline } from "./deadline.ts";
import { createDecisionMemo, type DecisionMemo, type MemoStats } from "./decision-memo.ts";
import {
  type EvaluationThread,
  startEvaluationThread,
  type ThreadAnswer,
  ThreadEnded,
} from "./evaluation-thread.ts";
import { type DeclaredFields, inputJson, inputKey, learnerOf } from "./input-json.ts";

// One wasm instance with its data set, evaluated through the opa-wasm SDK's public API only
// (`loadPolicy`, `setData`, `evaluate`, `entrypoints`): the input goes in as the JSON text
// input-json.ts writes (the SDK takes an ArrayBuffer as ready-made JSON) and the result set comes
// back parsed by the SDK.
//
// With a hard limit on evaluations, `evaluateServing` (the decision routes) sends what the memo
// does not answer to a second instance on a thread of the evaluator's own once that has started
// (evaluation-thread.ts): the limit is enforced by terminating the thread, which costs far less
// per call than `vm`'s watchdog, and the event loop serves on meanwhile. Until the first thread is
// ready the evaluator answers on its own instance under the `vm` deadline; after one was stopped,
// serving evaluations (those queued behind the stopped one too) wait for the next thread instead,
// so a bundle that hangs for some input never holds the event loop once it has served on a thread.

export type EvaluateOptions = {
  /** Evaluate in the wasm, neither reading nor filling the memo (dry runs, self-checks). */
  fresh?: boolean;
};

export type Evaluator = {
  /** The entrypoints the wasm was compiled with, sorted. */
  entrypoints: string[];
  /**
   * Evaluates an entrypoint; with the memo on, an input the rules cannot tell from one already
   * answered gets that (frozen, shared) answer. `fresh` evaluates in the wasm, neither reading nor filling
   * the memo (dry runs and self-checks, which must not skew what serving traffic keeps).
   */
  evaluate<T>(entrypoint: Entrypoint, input: unknown, how?: EvaluateOptions): T;
  /**
   * `evaluate` for the serving path: the memo, then the evaluation thread when it is up (the event
   * loop is free while the wasm runs; a promise), else this instance (the answer, at once).
   */
  evaluateServing<T>(entrypoint: Entrypoint, input: unknown): T | Promise<T>;
  /** Hits, misses and size of the decision memo, per memoised entrypoint (empty when off). */
  memoStats(): Partial<Record<Entrypoint, MemoStats>>;
  /**
   * Ends the evaluation thread, if one runs (a bundle that stops serving), once what was sent to it
   * is answered. The evaluator still answers, on its own instance, until warm() is called again.
   */
  close(): void;
  /** Whether serving evaluations go to the evaluation thread now (false while it starts). */
  servesOnThread(): boolean;
  /**
   * Starts the evaluation thread (with a hard limit) and resolves once it is up, or could not
   * start: a bundle about to serve, so its first misses do not run here under `vm`'s limit.
   */
  warm(): Promise<void>;
};

// A bundle dropped without close() (a refused candidate, a test) still ends its thread: keyed by
// the evaluator's evaluate function, which a loaded bundle keeps (it copies the evaluator's members).
type Held = { thread: EvaluationThread | null; generation: number };
const threads = new FinalizationRegistry<Held>((held) => {
  held.generation = -1; // a thread still starting is ended when it is ready
  held.thread?.close();
});

export type InstantiateOptions = {
  /** The fields of each input part the rules read (`data.contract.fields`); null: all are passed. */
  declared?: DeclaredFields | null;
  /** Decisions kept per memoised entrypoint (least recently used go first); 0 turns reuse off. */
  memoEntries?: number;
  onMemo?: (entrypoint: Entrypoint, hit: boolean) => void;
  /**
   * Most linear memory the wasm may grow to, in MiB (default WASM_MEMORY_MB): a runaway allocation
   * then fails inside the evaluation (opa_malloc traps, the call throws) instead of taking the host.
   */
  wasmMemoryMb?: number;
  /** Hard limit on one wasm evaluation, in ms (0: none); see src/engine/deadline.ts. */
  evaluationTimeoutMs?: number;
  /** Every wasm evaluation (not memo hits): how long it ran, and whether it was stopped at the limit. */
  onEvaluation?: (entrypoint: Entrypoint, ms: number, timedOut: boolean) => void;
};

/** The default ceiling of a bundle's wasm memory: the shipped bundle uses under 5 MiB. */
export const WASM_MEMORY_MB = 256;

/** How many threads an evaluation queued behind stopped ones is sent to before it runs here. */
const MAX_THREAD_TRIES = 3;

/** After a thread failed to start, how long serving stays on the bundle's own instance. */
const THREAD_RETRY_MS = 5_000;

/** The entrypoints whose answers are reused: the per-request decisions, not policy validation. */
const MEMOIZED: readonly Entrypoint[] = ["residency/decision", "inference/route"];

/** Compiles and instantiates `wasm` and sets its data. Throws what the SDK throws, as an Error. */
export async function instantiate(
  wasm: Uint8Array,
  data: object,
  options: InstantiateOptions = {},
): Promise<Evaluator> {
  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  // 64 KiB pages; the initial size is the SDK's default (5 pages).
  const maximum = Math.ceil(((options.wasmMemoryMb ?? WASM_MEMORY_MB) * 1024 * 1024) / 65_536);
  const memory = { initial: Math.min(5, maximum), maximum };
  try {
    policy = await loadPolicy(wasm, memory);
    policy.setData(data);
  } catch (err) {
    throw toError(err); // opa-wasm throws strings
  }
  const declared = options.declared ?? null;
  const encoder = new TextEncoder();
  const memos = new Map<Entrypoint, DecisionMemo>(
    (options.memoEntries ?? 0) > 0
      ? MEMOIZED.map((e) => [e, createDecisionMemo(options.memoEntries ?? 0)] as const)
      : [],
  );

  const limitMs = options.evaluationTimeoutMs ?? 0;
  const deadline: Deadline | null = limitMs > 0 ? createDeadline(limitMs) : null;
  const held: Held = { thread: null, generation: 0 };
  let starting: Promise<EvaluationThread | null> | null = null;
  // Set when a thread was stopped at the limit: until the next is up, serving evaluations wait for
  // it rather than run here, where one that never ends would hold the event loop to the limit.
  let restarting = false;
  // close(): serving answers here from then on and starts no thread (a replaced bundle still gets
  // the decisions that read it before the swap); warm() serves on a thread again.
  let closed = false;
  // After a thread failed to start: none is tried again until then (each try costs a worker's boot).
  let noThreadUntil = 0;
  /** The next serving thread, started once at a time; null when it cannot start (or was closed meanwhile). */
  function startThread(): Promise<EvaluationThread | null> {
    if (!starting && Date.now() < noThreadUntil) return Promise.resolve(null);
    if (!starting) {
      const generation = held.generation;
      starting = startEvaluationThread(wasm, data, memory, limitMs).then(
        (thread) => {
          starting = null;
          restarting = false;
          if (generation !== held.generation) {
            thread.close(); // closed (or dropped) while it started
            return null;
          }
          held.thread = thread;
          return thread;
        },
        () => {
          // Not fatal: this instance keeps answering under the vm deadline, and tries again later.
          starting = null;
          restarting = false;
          noThreadUntil = Date.now() + THREAD_RETRY_MS;
          return null;
        },
      );
    }
    return starting;
  }
  /** The serving thread when it is up; its start when one is being replaced after a stop; else null (here). */
  function servingThread(): EvaluationThread | Promise<EvaluationThread | null> | null {
    if (held.thread?.alive) return held.thread;
    held.thread = null;
    if (closed) return null;
    const next = startThread();
    return restarting ? next : null;
  }

  /** The wasm's answer: the first result of the result set `[{"result": ...}]`. */
  function run<T>(entrypoint: Entrypoint, input: unknown): T {
    let resultSet: unknown;
    const started = performance.now();
    let timedOut = false;
    try {
      const json = encoder.encode(inputJson(input, declared, "wasm"));
      // An ArrayBuffer is taken as JSON text as it is: exactly the bytes written, no re-stringify.
      const bytes = json.byteLength === json.buffer.byteLength ? json.buffer : json.slice().buffer;
      const call = () => policy.evaluate(bytes, entrypoint);
      resultSet = deadline ? deadline(call) : call();
    } catch (err) {
      timedOut = (err as { code?: unknown })?.code === "EVALUATION_TIMEOUT";
      throw toError(err); // opa-wasm throws strings
    } finally {
      options.onEvaluation?.(entrypoint, performance.now() - started, timedOut);
    }
    return firstResult<T>(entrypoint, resultSet);
  }

  /** On the evaluation thread when it is up (or being replaced after a stop); else here, at once. */
  function runServing<T>(entrypoint: Entrypoint, input: unknown): T | Promise<T> {
    const thread = deadline ? servingThread() : null;
    if (thread === null) return run<T>(entrypoint, input);
    if (thread instanceof Promise) return thread.then((t) => onThreadOrHere<T>(t, entrypoint, input, 1));
    return runOnThread<T>(thread, entrypoint, input, 0);
  }

  function onThreadOrHere<T>(
    thread: EvaluationThread | null,
    entrypoint: Entrypoint,
    input: unknown,
    tries: number,
  ): T | Promise<T> {
    return thread ? runOnThread<T>(thread, entrypoint, input, tries) : run<T>(entrypoint, input);
  }

  async function runOnThread<T>(
    thread: EvaluationThread,
    entrypoint: Entrypoint,
    input: unknown,
    tries: number,
  ): Promise<T> {
    const sent = performance.now();
    let answer: ThreadAnswer;
    try {
      answer = await thread.evaluate(entrypoint, inputJson(input, declared, "wasm"));
    } catch (err) {
      if (err instanceof ThreadEnded) {
        // The thread crashed or could not start: nothing here ran for too long, so this instance
        // answers (under the vm limit).
        if (!err.stopped) return run<T>(entrypoint, input);
        // Queued behind an evaluation stopped at the limit: on to the next thread, so that one of
        // these that never ends either is stopped there too — never here, where it would hold the
        // event loop. On a bundle no longer serving, or after several threads, it fails closed.
        if (closed || tries >= MAX_THREAD_TRIES) throw new ThreadEnded(err.message, true);
        if (!held.thread?.alive) restarting = true;
        const next = held.thread?.alive ? held.thread : await startThread();
        return onThreadOrHere<T>(next, entrypoint, input, tries + 1);
      }
      const timedOut = (err as { code?: unknown })?.code === "EVALUATION_TIMEOUT";
      if (timedOut && !closed) {
        if (!held.thread?.alive) restarting = true;
        void startThread();
      }
      // A stopped one ran for the limit (the time since it was sent also counts its wait in the queue).
      options.onEvaluation?.(entrypoint, timedOut ? limitMs : performance.now() - sent, timedOut);
      throw toError(err);
    }
    // The time the wasm ran, not the time this waited behind other evaluations on the thread.
    options.onEvaluation?.(entrypoint, answer.ms, false);
    return firstResult<T>(entrypoint, answer.resultSet);
  }

  /** The memo's answer for `input` (hit), or where to keep a new one; null when it is not reused. */
  function remembered(entrypoint: Entrypoint, input: unknown) {
    const memo = memos.get(entrypoint);
    const nowMs = memo ? clockOf(input) : undefined;
    if (!memo || nowMs === undefined) return null;
    const key = inputKey(input, declared);
    const learner = learnerOf(input);
    const hit = memo.get(key, learner, nowMs);
    options.onMemo?.(entrypoint, hit !== undefined);
    return { memo, key, learner, hit };
  }

  const evaluate = <T>(entrypoint: Entrypoint, input: unknown, how: EvaluateOptions = {}): T => {
    const m = how.fresh ? null : remembered(entrypoint, input);
    if (!m) return run<T>(entrypoint, input);
    if (m.hit !== undefined) return m.hit as T;
    return m.memo.set(m.key, m.learner, run<T>(entrypoint, input));
  };
  // A memo hit (and an evaluation here) is answered at once, not as a promise: on the decision
  // path every await is another turn of the microtask queue (an always-async version cost 13–15%
  // of throughput in two paired runs, memo on).
  const evaluateServing = <T>(entrypoint: Entrypoint, input: unknown): T | Promise<T> => {
    const m = remembered(entrypoint, input);
    if (!m) return runServing<T>(entrypoint, input);
    if (m.hit !== undefined) return m.hit as T;
    const answer = runServing<T>(entrypoint, input);
    if (!(answer instanceof Promise)) return m.memo.set(m.key, m.learner, answer);
    return answer.then((a) => m.memo.set(m.key, m.learner, a));
  };
  // The thread serves evaluateServing alone: once nothing can call it, the thread ends.
  threads.register(evaluateServing, held);
  return {
    entrypoints: Object.keys(policy.entrypoints as Record<string, number>).sort(),
    evaluate,
    evaluateServing,
    memoStats: () => Object.fromEntries([...memos].map(([e, m]) => [e, m.stats()])),
    close() {
      closed = true;
      restarting = false;
      if (held.generation >= 0) held.generation++;
      held.thread?.close(); // ends once what was sent to it is answered
      held.thread = null;
    },
    servesOnThread: () => held.thread?.alive === true,
    async warm() {
      closed = false;
      if (deadline && !held.thread?.alive) await startThread();
    },
  };
}

/** The first result of a result set `[{"result": ...}]`. */
function firstResult<T>(entrypoint: Entrypoint, resultSet: unknown): T {
  const first = (resultSet as Array<{ result?: T }>)[0];
  if (!first || first.result === undefined) throw new Error(`${entrypoint} is undefined for this input`);
  return first.result;
}

/**
 * `input.now_ms` when the input carries a finite clock of its own (an inherited one is not in the
 * JSON the wasm reads), else undefined: such inputs are evaluated, never reused.
 */
function clockOf(input: unknown): number | undefined {
  if (input === null || typeof input !== "object" || !Object.hasOwn(input, "now_ms")) return undefined;
  const now = (input as { now_ms?: unknown }).now_ms;
  return typeof now === "number" && Number.isFinite(now) ? now : undefined;
}
