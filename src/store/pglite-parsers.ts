// How the embedded store reads values back. PGlite turns a timestamptz into `new Date(text)`, and
// JavaScript's legacy date parser reads Postgres's "0001-01-01 00:00:00.001+00" as 2001 (years below
// 100 land in the 1900s or 2000s): a record of such a time failed verification, its hash made from
// the year written. The same text in ISO 8601 form is read exactly.

const TIMESTAMPTZ = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?)([+-]\d\d)(?::(\d\d))?$/;

export function parseTimestamptz(text: string): Date | number {
  const m = TIMESTAMPTZ.exec(text);
  if (m) return new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? "00"}`);
  // Infinities as PGlite gives them; anything else (BC, beyond year 9999) as before.
  return text === "infinity"
    ? Number.POSITIVE_INFINITY
    : text === "-infinity"
      ? Number.NEGATIVE_INFINITY
      : new Date(text);
}

/** PGlite's `parsers` option: type oid → parser. */
export const PGLITE_PARSERS = { 1184: parseTimestamptz };
