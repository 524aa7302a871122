import pg from "pg";
import { AppError } from "../errors.ts";
import type { Db, QueryOptions, QueryResult, Row } from "./db.ts";

// Every transaction READ COMMITTED, whatever the server's default: the audit chain's functions
// (migrations 009, 010) read the head after taking the chain lock, and only READ COMMITTED gives a
// statement a snapshot taken then — under REPEATABLE READ or SERIALIZABLE a writer that waited at
// the lock would link to the head its snapshot saw before (test/audit/audit-log.test.ts).
const BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED";
const SESSION_ISOLATION = "SET default_transaction_isolation = 'read committed'";
const CHECK_LOST_CLIENT = "SET client_connection_check_interval = 1000";

export type PostgresOptions = {
  connectionString: string;
  /** Schema to work in (tests isolate themselves this way); created if missing. */
  schema?: string;
  max?: number;
  /** How long a caller may wait for a pooled connection (default 2 s: fail fast into a 503). */
  connectionTimeoutMs?: number;
  onError?: (err: Error) => void;
};

// int8 (seq, counts) as numbers: audit seq stays far below 2^53.
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === 20
      ? (v: string) => Number(v)
      : pg.types.getTypeParser(oid, format as "text")) as typeof pg.types.getTypeParser,
};

// Failures that say "the server cannot be reached now", not "this statement is wrong": socket
// errors, pg's own connect/read timeouts and dropped connections, and the SQLSTATEs of a server
// that is shutting down, starting or full. They become one typed error, 503 STORE_UNAVAILABLE,
// so an admin write in an outage is a retryable 503 rather than a 500 (decisions keep their own
// codes: the context loader and the audit log wrap what reaches them).
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);
const UNREACHABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300"]);
const UNREACHABLE_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|Client was closed|Connection ended)/;

export function isUnreachable(err: unknown): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message, errors } = e as { code?: unknown; message?: unknown; errors?: unknown };
    if (typeof code === "string" && (SOCKET_CODES.has(code) || UNREACHABLE_SQLSTATES.has(code))) return true;
    if (typeof code === "string" && code.startsWith("08")) return true; // connection exception class
    if (typeof message === "string" && UNREACHABLE_MESSAGES.test(message)) return true;
    // A host with several addresses fails with an AggregateError of socket errors.
    if (Array.isArray(errors) && errors.length > 0 && errors.every(isUnreachable)) return true;
  }
  return false;
}

function typed(err: unknown): unknown {
  return isUnreachable(err)
    ? new AppError("STORE_UNAVAILABLE", "the store (Postgres) is unreachable", {
        cause: err,
      })
    : err;
}

// pg keeps a named statement per connection: parsed on first use there, executed by name after.
const config = (sql: string, params: readonly unknown[], options?: QueryOptions): pg.QueryConfig => ({
  text: sql,
  values: params as unknown[],
  ...(options?.named ? { name: options.named } : {}),
});

