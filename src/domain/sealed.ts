// Values that can never change once sealed, so their JSON is computed once. The context cache
// seals what it holds (a tenant's policies and overrides, region health) and the decision memo
// seals what it shares; evaluation then serialises a sealed part of its input by looking it up
// instead of walking it again — for a cached policy, most of the input — and the decision memo
// keys it by a short token.

const sealed = new WeakSet<object>();
const texts = new WeakMap<object, string>();
const tokens = new WeakMap<object, string>();
let issued = 0;

/** Deep-freezes `value` in place and marks it sealed; returns it. Any later write throws. */
export function seal<T>(value: T): T {
  if (value !== null && typeof value === "object" && !sealed.has(value)) {
    for (const child of Object.values(value)) seal(child);
    Object.freeze(value);
    sealed.add(value);
  }
  return value;
}

/** `JSON.stringify(value)`, remembered for a sealed object (it cannot have changed since). */
export function jsonOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || !sealed.has(value)) return JSON.stringify(value);
  let text = texts.get(value);
  if (text === undefined) {
    text = JSON.stringify(value);
    texts.set(value, text);
  }
  return text;
}

/**
 * A short stand-in for a sealed object's JSON in a lookup key: one token per object, never reused
 * in this process, so equal tokens mean the same (unchangeable) object. Other values: their JSON.
 */
export function keyOf(value: unknown): string | undefined {
  if (value === null || typeof value !== "object" || !sealed.has(value)) return JSON.stringify(value);
  let token = tokens.get(value);
  if (token === undefined) {
    issued++;
    token = `#${issued}`; // no JSON text starts with '#': a token never equals a serialised value
    tokens.set(value, token);
  }
  return token;
}
