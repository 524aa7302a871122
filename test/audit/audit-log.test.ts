import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { type AuditLog, createAuditLog, createPerRowAuditLog } from "../../src/audit/audit-log.ts";
import { verifyChain } from "../../src/audit/verify.ts";
import { AppError } from "../../src/errors.ts";
import type { Queryable } from "../../src/store/db.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";
import { decisionEvent, resetAuditLog } from "./fixtures.ts";

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const auditUnavailable = { name: "AppError", code: "AUDIT_UNAVAILABLE" };

/** A promise the test resolves when it chooses. */
function latch(): { open: () => void; done: Promise<void> } {
  let open = () => {};
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, done };
}

describe.each(testBackends())("audit log on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create();
  });
  afterAll(() => db.close());
  beforeEach(() => resetAuditLog(db));

  async function storedSeqs(): Promise<number[]> {
    const { rows } = await db.query<{ seq: number }>("SELECT seq FROM audit_log ORDER BY seq");
    return rows.map((row) => Number(row.seq));
  }

  async function expectIntactChain(length: number): Promise<void> {
    expect(await storedSeqs()).toEqual(range(1, length));
    expect(await verifyChain(db)).toMatchObject({
      ok: true,
      checked: length,
      head_seq: length,
      first_broken_seq: null,
    });
  }

  it("gives 2,000 concurrent appends contiguous seqs, in call order, in batches of at most maxBatch", async () => {
    const flushes: number[] = [];
    const log = createAuditLog({ db, onFlush: ({ size }) => flushes.push(size) });
    const results = await Promise.all(range(1, 2000).map(() => log.append(decisionEvent())));
    await log.close();

    expect(results.map((r) => r.seq)).toEqual(range(1, 2000));
    expect(flushes).toEqual([500, 500, 500, 500]);
    const { rows } = await db.query<{ hash: string }>("SELECT hash FROM audit_log ORDER BY seq");
    expect(rows.map((row) => row.hash)).toEqual(results.map((r) => r.hash));
    await expectIntactChain(2000);
  });

  it("batches callers that arrive while a flush is running", async () => {
    const flushes: number[] = [];
    const log = createAuditLog({ db, onFlush: ({ size }) => flushes.push(size) });
    const results = await Promise.all(
      range(1, 2000).map(async () => {
        await sleep(Math.random() * 30);
        return log.append(decisionEvent());
      }),
    );
    await log.close();

    expect(results.map((r) => r.seq).sort((a, b) => a - b)).toEqual(range(1, 2000));
    expect(flushes.reduce((a, b) => a + b, 0)).toBe(2000);
    expect(flushes.length).toBeLessThan(1000);
    await expectIntactChain(2000);
  });

  it("commits a batch larger than a statement's bind parameters could hold (one JSON parameter)", async () => {
    const flushes: number[] = [];
    const log = createAuditLog({ db, maxBatch: 5000, onFlush: ({ size }) => flushes.push(size) });
    await Promise.all(range(1, 5000).map(() => log.append(decisionEvent())));
    await log.close();

    expect(flushes).toEqual([5000]); // 5000 × 15 columns > 65,535 bind parameters: one transaction
    await expectIntactChain(5000);
  });

  it.each([
    ["bound", "postgres"],
    ["written into the statement", "pglite"],
  ] as const)("stores every byte of a record with the batch's rows %s", async (_form, kind) => {
    // The embedded store's insert carries the rows dollar-quoted in its text: text that holds the
    // quote tags, quotes, backslashes and escapes must come back exactly as it was hashed.
    const log = createAuditLog({
      db: {
        kind,
        transaction: (fn) => db.transaction(fn),
        query: (sql, params, o) => db.query(sql, params, o),
      },
    });
    const tricky = [
      "$r$",
      "$r1$ $r2$",
      "$$",
      "it's",
      'say "hi"',
      "C:\\temp\\n",
      "\\x41 \\u0041",
      "tab\there",
      "é — 漢字 🙂",
    ];
    const events = tricky.map((text, i) =>
      decisionEvent({
        request_id: `req-${i}-${text}`,
        actor: text,
        payload: { note: text, nested: { text } },
      }),
    );
    const written = await Promise.all(events.map((event) => log.append(event)));
    await log.close();

    const { rows } = await db.query<{ actor: string; payload: unknown; hash: string }>(
      "SELECT actor, payload, hash FROM audit_log ORDER BY seq",
    );
    expect(rows.map((row) => row.actor)).toEqual(tricky);
    expect(rows.map((row) => row.payload)).toEqual(tricky.map((text) => ({ note: text, nested: { text } })));
    expect(rows.map((row) => row.hash)).toEqual(written.map((w) => w.hash));
    await expectIntactChain(tricky.length);
  });

  it("keeps one chain when two instances append to the same database at once", async () => {
    const peer = await db.peer();
    const instances = [createAuditLog({ db }), createAuditLog({ db: peer })] as const;
    const byInstance: Array<{ instance: number; seq: number }> = [];
    // Rounds in which both instances flush at the same moment and race for the chain lock.
    for (let round = 0; round < 20; round++) {
      const appended = await Promise.all(
        range(0, 49).map(async (i) => ({
          instance: i % 2,
          seq: (await instances[i % 2]!.append(decisionEvent())).seq,
        })),
      );
      byInstance.push(...appended);
    }
    await Promise.all(instances.map((log) => log.close()));

    expect(byInstance.map((r) => r.seq).sort((a, b) => a - b)).toEqual(range(1, 1000));
    const instanceAlongChain = [...byInstance].sort((a, b) => a.seq - b.seq).map((r) => r.instance);
    const switches = instanceAlongChain.filter(
      (instance, i) => i > 0 && instance !== instanceAlongChain[i - 1],
    );
    expect(switches.length).toBeGreaterThanOrEqual(20);
    await expectIntactChain(1000);
  });

  /**
   * `holder` takes the chain lock and writes a record in a transaction it keeps open while
   * `waiter`'s append waits at the lock; then the holder commits. What the waiter's append was.
   */
  async function appendWhileHeld(holder: AuditLog, waiter: AuditLog) {
    const held = latch();
    const holding = db.transaction(async (tx) => {
      await holder.appendInTx(tx, [decisionEvent()]);
      await held.done;
    });
    await sleep(100);
    const waiting = waiter.append(decisionEvent());
    await sleep(200);
    held.open();
    await holding;
    return waiting;
  }

  it("a writer waiting for the chain lock links to what the holder committed meanwhile", async () => {
    const peer = await db.peer();
    const holder = createAuditLog({ db });
    const flushed: number[] = [];
    const waiter = createAuditLog({ db: peer, onFlush: ({ size }) => flushed.push(size) });
    // Today's partition exists before (creating it would lock the table and hide the race).
    await holder.append(decisionEvent());
    // The other instance's batch waits at the lock while the holder writes seq 2; it must read the
    // head after the lock is held (seq 2), not before (seq 1), or its record would collide with seq 2.
    expect((await appendWhileHeld(holder, waiter)).seq).toBe(3);
    expect(flushed).toEqual([1]); // linked the first time, not after a refused insert
    await Promise.all([holder.close(), waiter.close()]);
    await expectIntactChain(3);
  });

  // The chain functions read the head after the lock, which only READ COMMITTED guarantees: a server
  // whose default isolation is stricter must not make a writer link to the head its snapshot saw.
  it.runIf(backend.name === "postgres")(
    "a writer on a server defaulting to SERIALIZABLE still links to what the holder committed meanwhile",
    async () => {
      const url = new URL(process.env.DATABASE_URL!);
      // The test schema spelled out too: these options replace the pool's own search_path option.
      url.searchParams.set(
        "options",
        `-c search_path=${db.schema} -c default_transaction_isolation=serializable`,
      );
      const peer = await db.peer({ connectionString: url.toString() });
      // What the connection starts with (the store then sets its session's default: db-postgres.ts).
      const { rows } = await peer.query<{ iso: string }>(
        "SELECT reset_val AS iso FROM pg_settings WHERE name = 'default_transaction_isolation'",
      );
      expect(rows[0]?.iso).toBe("serializable");
      const holder = createAuditLog({ db });
      const paths: string[] = [];
      const waiter = createAuditLog({ db: peer, onFlush: ({ path }) => paths.push(path) });
      await holder.append(decisionEvent());
      // Locked path (the waiter knows no head), then linked ahead (it knows seq 3, the holder moves it).
      for (const expected of [3, 5]) {
        expect((await appendWhileHeld(holder, waiter)).seq).toBe(expected);
      }
      // Each linked once (no refused insert, no retry alone): the head learnt under the lock, then,
      // the holder having moved it, linked by the database.
      expect(paths).toEqual(["locked", "chained"]);
      await Promise.all([holder.close(), waiter.close()]);
      await expectIntactChain(5);
    },
  );

  it("writes the same chain one transaction per record, alongside group commit", async () => {
    const perRow = createPerRowAuditLog({ db });
    const grouped = createAuditLog({ db });
    await Promise.all(range(1, 300).map((i) => (i % 3 === 0 ? perRow : grouped).append(decisionEvent())));
    await Promise.all([perRow.close(), grouped.close()]);

    await expectIntactChain(300);
    await expect(perRow.append(decisionEvent())).rejects.toMatchObject(auditUnavailable);
  });

  it("is append-only: the database refuses UPDATE, DELETE and TRUNCATE", async () => {
    const log = createAuditLog({ db });
    await Promise.all(range(1, 3).map(() => log.append(decisionEvent())));
    await log.close();

    const refused = { code: "42501", message: expect.stringMatching(/append-only/) };
    await expect(db.query("UPDATE audit_log SET actor = 'mallory' WHERE seq = 2")).rejects.toMatchObject(
      refused,
    );
    await expect(db.query("UPDATE audit_log SET payload = '{}'")).rejects.toMatchObject(refused);
    await expect(db.query("DELETE FROM audit_log WHERE seq = 3")).rejects.toMatchObject(refused);
    await expect(db.query("TRUNCATE audit_log")).rejects.toMatchObject(refused);
    await expectIntactChain(3);
  });

  it("rejects every waiter of a batch whose commit fails, then carries on from the committed head", async () => {
    const errors: Error[] = [];
    const log = createAuditLog({ db, onError: (err) => errors.push(err) });
    await log.append(decisionEvent());

    // A deferred constraint trigger fails at COMMIT, after the INSERT itself went through.
    await db.exec(`
      CREATE FUNCTION audit_test_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'store refuses to commit'; END $$;
      CREATE CONSTRAINT TRIGGER audit_test_fail AFTER INSERT ON audit_log
        DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION audit_test_fail();
    `);
    let outcomes: PromiseSettledResult<unknown>[];
    try {
      outcomes = await Promise.allSettled(range(1, 25).map(() => log.append(decisionEvent())));
    } finally {
      await db.exec("DROP TRIGGER audit_test_fail ON audit_log; DROP FUNCTION audit_test_fail();");
    }

    expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
    for (const outcome of outcomes) {
      const reason = (outcome as PromiseRejectedResult).reason as AppError;
      expect(reason).toBeInstanceOf(AppError);
      expect(reason).toMatchObject(auditUnavailable);
      expect(String((reason.cause as Error).message)).toMatch(/store refuses to commit/);
    }
    expect(errors).toHaveLength(1);
    await expectIntactChain(1);

    expect(await log.append(decisionEvent())).toMatchObject({ seq: 2 });
    await log.close();
    await expectIntactChain(2);
  });

  /**
   * One record through a log whose connections pass a TCP proxy the test can cut; after `cut`,
   * the proxy is restored and the log must append the next record on an intact chain — recovery
   * without a restart.
   */
  async function cutAndRecover(
    cut: (log: ReturnType<typeof createAuditLog>, proxy: TcpProxy) => Promise<void>,
  ) {
    const url = process.env.DATABASE_URL!;
    const target = new URL(url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    try {
      const log = createAuditLog({ db: await db.peer({ connectionString: proxy.url(url) }) });
      await log.append(decisionEvent());
      await cut(log, proxy);
      proxy.resume();
      expect(await log.append(decisionEvent())).toMatchObject({ seq: 2 });
      await log.close();
      await expectIntactChain(2);
    } finally {
      await proxy.close();
    }
  }

  it.runIf(backend.name === "postgres")(
    "fails fast while the database is unreachable and recovers when it is back",
    () =>
      cutAndRecover(async (log, proxy) => {
        proxy.pause();
        // Let the pool see its idle connection drop first: checking out a connection that dies
        // under a transaction hits the db-postgres issue described below.
        await sleep(100);
        const started = performance.now();
        const outcomes = await Promise.allSettled(range(1, 20).map(() => log.append(decisionEvent())));
        expect(outcomes.every((o) => o.status === "rejected")).toBe(true);
        for (const outcome of outcomes)
          expect((outcome as PromiseRejectedResult).reason).toMatchObject(auditUnavailable);
        await expect(log.append(decisionEvent())).rejects.toMatchObject(auditUnavailable);
        expect(performance.now() - started).toBeLessThan(2_500);
      }),
  );

  // Linking ahead (migration 010): a batch linked to the head this writer last wrote, sent as one
  // statement that inserts only if that is still the head under the lock.
  it("links a steady stream's batches ahead of the lock, in call order, the chain intact", async () => {
    const paths: string[] = [];
    const log = createAuditLog({ db, onFlush: ({ path }) => paths.push(path) });
    const seqs: number[] = [];
    for (let wave = 0; wave < 20; wave++) {
      const written = await Promise.all(range(1, 25).map(() => log.append(decisionEvent())));
      seqs.push(...written.map((w) => w.seq));
    }
    await log.close();
    expect(seqs).toEqual(range(1, 500));
    await expectIntactChain(500);
    expect(paths[0]).toBe("locked"); // learns the head
    expect(paths.filter((p) => p === "ahead").length).toBeGreaterThan(paths.length / 2);
  });

  it("links again when another writer moved the head, then lets the database link its batches a while", async () => {
    const paths: string[] = [];
    const a = createAuditLog({ db, onFlush: ({ path }) => paths.push(path) });
    const b = createAuditLog({ db });
    expect((await a.append(decisionEvent())).seq).toBe(1); // A knows the head: 1
    expect((await b.append(decisionEvent())).seq).toBe(2); // B moves it
    // A's next batch follows 1, finds 2 under the lock, inserts nothing, and is linked again — by
    // the database (migration 011), as A's batches are for a while now.
    expect((await a.append(decisionEvent())).seq).toBe(3);
    expect(paths).toEqual(["locked", "chained"]);
    // Interleaved writers: every record written once, each writer's in its call order, the chain
    // whole — hashed by the database exactly as canonical.ts hashes, whatever the text holds.
    const tricky = [
      "it's",
      'say "hi"',
      "C:\\temp\\n",
      "tab\there\nline",
      "é ü 漢字 😀",
      "$$ $r$",
      "\u2028\u0001",
    ];
    const both = await Promise.all(
      range(1, 200).map((i) =>
        (i % 2 === 0 ? a : b).append(
          decisionEvent({
            actor: tricky[i % tricky.length]!,
            payload: { note: tricky[(i + 3) % tricky.length], n: i, deep: [null, 1.5, { k: tricky[i % 3] }] },
          }),
        ),
      ),
    );
    expect(new Set(both.map((w) => w.seq)).size).toBe(200);
    for (const writer of [0, 1]) {
      const seqs = both.filter((_, i) => (i + 1) % 2 === writer).map((w) => w.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    }
    await Promise.all([a.close(), b.close()]);
    expect(paths.filter((p) => p === "chained").length).toBeGreaterThan(1);
    await expectIntactChain(203);
  });

  it("writes checkpoints by record count while the database links the batches", async () => {
    const a = createAuditLog({ db, checkpoints: { everyRecords: 5 } });
    const b = createAuditLog({ db, checkpoints: { everyRecords: 5 } });
    await a.append(decisionEvent());
    await b.append(decisionEvent()); // A's batches are linked by the database from now on
    for (let i = 0; i < 40; i++) await a.append(decisionEvent());
    await Promise.all([a.close(), b.close()]);
    const { rows } = await db.query<{ last_seq: number }>(
      "SELECT last_seq::int AS last_seq FROM audit_checkpoints ORDER BY id",
    );
    // A batch a checkpoint may be due after takes the locked path, which writes it: none is skipped.
    const ends = [0, ...rows.map((r) => r.last_seq)];
    for (let i = 1; i < ends.length; i++) expect(ends[i]! - ends[i - 1]!).toBeLessThanOrEqual(5);
    expect(42 - ends.at(-1)!).toBeLessThan(5);
    await expectIntactChain(42);
  });

  it("keeps a writer's call order when its linking by the database ends with a batch still in flight", async () => {
    // A's batch linked by the database is held before it reaches the server; meanwhile the 5 s are
    // over and A's next record would be linked ahead — it must wait for the one in flight.
    let gate: Promise<void> | null = null;
    let entered = () => {};
    const paths: string[] = [];
    const held = {
      kind: db.kind,
      transaction: <T>(fn: (tx: Queryable) => Promise<T>) => db.transaction(fn),
      query: (async (sql, params, options) => {
        if (sql.includes("audit_append_chained") && gate) {
          entered();
          await gate;
        }
        return db.query(sql, params, options);
      }) as TestDb["query"],
    };
    const a = createAuditLog({ db: held, onFlush: ({ path }) => paths.push(path) });
    const b = createAuditLog({ db });
    expect((await a.append(decisionEvent())).seq).toBe(1);
    expect((await b.append(decisionEvent())).seq).toBe(2);
    expect((await a.append(decisionEvent())).seq).toBe(3); // the head moved: linked by the database
    // A new citation goes in under the lock, and A learns the head there.
    expect((await a.append(decisionEvent({ bundle_revision: "rev-new" }))).seq).toBe(4);
    expect(paths).toEqual(["locked", "chained", "locked"]);
    let release = () => {};
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const inGate = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const first = a.append(decisionEvent());
    await inGate;
    const realNow = Date.now.bind(Date);
    const later = vi.spyOn(Date, "now").mockImplementation(() => realNow() + 6_000);
    try {
      const second = a.append(decisionEvent());
      await sleep(100);
      release();
      expect([(await first).seq, (await second).seq]).toEqual([5, 6]);
    } finally {
      later.mockRestore();
    }
    await Promise.all([a.close(), b.close()]);
    await expectIntactChain(6);
  });

  it("hashes any payload the database links exactly as the verifier does", async () => {
    const a = createAuditLog({ db });
    const b = createAuditLog({ db });
    await a.append(decisionEvent());
    await b.append(decisionEvent());
    const payloads: unknown[] = [
      'top \u001f " \\ é 😀 \u2028 \u007f \ufeff',
      null,
      2 ** 64,
      1e21,
      1e-7,
      -0,
      [],
      {},
      true,
      { é: 1, e: 2, "😀": [1, "\b\f\n\r\t"] },
      "",
    ];
    const written = [];
    for (const payload of payloads) {
      written.push(
        await a.append(
          decisionEvent({
            payload,
            policy_version: null,
            actor: "\u0001\u007f\u0085",
            tenant_id: "x\ufeff",
            occurred_at: new Date("0001-01-01T00:00:00.001Z"),
          }),
        ),
      );
    }
    await Promise.all([a.close(), b.close()]);
    await expectIntactChain(2 + payloads.length);
    const { rows } = await db.query<{ hash: string }>(
      "SELECT hash FROM audit_log WHERE seq > 2 ORDER BY seq",
    );
    expect(rows.map((r) => r.hash)).toEqual(written.map((w) => w.hash));
  });

  it.runIf(backend.name === "pglite")(
    "keeps to the locked path in a session that is not READ COMMITTED",
    async () => {
      // Both chain functions refuse a stricter level (RZ002): their head read would use a snapshot
      // taken before the lock. (On Postgres the store sets READ COMMITTED on every session.)
      await db.exec("SET default_transaction_isolation = 'repeatable read'");
      try {
        const paths: string[] = [];
        const a = createAuditLog({ db, onFlush: ({ path }) => paths.push(path) });
        const b = createAuditLog({ db });
        for (let i = 0; i < 5; i++) {
          await a.append(decisionEvent());
          await b.append(decisionEvent());
        }
        await Promise.all([a.close(), b.close()]);
        expect(new Set(paths)).toEqual(new Set(["locked"]));
        await expectIntactChain(10);
      } finally {
        await db.exec("SET default_transaction_isolation = 'read committed'");
      }
    },
  );

  it("writes the checkpoint that other writers' batches made due, when the database links this writer's", async () => {
    // A knows of none and thinks 4 records are written; B (no checkpoints of its own) writes three
    // more meanwhile. A's next batch would end at 7, past the 4 allowed before a checkpoint is due
    // every 5: the database refuses it (RZ003) and the locked path writes the checkpoint with it.
    const paths: string[] = [];
    const a = createAuditLog({
      db,
      checkpoints: { everyRecords: 5 },
      onFlush: ({ path }) => paths.push(path),
    });
    const b = createAuditLog({ db, checkpoints: { everyRecords: 1_000_000 } });
    await a.append(decisionEvent());
    await b.append(decisionEvent());
    expect((await a.append(decisionEvent())).seq).toBe(3); // linked by the database: A has seen 3
    for (let i = 0; i < 3; i++) await b.append(decisionEvent());
    expect((await a.append(decisionEvent())).seq).toBe(7);
    await Promise.all([a.close(), b.close()]);
    expect(paths).toEqual(["locked", "chained", "locked"]);
    const { rows } = await db.query<{ last_seq: number }>(
      "SELECT last_seq::int AS last_seq FROM audit_checkpoints",
    );
    expect(rows.map((r) => r.last_seq)).toEqual([7]);
    await expectIntactChain(7);
  });

  it("links by the database on the head's day when another instance's clock is a day ahead", async () => {
    const tomorrow = () => new Date(Date.now() + 86_400_000);
    const paths: string[] = [];
    const a = createAuditLog({ db, onFlush: ({ path }) => paths.push(path) });
    const b = createAuditLog({ db, checkpoints: { clock: tomorrow } });
    await a.append(decisionEvent());
    await b.append(decisionEvent()); // opens tomorrow's partition
    for (let i = 0; i < 4; i++) await a.append(decisionEvent());
    await Promise.all([a.close(), b.close()]);
    // The first finds the head moved, and on another day: under the lock, where A learns the day.
    // The rest go to the database on that day, not to the lock each time.
    expect(paths).toEqual(["locked", "locked", "chained", "chained", "chained"]);
    const { rows } = await db.query<{ day: string }>(
      "SELECT DISTINCT logged_on::text AS day FROM audit_log WHERE seq > 1",
    );
    expect(rows.map((r) => r.day)).toEqual([tomorrow().toISOString().slice(0, 10)]);
    await expectIntactChain(6);
  });

  it.runIf(backend.name === "postgres")(
    "two batches linked ahead behind another writer's are linked again in the order they were appended",
    async () => {
      // The other writer holds the chain lock (its transaction paused after its first statement)
      // while this one links two batches ahead, one after the other; it then commits, and both find
      // the head moved.
      const peer = await db.peer();
      const gate = latch();
      const held = latch();
      const paused = {
        kind: "postgres" as const,
        query: peer.query.bind(peer),
        transaction: <T>(fn: (tx: Queryable) => Promise<T>) =>
          peer.transaction((tx) => {
            let first = true;
            return fn({
              async query(sql, params, options) {
                const result = await tx.query(sql, params, options);
                if (first) {
                  first = false;
                  held.open();
                  await gate.done;
                }
                return result;
              },
            } as Queryable);
          }),
      };
      const a = createAuditLog({ db });
      const other = createAuditLog({ db: paused });
      const tagged = (actor: string) => decisionEvent({ actor });
      await a.append(tagged("a1")); // A knows the head
      const moved = other.append(tagged("other"));
      await held.done;
      const second = a.append(tagged("a2"));
      await sleep(30); // linked ahead and waiting at the lock
      const third = a.append(tagged("a3"));
      await sleep(30);
      gate.open();
      expect((await moved).seq).toBe(2);
      expect([(await second).seq, (await third).seq]).toEqual([3, 4]);
      await Promise.all([a.close(), other.close(), peer.close()]);
      const { rows } = await db.query<{ actor: string }>("SELECT actor FROM audit_log ORDER BY seq");
      expect(rows.map((r) => r.actor)).toEqual(["a1", "other", "a2", "a3"]);
      await expectIntactChain(4);
    },
  );

  it.runIf(backend.name === "postgres")(
    "a checkpoint signer that fails on the way to linking ahead fails those records closed, hanging none",
    async () => {
      let failing = false;
      const signer = {
        keyId: "k",
        sign: (_text: string) => {
          if (failing) throw new Error("signer unavailable");
          return "sig";
        },
      };
      const log = createAuditLog({ db, checkpoints: { everyRecords: 3, signer } });
      await log.append(decisionEvent());
      failing = true;
      const outcomes = await Promise.allSettled(range(1, 3).map(() => log.append(decisionEvent())));
      for (const outcome of outcomes) {
        expect(outcome.status).toBe("rejected");
        expect((outcome as PromiseRejectedResult).reason).toMatchObject(auditUnavailable);
      }
      failing = false;
      expect((await log.append(decisionEvent())).seq).toBe(2);
      await log.close();
      await expectIntactChain(2);
    },
  );

  it.runIf(backend.name === "postgres")(
    "a batch linked ahead after one that failed finds the head moved and is written after the survivors",
    async () => {
      const log = createAuditLog({ db });
      await log.append(decisionEvent());
      // Two batches linked ahead, the first refused by the database (a reused event_id): the second,
      // linked after it, must not be stored after a head that never was.
      const first = [decisionEvent({ event_id: "dup-1" }), decisionEvent({ event_id: "dup-1" })].map((e) =>
        log.append(e),
      );
      // A turn later the first batch is in flight, and the second lane links after it.
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
      const second = range(1, 5).map(() => log.append(decisionEvent()));
      const outcomes = await Promise.allSettled([...first, ...second]);
      await log.close();
      expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(6);
      await expectIntactChain(7);
    },
  );

  // A connection dropped mid-transaction (or a stale pooled connection that dies as a transaction
  // starts) must reject the batch, not kill the process (db-postgres.ts listens on the client).
  it.runIf(backend.name === "postgres")(
    "rejects a batch whose connection is cut mid-transaction, then recovers",
    () =>
      cutAndRecover(async (log, proxy) => {
        // Another session holds INSERTs back, so the batch is caught inside its transaction.
        const held = latch();
        const lockTaken = latch();
        const blocker = db.transaction(async (tx) => {
          await tx.query("LOCK TABLE audit_log IN EXCLUSIVE MODE");
          lockTaken.open();
          await held.done;
        });
        await lockTaken.done;
        const outcomes = Promise.allSettled(range(1, 20).map(() => log.append(decisionEvent())));
        await vi.waitFor(
          async () => {
            const { rows } = await db.query<{ waiting: number }>(
              "SELECT count(*)::int AS waiting FROM pg_locks WHERE relation = 'audit_log'::regclass AND NOT granted",
            );
            expect(rows[0]?.waiting).toBe(1);
          },
          { timeout: 5_000, interval: 20 },
        );
        proxy.pause();
        for (const outcome of await outcomes) {
          expect(outcome.status).toBe("rejected");
          expect((outcome as PromiseRejectedResult).reason).toMatchObject(auditUnavailable);
        }
        // The batch went out as one statement the server commits on its own (linked ahead) or
        // inside a transaction: either way the server ends it, its client gone, before the lock
        // frees (client_connection_check_interval) — it must not commit those records.
        await vi.waitFor(
          async () => {
            const { rows } = await db.query<{ waiting: number }>(
              "SELECT count(*)::int AS waiting FROM pg_locks WHERE relation = 'audit_log'::regclass AND NOT granted",
            );
            expect(rows[0]?.waiting).toBe(0);
          },
          { timeout: 5_000, interval: 50 },
        );
        held.open();
        await blocker;
      }),
  );

  it("refuses a record the store could not keep, for that caller alone", async () => {
    const log = createAuditLog({ db });
    const outcomes = await Promise.allSettled([
      log.append(decisionEvent()),
      log.append(decisionEvent({ payload: { score: Number.NaN } })),
      log.append(decisionEvent({ tenant_id: "nul\u0000byte" })),
      log.append(decisionEvent({ occurred_at: new Date("not a date") })),
      log.append(decisionEvent({ event_id: "" })),
      log.append(decisionEvent({ policy_version: 1.5 })),
      log.append(decisionEvent({ payload: undefined })),
      log.append(decisionEvent()),
    ]);
    await log.close();

    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "rejected",
      "fulfilled",
    ]);
    for (const outcome of outcomes) {
      if (outcome.status === "rejected") expect(outcome.reason).toMatchObject(auditUnavailable);
    }
    await expectIntactChain(2);
  });

  it("isolates a record the database refuses (a reused event_id) from the rest of its batch", async () => {
    const errors: Error[] = [];
    const log = createAuditLog({ db, onError: (err) => errors.push(err) });
    await log.append(decisionEvent({ event_id: "taken" }));

    const outcomes = await Promise.allSettled([
      log.append(decisionEvent()),
      log.append(decisionEvent({ event_id: "taken" })),
      log.append(decisionEvent({ event_id: "twice" })),
      log.append(decisionEvent({ event_id: "twice" })),
      log.append(decisionEvent()),
    ]);
    await log.close();

    expect(outcomes.map((o) => o.status)).toEqual([
      "fulfilled",
      "rejected",
      "fulfilled",
      "rejected",
      "fulfilled",
    ]);
    expect(outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value.seq] : []))).toEqual([2, 3, 4]);
    const refused = outcomes[1] as PromiseRejectedResult;
    expect(refused.reason).toMatchObject(auditUnavailable);
    expect((refused.reason as AppError).cause).toMatchObject({ code: "23505" });
    expect(errors).toHaveLength(2);
    await expectIntactChain(4);
  });

  it("appendAll keeps one caller's records together: same batch, consecutive seqs, all or none", async () => {
    const log = createAuditLog({ db, maxBatch: 3 });
    const singles = range(1, 5).map(() => log.append(decisionEvent()));
    const pair = log.appendAll([decisionEvent(), decisionEvent({ type: "override.used" })]);
    const more = range(1, 5).map(() => log.append(decisionEvent()));
    const [a, b] = await pair;
    await Promise.all([...singles, ...more]);
    expect(b!.seq).toBe(a!.seq + 1);

    // A group with a record the store refuses (a reused event_id) fails whole.
    const taken = decisionEvent();
    await log.append(taken);
    const before = await storedSeqs();
    await expect(
      log.appendAll([decisionEvent(), { ...decisionEvent(), event_id: taken.event_id }]),
    ).rejects.toMatchObject(auditUnavailable);
    expect(await storedSeqs()).toEqual(before);
    await log.close();
    await expectIntactChain(before.length);
  });

  it("close() stops new appends and resolves once the queue is drained", async () => {
    const log = createAuditLog({ db, maxBatch: 10 });
    let settled = 0;
    const pending = range(1, 50).map(() => log.append(decisionEvent()).finally(() => settled++));
    const closing = log.close();
    await expect(log.append(decisionEvent())).rejects.toMatchObject(auditUnavailable);
    await closing;

    expect(settled).toBe(50);
    expect((await Promise.all(pending)).map((r) => r.seq)).toEqual(range(1, 50));
    await log.close(); // idempotent
    await expectIntactChain(50);
  });

  it("keeps flushing when a callback throws", async () => {
    const log = createAuditLog({
      db,
      onFlush: () => {
        throw new Error("metrics exploded");
      },
    });
    expect((await log.append(decisionEvent())).seq).toBe(1);
    expect((await log.append(decisionEvent())).seq).toBe(2);
    await log.close();
  });
});
