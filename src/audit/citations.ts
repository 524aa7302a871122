// Which bundle revisions the retained records cite (migration 008, docs/decisions/0014): one row per
// (revision, partition day), written with the records that cite it and deleted with the day's
// partition, so pruning the bundles history never scans the log.

import type { LRUCache } from "lru-cache";
import type { Queryable } from "../store/db.ts";

/** The memo key of one citation: a revision cited on a partition day. */
export function citationKey(day: string, revision: string): string {
  return `${day} ${revision}`;
}

/**
 * Records that `revisions` are cited on `day`, skipping the pairs `known` says are committed
 * already (so a busy writer adds a statement once per revision per day, not per batch). Returns the
 * keys written, for the caller to remember once its transaction commits.
 */
export async function storeCitations(
  tx: Queryable,
  day: string,
  revisions: Iterable<string | null>,
  known: LRUCache<string, true> | null,
): Promise<string[]> {
  const fresh = new Set<string>();
  for (const revision of revisions) {
    if (revision !== null && !known?.has(citationKey(day, revision))) fresh.add(revision);
  }
  if (fresh.size === 0) return [];
  await tx.query(
    `INSERT INTO audit_bundle_citations (bundle_revision, logged_on)
       SELECT r, $2::date FROM unnest($1::text[]) AS r
     ON CONFLICT DO NOTHING`,
    [[...fresh], day],
  );
  return [...fresh].map((revision) => citationKey(day, revision));
}

/** With the partition holding days [from, to) (from null: every day before `to`). */
export async function dropCitations(tx: Queryable, from: string | null, to: string): Promise<void> {
  await tx.query(
    from === null
      ? "DELETE FROM audit_bundle_citations WHERE logged_on < $1::date"
      : "DELETE FROM audit_bundle_citations WHERE logged_on >= $2::date AND logged_on < $1::date",
    from === null ? [to] : [to, from],
  );
}

/** Every bundle revision some retained record cites (what pruning must keep). */
export async function citedRevisions(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ bundle_revision: string }>(
    "SELECT DISTINCT bundle_revision FROM audit_bundle_citations",
  );
  return rows.map((r) => r.bundle_revision);
}