export async function createPostgresDb(options: PostgresOptions): Promise<Db> {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    // Fail fast when the server is gone so callers can answer 503 instead of hanging.
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 2_000,
    // A connection that goes silent (no RST) must fail the query, not hang the audit flusher.
    query_timeout: 10_000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
    types,
    // Run on a new connection before it is used. READ COMMITTED for statements sent outside a
    // transaction too (the audit writer's batch linked ahead is one, committed by the server on its
    // own: audit-log.ts). And a statement whose client is gone is ended within a second instead of
    // running to its commit (Postgres 14+; older servers refuse it, harmlessly): a batch waiting at
    // the chain lock behind a stalled commit when its connection breaks is rolled back.
    onConnect: async (client: pg.ClientBase) => {
      await client.query(SESSION_ISOLATION);
      await client.query(CHECK_LOST_CLIENT).catch(() => undefined);
    },
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  });
  // An idle client losing its server emits 'error' on the pool; unhandled it would kill the process.
  pool.on("error", (err) => options.onError?.(err));

  if (options.schema) {
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(options.schema))
      throw new Error(`invalid schema name ${options.schema}`);
    await pool.query(`CREATE SCHEMA IF NOT EXISTS ${options.schema}`);
  }

  const toResult = <T extends Row>(r: pg.QueryResult): QueryResult<T> => ({
    rows: r.rows as T[],
    rowCount: r.rowCount ?? r.rows.length,
  });

  let closed = false;
  return {
    kind: "postgres",
    async query<T extends Row = Row>(sql: string, params: readonly unknown[] = [], options?: QueryOptions) {
      // Not pool.query: it closes the connection after any failed statement, and a refused
      // statement (a unique violation, the audit writer's "head moved") leaves it perfectly usable;
      // a new one costs a Postgres backend and the named statements parsed again.
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (err) {
        throw typed(err);
      }
      let broken = false;
      const onClientError = () => {
        broken = true;
      };
      client.on("error", onClientError);
      try {
        return toResult<T>(await client.query(config(sql, params, options)));
      } catch (err) {
        if (isUnreachable(err)) broken = true;
        throw typed(err);
      } finally {
        client.removeListener("error", onClientError);
        client.release(broken);
      }
    },
    async exec(sql: string) {
      try {
        await pool.query(sql);
      } catch (err) {
        throw typed(err);
      }
    },
    async transaction<T>(fn: (tx: { query: Db["query"] }) => Promise<T>): Promise<T> {
      try {
        return await inTransaction(fn);
      } catch (err) {
        throw typed(err);
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };

  async function inTransaction<T>(fn: (tx: { query: Db["query"] }) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    let broken = false;
    // A checked-out client has no pool listener: without ours, a connection dropped mid-
    // transaction would surface as an uncaught 'error' event and end the process.
    const onClientError = () => {
      broken = true;
    };
    client.on("error", onClientError);
    // BEGIN goes out with the first statement: one round trip fewer when that statement has no
    // parameters (then both are one simple query, "BEGIN; …"; the audit writer's lock-and-head
    // call is such a statement), otherwise just before it. The driver runs one client's queries in
    // the order they are called, so the BEGIN is always first.
    let begun = false;
    const statement = async <R extends Row>(
      sql: string,
      params: readonly unknown[],
      options?: QueryOptions,
    ): Promise<QueryResult<R>> => {
      if (!begun) {
        begun = true;
        if (params.length === 0 && !options?.named) {
          const results = (await client.query(`${BEGIN}; ${sql}`)) as unknown as pg.QueryResult[];
          return toResult<R>(results[results.length - 1]!);
        }
        void client.query(BEGIN).catch(() => undefined); // its failure fails the next query too
      }
      return toResult<R>(await client.query(config(sql, params, options)));
    };
    // A statement marked `commits` is the last (db.ts): COMMIT follows it at once, as on the
    // embedded store, and nothing may come after it.
    let closing = false;
    let committed = false;
    let lastFailed: unknown = null; // the last statement failed: the transaction cannot commit
    try {
      const value = await fn({
        async query<R extends Row = Row>(
          sql: string,
          params: readonly unknown[] = [],
          options?: QueryOptions,
        ) {
          if (closing)
            throw new Error("a statement marked as the transaction's last has run: none may follow");
          if (!options?.commits) return statement<R>(sql, params, options);
          closing = true;
          let result: QueryResult<R>;
          try {
            result = await statement<R>(sql, params, options);
          } catch (err) {
            lastFailed = err;
            throw err;
          }
          await client.query("COMMIT");
          committed = true;
          return result;
        },
      });
      // The function swallowed its last statement's failure: it rolls back and says so, as on the
      // embedded store, rather than COMMIT (which would roll back silently).
      if (lastFailed !== null) throw lastFailed;
      if (begun && !committed) await client.query("COMMIT");
      return value;
    } catch (err) {
      try {
        if (begun) await client.query("ROLLBACK");
      } catch {
        broken = true; // connection is gone; do not return it to the pool
      }
      throw err;
    } finally {
      client.removeListener("error", onClientError);
      client.release(broken);
    }
  }
}
