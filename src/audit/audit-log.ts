// The durable, hash-chained audit writer (SPEC §7): a decision is answered only once its record
// is committed, so the write path is on every request's critical path.
//
// Group commit: callers queue their records; a batch takes everything queued (up to maxBatch) and
// is written by one statement or transaction, then every waiter is settled. Up to two batches are
// in flight (one inserting, the next waiting at the chain lock), so newcomers queue for the next
// batch, batches grow with load and no timer adds latency when idle. A batch commits whole or not
// at all, and its waiters learn the same outcome. How a batch is linked to the chain (after the
// head this writer last wrote, by the database, or under the lock) is decided per batch in lane().

import { randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";
import { AppError, toError } from "../errors.ts";
import type { Db, Queryable } from "../store/db.ts";
import {
  canonicalJsonReusing,
  canonicalRecordParts,
  chainHashPreSerialized,
  GENESIS_HASH,
  isStorableText,
  toIsoMillis,
} from "./canonical.ts";
import {
  type Checkpoint,
  type CheckpointSigner,
  GENESIS_CHECKPOINT_HASH,
  makeCheckpoint,
} from "./checkpoint.ts";
import { citationKey, storeCitations } from "./citations.ts";
import { compactPayload, type StoredContext, storeContexts } from "./contexts.ts";
import { type AuditAppender, type AuditEventInput, RECORD_COLUMNS } from "./types.ts";

export type AuditLog = AuditAppender & {
  /** Refuses new records, then resolves once every queued record is settled. Leaves the db open. */
  close(): Promise<void>;
};

export type AuditLogOptions = {
  db: Pick<Db, "transaction" | "query"> & Partial<Pick<Db, "kind">>;
  /** Most records per transaction (default 500). */
  maxBatch?: number;
  /** Transactions in flight at once (default 2): one inserting, one queued at the chain lock. */
  lanes?: number;
  /**
   * A batch committed: its size, how long its transaction took, and how it was linked ("ahead":
   * migration 010's one statement; "chained": linked by the database, migration 011, while another
   * writer moves the head too; "locked": under the lock, after reading the head; "single": a
   * record retried alone or the per-row writer).
   */
  onFlush?: (info: { size: number; ms: number; path: "ahead" | "chained" | "locked" | "single" }) => void;
  /** A batch (or a per-row write) failed; its waiters were rejected with AUDIT_UNAVAILABLE. */
  onError?: (err: Error, info: { size: number }) => void;
  /** When to write checkpoints (docs/decisions/0007). Default: every 10,000 records, unsigned. */
  checkpoints?: CheckpointOptions;
  /**
   * Store each record's evaluation context once, by hash (contexts.ts). Default true; false writes
   * it inline in every record, as before (the benchmark's "before").
   */
  compactContexts?: boolean;
  /**
   * Link a batch to the head this writer last wrote before taking the lock, and send it as one
   * statement that inserts only if that is still the head (migration 010), on either store (on the
   * embedded one it is a hop to its thread instead of two); while another writer moves the head,
   * let the database link batches (migration 011). Default true; false takes the lock, reads the
   * head and then links, for every batch.
   */
  linkAhead?: boolean;
};

export type CheckpointOptions = {
  /** A checkpoint once this many records follow the last one (default 10,000). */
  everyRecords?: number;
  /**
   * A checkpoint once the last one is this old and records follow it: checked on each batch and,
   * when idle, by a timer of this period (default: no time trigger).
   */
  everySeconds?: number | null;
  /** Ed25519 signer; null ⇒ unsigned checkpoints. */
  signer?: CheckpointSigner | null;
  clock?: () => Date;
};

type CheckpointPolicy = {
  everyRecords: number;
  everyMs: number | null;
  signer: CheckpointSigner | null;
  clock: () => Date;
  /** Context hashes known committed (skipped on insert); null: insert every time (appendInTx). */
  knownContexts: LRUCache<string, true> | null;
  /** Bundle citations (citations.ts) known committed, likewise. */
  knownCitations: LRUCache<string, true> | null;
  /**
   * The batch's rows written into the insert's text rather than bound (the embedded store): there a
   * statement without parameters runs as one simple query, 0.6 ms less per batch than a bound one,
   * while Postgres plans a named, bound insert once per connection.
   */
  rowsInText?: boolean;
};

function checkpointPolicy(options: CheckpointOptions = {}): CheckpointPolicy {
  const everyRecords = options.everyRecords ?? 10_000;
  if (!Number.isInteger(everyRecords) || everyRecords < 1)
    throw new RangeError("checkpoints.everyRecords must be a positive integer");
  const seconds = options.everySeconds ?? null;
  if (seconds !== null && !(seconds > 0)) throw new RangeError("checkpoints.everySeconds must be positive");
  return {
    everyRecords,
    everyMs: seconds === null ? null : seconds * 1000,
    signer: options.signer ?? null,
    clock: options.clock ?? (() => new Date()),
    knownContexts: new LRUCache<string, true>({ max: 10_000 }),
    knownCitations: new LRUCache<string, true>({ max: 1_000 }),
  };
}

export type Appended = { seq: number; hash: string };

// Every writer, in every instance sharing the database, serialises on this lock, so there is one
// chain and seq stays gap-free. The second key is the schema: audit_log tables in different
// schemas (isolated tests, the benchmark) are different chains and need not wait for each other.
const CHAIN_LOCK = 727_002;

// logged_on: the partition key (the writer's UTC day, never before the previous record's), not hashed.
const COLUMNS = [...RECORD_COLUMNS, "logged_on"] as const;

const INT4_MAX = 2_147_483_647;

type Prepared = Omit<AuditEventInput, "occurred_at" | "payload"> & {
  occurred_at: string;
  payloadJson: string;
  /** The evaluation context this record references, stored before it (compact records). */
  context: StoredContext | null;
};

// One caller's records: a decision and, say, its override.use record. They always share a batch,
// so they commit together or not at all.
type Waiter = {
  /** When it was queued, among this writer's waiters: a batch put back goes back in this order. */
  order: number;
  records: Prepared[];
  resolve: (value: Appended[]) => void;
  reject: (err: AppError) => void;
};

/** Whole waiters, up to maxBatch records (at least one waiter, however large). */
function takeBatch(queue: Waiter[], maxBatch: number): Waiter[] {
  let n = 0;
  let records = 0;
  while (n < queue.length && (n === 0 || records + queue[n]!.records.length <= maxBatch)) {
    records += queue[n]!.records.length;
    n++;
  }
  return queue.splice(0, n);
}

const recordsOf = (batch: Waiter[]) => batch.flatMap((w) => w.records);

/** Puts a batch back where its waiters were queued: records keep their order, whoever retries first. */
function putBack(queue: Waiter[], batch: Waiter[]): void {
  if (batch.length === 0) return;
  let at = 0;
  while (at < queue.length && queue[at]!.order < batch[0]!.order) at++;
  queue.splice(at, 0, ...batch);
}

function settle(batch: Waiter[], written: Appended[]) {
  let offset = 0;
  for (const waiter of batch) {
    waiter.resolve(written.slice(offset, offset + waiter.records.length));
    offset += waiter.records.length;
  }
}

export function createAuditLog(options: AuditLogOptions): AuditLog {
  const { db } = options;
  const maxBatch = options.maxBatch ?? 500;
  if (!Number.isInteger(maxBatch) || maxBatch < 1)
    throw new RangeError(`maxBatch must be a positive integer`);
  const maxLanes = options.lanes ?? 2;
  const policy = { ...checkpointPolicy(options.checkpoints), rowsInText: db.kind === "pglite" };
  const compact = options.compactContexts ?? true;
  const prepareOne = (event: AuditEventInput) => prepare(event, compact);

  const queue: Waiter[] = [];
  const lanes = new Set<Promise<void>>();
  let closed = false;

  // Linking ahead: the head after the last batch sent, when this writer knows it — null
  // at the start, after any failure and after a batch found the head moved. A batch found it moved
  // by another writer (another instance or worker) turns linking ahead off for a while: each such
  // batch costs a transaction that inserts nothing.
  const ahead = db.kind !== undefined && options.linkAhead !== false;
  let planned: Head | null = null;
  let aheadInFlight = 0;
  let lockedInFlight = 0;
  let failures = 0; // batches linked ahead that failed (theirs followers then find the head moved)
  let lockedUntil = 0;
  let aheadMissing = false; // migration 010 not applied (code deployed before its migration)
  let chainedInFlight = 0;
  let chainedMissing = false; // migration 011 not applied
  // The furthest head this writer has seen (after its own batches) and the latest checkpoint it
  // knows of: what a batch linked by the database, which learns no head beforehand, decides by.
  let seen: { seq: number; day: string | null; checkpoint: Head["checkpoint"] } | null = null;
  const learn = (seq: number, day: string | null, checkpoint: Head["checkpoint"] = null) => {
    if (!seen || seq > seen.seq) seen = { seq, day, checkpoint: seen?.checkpoint ?? null };
    if (checkpoint && (!seen.checkpoint || checkpoint.last_seq > seen.checkpoint.last_seq))
      seen.checkpoint = checkpoint;
  };
  let queued = 0;
  const LOCKED_AFTER_MOVE_MS = 5_000;

  // A lane is one transaction after another. It takes its batch only once it holds the chain lock,
  // so with two lanes one is inserting while the other already waits at the lock, and takes
  // everything that queued meanwhile the moment the first commits: the database never idles
  // between batches and batches are as large as the load makes them.
  async function lane(): Promise<void> {
    // Let every request handled in this turn of the event loop join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      if (ahead && !aheadMissing) {
        const linking = Date.now() >= lockedUntil;
        if (linking && planned && lockedInFlight === 0 && chainedInFlight === 0) {
          await linkAhead(planned);
          continue;
        }
        // Another writer moves the head too: the database links the batch (migration 011). One such
        // batch of this writer's at a time, behind nothing of its own, so its records keep call order.
        if (!linking && !chainedMissing) {
          if (chainedInFlight > 0 || lockedInFlight > 0 || aheadInFlight > 0) return;
          if (await appendChained()) continue;
        }
        // A locked batch waits for those linked ahead still in flight: one of them may be put back,
        // and must not be overtaken by records queued after it. While the head is being learnt (or
        // will be, by a batch in flight), one locked batch at a time.
        if (aheadInFlight > 0 || chainedInFlight > 0 || (linking && (planned || lockedInFlight > 0))) return;
      }
      let batch: Waiter[] = [];
      const started = performance.now();
      lockedInFlight++;
      try {
        const cited: string[] = [];
        let end: Head | null = null;
        const written = await db.transaction(async (tx) => {
          const head = await lockAndReadHead(tx);
          batch = takeBatch(queue, maxBatch);
          return batch.length > 0
            ? writeLocked(tx, recordsOf(batch), policy, {
                cited,
                locked: head,
                last: true,
                end: (h) => {
                  end = h;
                },
              })
            : [];
        });
        const after = end as Head | null; // set inside the transaction's callback
        if (after) {
          if (ahead && aheadInFlight === 0 && lockedInFlight === 1) planned = after;
          learn(after.seq, after.day, after.checkpoint);
        }
        settle(batch, written);
        for (const record of recordsOf(batch))
          if (record.context) policy.knownContexts?.set(record.context.sha256, true);
        for (const key of cited) policy.knownCitations?.set(key, true);
        const size = recordsOf(batch).length;
        if (size > 0)
          report(() => options.onFlush?.({ size, ms: performance.now() - started, path: "locked" }));
      } catch (err) {
        if (batch.length > 1 && isDataError(err)) {
          // The store refused a record (say, a reused event_id), not the batch: retry each record
          // alone so one bad record does not turn its neighbours' decisions into 503s.
          for (const waiter of batch) await flushOne(waiter);
          continue;
        }
        const cause = toError(err);
        if (batch.length === 0) {
          // Failed before taking a batch (no connection, lock): fail what is queued now rather
          // than let it wait on a store that is down. The next append starts afresh.
          batch = queue.splice(0, queue.length);
        }
        report(() => options.onError?.(cause, { size: recordsOf(batch).length }));
        for (const waiter of batch) waiter.reject(unavailable(cause));
      } finally {
        lockedInFlight--;
      }
    }
  }

  /**
   * One batch linked after `after` before the lock is taken, sent as one statement the server
   * commits on its own (migration 010): while the lock is held, nothing waits for this process. A
   * connection lost on the way leaves the outcome unknown: its callers are told 503 (fail closed),
   * and the batch may still be in the log, whole (README, "What a 503 means for the log").
   */
  async function linkAhead(after: Head): Promise<void> {
    const today = policy.clock().toISOString().slice(0, 10);
    const day = after.day;
    if (day === null || today > day) {
      planned = null; // a new day: the locked path closes the old partition
      return;
    }
    const batch = takeBatch(queue, maxBatch);
    const records = recordsOf(batch);
    let linked: ReturnType<typeof link>;
    try {
      // A context or citation not stored yet goes in after the lock, as on the locked path: stored
      // before it, its row would wait for (and deadlock with) another writer's holding the lock.
      if (storesFirst(records, day, policy)) {
        putBack(queue, batch);
        planned = null;
        return;
      }
      linked = link(records, after, day);
      if (checkpointDue({ ...after, seq: linked.seq }, policy)) {
        putBack(queue, batch); // the locked path writes (and signs) the checkpoint with them
        planned = null;
        return;
      }
    } catch (err) {
      // Not the store's doing (the clock, a value that cannot be linked): fail closed, as the
      // locked path would inside its transaction.
      planned = null;
      const cause = toError(err);
      report(() => options.onError?.(cause, { size: records.length }));
      for (const waiter of batch) waiter.reject(unavailable(cause));
      return;
    }
    const { rows, written, seq, hash } = linked;
    planned = { seq, hash, day, checkpoint: after.checkpoint };
    aheadInFlight++;
    const failedBefore = failures;
    const started = performance.now();
    try {
      await db.query(APPEND_AFTER, [CHAIN_LOCK, after.seq, after.hash, day, rows], {
        named: "audit_append_after",
      });
      learn(seq, day, after.checkpoint);
      settle(batch, written);
      report(() =>
        options.onFlush?.({ size: records.length, ms: performance.now() - started, path: "ahead" }),
      );
    } catch (err) {
      planned = null;
      const e = err as { code?: unknown; detail?: unknown };
      if (e?.code === HEAD_MOVED) {
        // Past the head it followed, and not after a failure of ours: another writer moved it. (Behind
        // it: the batch before this one, sent first, had not reached the lock yet.)
        const found = Number(e.detail);
        if (failures === failedBefore && !(found < after.seq))
          lockedUntil = Date.now() + LOCKED_AFTER_MOVE_MS;
        putBack(queue, batch);
        return;
      }
      if (e?.code === UNDEFINED_FUNCTION || e?.code === NOT_READ_COMMITTED) {
        aheadMissing = true; // the locked path needs no migration 010, and sets its own isolation
        putBack(queue, batch);
        return;
      }
      failures++;
      if (batch.length > 1 && isDataError(err)) {
        for (const waiter of batch) await flushOne(waiter);
        return;
      }
      const cause = toError(err);
      report(() => options.onError?.(cause, { size: records.length }));
      for (const waiter of batch) waiter.reject(unavailable(cause));
    } finally {
      aheadInFlight--;
    }
  }

  /**
   * One batch linked by the database under the lock (migration 011), as one statement it commits
   * itself. False when the batch must take the locked path instead (put back): it stores a context
   * or citation first, a checkpoint may be due after it, or the head is on another day.
   */
  async function appendChained(): Promise<boolean> {
    const batch = takeBatch(queue, maxBatch);
    const records = recordsOf(batch);
    let day: string;
    let rows: string;
    try {
      const today = policy.clock().toISOString().slice(0, 10);
      // Never before the head's day (another instance's clock may be ahead), as on the locked path.
      day = seen?.day && seen.day > today ? seen.day : today;
      // Due by what this writer knows: the head is at least seen.seq + this batch. Another writer
      // may have written the checkpoint meanwhile: the locked path then writes none, and tells.
      if (
        !seen ||
        storesFirst(records, day, policy) ||
        checkpointDue({ seq: seen.seq + records.length, checkpoint: seen.checkpoint }, policy)
      ) {
        putBack(queue, batch);
        return false;
      }
      rows = chainedRowsJson(records);
    } catch (err) {
      const cause = toError(err); // not the store's doing: fail closed, as linkAhead does
      report(() => options.onError?.(cause, { size: records.length }));
      for (const waiter of batch) waiter.reject(unavailable(cause));
      return true;
    }
    chainedInFlight++;
    planned = null; // the head moves under any guess of it
    const started = performance.now();
    try {
      // The last seq before a checkpoint is due by count, checked under the lock: other writers'
      // batches may have brought it nearer than `seen` knows.
      const until = (seen.checkpoint?.last_seq ?? 0) + policy.everyRecords - 1;
      const { rows: answer } = await db.query<{ first_seq: number | bigint; hashes: string[] }>(
        APPEND_CHAINED,
        [CHAIN_LOCK, day, until, rows],
        { named: "audit_append_chained" },
      );
      const first = Number(answer[0]!.first_seq);
      learn(first + records.length - 1, day);
      settle(
        batch,
        answer[0]!.hashes.map((hash, i) => ({ seq: first + i, hash })),
      );
      report(() =>
        options.onFlush?.({ size: records.length, ms: performance.now() - started, path: "chained" }),
      );
      return true;
    } catch (err) {
      const code = (err as { code?: unknown })?.code;
      if (
        code === HEAD_MOVED ||
        code === CHECKPOINT_WITHIN ||
        code === UNDEFINED_FUNCTION ||
        code === NOT_READ_COMMITTED
      ) {
        // Migration 011 not applied, or a session whose snapshot would read a stale head: the
        // locked path needs neither.
        if (code === UNDEFINED_FUNCTION || code === NOT_READ_COMMITTED) chainedMissing = true;
        // A new day (or an empty log): the locked path opens its partition; a checkpoint due: it
        // writes it.
        putBack(queue, batch);
        return false;
      }
      if (batch.length > 1 && isDataError(err)) {
        for (const waiter of batch) await flushOne(waiter);
        return true;
      }
      const cause = toError(err);
      report(() => options.onError?.(cause, { size: records.length }));
      for (const waiter of batch) waiter.reject(unavailable(cause));
      return true;
    } finally {
      chainedInFlight--;
    }
  }

  async function flushOne(waiter: Waiter): Promise<void> {
    planned = null; // the head moves outside the batches linked ahead
    try {
      waiter.resolve(await db.transaction((tx) => writeChain(tx, waiter.records, policy)));
    } catch (err) {
      const cause = toError(err);
      report(() => options.onError?.(cause, { size: waiter.records.length }));
      waiter.reject(unavailable(cause));
    }
  }

  function enqueue(events: AuditEventInput[]): Promise<Appended[]> {
    if (closed) return Promise.reject(new AppError("AUDIT_UNAVAILABLE", "audit log is closed"));
    let records: Prepared[];
    try {
      records = events.map(prepareOne);
    } catch (err) {
      return Promise.reject(err);
    }
    return new Promise<Appended[]>((resolve, reject) => {
      queue.push({ order: ++queued, records, resolve, reject });
      if (lanes.size < maxLanes) startLane();
    });
  }

  // The time trigger when no batch comes along to check it: an idle log still gets its last
  // records under a checkpoint within everySeconds.
  let ticking: Promise<unknown> = Promise.resolve();
  const timer =
    policy.everyMs === null
      ? null
      : setInterval(() => {
          ticking = db
            .transaction(async (tx) => {
              await lockChain(tx);
              await maybeCheckpoint(tx, await readHead(tx), policy);
            })
            .catch((err) => report(() => options.onError?.(toError(err), { size: 0 })));
        }, policy.everyMs);
  timer?.unref();

  function startLane() {
    const running = lane()
      .catch((err) => {
        // Not a store failure (those are settled in the lane): fail what is queued, closed, rather
        // than leave it waiting on a lane that is gone.
        const cause = toError(err);
        const stranded = queue.splice(0, queue.length);
        report(() => options.onError?.(cause, { size: recordsOf(stranded).length }));
        for (const waiter of stranded) waiter.reject(unavailable(cause));
      })
      .finally(() => {
        lanes.delete(running);
        // Appends that arrived as the last lane was leaving still need one.
        if (queue.length > 0 && lanes.size === 0) startLane();
      });
    lanes.add(running);
  }

  return {
    async append(event) {
      const [written] = await enqueue([event]);
      return written!;
    },
    appendAll: enqueue,
    async appendInTx(tx, events) {
      if (closed) throw new AppError("AUDIT_UNAVAILABLE", "audit log is closed");
      const prepared = events.map(prepareOne);
      try {
        await lockChain(tx);
        // The caller's transaction may still roll back: remember no context as committed.
        return await writeLocked(tx, prepared, { ...policy, knownContexts: null, knownCitations: null });
      } catch (err) {
        const cause = toError(err);
        report(() => options.onError?.(cause, { size: prepared.length }));
        throw unavailable(cause); // the caller's transaction rolls back with it
      }
    },
    async close() {
      closed = true;
      if (timer) clearInterval(timer);
      while (lanes.size > 0) await Promise.allSettled([...lanes]);
      await ticking;
    },
  };
}

