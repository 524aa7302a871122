// Pruning the bundles history (docs/decisions/0014). Every published bundle is stored (~100 KB);
// its bytes stay while it might be needed again:
//   - it is the cluster's active bundle;
//   - it is among the last `keep` (BUNDLE_HISTORY_KEEP) by upload or activation, so a rollback and
//     the watchdog's return to the last good bundle find it;
//   - a retained audit record cites its revision (audit_bundle_citations, written with the records
//     and deleted with their partition), so a replay or dry run of that record has its bundle.
// Anything else is copied to the archive target, read back and compared by sha256, and only then
// are its bytes removed — in one transaction with a `bundle.pruned` audit record naming each one,
// under the activation lock, re-checking the rules there. The row stays: the activation history
// keeps every sha256 it ever served, and uploading the same bytes again restores them.

import { auditEvent, citedRevisions } from "../audit/index.ts";
import type { AuditAppender } from "../audit/types.ts";
import { AppError } from "../errors.ts";
import type { Db, Queryable } from "../store/db.ts";
import { sha256Hex } from "./bundle-facts.ts";
import { lockActivations } from "./bundle-store.ts";

/** Where pruned bytes go (an archive of the audit target, `bundles/`): written, then read back. */
export type BundleArchive = {
  location: string;
  write(name: string, bytes: Buffer): Promise<void>;
  read(name: string): Promise<Buffer | null>;
};

/** BUNDLE_HISTORY_KEEP's default: the last bundles kept whatever cites them. */
export const BUNDLE_HISTORY_KEEP = 20;

export type PrunedBundle = {
  sha256: string;
  revision: string;
  size_bytes: number;
  archived_location: string;
};

export type PruneOptions = {
  /** The most recent bundles kept whatever cites them (BUNDLE_HISTORY_KEEP, at least 1). */
  keep: number;
  archive: BundleArchive;
  audit: Pick<AuditAppender, "appendInTx">;
  /** Most bundles pruned in one call (the rest wait for the next run). */
  limit?: number;
  clock?: () => Date;
};

// The bundles no rule keeps, oldest first. `$1`: keep, `$2`: limit, `$3`: only these (or null),
// `$4`: the revisions retained records cite (asked of the audit room, whose table it is).
const PRUNABLE = `
  WITH recent AS (
    SELECT b.sha256 FROM bundles b
      LEFT JOIN (SELECT sha256, max(activated_at) AS at FROM bundle_activations GROUP BY sha256) a
        USING (sha256)
     ORDER BY greatest(b.uploaded_at, coalesce(a.at, b.uploaded_at)) DESC, b.sha256 DESC
     LIMIT $1
  )
  SELECT sha256, revision, size_bytes FROM bundles
   WHERE bytes IS NOT NULL
     AND ($3::text[] IS NULL OR sha256 = ANY($3::text[]))
     AND sha256 NOT IN (SELECT sha256 FROM bundle_active)
     AND sha256 NOT IN (SELECT sha256 FROM recent)
     AND revision <> ALL($4::text[])
   ORDER BY uploaded_at, sha256
   LIMIT $2`;

type Candidate = { sha256: string; revision: string; size_bytes: number };

async function prunable(q: Queryable, keep: number, limit: number, only: string[] | null) {
  const { rows } = await q.query<{ sha256: string; revision: string; size_bytes: number }>(PRUNABLE, [
    keep,
    limit,
    only,
    await citedRevisions(q),
  ]);
  return rows.map((r): Candidate => ({ ...r, size_bytes: Number(r.size_bytes) }));
}

/** Copies one bundle to the archive (or finds it there from an earlier run) and reads it back. */
async function archiveBytes(db: Queryable, archive: BundleArchive, c: Candidate): Promise<void> {
  const name = `${c.sha256}.tar.gz`;
  const there = await archive.read(name);
  if (there && sha256Hex(there) === c.sha256) return;
  if (there) throw new AppError("CONFLICT", `${archive.location}${name} holds other bytes; not pruning`);
  const { rows } = await db.query<{ bytes: Uint8Array | null }>(
    "SELECT bytes FROM bundles WHERE sha256 = $1",
    [c.sha256],
  );
  const raw = rows[0]?.bytes;
  if (!raw) return; // pruned meanwhile by another instance
  const bytes = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  await archive.write(name, bytes);
  const back = await archive.read(name);
  if (!back || sha256Hex(back) !== c.sha256) {
    throw new AppError("CONFLICT", `${archive.location}${name} did not read back as written; not pruning`);
  }
}

/** Prunes what no rule keeps; returns what was pruned (nothing when every bundle is kept). */
export async function pruneBundles(db: Db, options: PruneOptions): Promise<PrunedBundle[]> {
  if (!Number.isInteger(options.keep) || options.keep < 1) throw new RangeError("keep must be at least 1");
  const clock = options.clock ?? (() => new Date());
  const candidates = await prunable(db, options.keep, options.limit ?? 100, null);
  if (candidates.length === 0) return [];
  for (const c of candidates) await archiveBytes(db, options.archive, c);
  return db.transaction(async (tx) => {
    await lockActivations(tx);
    // The rules again, under the lock: an activation or upload meanwhile keeps its bundle.
    const still = await prunable(
      tx,
      options.keep,
      candidates.length,
      candidates.map((c) => c.sha256),
    );
    if (still.length === 0) return [];
    const at = clock();
    await tx.query(
      `UPDATE bundles SET bytes = NULL, pruned_at = $2, archived_location = $3::text || sha256 || '.tar.gz'
        WHERE sha256 = ANY($1::text[])`,
      [still.map((c) => c.sha256), at, options.archive.location],
    );
    const pruned = still.map(
      (c): PrunedBundle => ({ ...c, archived_location: `${options.archive.location}${c.sha256}.tar.gz` }),
    );
    // The record names what left the store and where it went; it commits with the removal.
    await options.audit.appendInTx(tx, [
      auditEvent({
        type: "bundle.pruned",
        occurred_at: at,
        actor: "system",
        request_id: null,
        bundle_revision: null,
        payload: { keep: options.keep, bundles: pruned },
      }),
    ]);
    return pruned;
  });
}
