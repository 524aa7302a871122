import type { KeyObject } from "node:crypto";
import type { Db } from "../store/db.ts";
import { listArchives } from "./archive.ts";
import { readContext } from "./contexts.ts";
import { exportAuditLogs } from "./export.ts";
import { latestRecords, queryAuditLogs } from "./query.ts";
import { summarizeDecisions } from "./summary.ts";
import type { AuditReader } from "./types.ts";
import { verifyChain, verifyFromCheckpoint } from "./verify.ts";
import { createVerifyJobs, type VerifyJobs } from "./verify-job.ts";

/** The audit room's read side bound to a store, in the shape the HTTP routes ask for. */
export function createAuditReader(
  db: Db,
  options: { publicKey?: KeyObject | null; jobs?: VerifyJobs; clock?: () => Date } = {},
): AuditReader {
  const clock = options.clock ?? (() => new Date());
  const publicKey = options.publicKey ?? null;
  const jobs = options.jobs ?? createVerifyJobs({ db, publicKey });
  return {
    query: (q) => queryAuditLogs(db, q),
    verify: (o = {}) => (o.from === "checkpoint" ? verifyFromCheckpoint(db, { publicKey }) : verifyChain(db)),
    startVerifyJob: () => jobs.start(),
    verifyJob: (id) => jobs.get(id),
    archives: () => listArchives(db),
    export: (format, filters) => exportAuditLogs(db, { format, filters }),
    summary: ({ hours, tenant_ids }) => summarizeDecisions(db, { hours, tenant_ids, now: clock() }),
    context: (sha256) => readContext(db, sha256),
    latest: (types, limit) => latestRecords(db, types, limit),
  };
}
