import { RECORD_COLUMNS } from "./types.ts";
// Streamed export behind `GET /api/v1/audit/export?format=jsonl|csv` (SPEC §6).
//
// An async generator of text chunks, one per page of records, oldest first (chain order, so an
// export can be re-verified line by line). Nothing is read until the consumer asks for the next
// chunk, so memory is one page and a slow client slows the reads: the route only has to respect
// the response's backpressure, e.g. `await pipeline(Readable.from(chunks), res)`.

import type { Db } from "../store/db.ts";
import { canonicalJson } from "./canonical.ts";
import {
  AUDIT_COLUMNS,
  type AuditFilters,
  type AuditItem,
  type AuditRow,
  compileFilters,
  toAuditItem,
  whereClause,
} from "./query.ts";

export type ExportFormat = "jsonl" | "csv";

export type ExportOptions = {
  format: ExportFormat;
  filters?: AuditFilters;
  /** Records per read and per chunk (default 1000). */
  pageSize?: number;
};

export const EXPORT_CONTENT_TYPES: Record<ExportFormat, string> = {
  jsonl: "application/x-ndjson; charset=utf-8",
  csv: "text/csv; charset=utf-8",
};

export const CSV_COLUMNS = RECORD_COLUMNS satisfies ReadonlyArray<keyof AuditItem>;

/**
 * Yields the export as text chunks. Validation errors (a bad `from`, say) surface on the first
 * `next()`, before anything is yielded, so the route can still answer 400.
 */
export async function* exportAuditLogs(
  db: Pick<Db, "query">,
  options: ExportOptions,
): AsyncGenerator<string> {
  const pageSize = options.pageSize ?? 1000;
  const params: unknown[] = [];
  const where = compileFilters(options.filters ?? {}, params);

  // Stop at the head seen now: an export is a snapshot, not a tail that never ends under load.
  const head = await db.query<{ seq: number | bigint }>(
    "SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1",
  );
  const headSeq = head.rows[0] ? Number(head.rows[0].seq) : 0;
  params.push(headSeq);
  where.push(`seq <= $${params.length}`);
  const afterParam = params.push(0);
  where.push(`seq > $${afterParam}`);
  params.push(pageSize);
  const sql = `SELECT ${AUDIT_COLUMNS} FROM audit_log ${whereClause(where)} ORDER BY seq LIMIT $${params.length}`;

  const line = options.format === "csv" ? csvLine : jsonLine;
  if (options.format === "csv") yield `${CSV_COLUMNS.join(",")}\r\n`;

  let after = 0;
  while (after < headSeq) {
    params[afterParam - 1] = after;
    const { rows } = await db.query<AuditRow>(sql, params);
    if (rows.length === 0) return;
    let chunk = "";
    for (const row of rows) chunk += line(toAuditItem(row));
    yield chunk;
    after = Number(rows[rows.length - 1]!.seq);
    if (rows.length < pageSize) return;
  }
}

function jsonLine(item: AuditItem): string {
  return `${JSON.stringify(item)}\n`;
}

// RFC 4180: CRLF line ends; a field holding a comma, quote, CR or LF is quoted, quotes doubled.
// NULL is an empty field and an empty string is `""`, so the two stay apart. The payload is its
// canonical JSON, the exact text its hash covers.
function csvLine(item: AuditItem): string {
  const fields = CSV_COLUMNS.map((column) => {
    const value = item[column];
    if (column === "payload") return csvField(canonicalJson(value));
    return value === null ? "" : csvField(String(value));
  });
  return `${fields.join(",")}\r\n`;
}

// A cell a spreadsheet would read as a formula (= + - @, or a tab or CR before one) is written with
// a leading apostrophe, quoted: principal names and revisions are caller-chosen text, and an export
// opened in Excel must not run `=HYPERLINK(…)`. The JSONL export stays byte-exact with the chain;
// to recompute a hash from CSV, drop that one apostrophe.
// (Text that already starts with apostrophes before one gets another, so the mapping stays reversible.)
const FORMULA_START = /^'*[=+\-@\t\r]/;

export function csvField(text: string): string {
  if (FORMULA_START.test(text)) return `"'${text.replaceAll('"', '""')}"`;
  return text === "" || /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The text a CSV cell stands for: the neutralising apostrophe of `csvField` removed. */
export function csvCellText(cell: string): string {
  return cell.startsWith("'") && FORMULA_START.test(cell.slice(1)) ? cell.slice(1) : cell;
}
