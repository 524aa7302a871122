// Retention (docs/decisions/0007): audit_log is partitioned by the day each record was written
// (`logged_on`, never earlier than the record before, so partitions hold contiguous seq ranges and
// the writer closes each one on a checkpoint). A partition older than AUDIT_RETENTION_DAYS is
// archived, read back and verified, and only then detached and dropped. The partition holding the
// head is never dropped (the writer continues the chain from it), and partitions go oldest first,
// so the archives and the online chain stay one unbroken sequence.

import type { KeyObject } from "node:crypto";
import { AppError } from "../errors.ts";
import type { Db, Queryable } from "../store/db.ts";
import { type ArchiveTarget, archiveRange, listArchives } from "./archive.ts";
import { lockChain } from "./audit-log.ts";
import { dropCitations } from "./citations.ts";

export type AuditPartition = {
  name: string;
  /** Inclusive lower bound (null: MINVALUE, the partition of records older than partitioning). */
  from: string | null;
  /** Exclusive upper bound, a date. */
  to: string;
  first_seq: number | null;
  last_seq: number | null;
};

const BOUND = /FROM \((?:MINVALUE|'(\d{4}-\d{2}-\d{2})')\) TO \('(\d{4}-\d{2}-\d{2})'\)/;

export async function listPartitions(db: Queryable): Promise<AuditPartition[]> {
  const { rows } = await db.query<{ name: string; bound: string }>(
    `SELECT c.relname AS name, pg_get_expr(c.relpartbound, c.oid) AS bound
       FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_log'::regclass`,
  );
  const out: AuditPartition[] = [];
  for (const row of rows) {
    const m = BOUND.exec(row.bound);
    if (!m) continue;
    // min/max walk the primary key's ends: no scan of the partition.
    const span = await db.query<{ first: string | null; last: string | null }>(
      `SELECT min(seq)::text AS first, max(seq)::text AS last FROM ${quoteIdent(row.name)}`,
    );
    const first = span.rows[0]?.first ?? null;
    const last = span.rows[0]?.last ?? null;
    out.push({
      name: row.name,
      from: m[1] ?? null,
      to: m[2]!,
      first_seq: first === null ? null : Number(first),
      last_seq: last === null ? null : Number(last),
    });
  }
  return out.sort((a, b) => a.to.localeCompare(b.to));
}

export type ArchivedPartition = {
  partition: string;
  archive_id: number | null;
  first_seq: number | null;
  last_seq: number | null;
  location: string | null;
};

/**
 * Archives and drops, oldest first, every partition whose days all lie more than `retentionDays`
 * before today (at most `limit`). An empty partition is dropped without an archive.
 */
export async function archiveOldestPartitions(
  db: Db,
  options: {
    target: ArchiveTarget;
    publicKey: KeyObject | null;
    retentionDays: number;
    limit?: number;
    clock?: () => Date;
  },
): Promise<ArchivedPartition[]> {
  const clock = options.clock ?? (() => new Date());
  const today = clock().toISOString().slice(0, 10);
  const cutoff = addDays(today, -options.retentionDays);
  const head = await db.query<{ seq: number | bigint }>(
    "SELECT seq FROM audit_log ORDER BY seq DESC LIMIT 1",
  );
  const headSeq = head.rows[0] ? Number(head.rows[0].seq) : 0;
  const done: ArchivedPartition[] = [];
  for (const p of await listPartitions(db)) {
    if (options.limit !== undefined && done.length >= options.limit) break;
    if (p.to > cutoff) break; // partitions are in order: the rest are younger
    if (p.last_seq !== null && p.last_seq >= headSeq) break; // the head's partition stays
    if (p.first_seq === null) {
      await dropPartition(db, p, null, clock);
      done.push({ partition: p.name, archive_id: null, first_seq: null, last_seq: null, location: null });
      continue;
    }
    const archives = await listArchives(db);
    const last = archives[archives.length - 1];
    const already = archives.find((a) => a.partition_name === p.name && a.last_seq === p.last_seq);
    const entry =
      already ??
      (await archiveRange(db, {
        target: options.target,
        lastSeq: p.last_seq!,
        publicKey: options.publicKey,
        partition: p.name,
        clock,
      }));
    if (!already && last && entry.first_seq !== last.last_seq + 1) {
      throw new AppError("CONFLICT", `archive of ${p.name} does not continue the last archive`);
    }
    if (entry.first_seq !== p.first_seq || entry.last_seq !== p.last_seq) {
      throw new AppError(
        "CONFLICT",
        `partition ${p.name} holds seq ${p.first_seq}–${p.last_seq}, but its archive seq ${entry.first_seq}–${entry.last_seq}`,
      );
    }
    await dropPartition(db, p, entry.id, clock);
    done.push({
      partition: p.name,
      archive_id: entry.id,
      first_seq: entry.first_seq,
      last_seq: entry.last_seq,
      location: entry.location,
    });
  }
  return done;
}

async function dropPartition(
  db: Db,
  partition: AuditPartition,
  archiveId: number | null,
  clock: () => Date,
): Promise<void> {
  const { name } = partition;
  await db.transaction(async (tx) => {
    // Under the chain lock: no writer is reading the head while a partition leaves.
    await lockChain(tx);
    await tx.query(`ALTER TABLE audit_log DETACH PARTITION ${quoteIdent(name)}`);
    await tx.query(`DROP TABLE ${quoteIdent(name)}`);
    // Its records no longer hold their bundles back from pruning (citations.ts).
    await dropCitations(tx, partition.from, partition.to);
    if (archiveId !== null) {
      await tx.query("UPDATE audit_archives SET dropped_at = $1 WHERE id = $2", [
        clock().toISOString(),
        archiveId,
      ]);
    }
  });
}

function addDays(day: string, days: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name))
    throw new AppError("VALIDATION_FAILED", `unexpected partition name ${name}`);
  return `"${name}"`;
}
