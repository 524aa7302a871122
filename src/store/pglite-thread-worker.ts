import { parentPort, workerData } from "node:worker_threads";
import { PGlite, type Transaction } from "@electric-sql/pglite";
import type { ThreadReply, ThreadRequest } from "./pglite-thread-protocol.ts";

// The thread that owns the embedded database (db-pglite-thread.ts). PGlite runs one statement at a
// time and queues the rest itself, so messages are handled as they come; a transaction's own
// statements name it, and it commits or rolls back when told.

type OpenTx = { tx: Transaction; end: (commit: boolean) => void; replyTo: number | null };

const port = parentPort!;
const pg = await PGlite.create((workerData as { dataDir?: string }).dataDir);
const open = new Map<number, OpenTx>();

const reply = (message: ThreadReply) => port.postMessage(message);
const fail = (id: number, err: unknown) => {
  const e = err as Record<string, unknown> & { message?: string };
  // Own properties carry the SQLSTATE (`code`) and friends; plain data crosses the thread.
  const fields: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e ?? {}))
    if (typeof v === "string" || typeof v === "number") fields[k] = v;
  reply({ id, error: { message: String(e?.message ?? err), fields } });
};
const result = (r: { rows: unknown[]; affectedRows?: number }) => ({
  rows: r.rows,
  rowCount: r.affectedRows ?? r.rows.length,
});

port.on("message", (m: ThreadRequest) => {
  switch (m.op) {
    case "query":
      pg.query(m.sql, m.params).then(
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
    case "begin":
      pg.transaction(
        (tx) =>
          new Promise<void>((resolve, reject) => {
            const entry: OpenTx = {
              tx,
              replyTo: null,
              end: (commit) => (commit ? resolve() : reject(new RollbackRequested())),
            };
            open.set(m.tx, entry);
            reply({ id: m.id, result: null });
          }),
      ).then(
        () => {
          const entry = open.get(m.tx);
          open.delete(m.tx);
          if (entry?.replyTo != null) reply({ id: entry.replyTo, result: null });
        },
        (err) => {
          const entry = open.get(m.tx);
          open.delete(m.tx);
          if (entry?.replyTo == null) return fail(m.id, err);
          if (err instanceof RollbackRequested) reply({ id: entry.replyTo, result: null });
          else fail(entry.replyTo, err);
        },
      );
      return;
    case "txquery": {
      const entry = open.get(m.tx);
      if (!entry) return fail(m.id, new Error("no such transaction"));
      entry.tx.query(m.sql, m.params).then(
        (r) => reply({ id: m.id, result: result(r) }),
        (err) => fail(m.id, err),
      );
      return;
    }
    case "commit":
    case "rollback": {
      const entry = open.get(m.tx);
      if (!entry) return fail(m.id, new Error("no such transaction"));
      entry.replyTo = m.id;
      entry.end(m.op === "commit");
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
