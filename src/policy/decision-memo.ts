// Reuse of decisions for identical inputs. A decision is a pure function of the bundle and its
// input: the SDK gives the wasm no clock, network or randomness (its host builtins are json,
// regex, strings and yaml), so the only time it sees is `input.now_ms`. The rules read that clock
// in one place (residency.overrides; scripts/rego-input-check.mjs fails the build otherwise) and
// publish with every answer the `time_window` of `now_ms` over which it cannot change. So an input
// equal in everything but `now_ms`, with `now_ms` inside the window, gets the very same answer —
// the memo returns it without evaluating. The key is the input exactly as the wasm receives it
// (input-json.ts cuts `request` to the fields the rules read), minus the clock. One memo per
// loaded bundle: a new revision starts empty.

import { seal } from "../domain/sealed.ts";

export type TimeWindow = { from_ms: number | null; until_ms: number | null };

/** One distinct answer, held once however many inputs share it. */
type Answer = { text: string; result: unknown; from: number; until: number; refs: number };

export type MemoStats = { hits: number; misses: number; size: number; answers: number; capacity: number };

export type DecisionMemo = {
  /** The answer stored for `key` if `nowMs` lies in its window; undefined otherwise. */
  get(key: string, nowMs: number): unknown;
  /**
   * Returns the answer the wasm gave as `text` (parsed by `parse` unless an identical answer is
   * held already) and stores it for `key` when it carries a well-formed time window.
   */
  set<T>(key: string, text: string, parse: (text: string) => T): T;
  stats(): MemoStats;
};

/**
 * Least-recently-used, at most `capacity` keys (a Map keeps insertion order). Many inputs share
 * one answer — every learner of a tenant asking the same thing — so answers are interned by the
 * wasm's output text: a key costs its own bytes, an answer is held once.
 */
export function createDecisionMemo(capacity: number): DecisionMemo {
  const entries = new Map<string, Answer>();
  const answers = new Map<string, Answer>();
  let hits = 0;
  let misses = 0;

  function release(answer: Answer) {
    answer.refs--;
    if (answer.refs === 0 && answers.get(answer.text) === answer) answers.delete(answer.text);
  }

  return {
    get(key, nowMs) {
      const answer = entries.get(key);
      if (!answer || nowMs < answer.from || nowMs >= answer.until) {
        misses++;
        return undefined;
      }
      hits++;
      entries.delete(key); // most recently used last
      entries.set(key, answer);
      return answer.result;
    },
    set(key, text, parse) {
      let answer = answers.get(text);
      if (!answer) {
        // Shared between callers: sealed, so no caller can change another's decision.
        const result = seal(parse(text));
        const bounds = windowBounds((result as { time_window?: unknown } | null)?.time_window);
        if (!bounds || capacity <= 0) return result;
        answer = { text, result, from: bounds[0], until: bounds[1], refs: 0 };
        answers.set(text, answer);
      }
      answer.refs++; // before any release below, which may be of this very answer
      const previous = entries.get(key);
      if (previous) {
        entries.delete(key);
        release(previous);
      } else if (entries.size >= capacity) {
        const [oldestKey, oldest] = entries.entries().next().value as [string, Answer];
        entries.delete(oldestKey);
        release(oldest);
      }
      entries.set(key, answer);
      return answer.result as ReturnType<typeof parse>;
    },
    stats: () => ({ hits, misses, size: entries.size, answers: answers.size, capacity }),
  };
}

/** [from, until) from a published window; null unless both ends are numbers or null. */
function windowBounds(window: unknown): [number, number] | null {
  if (window === null || typeof window !== "object") return null;
  const { from_ms, until_ms } = window as Partial<TimeWindow>;
  const end = (v: unknown, unbounded: number) =>
    v === null ? unbounded : typeof v === "number" && Number.isFinite(v) ? v : undefined;
  const from = end(from_ms, Number.NEGATIVE_INFINITY);
  const until = end(until_ms, Number.POSITIVE_INFINITY);
  return from === undefined || until === undefined ? null : [from, until];
}
