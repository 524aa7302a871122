import type { Queryable } from "../store/db.ts";

// What the rest of the service hands to the audit room, and what the room promises back.

export type AuditEventInput = {
  /** = decision_id for decisions; unique. */
  event_id: string;
  /** e.g. `decision.access`, `decision.inference`, `decision.presign`, `policy.created`,
   * `override.approved`, `bundle.activated`, `key.created`, `region.health_changed`. */
  type: string;
  occurred_at: Date;
  tenant_id: string | null;
  learner_id: string | null;
  actor: string | null;
  request_id: string | null;
  bundle_revision: string | null;
  policy_id: string | null;
  policy_version: number | null;
  /** Compact copy of the input and the decision (or the event's details). JSON only. */
  payload: unknown;
};

export type AuditRecord = AuditEventInput & { seq: number; prev_hash: string; hash: string };

/** The columns of audit_log, in table order: the insert, the queries and the CSV header use it. */
export const RECORD_COLUMNS = [
  "seq",
  "event_id",
  "type",
  "occurred_at",
  "tenant_id",
  "learner_id",
  "actor",
  "request_id",
  "bundle_revision",
  "policy_id",
  "policy_version",
  "payload",
  "prev_hash",
  "hash",
] as const;

export type AuditAppender = {
  /** Resolves once the record is committed; rejects with AppError AUDIT_UNAVAILABLE otherwise. */
  append(event: AuditEventInput): Promise<{ seq: number; hash: string }>;
  /** Several records that commit together (same batch, same transaction) or not at all. */
  appendAll(events: AuditEventInput[]): Promise<Array<{ seq: number; hash: string }>>;
  /**
   * Appends inside the caller's transaction (same chain lock), so a change and its record commit
   * together or not at all: used for policy, override, key and health changes.
   */
  appendInTx(tx: Queryable, events: AuditEventInput[]): Promise<Array<{ seq: number; hash: string }>>;
};

// The read side the HTTP routes use (bound to a store in reader.ts).
export type AuditFilters = {
  /** The key's scope: null = all tenants. */
  tenant_ids: string[] | null;
  tenant_id?: string;
  learner_id?: string;
  from?: string;
  to?: string;
  operation_type?: string;
  allowed?: boolean;
  type?: string;
  code?: string;
  event_id?: string;
};

export type AuditReader = {
  query(
    filters: AuditFilters & { limit: number; cursor?: string },
  ): Promise<{ items: unknown[]; next_cursor: string | null }>;
  /** The whole chain in one call, or (`from: "checkpoint"`) from the newest good checkpoint. */
  verify(options?: { from?: "checkpoint" }): Promise<{
    ok: boolean;
    checked: number;
    head_seq: number | null;
    first_broken_seq: number | null;
  }>;
  /** The full verification as a job with progress (verify-job.ts). */
  startVerifyJob(): { job_id: string; state: string };
  verifyJob(jobId: string): { job_id: string; state: string } | null;
  /** Ranges written to archives (and dropped from the database once dropped_at is set). */
  archives(): Promise<unknown[]>;
  export(format: "jsonl" | "csv", filters: AuditFilters): AsyncIterable<string>;
  /** Decisions per hour by outcome and top deny codes over the last `hours` (the console's overview). */
  summary(options: { hours: number; tenant_ids: string[] | null }): Promise<AuditSummary>;
  /** A compact record's evaluation context (contexts.ts): its canonical text, null when unknown. */
  context(sha256: string): Promise<string | null>;
  /** The newest `limit` records of these types, newest first (what a dry run replays). */
  latest(types: readonly string[], limit: number): Promise<LatestRecord[]>;
};

/** A record as `latest` returns it: what a replay needs, the time as an ISO string. */
export type LatestRecord = Pick<
  AuditRecord,
  "event_id" | "type" | "tenant_id" | "learner_id" | "bundle_revision" | "payload"
> & { occurred_at: string };

/** The console's overview of recent decisions (summary.ts counts it). */
export type AuditSummary = {
  from: string;
  to: string;
  /** One bucket per hour, oldest first, empty hours included (start of the hour, UTC). */
  hours: Array<{ hour: string; allowed: number; denied: number }>;
  /** Deny reason codes, most frequent first (at most 10). */
  top_deny_codes: Array<{ code: string; count: number }>;
};
