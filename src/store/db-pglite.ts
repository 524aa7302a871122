import { PGlite } from "@electric-sql/pglite";
import type { Db, QueryResult, Row } from "./db.ts";
import { PGLITE_PARSERS } from "./pglite-parsers.ts";

/** Embedded Postgres (WASM). `dataDir` undefined ⇒ in memory (tests). */
export async function createPgliteDb(dataDir?: string): Promise<Db> {
  const pg = await PGlite.create(dataDir, { parsers: PGLITE_PARSERS });
  let closed = false;

  const toResult = <T extends Row>(r: { rows: unknown[]; affectedRows?: number }): QueryResult<T> => ({
    rows: r.rows as T[],
    rowCount: r.affectedRows ?? r.rows.length,
  });

  return {
    kind: "pglite",
    async query<T extends Row = Row>(sql: string, params: readonly unknown[] = []) {
      return toResult<T>(await pg.query(sql, params as unknown[]));
    },
    async exec(sql: string) {
      await pg.exec(sql);
    },
    async transaction<T>(fn: (tx: { query: Db["query"] }) => Promise<T>): Promise<T> {
      return pg.transaction(async (tx) =>
        fn({
          async query<R extends Row = Row>(sql: string, params: readonly unknown[] = []) {
            return toResult<R>(await tx.query(sql, params as unknown[]));
          },
        }),
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      await pg.close();
    },
  };
}
