// The backends every Db-backed suite runs on: embedded PGlite always, real Postgres when
// DATABASE_URL is set. Each Postgres database lives in its own schema, dropped on close, so suites
// (and files running in parallel) never see each other's rows.
//
//   describe.each(testBackends())("thing on $name", (backend) => {
//     let db: TestDb;
//     beforeEach(async () => { db = await backend.create(); });
//     afterEach(() => db.close());
//   });

import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Db } from "../../src/store/db.ts";
import { createPgliteThreadDb as createPgliteDb } from "../../src/store/db-pglite-thread.ts";
import { createPostgresDb } from "../../src/store/db-postgres.ts";
import { migrate } from "../../src/store/migrate.ts";

export type TestDb = Db & {
  /** The schema holding this database's tables (null on PGlite). */
  readonly schema: string | null;
  /**
   * Another handle on the same tables, as a second service instance would have: a separate pool
   * on Postgres (optionally through another URL, e.g. a TcpProxy), the same handle on PGlite,
   * which has only one connection. Closed along with this one.
   */
  peer(options?: { connectionString?: string }): Promise<Db>;
};

export type TestBackend = {
  name: "pglite" | "postgres";
  /** A fresh, migrated (unless `migrate: false`) database; `close()` also deletes it. */
  create(options?: { migrate?: boolean }): Promise<TestDb>;
};

export function testBackends(): TestBackend[] {
  const backends: TestBackend[] = [{ name: "pglite", create: createPgliteTestDb }];
  const url = process.env.DATABASE_URL;
  if (url) backends.push({ name: "postgres", create: (options) => createPostgresTestDb(url, options) });
  return backends;
}

async function createPgliteTestDb(options: { migrate?: boolean } = {}): Promise<TestDb> {
  const db = await createPgliteDb();
  if (options.migrate ?? true) await migrate(db);
  return {
    ...db,
    schema: null,
    // Closing the peer must not close the one shared connection.
    peer: async () => ({ ...db, close: async () => {} }),
  };
}

async function createPostgresTestDb(url: string, options: { migrate?: boolean } = {}): Promise<TestDb> {
  const schema = `t_${randomBytes(6).toString("hex")}`;
  const db = await createPostgresDb({ connectionString: url, schema });
  if (options.migrate ?? true) await migrate(db);
  const peers: Db[] = [];
  return {
    ...db,
    schema,
    async peer(peerOptions = {}) {
      const peer = await createPostgresDb({
        connectionString: peerOptions.connectionString ?? url,
        schema,
        // A peer behind a cut proxy loses its connections; the test is watching, not the pool.
        onError: () => {},
      });
      peers.push(peer);
      return peer;
    },
    async close() {
      await Promise.allSettled(peers.map((peer) => peer.close()));
      await db.close();
      // A connection of its own: the pool above is gone, and its search_path is the schema.
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}
