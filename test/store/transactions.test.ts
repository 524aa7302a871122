// Transactions on both drivers, whatever their first statement is. On Postgres the BEGIN goes out
// with the first statement (one simple query when it has no parameters): it must still be one
// transaction that commits whole, rolls back whole, and is invisible to others until it commits.
// On the embedded store neither the opening nor (for a statement marked `commits`) the COMMIT is
// waited for: the same must hold.

import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDb, testBackends } from "../support/databases.ts";

describe.each(testBackends())("transactions on $name", (backend) => {
  let db: TestDb;
  beforeAll(async () => {
    db = await backend.create({ migrate: false });
    await db.exec("CREATE TABLE tx_t (id int PRIMARY KEY)");
  });
  afterAll(() => db.close());

  const ids = async () =>
    (await db.query<{ id: number }>("SELECT id FROM tx_t ORDER BY id")).rows.map((r) => r.id);

  it("commits and rolls back whole when the first statement has no parameters", async () => {
    await db.transaction(async (tx) => {
      await tx.query("INSERT INTO tx_t VALUES (1)");
      await tx.query("INSERT INTO tx_t VALUES ($1)", [2]);
    });
    const thrown = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO tx_t VALUES (3)");
        await tx.query("INSERT INTO tx_t VALUES ($1)", [4]);
        throw new Error("changed my mind");
      })
      .catch((e: Error) => e.message);
    expect(thrown).toBe("changed my mind");
    expect(await ids()).toEqual([1, 2]);
  });

  it("fails with the first statement's SQLSTATE and leaves the connection usable", async () => {
    const code = await db
      .transaction((tx) => tx.query("INSERT INTO tx_t VALUES (1)"))
      .catch((e: { code?: string }) => e.code);
    expect(code).toBe("23505");
    expect(await db.transaction(async (tx) => (await tx.query("SELECT 1 AS one")).rows)).toEqual([
      { one: 1 },
    ]);
    expect(await db.transaction(async () => "no statement")).toBe("no statement");
    expect(await ids()).toEqual([1, 2]);
  });

  it("commits with a statement marked as the last, and refuses one after it", async () => {
    const after = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO tx_t VALUES (20)");
        await tx.query("INSERT INTO tx_t VALUES (21)", [], { commits: true });
        return tx.query("INSERT INTO tx_t VALUES (22)");
      })
      .catch((e: Error) => e.message);
    expect(after).toMatch(/none may follow/);
    expect(await ids()).toEqual([1, 2, 20, 21]);
    await db.query("DELETE FROM tx_t WHERE id >= 20");
  });

  it("rolls back whole when the statement marked as the last fails (its COMMIT does not commit)", async () => {
    const code = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO tx_t VALUES ($1)", [30]);
        await tx.query("INSERT INTO tx_t VALUES (1)", [], { commits: true }); // duplicate key
      })
      .catch((e: { code?: string }) => e.code);
    expect(code).toBe("23505");
    expect(await ids()).toEqual([1, 2]);
    // Statements not waited for still run in order, and the next transaction starts clean.
    await db.transaction(async (tx) => {
      const pending = [31, 32, 33].map((id) => tx.query("INSERT INTO tx_t VALUES ($1)", [id]));
      await Promise.all(pending);
      await tx.query("DELETE FROM tx_t WHERE id = 32", [], { commits: true });
    });
    expect(await ids()).toEqual([1, 2, 31, 33]);
    await db.query("DELETE FROM tx_t WHERE id > 2");
  });

  it("fails whole when its function swallows the last statement's failure", async () => {
    const code = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO tx_t VALUES (40)");
        await tx.query("INSERT INTO tx_t VALUES (1)", [], { commits: true }).catch(() => undefined);
        return "swallowed";
      })
      .catch((e: { code?: string }) => e.code);
    expect(code).toBe("23505");
    expect(await ids()).toEqual([1, 2]);
  });

  it("rolls back a function that throws before its first statement, and goes on", async () => {
    const thrown = await db
      .transaction(async () => {
        throw new Error("before any statement");
      })
      .catch((e: Error) => e.message);
    expect(thrown).toBe("before any statement");
    expect(await db.transaction(async (tx) => (await tx.query("SELECT 2 AS two")).rows)).toEqual([
      { two: 2 },
    ]);
  });

  it("keeps a failed statement's text out of its error (an audit insert holds its records there)", async () => {
    const err = (await db
      .transaction((tx) => tx.query("INSERT INTO tx_t SELECT 1 WHERE 'learner-secret' <> ''"))
      .catch((e: unknown) => e)) as Record<string, unknown>;
    expect(err.code).toBe("23505");
    expect(JSON.stringify(Object.entries(err))).not.toContain("learner-secret");
  });

  it.skipIf(backend.name === "pglite")("is invisible to another connection until it commits", async () => {
    const peer = await db.peer();
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const open = db.transaction(async (tx) => {
      await tx.query("INSERT INTO tx_t VALUES (10)");
      await held;
    });
    await sleep(100);
    expect((await peer.query("SELECT count(*)::int AS n FROM tx_t WHERE id = 10")).rows).toEqual([{ n: 0 }]);
    release();
    await open;
    expect((await peer.query("SELECT count(*)::int AS n FROM tx_t WHERE id = 10")).rows).toEqual([{ n: 1 }]);
  });

  it.skipIf(backend.name === "pglite")(
    "keeps the connection of a statement the server refused outside a transaction",
    async () => {
      // A refused statement (a unique violation, the audit writer's "head moved") leaves the
      // connection usable: closing it would cost a new backend and its named statements for each.
      const peer = await db.peer();
      const pid = async () =>
        (await peer.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const before = await pid();
      await expect(peer.query("INSERT INTO tx_t VALUES ($1)", [1])).rejects.toMatchObject({ code: "23505" });
      await expect(peer.query("SELECT 1/0")).rejects.toMatchObject({ code: "22012" });
      expect(await pid()).toBe(before);
    },
  );
});
