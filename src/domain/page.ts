import { AppError } from "../errors.ts";

// Every listing answers `{items, next_cursor}` (SPEC §6). The cursor is the sort key of the last
// item handed out, opaque to the caller (base64url of a JSON array); a page is read with one row
// more than asked so a next page is announced only when there is one, and never silently cut.

export type Page<T> = { items: T[]; next_cursor: string | null };

export type CursorKey = ReadonlyArray<string | number>;

export const MAX_PAGE = 1000;

export function encodeCursor(key: CursorKey): string {
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

/**
 * What one part of a cursor's key must be: text the store can hold (no NUL, no lone surrogate), a
 * serial (a whole number from 1, as a bigserial column holds), or an instant as `Date.toISOString`
 * prints it (the listing compares it as a timestamptz).
 */
export type CursorPart = "string" | "serial" | "instant";

const fits = (v: unknown, part: CursorPart): boolean => {
  if (part === "serial") return Number.isSafeInteger(v) && (v as number) >= 1;
  if (typeof v !== "string" || v.length > 256 || v.includes("\u0000") || !v.isWellFormed()) return false;
  if (part === "string") return true;
  const at = new Date(v);
  return !Number.isNaN(at.getTime()) && at.toISOString() === v;
};

/**
 * The sort key a cursor carries, checked for shape; anything else is a 400, never a guess — nor a
 * store error from a value the database would refuse.
 */
export function decodeCursor(cursor: string, shape: ReadonlyArray<CursorPart>): Array<string | number> {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    key = null;
  }
  const ok =
    Array.isArray(key) &&
    key.length === shape.length &&
    key.every((v, i) => fits(v, shape[i]!)) &&
    encodeCursor(key) === cursor;
  if (!ok) throw new AppError("VALIDATION_FAILED", "invalid cursor", { details: { field: "cursor" } });
  return key as Array<string | number>;
}

/** `rows` were read with LIMIT limit + 1: the extra row only says whether another page exists. */
export function pageOf<T, U = T>(
  rows: T[],
  limit: number,
  keyOf: (row: T) => CursorKey,
  view: (row: T) => U = (row) => row as unknown as U,
): Page<U> {
  const more = rows.length > limit;
  const kept = more ? rows.slice(0, limit) : rows;
  const last = kept[kept.length - 1];
  return {
    items: kept.map(view),
    next_cursor: more && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/** A listing that is complete by construction (the region catalog, one policy's versions). */
export function wholePage<T>(items: T[]): Page<T> {
  return { items, next_cursor: null };
}
