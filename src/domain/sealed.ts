import { createHash } from "node:crypto";

// Values that can never change once sealed, so their JSON is computed once. The context cache
// seals what it holds (a tenant's policies and overrides, region health); evaluation then
// serialises a sealed part of its input by looking it up instead of walking it again — for a
// cached policy, most of the input — and the decision memo keys it by a short digest of that
// JSON. The memo only `freeze`s the answers it shares: nothing serialises them again.

const sealed = new WeakSet<object>();
const texts = new WeakMap<object, string>();
const tokens = new WeakMap<object, string>();

/** Deep-freezes `value` in place; returns it. Any later write throws (modules are strict). */
export const freeze = <T>(value: T): T => deepEach(value, (o) => Object.freeze(o));

/**
 * Deep-freezes `value` and marks it sealed, so its JSON may be remembered; returns it. Costlier
 * than `freeze` (every nested object is registered): for values read by many requests.
 */
export const seal = <T>(value: T): T =>
  deepEach(
    value,
    (o) => {
      Object.freeze(o);
      sealed.add(o);
    },
    (o) => sealed.has(o),
  );

/** Visits every object in `value`, children first; `done` objects are skipped with theirs. */
function deepEach<T>(value: T, visit: (o: object) => void, done?: (o: object) => boolean): T {
  if (value !== null && typeof value === "object" && !done?.(value)) {
    for (const child of Object.values(value)) deepEach(child, visit, done);
    visit(value);
  }
  return value;
}

export const isSealed = (value: unknown): value is object =>
  value !== null && typeof value === "object" && sealed.has(value);

/** `JSON.stringify(value)`, remembered for a sealed object (it cannot have changed since). */
export const jsonOf = (value: unknown): string | undefined =>
  isSealed(value) ? remembered(texts, value, () => JSON.stringify(value) as string) : JSON.stringify(value);

const memberNames = new Map<string, string>();

/**
 * `JSON.stringify(value)` for an answer built around sealed parts (a decision whose reasons,
 * obligations and regions come from a memo's answer): a plain object's sealed members are printed
 * from memory, the rest as usual. Anything but a plain object is JSON.stringify'd whole.
 */
export function jsonReusingMembers(value: unknown): string | undefined {
  if (!isPlainObject(value) || isSealed(value)) return jsonOf(value);
  let out = "{";
  for (const name of Object.keys(value)) {
    const text = jsonOf(value[name]);
    if (text === undefined) continue; // undefined, a function or a symbol: JSON drops the member
    let prefix = memberNames.get(name);
    if (prefix === undefined) {
      prefix = `${JSON.stringify(name)}:`;
      if (memberNames.size < 1_000) memberNames.set(name, prefix);
    }
    out += (out.length === 1 ? "" : ",") + prefix + text;
  }
  return `${out}}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (
    (proto === Object.prototype || proto === null) &&
    typeof (value as { toJSON?: unknown }).toJSON !== "function"
  );
}

/**
 * A short stand-in for JSON text in a lookup key: its SHA-256. Equal texts give equal tokens, so
 * two learners whose policies read the same share entries; unequal texts colliding would take a
 * SHA-256 collision. No JSON text starts with '#', so a token never equals a serialised value.
 */
export const contentToken = (text: string): string =>
  `#${createHash("sha256").update(text).digest("base64url")}`;

/** A sealed object's `contentToken`, computed once; other values: their JSON. */
export const keyOf = (value: unknown): string | undefined =>
  isSealed(value)
    ? remembered(tokens, value, () => contentToken(jsonOf(value) as string))
    : JSON.stringify(value);

const identities = new WeakMap<object, string>();
let nextIdentity = 0;

/**
 * A short name for one sealed object, never given to another (a counter, not an address): a
 * lookup key built from such names stands for exactly those unchanging values. Undefined for
 * anything not sealed.
 */
export const identityOf = (value: unknown): string | undefined =>
  isSealed(value) ? remembered(identities, value, () => `@${(nextIdentity++).toString(36)}`) : undefined;

function remembered(memo: WeakMap<object, string>, value: object, compute: () => string): string {
  let text = memo.get(value);
  if (text === undefined) {
    text = compute();
    memo.set(value, text);
  }
  return text;
}
