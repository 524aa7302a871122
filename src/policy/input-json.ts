import { jsonOf, keyOf } from "../domain/sealed.ts";

// How an evaluation input becomes the JSON the wasm reads, and the memo key that stands for it.
// Both cut `request` to the fields the bundle declares it reads (`data.contract.request_fields`;
// the build checks no rule reads another): identifiers such as `resource_id` never reach the
// rules, so decisions that differ only in them are the same input — and the same memo entry.
//   "wasm": exactly `JSON.stringify` of that input, sealed parts' JSON looked up, not rebuilt;
//   "key":  the same without `now_ms` (the memo checks the clock against the time window), and
//           with each sealed part as its token — equal keys mean equal inputs, and the key stays
//           short to hash whatever the size of the policy.

export type InputForm = "wasm" | "key";

export function inputJson(
  input: unknown,
  requestFields: ReadonlySet<string> | null,
  form: InputForm,
): string {
  if (input === null || typeof input !== "object" || Array.isArray(input)) return JSON.stringify(input);
  const part = form === "key" ? keyOf : jsonOf;
  let json = "";
  for (const [name, value] of Object.entries(input)) {
    if (form === "key" && name === "now_ms") continue;
    const text =
      name === "request" && requestFields && isRecord(value)
        ? declaredJson(value, requestFields)
        : part(value);
    if (text === undefined) continue; // undefined and functions are left out, as JSON.stringify does
    json += `${json === "" ? "{" : ","}${JSON.stringify(name)}:${text}`;
  }
  return json === "" ? "{}" : `${json}}`;
}

function declaredJson(request: Record<string, unknown>, fields: ReadonlySet<string>): string {
  let json = "";
  for (const [name, value] of Object.entries(request)) {
    if (!fields.has(name)) continue;
    const text = JSON.stringify(value);
    if (text === undefined) continue;
    json += `${json === "" ? "{" : ","}${JSON.stringify(name)}:${text}`;
  }
  return json === "" ? "{}" : `${json}}`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === "object" && !Array.isArray(v);
