import { contentToken, isSealed, jsonOf, keyOf } from "../domain/sealed.ts";

// How an evaluation input becomes the JSON the wasm reads, and the memo key that stands for it.
// Both cut each part the bundle's contract lists (`data.contract.fields`: policy, request) to the
// fields declared there — the build checks no rule reads another — so identifiers such as
// `resource_id`, or the learner id inside an effective policy, never reach the rules: inputs that
// differ only in them are the same input.
//   "wasm": exactly `JSON.stringify` of that input; sealed parts' JSON looked up, not rebuilt;
//   "key":  the same without `now_ms` and `request.learner_id` (the memo checks those against
//           the answer's `reuse`), sealed parts as content tokens — short to hash, and equal
//           for equal content whichever learner's cached context they came from.

export type DeclaredFields = ReadonlyMap<string, ReadonlySet<string>>;
export type InputForm = "wasm" | "key";

/** Outside the key: decided by the answer's `reuse` (decision-memo.ts). */
const REUSE_DECIDED: Record<string, ReadonlySet<string>> = { request: new Set(["learner_id"]) };

/** Keys longer than this are replaced by their digest: a key's memory stays bounded. */
const LONGEST_KEY = 512;

/** The memo key of an input: see "key" above; a digest when long (an uncached context's JSON). */
export function inputKey(input: unknown, declared: DeclaredFields | null): string {
  const key = inputJson(input, declared, "key");
  return key.length > LONGEST_KEY ? contentToken(key) : key;
}

export function inputJson(input: unknown, declared: DeclaredFields | null, form: InputForm): string {
  if (!isRecord(input)) return JSON.stringify(input);
  let json = "";
  for (const [name, value] of Object.entries(input)) {
    if (form === "key" && name === "now_ms") continue;
    const fields = declared?.get(name);
    const text =
      fields && isRecord(value)
        ? declaredPart(value, fields, name, form)
        : form === "key"
          ? keyOf(value)
          : jsonOf(value);
    if (text === undefined) continue; // undefined and functions are left out, as JSON.stringify does
    json += `${json === "" ? "{" : ","}${JSON.stringify(name)}:${text}`;
  }
  return json === "" ? "{}" : `${json}}`;
}

/**
 * The `request.learner_id` an answer marked per_learner is kept for: its JSON (a digest when long),
 * or "-" when there is none (the rules tell an absent learner from a null one, so the memo must too).
 */
export function learnerOf(input: unknown): string {
  const request = isRecord(input) ? input.request : undefined;
  // Own properties only, as the JSON the wasm receives has them.
  const learner =
    isRecord(request) && Object.hasOwn(request, "learner_id")
      ? JSON.stringify(request.learner_id)
      : undefined;
  if (learner === undefined) return "-";
  return learner.length > LONGEST_KEY ? contentToken(learner) : learner;
}

// Cut parts of sealed objects, per contract (one field set per loaded bundle): computed once.
const cutCache = new WeakMap<ReadonlySet<string>, WeakMap<object, { text: string; token: string }>>();

function declaredPart(
  part: Record<string, unknown>,
  fields: ReadonlySet<string>,
  name: string,
  form: InputForm,
): string {
  const skip = form === "key" ? REUSE_DECIDED[name] : undefined;
  if (skip || !isSealed(part)) return cut(part, fields, skip);
  let byPart = cutCache.get(fields);
  if (!byPart) {
    byPart = new WeakMap();
    cutCache.set(fields, byPart);
  }
  let cached = byPart.get(part);
  if (!cached) {
    const text = cut(part, fields, undefined);
    cached = { text, token: contentToken(text) };
    byPart.set(part, cached);
  }
  return form === "key" ? cached.token : cached.text;
}

// One native stringify of the kept fields: faster than assembling the text field by field.
function cut(
  part: Record<string, unknown>,
  fields: ReadonlySet<string>,
  skip: ReadonlySet<string> | undefined,
) {
  const kept: Record<string, unknown> = {};
  for (const name of Object.keys(part)) if (fields.has(name) && !skip?.has(name)) kept[name] = part[name];
  return JSON.stringify(kept);
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
