import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import { PGLITE_PARSERS } from "./pglite-parsers.ts";
import type { ThreadReply, ThreadRequest } from "./pglite-thread-protocol.ts";

// The thread that owns the embedded database (db-pglite-thread.ts). PGlite runs one statement at a
// time and queues the rest itself, so messages are handled as they come; a transaction's own
// statements name it, and it commits or rolls back when told.
//
// The caller does not wait for a transaction to open before sending its first statement, nor for
// its last statement to finish before sending COMMIT (each wait is a hop between threads): a
// transaction's messages run here strictly one after another, in the order they came, and a
// COMMIT after a failed statement rolls back instead.

type OpenTx = {
  /** Settles once the transaction is open (or could not be). */
  opened: Promise<Transaction>;
  /** The transaction's last message so far: the next one runs after it. */
  last: Promise<unknown>;
  /** A statement of it failed: COMMIT rolls back. */
  failed: unknown;
  end?: (commit: boolean) => void;
  replyTo: number | null;
};

const port = parentPort!;
const pg = await PGlite.create((workerData as { dataDir?: string }).dataDir, { parsers: PGLITE_PARSERS });
const open = new Map<number, OpenTx>();

const reply = (message: ThreadReply) => port.postMessage(message);
// PGlite puts the statement's text (and parameters) on its errors. An audit batch's insert holds
// every record in its text: none of it belongs in an error that is logged.
const UNSENT_FIELDS = new Set(["query", "params"]);
const fail = (id: number, err: unknown) => {
  const e = err as Record<string, unknown> & { message?: string };
  // Own properties carry the SQLSTATE (`code`) and friends; plain data crosses the thread.
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e ?? {}))
    if ((typeof v === "string" || typeof v === "number") && !UNSENT_FIELDS.has(k)) fields[k] = v;
  reply({ id, error: { message: String(e?.message ?? err), fields } });
};
const result = (r: { rows: unknown[]; affectedRows?: number }) => ({
  rows: r.rows,
  rowCount: r.affectedRows ?? r.rows.length,
});

// A statement without parameters runs as one simple query (`exec`): PGlite's `query` goes through
// the extended protocol — parse, describe, bind, execute, each a call into the wasm — which costs
// 0.25–0.6 ms more per statement here (the audit writer's lock-and-head call and, on this store,
// its batch insert have no parameters). Its last result is the statement's.
type Runner = Pick<PGlite, "query" | "exec">;
const run = async (on: Runner, sql: string, params: unknown[] | undefined) => {
  if (params && params.length > 0) return on.query(sql, params);
  const results = await on.exec(sql);
  return results[results.length - 1] ?? { rows: [], affectedRows: 0 };
};

port.on("message", (m: ThreadRequest) => {
  switch (m.op) {
    case "query":
      run(pg, m.sql, m.params).then(
        (r) => reply({ id: m.id, result: result(r) }),
        (err) => fail(m.id, err),
      );
      return;
    case "exec":
      pg.exec(m.sql).then(
        () => reply({ id: m.id, result: null }),
        (err) => fail(m.id, err),
      );
      return;
    case "begin": {
      let opened!: (tx: Transaction) => void;
      let notOpened!: (err: unknown) => void;
      const openedTx = new Promise<Transaction>((resolve, reject) => {
        opened = resolve;
        notOpened = reject;
      });
      const entry: OpenTx = {
        opened: openedTx,
        // The chain itself never rejects: each step reads `opened` and answers its own message.
        last: openedTx.catch(() => undefined),
        failed: null,
        replyTo: null,
      };
      open.set(m.tx, entry);
      pg.transaction(
        (tx) =>
          new Promise<void>((resolve, reject) => {
            entry.end = (commit) => (commit ? resolve() : reject(new RollbackRequested()));
            opened(tx);
            reply({ id: m.id, result: null });
          }),
      ).then(
        () => {
          open.delete(m.tx);
          if (entry.replyTo != null) reply({ id: entry.replyTo, result: null });
        },
        (err) => {
          open.delete(m.tx);
          notOpened(err);
          if (entry.replyTo == null) return fail(m.id, err);
          if (err instanceof RollbackRequested && entry.failed === null)
            reply({ id: entry.replyTo, result: null });
          else fail(entry.replyTo, entry.failed ?? err);
        },
      );
      return;
    }
    case "txquery": {
      const entry = open.get(m.tx);
      if (!entry) return fail(m.id, new Error("no such transaction"));
      entry.last = entry.last
        .then(() => entry.opened)
        .then((tx) => run(tx, m.sql, m.params))
        .then(
          (r) => reply({ id: m.id, result: result(r) }),
          (err) => {
            entry.failed ??= err;
            fail(m.id, err);
          },
        );
      return;
    }
    case "commit":
    case "rollback": {
      const entry = open.get(m.tx);
      if (!entry) return fail(m.id, new Error("no such transaction"));
      const commit = m.op === "commit";
      entry.last = entry.last.then(() =>
        entry.opened.then(
          () => {
            entry.replyTo = m.id;
            entry.end!(commit && entry.failed === null);
          },
          (err) => fail(m.id, err), // it never opened: nothing to end
        ),
      );
      return;
    }
    case "close":
      pg.close().then(
        () => reply({ id: m.id, result: null }),
        (err) => fail(m.id, err),
      );
      return;
  }
});

class RollbackRequested extends Error {}

reply({ id: 0, result: "ready" });
