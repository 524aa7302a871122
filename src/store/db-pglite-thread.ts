import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import type { Db, Queryable, QueryOptions, QueryResult, Row } from "./db.ts";
import type { ThreadReply, ThreadRequest } from "./pglite-thread-protocol.ts";

// Embedded Postgres on a thread of its own. PGlite is Postgres compiled to wasm and runs where it
// is called: on the event loop it took about half of the service's main-thread time (parsing,
// binding, executing, writing pages), time no request could use. Here the event loop only posts
// statements and receives rows; the database works on the second core. Same Db surface, same SQL,
// same single-connection semantics (PGlite queues statements itself).

type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

// The worker is TypeScript: it registers tsx itself (a worker does not inherit the parent's loader).
const tsxApi = (() => {
  const manifest = createRequire(import.meta.url).resolve("tsx/package.json");
  const exports = JSON.parse(readFileSync(manifest, "utf8")).exports["./esm/api"].import.default;
  return new URL(exports, pathToFileURL(manifest)).href;
})();
const workerFile = new URL("./pglite-thread-worker.ts", import.meta.url).href;
const BOOTSTRAP = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(workerFile)}); });`;

/** `dataDir` undefined ⇒ in memory. Resolves once the database is open. */
export async function createPgliteThreadDb(dataDir?: string): Promise<Db> {
  const worker = new Worker(BOOTSTRAP, { eval: true, workerData: { dataDir } });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let next = 1;
  let closed = false;
  let failure: Error | null = null;

  const ready = new Promise<void>((resolve, reject) => {
    pending.set(0, { resolve: () => resolve(), reject });
  });
  worker.on("message", (m: ThreadReply) => {
    const waiter = pending.get(m.id);
    if (!waiter) return;
    pending.delete(m.id);
    if (m.error) waiter.reject(Object.assign(new Error(m.error.message), m.error.fields));
    else waiter.resolve(m.result);
  });
  const die = (err: Error) => {
    failure = err;
    for (const waiter of pending.values()) waiter.reject(err);
    pending.clear();
  };
  worker.on("error", die);
  worker.on("exit", (code) => {
    if (!closed) die(new Error(`the embedded database thread exited (${code})`));
  });

  const call = <T>(message: WithoutId<ThreadRequest>): Promise<T> => {
    if (failure) return Promise.reject(failure);
    const id = next++;
    return new Promise<T>((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ ...message, id });
    });
  };
  await ready;

  const query =
    (tx: number) =>
    <T extends Row = Row>(sql: string, params: readonly unknown[] = []) =>
      call<QueryResult<T>>({ op: tx ? "txquery" : "query", sql, params: params as unknown[], tx });

  return {
    kind: "pglite",
    query: query(0),
    exec: (sql: string) => call<void>({ op: "exec", sql }),
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      const tx = next++;
      // Sent, not waited for: the thread runs a transaction's messages in order (a hop saved).
      const begun = call({ op: "begin", tx });
      begun.catch(() => undefined); // its failure fails the first statement too, and is awaited below
      let committing: Promise<unknown> | null = null;
      const inTx = query(tx);
      let value: T;
      try {
        value = await fn({
          query<R extends Row = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions) {
            if (committing)
              return Promise.reject(
                new Error("a statement marked as the transaction's last has run: none may follow"),
              );
            const statement = inTx<R>(sql, params);
            // The last statement: COMMIT goes right behind it (the thread rolls back if it fails).
            if (options?.commits) {
              committing = call({ op: "commit", tx });
              committing.catch(() => undefined); // awaited when the function ends
            }
            return statement;
          },
        });
        await begun;
      } catch (err) {
        if (!committing) await call({ op: "rollback", tx }).catch(() => undefined);
        else await (committing as Promise<unknown>).catch(() => undefined);
        throw err;
      }
      await (committing ?? call({ op: "commit", tx }));
      return value;
    },
    async close() {
      if (closed) return;
      await call({ op: "close" }).catch(() => undefined);
      closed = true;
      await worker.terminate();
    },
  };
}
