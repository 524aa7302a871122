import { loadPolicy } from "@open-policy-agent/opa-wasm";
import type { Entrypoint } from "../domain/policy-contract.ts";
import { toError } from "../errors.ts";
import { createDeadline, type Deadline } from "./deadline.ts";
import { createDecisionMemo, type DecisionMemo, type MemoStats } from "./decision-memo.ts";
import { type DeclaredFields, inputJson, inputKey, learnerOf } from "./input-json.ts";

// One wasm instance with its data set, evaluated through the opa-wasm SDK's public API only
// (`loadPolicy`, `setData`, `evaluate`, `entrypoints`): the input goes in as the JSON text
// input-json.ts writes (the SDK takes an ArrayBuffer as ready-made JSON) and the result set comes
// back parsed by the SDK.

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
  /** Hits, misses and size of the decision memo, per memoised entrypoint (empty when off). */
  memoStats(): Partial<Record<Entrypoint, MemoStats>>;
};

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

/** The entrypoints whose answers are reused: the per-request decisions, not policy validation. */
const MEMOIZED: readonly Entrypoint[] = ["residency/decision", "inference/route"];

/** Compiles and instantiates `wasm` and sets its data. Throws what the SDK throws, as an Error. */
export async function instantiate(
  wasm: Uint8Array,
  data: object,
  options: InstantiateOptions = {},
): Promise<Evaluator> {
  let policy: Awaited<ReturnType<typeof loadPolicy>>;
  try {
    // 64 KiB pages; the initial size is the SDK's default (5 pages).
    const maximum = Math.ceil(((options.wasmMemoryMb ?? WASM_MEMORY_MB) * 1024 * 1024) / 65_536);
    policy = await loadPolicy(wasm, { initial: Math.min(5, maximum), maximum });
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

  const deadline: Deadline | null =
    (options.evaluationTimeoutMs ?? 0) > 0 ? createDeadline(options.evaluationTimeoutMs!) : null;

  /** The wasm's answer: the first result of the result set `[{"result": ...}]`. */
  function run<T>(entrypoint: Entrypoint, input: unknown): T {
    let resultSet: Array<{ result?: T }>;
    const started = performance.now();
    let timedOut = false;
    try {
      const json = encoder.encode(inputJson(input, declared, "wasm"));
      // An ArrayBuffer is taken as JSON text as it is: exactly the bytes written, no re-stringify.
      const text = json.byteLength === json.buffer.byteLength ? json.buffer : json.slice().buffer;
      const call = () => policy.evaluate(text, entrypoint) as Array<{ result?: T }>;
      resultSet = deadline ? deadline(call) : call();
    } catch (err) {
      timedOut = (err as { code?: unknown })?.code === "EVALUATION_TIMEOUT";
      throw toError(err); // opa-wasm throws strings
    } finally {
      options.onEvaluation?.(entrypoint, performance.now() - started, timedOut);
    }
    const first = resultSet[0];
    if (!first || first.result === undefined) throw new Error(`${entrypoint} is undefined for this input`);
    return first.result;
  }

  return {
    entrypoints: Object.keys(policy.entrypoints as Record<string, number>).sort(),
    evaluate<T>(entrypoint: Entrypoint, input: unknown, how: EvaluateOptions = {}): T {
      const memo = how.fresh ? undefined : memos.get(entrypoint);
      const nowMs = memo ? clockOf(input) : undefined;
      if (!memo || nowMs === undefined) return run<T>(entrypoint, input);
      const key = inputKey(input, declared);
      const learner = learnerOf(input);
      const hit = memo.get(key, learner, nowMs);
      options.onMemo?.(entrypoint, hit !== undefined);
      if (hit !== undefined) return hit as T;
      return memo.set(key, learner, run<T>(entrypoint, input));
    },
    memoStats: () => Object.fromEntries([...memos].map(([e, m]) => [e, m.stats()])),
  };
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
