// The embedded database on its own thread behaves as the in-process one: rows and JSON, SQLSTATE
// codes on errors, transactions that commit or roll back, statements from many callers at once,
// and a file-backed directory that keeps its rows across a reopen.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../src/store/db.ts";
import { createPgliteThreadDb } from "../../src/store/db-pglite-thread.ts";

describe("PGlite on its own thread", () => {
  // One database for the whole file (starting one compiles Postgres' wasm): each test its own table.
  let db: Db;
  beforeAll(async () => {
    db = await createPgliteThreadDb();
  });
  afterAll(() => db?.close());

  it("reads a time before year 100 back as the year it is", async () => {
    // JavaScript's legacy date parser would read Postgres's "0001-01-01 00:00:00.001+00" as 2001.
    const { rows } = await db.query<{ a: Date; b: Date; c: Date }>(
      "SELECT '0001-01-01T00:00:00.001Z'::timestamptz AS a, '0099-12-31T23:59:59.999Z'::timestamptz AS b, '2026-12-04T20:00:00.123456Z'::timestamptz AS c",
    );
    expect(rows[0]!.a.toISOString()).toBe("0001-01-01T00:00:00.001Z");
    expect(rows[0]!.b.toISOString()).toBe("0099-12-31T23:59:59.999Z");
    expect(rows[0]!.c.toISOString()).toBe("2026-12-04T20:00:00.123Z");
  });

  it("answers rows, JSON and row counts like the in-process driver", async () => {
    expect(db.kind).toBe("pglite");
    await db.exec("CREATE TABLE t (id int PRIMARY KEY, v jsonb, at timestamptz)");
    const inserted = await db.query("INSERT INTO t VALUES ($1, $2, $3), (2, null, now()) RETURNING id", [
      1,
      { a: [1, "x"] },
      new Date("2026-01-02T03:04:05Z"),
    ]);
    expect(inserted.rowCount).toBe(2);
    const { rows } = await db.query<{ v: unknown; at: Date }>("SELECT v, at FROM t WHERE id = 1");
    expect(rows[0]!.v).toEqual({ a: [1, "x"] });
    expect(new Date(rows[0]!.at).toISOString()).toBe("2026-01-02T03:04:05.000Z");
    expect((await db.query("UPDATE t SET v = null")).rowCount).toBe(2);
    await db.exec("DROP TABLE t");
  });

  it("rethrows database errors with their SQLSTATE", async () => {
    await db.exec("CREATE TABLE e (id int PRIMARY KEY)");
    await db.query("INSERT INTO e VALUES (1)");
    const err = await db.query("INSERT INTO e VALUES (1)").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { code?: string }).code).toBe("23505");
    // The connection is still usable afterwards.
    expect((await db.query("SELECT count(*)::int AS n FROM e")).rows[0]).toEqual({ n: 1 });
  });

  it("commits a transaction's statements together, rolls all back on a throw", async () => {
    await db.exec("CREATE TABLE t (id int PRIMARY KEY)");
    const n = await db.transaction(async (tx) => {
      await tx.query("INSERT INTO t VALUES (1)");
      await tx.query("INSERT INTO t VALUES (2)");
      return (await tx.query<{ n: number }>("SELECT count(*)::int AS n FROM t")).rows[0]!.n;
    });
    expect(n).toBe(2);
    const thrown = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (3)");
        throw new Error("changed my mind");
      })
      .catch((e: Error) => e.message);
    expect(thrown).toBe("changed my mind");
    const failed = await db
      .transaction(async (tx) => {
        await tx.query("INSERT INTO t VALUES (4)");
        await tx.query("INSERT INTO t VALUES (1)");
      })
      .catch((e: { code?: string }) => e.code);
    expect(failed).toBe("23505");
    expect((await db.query("SELECT id FROM t ORDER BY id")).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it("serialises callers: a transaction sees no statement of another in its middle", async () => {
    await db.exec("CREATE TABLE c (n int)");
    await db.query("INSERT INTO c VALUES (0)");
    const d = db;
    await Promise.all(
      Array.from({ length: 50 }, () =>
        d.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>("SELECT n FROM c");
          await tx.query("UPDATE c SET n = $1", [rows[0]!.n + 1]);
        }),
      ),
    );
    expect((await d.query("SELECT n FROM c")).rows[0]).toEqual({ n: 50 });
  });

  it("keeps a data directory's rows across a reopen", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pglite-thread-"));
    try {
      const first = await createPgliteThreadDb(dir);
      await first.exec("CREATE TABLE kept (v text)");
      await first.query("INSERT INTO kept VALUES ('still here')");
      await first.close();
      const again = await createPgliteThreadDb(dir);
      expect((await again.query("SELECT v FROM kept")).rows).toEqual([{ v: "still here" }]);
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
