// The hash-chain checks behind `GET /api/v1/audit/verify` (SPEC §6, §7) and the verify job.
//
// One walker reads the table in seq order a page at a time (memory stays flat however long the
// log grows) and hashes each record from the stored payload *text*: the column is `json`, which
// keeps the exact canonical text the writer hashed, so nothing is parsed and re-serialised on the
// way (about six times faster than parsing). A payload rewritten into any other text — even an
// equivalent one — no longer matches its hash, which is right: the stored bytes changed.
//
// Three entry points:
// - verifyChain: from the start of the online chain (seq 1, or just after the last archived
//   range) to the head, in one call — small logs and tests.
// - verifyFromCheckpoint: from the newest checkpoint that checks out (its hash, its signature, the
//   record it names) to the head — answers in well under a second however long the log is.
// - the verify job (verify-job.ts): verifyChain with progress and every checkpoint checked too.

import type { KeyObject } from "node:crypto";
import type { Queryable } from "../store/db.ts";
import { chainHashPreSerialized, GENESIS_HASH } from "./canonical.ts";
import { type Checkpoint, type CheckpointProblem, checkpointProblem, linkProblem } from "./checkpoint.ts";

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

export type CheckpointFinding = {
  id: number;
  last_seq: number;
  problem: CheckpointProblem | "head_mismatch";
};

export type CheckpointVerifyResult = VerifyResult & {
  from: "checkpoint";
  /** The checkpoint the walk started from (null: none exists, so the walk started at the beginning). */
  checkpoint: { id: number; last_seq: number; signed: boolean; key_id: string | null } | null;
  /** Newer checkpoints passed over because they did not check out, newest first. */
  rejected_checkpoints: CheckpointFinding[];
};

/** Where the online chain starts: after the last archived (and dropped) range, if any. */
export type ChainStart = { after_seq: number; prev_hash: string };

const RECORD_SELECT = `SELECT seq, event_id, type, occurred_at, tenant_id, learner_id, actor, request_id,
  bundle_revision, policy_id, policy_version, payload::text AS payload_text, prev_hash, hash FROM audit_log`;

/** A stored record with its payload as the exact text that was hashed (archive and verify read it). */
export type HashRow = {
  seq: number | bigint;
  event_id: string;
  type: string;
  occurred_at: Date | string;
  tenant_id: string | null;
  learner_id: string | null;
  actor: string | null;
  request_id: string | null;
  bundle_revision: string | null;
  policy_id: string | null;
  policy_version: number | null;
  payload_text: string;
  prev_hash: string;
  hash: string;
};

export function rowHash(row: HashRow, seq: number): string {
  return chainHashPreSerialized(row.prev_hash, { ...row, seq }, row.payload_text);
}

export async function readHead(db: Queryable): Promise<{ seq: number; hash: string | null }> {
  const head = await db.query<{ seq: number | bigint; hash: string }>(
    "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1",
  );
  return { seq: head.rows[0] ? Number(head.rows[0].seq) : 0, hash: head.rows[0]?.hash ?? null };
}

/** The start of the online chain: seq 1, or the record after the last archived range. */
export async function chainStart(db: Queryable): Promise<ChainStart> {
  const { rows } = await db.query<{ last_seq: number | bigint; head_hash: string }>(
    "SELECT last_seq, head_hash FROM audit_archives WHERE dropped_at IS NOT NULL ORDER BY last_seq DESC LIMIT 1",
  );
  return rows[0]
    ? { after_seq: Number(rows[0].last_seq), prev_hash: rows[0].head_hash }
    : { after_seq: 0, prev_hash: GENESIS_HASH };
}

export type WalkOptions = {
  start: ChainStart;
  headSeq: number;
  batchSize?: number;
  /** After each page: records checked so far and the last seq. */
  onPage?: (checked: number, lastSeq: number) => void | Promise<void>;
  /** Each verified record (seq, hash): the job checks checkpoints against it. Returns a break seq or null. */
  onRecord?: (seq: number, hash: string) => number | null;
};

/** Walks (start, headSeq]; the first broken seq or null, and how many records were read. */
export async function walkChain(
  db: Queryable,
  options: WalkOptions,
): Promise<{ checked: number; first_broken_seq: number | null }> {
  const batchSize = options.batchSize ?? 5000;
  const { headSeq } = options;
  let checked = 0;
  let expectedSeq = options.start.after_seq + 1;
  let prevHash = options.start.prev_hash;
  let after = options.start.after_seq;
  while (after < headSeq) {
    const { rows } = await db.query<HashRow>(
      `${RECORD_SELECT} WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3`,
      [after, headSeq, batchSize],
    );
    if (rows.length === 0) break;
    for (const row of rows) {
      const seq = Number(row.seq);
      checked += 1;
      // A gap is reported at the first missing seq: that is the record someone removed.
      if (seq !== expectedSeq) return { checked, first_broken_seq: expectedSeq };
      if (row.prev_hash !== prevHash || rowHash(row, seq) !== row.hash)
        return { checked, first_broken_seq: seq };
      const flagged = options.onRecord?.(seq, row.hash) ?? null;
      if (flagged !== null) return { checked, first_broken_seq: flagged };
      prevHash = row.hash;
      expectedSeq += 1;
      after = seq;
    }
    await options.onPage?.(checked, after);
  }
  // Rows missing at the very end (the head read saw them, the walk did not) are a gap too.
  if (expectedSeq <= headSeq) return { checked, first_broken_seq: expectedSeq };
  return { checked, first_broken_seq: null };
}

