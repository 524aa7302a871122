// Reading the audit log back (SPEC §6 `GET /api/v1/audit/access-logs`), newest first, with
// keyset pagination on seq so a page costs the same at any depth.
//
// Items carry exactly the hashed fields (policy_id / policy_version flat, as stored) plus
// prev_hash and hash, so an auditor can recompute every hash from what the API returns.

import { AppError } from "../errors.ts";
import type { Db } from "../store/db.ts";
import { expandRows } from "./contexts.ts";
import { type AuditRecord, type LatestRecord, RECORD_COLUMNS } from "./types.ts";

/**
 * The payload of decision records (`decision.access`, `decision.inference`, `decision.presign`).
 * The filters below read `request.operation_type` and `decision.allowed`; everything else is free.
 */
export type DecisionAuditPayload = {
  /** The compact request as received (tenant_id, operation_type, resource_type, requested_region, …). */
  request: { operation_type: string; [field: string]: unknown };
  /** The answer (allowed, reason_code, target_region, legal_regions, permitted_regions, …). */
  decision: { allowed: boolean; reason_code: string; target_region: string | null; [field: string]: unknown };
  [field: string]: unknown;
};

export type AuditFilters = {
  /** The caller's key scope: only these tenants (records without a tenant are excluded). null/absent = all. */
  tenant_ids?: readonly string[] | null;
  tenant_id?: string | null;
  learner_id?: string | null;
  /** ISO 8601 date or date-time with offset; inclusive. */
  from?: string | null;
  /** ISO 8601 date or date-time with offset; exclusive. */
  to?: string | null;
  /** Decision records: payload.request.operation_type. */
  operation_type?: string | null;
  /** Decision records: payload.decision.allowed. */
  allowed?: boolean | null;
  /** Exact record type, e.g. `decision.access`. */
  type?: string | null;
  /** Decision records: payload.decision.reason_code, e.g. `DENY_NO_TRANSFER_MECHANISM`. */
  code?: string | null;
  /** One record: its event_id (= decision_id for decisions). */
  event_id?: string | null;
};

export type AuditQuery = AuditFilters & {
  /** 1..1000, default 100. */
  limit?: number | null;
  /** next_cursor of the previous page. */
  cursor?: string | null;
};

/** A record as the API and exports show it: the hashed fields, times as ISO strings. */
export type AuditItem = Omit<AuditRecord, "occurred_at"> & { occurred_at: string };

export type AuditPage = {
  items: AuditItem[];
  next_cursor: string | null;
  /**
   * Present when archived (and dropped) ranges overlap the query's time window: the records there
   * are no longer in the database, and these archives hold them (docs/decisions/0007).
   */
  archived?: ArchivedRange[];
};

export type ArchivedRange = {
  archive_id: number;
  first_seq: number;
  last_seq: number;
  first_occurred_at: string;
  last_occurred_at: string;
  location: string;
};

export const DEFAULT_LIMIT = 100;
export const MAX_LIMIT = 1000;

export const AUDIT_COLUMNS = RECORD_COLUMNS.join(", ");

/** A record as the drivers return it. */
export type AuditRow = Omit<AuditItem, "seq" | "occurred_at"> & { seq: number | bigint; occurred_at: Date };

export async function queryAuditLogs(db: Pick<Db, "query">, query: AuditQuery): Promise<AuditPage> {
  const limit = query.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new AppError("VALIDATION_FAILED", `limit must be an integer from 1 to ${MAX_LIMIT}`, {
      details: { field: "limit" },
    });
  }
  const params: unknown[] = [];
  const where = compileFilters(query, params);
  if (query.cursor) {
    params.push(decodeCursor(query.cursor));
    where.push(`seq < $${params.length}`);
  }
  params.push(limit + 1); // one more than asked tells whether another page exists
  const { rows } = await db.query<AuditRow>(
    `SELECT ${AUDIT_COLUMNS} FROM audit_log ${whereClause(where)} ORDER BY seq DESC LIMIT $${params.length}`,
    params,
  );
  const items = rows.slice(0, limit).map(toAuditItem);
  const last = items[items.length - 1];
  const next_cursor = rows.length > limit && last ? encodeCursor(last.seq) : null;
  // The last page (or the only one) says where the older, archived part of the answer is.
  const archived = next_cursor === null ? await archivedRanges(db, query) : [];
  return archived.length > 0 ? { items, next_cursor, archived } : { items, next_cursor };
}

async function archivedRanges(db: Pick<Db, "query">, query: AuditFilters): Promise<ArchivedRange[]> {
  const { rows } = await db.query<{
    id: number | bigint;
    first_seq: number | bigint;
    last_seq: number | bigint;
    first_occurred_at: Date | string;
    last_occurred_at: Date | string;
    location: string;
  }>(
    `SELECT id, first_seq, last_seq, first_occurred_at, last_occurred_at, location FROM audit_archives
      WHERE dropped_at IS NOT NULL
        AND ($1::timestamptz IS NULL OR last_occurred_at >= $1::timestamptz)
        AND ($2::timestamptz IS NULL OR first_occurred_at < $2::timestamptz)
      ORDER BY first_seq`,
    [query.from ? parseInstant(query.from, "from") : null, query.to ? parseInstant(query.to, "to") : null],
  );
  return rows.map((r) => ({
    archive_id: Number(r.id),
    first_seq: Number(r.first_seq),
    last_seq: Number(r.last_seq),
    first_occurred_at: new Date(r.first_occurred_at).toISOString(),
    last_occurred_at: new Date(r.last_occurred_at).toISOString(),
    location: r.location,
  }));
}

