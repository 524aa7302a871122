// Reuse of decisions across inputs the rules cannot tell apart. A decision is a pure function of
// the bundle and its input: the SDK gives the wasm no clock, network or randomness (its host
// builtins are json, regex, strings and yaml), so the only time it sees is `input.now_ms`. The
// rules read the clock and the learner in one place (residency.overrides;
// scripts/rego-input-check.mjs fails the build otherwise) and publish with every answer its
// `reuse`: the window of `now_ms` over which it cannot change, and whether it is the requesting
// learner's own (an override scoped to learners is in play) or every learner's. The key is the
// input exactly as the wasm receives it (input-json.ts), minus the clock and the learner; the
// memo checks those against the stored answer's `reuse`. One memo per loaded bundle: a new
// revision starts empty.

import { freeze } from "../domain/sealed.ts";

export type Reuse = { from_ms: number | null; until_ms: number | null; per_learner: boolean };

/** One distinct answer, held once however many inputs share it. */
type Answer = {
  text: string;
  result: unknown;
  from: number;
  until: number;
  perLearner: boolean;
  refs: number;
};

/** Under a shared key: the answers for it are per learner, each under `key + "\n" + learner`. */
const PER_LEARNER = Symbol("per learner");
type Slot = Answer | typeof PER_LEARNER;

export type MemoStats = { hits: number; misses: number; size: number; answers: number; capacity: number };

export type DecisionMemo = {
  /** The answer stored for `key` (and `learner`, when per learner) if `nowMs` is in its window. */
  get(key: string, learner: string, nowMs: number): unknown;
  /**
   * Returns the answer the wasm gave as `text` (parsed by `parse` unless an identical answer is
   * held already) and stores it for `key` when it carries a well-formed `reuse`.
   */
  set<T>(key: string, learner: string, text: string, parse: (text: string) => T): T;
  stats(): MemoStats;
};

/**
 * Least-recently-used, at most `capacity` keys (a Map keeps insertion order). Many inputs share
 * one answer — every learner of a tenant asking the same thing — so answers are interned by the
 * wasm's output text: a key costs its own bytes, an answer is held once.
 */
export function createDecisionMemo(capacity: number): DecisionMemo {
  const slots = new Map<string, Slot>();
  const answers = new Map<string, Answer>();
  let hits = 0;
  let misses = 0;

  function release(slot: Slot | undefined) {
    if (slot === undefined || slot === PER_LEARNER) return;
    slot.refs--;
    if (slot.refs === 0 && answers.get(slot.text) === slot) answers.delete(slot.text);
  }

  /** Reads a slot and marks it most recently used. */
  function touch(key: string): Slot | undefined {
    const slot = slots.get(key);
    if (slot !== undefined) {
      slots.delete(key);
      slots.set(key, slot);
    }
    return slot;
  }

  function put(key: string, slot: Slot) {
    if (slot !== PER_LEARNER) slot.refs++;
    const previous = slots.get(key);
    if (previous !== undefined) {
      slots.delete(key);
      release(previous);
    } else if (slots.size >= capacity) {
      const [oldestKey, oldest] = slots.entries().next().value as [string, Slot];
      slots.delete(oldestKey);
      release(oldest);
    }
    slots.set(key, slot);
  }

  return {
    get(key, learner, nowMs) {
      let slot = touch(key);
      if (slot === PER_LEARNER) slot = touch(`${key}\n${learner}`);
      if (slot === undefined || slot === PER_LEARNER || nowMs < slot.from || nowMs >= slot.until) {
        misses++;
        return undefined;
      }
      hits++;
      return slot.result;
    },
    set(key, learner, text, parse) {
      let answer = answers.get(text);
      if (!answer) {
        // Shared between callers: frozen, so no caller can change another's decision.
        const result = freeze(parse(text));
        const reuse = reuseOf(result);
        if (!reuse) return result;
        answer = {
          text,
          result,
          from: reuse.from_ms ?? Number.NEGATIVE_INFINITY,
          until: reuse.until_ms ?? Number.POSITIVE_INFINITY,
          perLearner: reuse.per_learner,
          refs: 0,
        };
        answers.set(text, answer);
      }
      answer.refs++; // held while its slots are written: storing one may evict another of its own
      if (answer.perLearner) {
        put(key, PER_LEARNER);
        put(`${key}\n${learner}`, answer);
      } else put(key, answer);
      release(answer);
      return answer.result as ReturnType<typeof parse>;
    },
    stats: () => ({ hits, misses, size: slots.size, answers: answers.size, capacity }),
  };
}

/** The answer's `reuse`, or null unless it is well formed (then the answer is not stored). */
export function reuseOf(result: unknown): Reuse | null {
  const reuse = (result as { reuse?: unknown } | null)?.reuse;
  if (reuse === null || typeof reuse !== "object") return null;
  const { from_ms, until_ms, per_learner } = reuse as Partial<Reuse>;
  const end = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v));
  return end(from_ms) && end(until_ms) && typeof per_learner === "boolean"
    ? { from_ms: from_ms ?? null, until_ms: until_ms ?? null, per_learner }
    : null;
}
