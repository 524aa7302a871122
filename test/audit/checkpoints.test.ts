import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import {
  type Checkpoint,
  checkpointProblem,
  ed25519PublicKey,
  ed25519Signer,
  GENESIS_CHECKPOINT_HASH,
  linkProblem,
} from "../../src/audit/checkpoint.ts";
import {
  CHECKPOINT_COLUMNS,
  type CheckpointRow,
  toCheckpoint,
  verifyChain,
  verifyFromCheckpoint,
} from "../../src/audit/verify.ts";
import { createVerifyJobs } from "../../src/audit/verify-job.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { asSuperuser, decisionEvent, resetAuditLog, testKeys } from "./fixtures.ts";

describe.each(testBackends())("audit checkpoints on $name", (backend) => {
  let db: TestDb;
  const keys = testKeys();
  const signer = ed25519Signer(keys.privatePem);
  const publicKey = ed25519PublicKey(keys.publicPem);

  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());
  beforeEach(() => resetAuditLog(db));

  async function checkpoints(): Promise<Checkpoint[]> {
    const { rows } = await db.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM audit_checkpoints ORDER BY id`,
    );
    return rows.map(toCheckpoint);
  }

  /** `count` records, appended in waves of `wave` so batches (and checkpoints) land between them. */
  async function seed(count: number, options: { everyRecords: number; wave?: number; signed?: boolean }) {
    const log = createAuditLog({
      db,
      checkpoints: { everyRecords: options.everyRecords, signer: options.signed === false ? null : signer },
    });
    const wave = options.wave ?? 5;
    for (let done = 0; done < count; done += wave) {
      await Promise.all(
        Array.from({ length: Math.min(wave, count - done) }, () => log.append(decisionEvent())),
      );
    }
    await log.close();
  }

  it("writes a signed checkpoint once N records follow the last, each linked to the one before", async () => {
    await seed(100, { everyRecords: 25, wave: 5 });
    const written = await checkpoints();
    expect(written.map((c) => [c.first_seq, c.last_seq])).toEqual([
      [1, 25],
      [26, 50],
      [51, 75],
      [76, 100],
    ]);
    const { rows } = await db.query<{ seq: number; hash: string }>(
      "SELECT seq, hash FROM audit_log WHERE seq IN (25, 50, 75, 100) ORDER BY seq",
    );
    expect(written.map((c) => c.head_hash)).toEqual(rows.map((r) => r.hash));
    expect(written[0]!.previous_checkpoint_hash).toBe(GENESIS_CHECKPOINT_HASH);
    written.forEach((c, i) => {
      expect(checkpointProblem(c, publicKey)).toBeNull();
      expect(linkProblem(written[i - 1] ?? null, c)).toBeNull();
      expect(c.key_id).toBe(signer.keyId);
    });
  });

  it("writes unsigned checkpoints without a key, and says so when a key is expected", async () => {
    await seed(30, { everyRecords: 10, signed: false });
    const written = await checkpoints();
    expect(written).toHaveLength(3);
    expect(written.every((c) => c.signature === null && c.key_id === null)).toBe(true);
    expect(checkpointProblem(written[0]!, null)).toBeNull();
    expect(checkpointProblem(written[0]!, publicKey)).toBe("unsigned");
  });

  it("writes a checkpoint on the time trigger for a log that has gone quiet", async () => {
    let now = new Date("2026-01-01T00:00:00.000Z");
    const log = createAuditLog({
      db,
      checkpoints: { everyRecords: 1000, everySeconds: 60, signer, clock: () => now },
    });
    await log.append(decisionEvent());
    expect(await checkpoints()).toHaveLength(1); // no checkpoint yet: the first is due at once
    await log.append(decisionEvent());
    expect(await checkpoints()).toHaveLength(1); // 1 record, seconds later: not due
    now = new Date("2026-01-01T00:01:01.000Z");
    await log.append(decisionEvent());
    const written = await checkpoints();
    await log.close();
    expect(written.map((c) => [c.first_seq, c.last_seq])).toEqual([
      [1, 1],
      [2, 3],
    ]);
    expect(written[1]!.created_at).toBe("2026-01-01T00:01:01.000Z");
  });

  it("refuses UPDATE and DELETE of a checkpoint", async () => {
    await seed(10, { everyRecords: 5 });
    await expect(db.query("UPDATE audit_checkpoints SET head_hash = 'x' WHERE id = 1")).rejects.toThrow(
      /append-only/,
    );
    await expect(db.query("DELETE FROM audit_checkpoints WHERE id = 1")).rejects.toThrow(/append-only/);
  });

  it("verifies from the last checkpoint: only the records after it are read", async () => {
    await seed(107, { everyRecords: 25 });
    const result = await verifyFromCheckpoint(db, { publicKey });
    expect(result).toMatchObject({
      ok: true,
      from: "checkpoint",
      checked: 7,
      head_seq: 107,
      first_broken_seq: null,
      checkpoint: { id: 4, last_seq: 100, signed: true, key_id: signer.keyId },
      rejected_checkpoints: [],
    });
  });

  it("names a record changed after the last checkpoint", async () => {
    await seed(107, { everyRecords: 25 });
    await asSuperuser(db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 104");
    expect(await verifyFromCheckpoint(db, { publicKey })).toMatchObject({ ok: false, first_broken_seq: 104 });
  });

  it("passes over a forged checkpoint to the one before it, and reports the forgery", async () => {
    await seed(100, { everyRecords: 25 });
    // Someone with database access rewrites the newest checkpoint to vouch for other records.
    await asSuperuser(db, "UPDATE audit_checkpoints SET head_hash = repeat('a', 64) WHERE id = 4");
    const result = await verifyFromCheckpoint(db, { publicKey });
    expect(result).toMatchObject({
      ok: false,
      checkpoint: { id: 3, last_seq: 75 },
      checked: 25,
      first_broken_seq: null,
      rejected_checkpoints: [{ id: 4, last_seq: 100, problem: "hash_mismatch" }],
    });
  });

  it("rejects a checkpoint signed by another key", async () => {
    await seed(50, { everyRecords: 25 });
    const other = ed25519PublicKey(testKeys().publicPem);
    const result = await verifyFromCheckpoint(db, { publicKey: other });
    expect(result.ok).toBe(false);
    expect(result.rejected_checkpoints.map((r) => r.problem)).toEqual(["unknown_key", "unknown_key"]);
  });

  it("rejects a checkpoint whose record was rewritten (hash recomputed)", async () => {
    await seed(50, { everyRecords: 25 });
    await asSuperuser(db, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 50");
    const result = await verifyFromCheckpoint(db, { publicKey });
    expect(result).toMatchObject({
      ok: false,
      checkpoint: { id: 1, last_seq: 25 },
      first_broken_seq: 50,
      rejected_checkpoints: [{ id: 2, problem: "head_mismatch" }],
    });
  });

  it("runs the full verification as a job with progress, checking every checkpoint", async () => {
    await seed(120, { everyRecords: 10, wave: 7 });
    const jobs = createVerifyJobs({ db, publicKey, batchSize: 16 });
    const started = jobs.start();
    expect(started).toMatchObject({ state: "running", checked: 0, ok: null });
    expect(jobs.start().job_id).toBe(started.job_id); // one walk at a time
    await jobs.idle();
    expect(jobs.get(started.job_id)).toMatchObject({
      state: "succeeded",
      ok: true,
      head_seq: 120,
      checked: 120,
      percent: 100,
      checkpoints_checked: (await checkpoints()).length,
      first_broken_seq: null,
      first_bad_checkpoint: null,
    });
    expect(jobs.get(started.job_id)!.rate_per_s).toBeGreaterThan(0);
    expect(jobs.get("no-such-job")).toBeNull();
  });

  it("the job names the first broken record and the first bad checkpoint", async () => {
    await seed(60, { everyRecords: 10 });
    const cps = await checkpoints();
    const victim = cps[2]!;
    await asSuperuser(db, "UPDATE audit_checkpoints SET signature = $1 WHERE id = $2", [
      Buffer.alloc(64, 1).toString("base64"),
      victim.id,
    ]);
    const jobs = createVerifyJobs({ db, publicKey, batchSize: 8 });
    let job = jobs.start();
    await jobs.idle();
    job = jobs.get(job.job_id)!;
    expect(job).toMatchObject({
      state: "succeeded",
      ok: false,
      first_broken_seq: null,
      first_bad_checkpoint: { id: victim.id, last_seq: victim.last_seq, problem: "bad_signature" },
    });

    await asSuperuser(db, "DELETE FROM audit_log WHERE seq = 33");
    const again = jobs.start();
    await jobs.idle();
    expect(jobs.get(again.job_id)).toMatchObject({ ok: false, first_broken_seq: 33 });
    expect(await verifyChain(db)).toMatchObject({ ok: false, first_broken_seq: 33 });
  });
});