export async function verifyChain(
  db: Queryable,
  options: { batchSize?: number } = {},
): Promise<VerifyResult> {
  const head = await readHead(db);
  const start = await chainStart(db);
  const walked = await walkChain(db, {
    start,
    headSeq: head.seq,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
  return {
    ok: walked.first_broken_seq === null,
    checked: walked.checked,
    head_seq: head.seq,
    head_hash: head.hash,
    first_broken_seq: walked.first_broken_seq,
  };
}

export const CHECKPOINT_COLUMNS =
  "id, first_seq, last_seq, head_hash, previous_checkpoint_hash, created_at, hash, key_id, signature";

export type CheckpointRow = Omit<Checkpoint, "id" | "first_seq" | "last_seq" | "created_at"> & {
  id: number | bigint;
  first_seq: number | bigint;
  last_seq: number | bigint;
  created_at: Date | string;
};

export function toCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    id: Number(row.id),
    first_seq: Number(row.first_seq),
    last_seq: Number(row.last_seq),
    head_hash: row.head_hash,
    previous_checkpoint_hash: row.previous_checkpoint_hash,
    created_at: new Date(row.created_at).toISOString(),
    hash: row.hash,
    key_id: row.key_id,
    signature: row.signature,
  };
}

/** How many of the newest checkpoints to try before giving up and pointing at the full job. */
const CHECKPOINTS_TRIED = 16;

/**
 * Verifies from the newest good checkpoint to the head. A checkpoint is good when its hash
 * matches its statement, its signature verifies under `publicKey` (when one is configured), its
 * link to the checkpoint before it holds, and the record it names is there with exactly that hash
 * (recomputed). What precedes it is vouched for by the checkpoint and checked by the full job.
 */
export async function verifyFromCheckpoint(
  db: Queryable,
  options: { publicKey: KeyObject | null; batchSize?: number },
): Promise<CheckpointVerifyResult> {
  const head = await readHead(db);
  const start = await chainStart(db);
  const { rows } = await db.query<CheckpointRow>(
    `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints WHERE last_seq > $1 ORDER BY id DESC LIMIT $2`,
    [start.after_seq, CHECKPOINTS_TRIED + 1],
  );
  const checkpoints = rows.map(toCheckpoint);
  const rejected: CheckpointFinding[] = [];
  let from: Checkpoint | null = null;
  for (let i = 0; i < Math.min(checkpoints.length, CHECKPOINTS_TRIED); i++) {
    const c = checkpoints[i]!;
    const previous = checkpoints[i + 1] ?? null;
    const problem =
      checkpointProblem(c, options.publicKey) ??
      // The one before is in this page: the link must hold. (The oldest tried is linked by the job.)
      (previous && previous.id === c.id - 1 ? linkProblem(previous, c) : null) ??
      (await anchorProblem(db, c));
    if (problem === null) {
      from = c;
      break;
    }
    rejected.push({ id: c.id, last_seq: c.last_seq, problem });
  }
  const base = { head_seq: head.seq, head_hash: head.hash, from: "checkpoint" as const };
  if (from === null && checkpoints.length > 0) {
    // Checkpoints exist and none of the newest checks out: that is itself the finding.
    return {
      ...base,
      ok: false,
      checked: 0,
      first_broken_seq: null,
      checkpoint: null,
      rejected_checkpoints: rejected,
    };
  }
  const walked = await walkChain(db, {
    start: from ? { after_seq: from.last_seq, prev_hash: from.head_hash } : start,
    headSeq: head.seq,
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
  return {
    ...base,
    ok: walked.first_broken_seq === null && rejected.length === 0,
    checked: walked.checked,
    first_broken_seq: walked.first_broken_seq,
    checkpoint: from
      ? { id: from.id, last_seq: from.last_seq, signed: from.signature !== null, key_id: from.key_id }
      : null,
    rejected_checkpoints: rejected,
  };
}

/** The record a checkpoint names must exist and hash (recomputed) to its head_hash. */
async function anchorProblem(db: Queryable, c: Checkpoint): Promise<"head_mismatch" | null> {
  const { rows } = await db.query<HashRow>(`${RECORD_SELECT} WHERE seq = $1`, [c.last_seq]);
  const row = rows[0];
  if (!row) return "head_mismatch";
  return row.hash === c.head_hash && rowHash(row, c.last_seq) === c.head_hash ? null : "head_mismatch";
}
