// Transactions on both drivers, whatever their first statement is. On Postgres the BEGIN goes out
// with the first statement (one simple query when it has no parameters): it must still be one
// transaction that commits whole, rolls back whole, and is invisible to others until it commits.

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
});
