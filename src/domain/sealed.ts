import { createHash } from "node:crypto";

// Values that can never change once sealed, so their JSON is computed once. The context cache
// seals what it holds (a tenant's policies and overrides, region health) and the decision memo
// seals what it shares; evaluation then serialises a sealed part of its input by looking it up
// instead of walking it again — for a cached policy, most of the input — and the decision memo
// keys it by a short digest of that JSON.

const sealed = new WeakSet<object>();
const texts = new WeakMap<object, string>();
const tokens = new WeakMap<object, string>();

/** Deep-freezes `value` in place; returns it. Any later write throws (modules are strict). */
export function freeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value)) freeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Deep-freezes `value` and marks it sealed, so its JSON may be remembered; returns it. Costlier
 * than `freeze` (every nested object is registered): for values read by many requests.
 */
export function seal<T>(value: T): T {
  if (value !== null && typeof value === "object" && !sealed.has(value)) {
    for (const child of Object.values(value)) seal(child);
    Object.freeze(value);
    sealed.add(value);
  }
  return value;
}

export const isSealed = (value: unknown): value is object =>
  value !== null && typeof value === "object" && sealed.has(value);

/** `JSON.stringify(value)`, remembered for a sealed object (it cannot have changed since). */
export function jsonOf(value: unknown): string | undefined {
  if (!isSealed(value)) return JSON.stringify(value);
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

/**
 * A short stand-in for JSON text in a lookup key: its SHA-256. Equal texts give equal tokens, so
 * two learners whose policies read the same share entries; unequal texts colliding would take a
 * SHA-256 collision. No JSON text starts with '#', so a token never equals a serialised value.
 */
export const contentToken = (text: string): string =>
  `#${createHash("sha256").update(text).digest("base64url")}`;

/** A sealed object's `contentToken`, computed once; other values: their JSON. */
export function keyOf(value: unknown): string | undefined {
  if (!isSealed(value)) return JSON.stringify(value);
  let token = tokens.get(value);
  if (token === undefined) {
    token = contentToken(jsonOf(value) as string);
    tokens.set(value, token);
  }
  return token;
}