/** The newest `limit` records of these types, newest first. */
export async function latestRecords(
  db: Pick<Db, "query">,
  types: readonly string[],
  limit: number,
): Promise<LatestRecord[]> {
  const { rows } = await db.query<Omit<LatestRecord, "occurred_at"> & { occurred_at: Date | string }>(
    `SELECT event_id, type, occurred_at, tenant_id, learner_id, bundle_revision, payload
       FROM audit_log WHERE type = ANY($1) ORDER BY seq DESC LIMIT $2`,
    [[...types], limit],
  );
  // Compact records reference their evaluation context by hash: put it back (the exact input).
  return expandRows(
    db,
    rows.map((row) => ({
      ...row,
      occurred_at: new Date(row.occurred_at).toISOString(),
      payload: typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload,
    })),
  );
}

/** SQL conditions for the filters; pushes their parameters onto `params`. */
export function compileFilters(filters: AuditFilters, params: unknown[]): string[] {
  const where: string[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (filters.tenant_ids) add((p) => `tenant_id = ANY(${p}::text[])`, [...filters.tenant_ids]);
  if (filters.tenant_id) add((p) => `tenant_id = ${p}`, filters.tenant_id);
  if (filters.learner_id) add((p) => `learner_id = ${p}`, filters.learner_id);
  if (filters.from) add((p) => `occurred_at >= ${p}::timestamptz`, parseInstant(filters.from, "from"));
  if (filters.to) add((p) => `occurred_at < ${p}::timestamptz`, parseInstant(filters.to, "to"));
  if (filters.operation_type)
    add((p) => `payload->'request'->>'operation_type' = ${p}`, filters.operation_type);
  if (typeof filters.allowed === "boolean") {
    add((p) => `payload->'decision'->>'allowed' = ${p}`, String(filters.allowed));
  }
  if (filters.type) add((p) => `type = ${p}`, filters.type);
  if (filters.code) add((p) => `payload->'decision'->>'reason_code' = ${p}`, filters.code);
  if (filters.event_id) add((p) => `event_id = ${p}`, filters.event_id);
  return where;
}

export function whereClause(conditions: readonly string[]): string {
  return conditions.length > 0 ? `WHERE ${conditions.join(" AND ")}` : "";
}

export function toAuditItem(row: AuditRow): AuditItem {
  return {
    seq: Number(row.seq),
    event_id: row.event_id,
    type: row.type,
    occurred_at: row.occurred_at.toISOString(),
    tenant_id: row.tenant_id,
    learner_id: row.learner_id,
    actor: row.actor,
    request_id: row.request_id,
    bundle_revision: row.bundle_revision,
    policy_id: row.policy_id,
    policy_version: row.policy_version,
    payload: row.payload,
    prev_hash: row.prev_hash,
    hash: row.hash,
  };
}

export function encodeCursor(seq: number): string {
  return Buffer.from(String(seq), "utf8").toString("base64url");
}

export function decodeCursor(cursor: string): number {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const seq = Number(text);
  // Re-encoding must give the cursor back: Buffer's decoder skips junk rather than refusing it.
  if (!/^[1-9][0-9]{0,15}$/.test(text) || !Number.isSafeInteger(seq) || encodeCursor(seq) !== cursor) {
    throw new AppError("VALIDATION_FAILED", "invalid cursor", { details: { field: "cursor" } });
  }
  return seq;
}

// A date-time without an offset would be read in the server's time zone: refuse the ambiguity.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/;

// Postgres timestamps cover 4713 BC to 294276 AD but refuse year 0 as written; JavaScript rolls
// 2026-02-30 over into March. Years 0001–9999 and real calendar days only: anything else is a 400,
// never a 500 from the store or a silently different instant.
const FIRST_INSTANT = Date.parse("0001-01-01T00:00:00Z");

function isCalendarDate(value: string): boolean {
  const year = Number(value.slice(0, 4));
  const month = Number(value.slice(5, 7));
  const day = Number(value.slice(8, 10));
  const probe = new Date(Date.UTC(2000, month - 1, day));
  probe.setUTCFullYear(year);
  return year >= 1 && probe.getUTCMonth() === month - 1 && probe.getUTCDate() === day;
}

function parseInstant(value: string, field: string): string {
  const time = ISO_INSTANT.test(value) && isCalendarDate(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time) || time < FIRST_INSTANT) {
    throw new AppError("VALIDATION_FAILED", `${field} must be an ISO 8601 date or date-time with offset`, {
      details: { field },
    });
  }
  return new Date(time).toISOString();
}
