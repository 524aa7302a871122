import type { Db } from "../store/db.ts";
import { exportAuditLogs } from "./export.ts";
import { queryAuditLogs } from "./query.ts";
import type { AuditReader } from "./types.ts";
import { verifyChain } from "./verify.ts";

/** The audit room's read side bound to a store, in the shape the HTTP routes ask for. */
export function createAuditReader(db: Db): AuditReader {
  return {
    query: (q) => queryAuditLogs(db, q),
    verify: async () => {
      const r = await verifyChain(db);
      return r;
    },
    export: (format, filters) => exportAuditLogs(db, { format, filters }),
  };
}
