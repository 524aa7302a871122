// The hash-chain check behind `GET /api/v1/audit/verify` (SPEC §6, §7). Walks the whole table in
// seq order one page at a time, so memory stays flat however long the log grows.

import type { Db } from "../store/db.ts";
import { chainHash, GENESIS_HASH } from "./canonical.ts";
import { AUDIT_COLUMNS, type AuditRow } from "./query.ts";

export type VerifyResult = {
  ok: boolean;
  /** Records examined (on a break, up to and including the broken one). */
  checked: number;
  /** The head when the walk started (0 for an empty log); later appends are left for the next run. */
  head_seq: number;
  /** Hash of that head: what an operator anchors outside the database. */
  head_hash: string | null;
  /** The first seq that does not verify: a missing seq, a wrong link, or a record whose hash differs. */
  first_broken_seq: number | null;
};

export async function verifyChain(
  db: Pick<Db, "query">,
  options: { batchSize?: number } = {},
): Promise<VerifyResult> {
  const batchSize = options.batchSize ?? 1000;
  const head = await db.query<{ seq: number | bigint; hash: string }>(
    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
  );
  const headSeq = head.rows[0] ? Number(head.rows[0].seq) : 0;
  const headHash = head.rows[0]?.hash ?? null;

  let checked = 0;
  let expectedSeq = 1;
  let prevHash = GENESIS_HASH;
  const broken = (seq: number): VerifyResult => ({
    ok: false,
    checked,
    head_seq: headSeq,
    head_hash: headHash,
    first_broken_seq: seq,
  });

  let after = 0;
  while (after < headSeq) {
    const { rows } = await db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM audit_log WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
      [after, headSeq, batchSize],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      checked += 1;
      // A gap is reported at the first missing seq: that is the record someone removed.
      if (seq !== expectedSeq) return broken(expectedSeq);
      if (row.prev_hash !== prevHash || chainHash(prevHash, { ...row, seq }) !== row.hash) return broken(seq);
      prevHash = row.hash;
      expectedSeq += 1;
      after = seq;
    }
  }
  // Rows missing at the very end (the head read saw them, the walk did not) are a gap too.
  if (expectedSeq <= headSeq) return broken(expectedSeq);
  return { ok: true, checked, head_seq: headSeq, head_hash: headHash, first_broken_seq: null };
}