/**
 * One transaction per record, same chain. Exists only so the benchmark can show what group
 * commit buys; the service uses createAuditLog.
 */
export function createPerRowAuditLog(options: Omit<AuditLogOptions, "maxBatch">): AuditLog {
  const { db } = options;
  const policy = { ...checkpointPolicy(options.checkpoints), knownContexts: null, knownCitations: null };
  const compact = options.compactContexts ?? true;
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  async function writeAlone(events: AuditEventInput[]): Promise<Appended[]> {
    if (closed) throw new AppError("AUDIT_UNAVAILABLE", "audit log is closed");
    const prepared = events.map((e) => prepare(e, compact));
    const started = performance.now();
    const write = db.transaction((tx) => writeChain(tx, prepared, policy));
    inFlight.add(write);
    try {
      const written = await write;
      report(() =>
        options.onFlush?.({ size: prepared.length, ms: performance.now() - started, path: "single" }),
      );
      return written;
    } catch (err) {
      const cause = toError(err);
      report(() => options.onError?.(cause, { size: prepared.length }));
      throw unavailable(cause);
    } finally {
      inFlight.delete(write);
    }
  }

  return {
    async append(event) {
      const [written] = await writeAlone([event]);
      return written!;
    },
    appendAll: (events) => writeAlone(events),
    async appendInTx(tx, events) {
      await lockChain(tx);
      return writeLocked(
        tx,
        events.map((e) => prepare(e, compact)),
        policy,
      );
    },
    async close() {
      closed = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Under the chain lock: read the head, link the records after it, insert them. */
async function writeChain(
  tx: Queryable,
  records: readonly Prepared[],
  policy: CheckpointPolicy,
): Promise<Appended[]> {
  await lockChain(tx);
  return writeLocked(tx, records, policy);
}

type Head = {
  seq: number;
  hash: string;
  /** The head record's partition day (YYYY-MM-DD); null for an empty log. */
  day: string | null;
  checkpoint: (Pick<Checkpoint, "id" | "last_seq" | "hash"> & { created_at: Date }) | null;
};

type HeadRow = {
  seq: number | bigint | null;
  hash: string | null;
  day: string | null;
  cp_id: number | bigint | null;
  cp_last_seq: number | bigint | null;
  cp_hash: string | null;
  cp_created_at: Date | string | null;
};

/**
 * The chain lock, then the head: one round trip for what every batch does first (migration 009:
 * the function reads the head with a snapshot taken after the lock is held).
 */
async function lockAndReadHead(tx: Queryable): Promise<Head> {
  // No parameter (the key is a constant): a transaction's first statement can then go out with its
  // BEGIN (db-postgres.ts).
  const { rows } = await tx.query<HeadRow>(`SELECT * FROM audit_lock_and_head(${CHAIN_LOCK})`);
  return headOf(rows[0]!);
}

// The head record and the last checkpoint in one round trip (under a lock the caller holds).
async function readHead(tx: Queryable): Promise<Head> {
  const { rows } = await tx.query<HeadRow>(
    `SELECT h.seq, h.hash, h.day, c.id AS cp_id, c.last_seq AS cp_last_seq, c.hash AS cp_hash, c.created_at AS cp_created_at
       FROM (SELECT 1) AS one
       LEFT JOIN LATERAL (SELECT seq, hash, logged_on::text AS day FROM audit_log ORDER BY seq DESC LIMIT 1) AS h ON true
       LEFT JOIN LATERAL (SELECT id, last_seq, hash, created_at FROM audit_checkpoints ORDER BY id DESC LIMIT 1) AS c ON true`,
    [],
    { named: "residency_audit_head" },
  );
  return headOf(rows[0]!);
}

function headOf(row: HeadRow): Head {
  return {
    seq: row.seq === null ? 0 : Number(row.seq),
    hash: row.hash ?? GENESIS_HASH,
    day: row.day,
    checkpoint:
      row.cp_id === null
        ? null
        : {
            id: Number(row.cp_id),
            last_seq: Number(row.cp_last_seq),
            hash: row.cp_hash!,
            created_at: new Date(row.cp_created_at!),
          },
  };
}

/**
 * Under the chain lock, after the records up to `head` are written: a checkpoint if one is due (or
 * `force`d, when a partition closes). Returns the last checkpoint after it.
 */
async function maybeCheckpoint(
  tx: Queryable,
  head: Head,
  policy: CheckpointPolicy,
  force = false,
): Promise<Head["checkpoint"]> {
  const checkpoint = dueCheckpoint(head, policy, force);
  if (!checkpoint) return head.checkpoint;
  await insertCheckpoint(tx, checkpoint);
  return {
    id: checkpoint.id,
    last_seq: checkpoint.last_seq,
    hash: checkpoint.hash,
    created_at: new Date(checkpoint.created_at),
  };
}

/** Whether a checkpoint is due once the records up to `head` are written (nothing made or signed). */
function checkpointDue(
  head: Pick<Head, "seq" | "checkpoint">,
  policy: CheckpointPolicy,
  now = policy.clock(),
): boolean {
  const last = head.checkpoint;
  const pending = head.seq - (last?.last_seq ?? 0);
  if (pending <= 0) return false;
  return (
    pending >= policy.everyRecords ||
    (policy.everyMs !== null && now.getTime() - (last?.created_at.getTime() ?? 0) >= policy.everyMs)
  );
}

/** The checkpoint due once the records up to `head` are written, if any (made and signed, not stored). */
function dueCheckpoint(head: Head, policy: CheckpointPolicy, force = false): Checkpoint | null {
  const last = head.checkpoint;
  const coveredTo = last?.last_seq ?? 0;
  if (head.seq - coveredTo <= 0) return null;
  const now = policy.clock();
  if (!force && !checkpointDue(head, policy, now)) return null;
  return makeCheckpoint(
    (last?.id ?? 0) + 1,
    {
      first_seq: coveredTo + 1,
      last_seq: head.seq,
      head_hash: head.hash,
      previous_checkpoint_hash: last?.hash ?? GENESIS_CHECKPOINT_HASH,
      created_at: now.toISOString(),
    },
    policy.signer,
  );
}

/**
 * The day the next records are logged on, never before the head's (clocks of several instances
 * differ), so partitions hold contiguous seq ranges. On a new day the old partition is closed on a
 * checkpoint — an archive of it then ends on a signed statement — and the new one is created.
 */
async function logDay(
  tx: Queryable,
  head: Head,
  policy: CheckpointPolicy,
): Promise<{ day: string; head: Head }> {
  const today = policy.clock().toISOString().slice(0, 10);
  const day = head.day !== null && head.day > today ? head.day : today;
  if (day === head.day) return { day, head };
  const checkpoint = await maybeCheckpoint(tx, head, policy, true);
  await tx.query("SELECT audit_log_partition($1::date)", [day]);
  return { day, head: { ...head, checkpoint } };
}

export async function lockChain(tx: Queryable): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))", [CHAIN_LOCK], {
    named: "residency_audit_lock",
  });
}

