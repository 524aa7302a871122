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

import { LRUCache } from "lru-cache";
import { type Reuse, reuseOf } from "../domain/policy-contract.ts";
import { freeze } from "../domain/sealed.ts";

export type { Reuse };

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
   * Returns the wasm's `result` (or an identical answer held already, frozen) and stores it for
   * `key` when it carries a well-formed `reuse`.
   */
  set<T>(key: string, learner: string, result: T): T;
  stats(): MemoStats;
};

/**
 * Least-recently-used, at most `capacity` keys (`lru-cache`). Many inputs share one answer — every
 * learner of a tenant asking the same thing — so answers are interned by their JSON text: a key
 * costs its own bytes, an answer is held once (and dropped with the last key that holds it).
 */
export function createDecisionMemo(capacity: number): DecisionMemo {
  const answers = new Map<string, Answer>();
  const slots = new LRUCache<string, Slot>({
    max: capacity,
    // Evicted or replaced by another slot: the answer loses a holder.
    dispose: (slot) => release(slot),
  });
  let hits = 0;
  let misses = 0;

  function release(slot: Slot) {
    if (slot === PER_LEARNER) return;
    slot.refs--;
    if (slot.refs === 0 && answers.get(slot.text) === slot) answers.delete(slot.text);
  }

  function put(key: string, slot: Slot) {
    if (slots.peek(key) === slot) {
      slots.get(key); // the same slot again: only its recency changes
      return;
    }
    if (slot !== PER_LEARNER) slot.refs++;
    slots.set(key, slot);
  }

  return {
    get(key, learner, nowMs) {
      let slot = slots.get(key);
      if (slot === PER_LEARNER) slot = slots.get(`${key}\n${learner}`);
      if (slot === undefined || slot === PER_LEARNER || nowMs < slot.from || nowMs >= slot.until) {
        misses++;
        return undefined;
      }
      hits++;
      return slot.result;
    },
    set<T>(key: string, learner: string, result: T): T {
      const text = JSON.stringify(result);
      let answer = answers.get(text);
      if (!answer) {
        // Shared between callers: frozen, so no caller can change another's decision.
        const frozen = freeze(result);
        const reuse = reuseOf(frozen);
        if (!reuse) return frozen;
        answer = {
          text,
          result: frozen,
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
      return answer.result as T;
    },
    stats: () => ({ hits, misses, size: slots.size, answers: answers.size, capacity }),
  };
}