export async function insertCheckpoint(tx: Queryable, c: Checkpoint): Promise<void> {
  await tx.query(
    `INSERT INTO audit_checkpoints (id, first_seq, last_seq, head_hash, previous_checkpoint_hash, created_at, hash, key_id, signature)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [
      c.id,
      c.first_seq,
      c.last_seq,
      c.head_hash,
      c.previous_checkpoint_hash,
      c.created_at,
      c.hash,
      c.key_id,
      c.signature,
    ],
  );
}

async function writeLocked(
  tx: Queryable,
  records: readonly Prepared[],
  policy: CheckpointPolicy,
  options: {
    /** Receives the citations written, to remember once the transaction commits. */
    cited?: string[];
    /** The head, when the caller read it with the lock (lockAndReadHead). */
    locked?: Head;
    /** The transaction ends with these records (its insert, or the checkpoint after it, is last). */
    last?: boolean;
    /** Receives the head after these records (and the checkpoint written with them, if any). */
    end?: (head: Head) => void;
  } = {},
): Promise<Appended[]> {
  const { cited, locked } = options;
  // Read after the lock: under READ COMMITTED this statement sees the previous holder's commit.
  const { day, head } = await logDay(tx, locked ?? (await readHead(tx)), policy);
  await storeContexts(tx, newContexts(records, policy.knownContexts));
  const keys = await storeCitations(
    tx,
    day,
    records.map((r) => r.bundle_revision),
    policy.knownCitations,
  );
  cited?.push(...keys);
  const { rows, written, seq, hash: prevHash } = link(records, head, day);
  // Known before the insert (the hashes are computed here), so the insert knows whether it is the
  // transaction's last statement.
  const checkpoint = dueCheckpoint({ ...head, seq, hash: prevHash }, policy);
  const commits = options.last === true && checkpoint === null;
  if (policy.rowsInText) await tx.query(insertLiteral(rows), [], { commits });
  else await tx.query(INSERT_FROM_JSON, [rows], { named: "residency_audit_insert", commits });
  if (checkpoint) await insertCheckpoint(tx, checkpoint);
  options.end?.({
    seq,
    hash: prevHash,
    day,
    checkpoint: checkpoint
      ? {
          id: checkpoint.id,
          last_seq: checkpoint.last_seq,
          hash: checkpoint.hash,
          created_at: new Date(checkpoint.created_at),
        }
      : head.checkpoint,
  });
  return written;
}

/** The records linked after `head`, as the batch's rows (JSON) and what each was written as. */
function link(
  records: readonly Prepared[],
  head: Pick<Head, "seq" | "hash">,
  day: string,
): { rows: string; written: Appended[]; seq: number; hash: string } {
  let seq = head.seq;
  let prevHash = head.hash;
  const written: Appended[] = [];
  const params: unknown[] = [];
  for (const record of records) {
    seq += 1;
    const hash = chainHashPreSerialized(prevHash, { ...record, seq }, record.payloadJson);
    params.push(
      seq,
      record.event_id,
      record.type,
      record.occurred_at,
      record.tenant_id,
      record.learner_id,
      record.actor,
      record.request_id,
      record.bundle_revision,
      record.policy_id,
      record.policy_version,
      record.payloadJson,
      prevHash,
      hash,
      day,
    );
    written.push({ seq, hash });
    prevHash = hash;
  }
  return { rows: rowsAsJson(params, records.length), written, seq, hash: prevHash };
}

/** Raised by audit_append_after (migration 010) when the head is not the one the batch follows. */
const HEAD_MOVED = "RZ001";
const UNDEFINED_FUNCTION = "42883";
/** Raised by both chain functions (migration 011) in a session that is not READ COMMITTED. */
const NOT_READ_COMMITTED = "RZ002";

/**
 * The batch as one bound statement that inserts it only if the head under the lock is still the
 * one it follows. Sent outside any BEGIN, it is its own transaction: Parse (once per connection),
 * Bind, Execute and Sync in one round trip, and the server commits at the Sync without waiting for
 * this process — the lock is held for the insert and its commit alone. The rows go as one bound
 * json value, never through the SQL lexer (scanning them in a statement's text cost Postgres more
 * than the insert's indexes: docs/decisions/0015, eighth pass).
 */
const APPEND_AFTER = "SELECT audit_append_after($1, $2, $3, $4, $5::json)";

/**
 * Linked by the database under the lock, when another writer moves the head too (migration 011):
 * numbered, hashed and inserted there, the seq of the first and every record's hash returned.
 */
const APPEND_CHAINED = "SELECT first_seq, hashes FROM audit_append_chained($1, $2, $3, $4::json)";
/** Raised by audit_append_chained when the batch would end past the seq it was allowed to reach. */
const CHECKPOINT_WITHIN = "RZ003";

/**
 * A batch holding a context or a citation not stored yet goes in under the lock, on the locked
 * path: stored before it, the row would wait for (and deadlock with) another writer's holding it.
 */
function storesFirst(records: readonly Prepared[], day: string, policy: CheckpointPolicy): boolean {
  return (
    newContexts(records, policy.knownContexts).length > 0 ||
    records.some(
      (r) => r.bundle_revision !== null && !policy.knownCitations?.has(citationKey(day, r.bundle_revision)),
    )
  );
}

/** The batch's rows for audit_append_chained: each record's columns and its canonical text around its payload and seq. */
function chainedRowsJson(records: readonly Prepared[]): string {
  let out = "[";
  for (const r of records) {
    const [beforePayload, beforeSeq, afterSeq] = canonicalRecordParts(r);
    out +=
      `${out.length > 1 ? "," : ""}{"event_id":${JSON.stringify(r.event_id)},"type":${JSON.stringify(r.type)},` +
      `"occurred_at":${JSON.stringify(r.occurred_at)},"tenant_id":${JSON.stringify(r.tenant_id)},` +
      `"learner_id":${JSON.stringify(r.learner_id)},"actor":${JSON.stringify(r.actor)},` +
      `"request_id":${JSON.stringify(r.request_id)},"bundle_revision":${JSON.stringify(r.bundle_revision)},` +
      `"policy_id":${JSON.stringify(r.policy_id)},"policy_version":${JSON.stringify(r.policy_version)},` +
      `"payload":[${r.payloadJson}],"before_payload":${JSON.stringify(beforePayload)},` +
      `"before_seq":${JSON.stringify(beforeSeq)},"after_seq":${JSON.stringify(afterSeq)}}`;
  }
  return `${out}]`;
}

/** The distinct contexts of a batch not known to be stored already. */
function newContexts(records: readonly Prepared[], known: LRUCache<string, true> | null): StoredContext[] {
  const out = new Map<string, StoredContext>();
  for (const r of records) {
    if (r.context && !out.has(r.context.sha256) && !known?.has(r.context.sha256))
      out.set(r.context.sha256, r.context);
  }
  return [...out.values()];
}

// The whole batch as ONE bind parameter, a JSON array unpacked by the database: a batch of 50 is
// otherwise 750 parameters, each serialised and bound separately (the costliest part of an append
// on PGlite). A json value keeps the exact text it is given, so `payload` is spliced in as the
// canonical text that was hashed, never re-serialised — inside a one-element array, because a bare
// JSON null would unpack as SQL NULL, and `->0` on json returns the element's own text. (Canonical
// text never holds \u0000, which json_to_recordset would refuse: canonical.ts refuses NUL first.)
const COLUMN_TYPES: Record<(typeof COLUMNS)[number], string> = {
  seq: "bigint",
  event_id: "text",
  type: "text",
  occurred_at: "timestamptz",
  tenant_id: "text",
  learner_id: "text",
  actor: "text",
  request_id: "text",
  bundle_revision: "text",
  policy_id: "text",
  policy_version: "integer",
  payload: "json",
  prev_hash: "text",
  hash: "text",
  logged_on: "date",
};
const INSERT_FROM_JSON = `INSERT INTO audit_log (${COLUMNS.join(",")}) SELECT ${COLUMNS.map((c) => (c === "payload" ? "payload->0" : c)).join(",")} FROM json_to_recordset($1::json) AS r(${COLUMNS.map((c) => `${c} ${COLUMN_TYPES[c]}`).join(", ")})`;
const PAYLOAD_COLUMN = COLUMNS.indexOf("payload");
const [LITERAL_BEFORE, LITERAL_AFTER] = INSERT_FROM_JSON.split("$1") as [string, string];

/**
 * The same insert with the rows in its text, dollar-quoted with a tag the rows do not hold: nothing
 * in them is read as an escape, whatever standard_conforming_strings says. The tag is random, so a
 * caller cannot fill its records with the tags that would be tried (each try scans the batch).
 */
function insertLiteral(rowsJson: string): string {
  return `${LITERAL_BEFORE}${dollarQuoted(rowsJson)}${LITERAL_AFTER}`;
}

function dollarQuoted(text: string): string {
  let tag: string;
  do tag = `$r${randomBytes(8).toString("hex")}$`;
  while (text.includes(tag));
  return `${tag}${text}${tag}`;
}
const JSON_KEYS = COLUMNS.map((c) => `${JSON.stringify(c)}:`);

function rowsAsJson(params: readonly unknown[], rows: number): string {
  let out = "[";
  for (let r = 0; r < rows; r++) {
    out += r === 0 ? "{" : ",{";
    for (let c = 0; c < COLUMNS.length; c++) {
      const v = params[r * COLUMNS.length + c];
      out += (c === 0 ? "" : ",") + JSON_KEYS[c];
      out +=
        c === PAYLOAD_COLUMN
          ? `[${v as string}]`
          : v === null || v === undefined
            ? "null"
            : JSON.stringify(v);
    }
    out += "}";
  }
  return `${out}]`;
}

/**
 * Checks the record before it joins a batch: whatever the store would refuse is refused here,
 * for this caller alone.
 */
function prepare(event: AuditEventInput, compact: boolean): Prepared {
  try {
    const { payload, context } = compact
      ? compactPayload(event.payload)
      : { payload: event.payload, context: null };
    return {
      event_id: requiredText(event.event_id, "event_id"),
      type: requiredText(event.type, "type"),
      occurred_at: toIsoMillis(event.occurred_at),
      tenant_id: optionalText(event.tenant_id, "tenant_id"),
      learner_id: optionalText(event.learner_id, "learner_id"),
      actor: optionalText(event.actor, "actor"),
      request_id: optionalText(event.request_id, "request_id"),
      bundle_revision: optionalText(event.bundle_revision, "bundle_revision"),
      policy_id: optionalText(event.policy_id, "policy_id"),
      policy_version: policyVersion(event.policy_version),
      payloadJson: canonicalJsonReusing(payload),
      context,
    };
  } catch (err) {
    throw new AppError("AUDIT_UNAVAILABLE", `audit record refused: ${toError(err).message}`, { cause: err });
  }
}

function requiredText(value: unknown, field: string): string {
  if (typeof value !== "string" || value === "") throw new TypeError(`${field} must be a non-empty string`);
  return optionalText(value, field)!;
}

function optionalText(value: unknown, field: string): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "string" || !isStorableText(value))
    throw new TypeError(`${field} must be storable text`);
  return value;
}

function policyVersion(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || Math.abs(value) > INT4_MAX) {
    throw new TypeError("policy_version must be a 32-bit integer");
  }
  return value;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity violation): the record, not the store. */
function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("22") || code.startsWith("23"));
}

function unavailable(cause: Error): AppError {
  return new AppError("AUDIT_UNAVAILABLE", "audit store could not commit the record", { cause });
}

// A throwing callback must not stop the flusher: every later decision would wait forever.
function report(callback: () => void): void {
  try {
    callback();
  } catch {
    // the callback's own bug; the audit log keeps going
  }
}
