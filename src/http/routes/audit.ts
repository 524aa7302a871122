import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Router } from "express";
import { EXPORT_CONTENT_TYPES } from "../../audit/export.ts";
import type { AuditFilters, AuditReader } from "../../audit/types.ts";
import { AppError } from "../../errors.ts";
import type { Authenticate } from "../auth.ts";
import { requireTenant, requireUnscoped } from "../auth.ts";
import { guard, parse } from "../express-kit.ts";
import { auditQuery, contextSha, exportQuery, id, summaryQuery, verifyQuery } from "../schemas.ts";

/** The tenants an evaluation context names: its effective policy's and its overrides'. */
function tenantsOf(context: {
  policy?: { tenant_id?: unknown } | null;
  overrides?: Array<{ tenant_id?: unknown }>;
}): string[] {
  const named = [context.policy?.tenant_id, ...(context.overrides ?? []).map((o) => o.tenant_id)];
  return named.filter((t): t is string => typeof t === "string");
}

export function auditRoutes(deps: { authenticate: Authenticate; audit: AuditReader }): Router {
  const r = Router();
  const auditors = guard(deps.authenticate, ["auditor"]);

  const listHandler = (fromPath: boolean) =>
    async function list(req: import("express").Request, res: import("express").Response) {
      const q = parse(auditQuery, req.query, "query");
      const tenantId = fromPath ? parse(id, req.params.tenant_id, "tenant_id") : q.tenant_id;
      if (tenantId) requireTenant(res.locals.principal, tenantId);
      const { cursor, ...rest } = q;
      res.json(
        await deps.audit.query({
          ...rest,
          ...(tenantId ? { tenant_id: tenantId } : {}),
          ...(cursor ? { cursor } : {}),
          tenant_ids: res.locals.principal.tenant_ids,
        } as AuditFilters & { limit: number; cursor?: string }),
      );
    };

  r.get("/access-logs", auditors, listHandler(false));
  r.get("/access-logs/:tenant_id", auditors, listHandler(true));

  r.get("/verify", auditors, async (req, res) => {
    requireUnscoped(res.locals.principal, "verifying the chain (it spans every tenant)");
    const { from } = parse(verifyQuery, req.query, "query");
    res.json(await deps.audit.verify(from ? { from } : {}));
  });

  // The full walk as a job: start (202, or 200 with the job already running), then poll.
  r.post("/verify/jobs", auditors, (_req, res) => {
    requireUnscoped(res.locals.principal, "verifying the chain (it spans every tenant)");
    const job = deps.audit.startVerifyJob();
    res.status(202).location(`/api/v1/audit/verify/jobs/${job.job_id}`).json(job);
  });

  r.get("/verify/jobs/:job_id", auditors, (req, res) => {
    requireUnscoped(res.locals.principal, "verifying the chain (it spans every tenant)");
    const job = deps.audit.verifyJob(String(req.params.job_id));
    if (!job) throw new AppError("NOT_FOUND", "no such verify job on this instance");
    res.json(job);
  });

  r.get("/summary", auditors, async (req, res) => {
    const { hours } = parse(summaryQuery, req.query, "query");
    res.json(await deps.audit.summary({ hours, tenant_ids: res.locals.principal.tenant_ids }));
  });

  // A compact record's evaluation context (docs/decisions/0007), as the canonical text its
  // context_sha256 was taken of: sha256 of the body is the reference, so the reader can check it.
  // A scoped key sees a context only when every tenant it names is one of the key's (else 404).
  r.get("/contexts/:hash", auditors, async (req, res) => {
    const sha256 = parse(contextSha, req.params.hash, "hash");
    const body = await deps.audit.context(sha256);
    const scope = res.locals.principal.tenant_ids as string[] | null;
    if (body === null || (scope !== null && !tenantsOf(JSON.parse(body)).every((t) => scope.includes(t)))) {
      throw new AppError("NOT_FOUND", `no evaluation context ${sha256}`);
    }
    res.json({ sha256, context: JSON.parse(body) });
  });

  // Where archived ranges are: what an auditor fetches to verify offline (residency audit verify).
  r.get("/archives", auditors, async (_req, res) => {
    requireUnscoped(res.locals.principal, "listing archives (they span every tenant)");
    res.json({ items: await deps.audit.archives(), next_cursor: null });
  });

  r.get("/export", auditors, async (req, res) => {
    const { format, ...filters } = parse(exportQuery, req.query, "query");
    if (filters.tenant_id) requireTenant(res.locals.principal, filters.tenant_id);
    const chunks = deps.audit.export(format, {
      ...filters,
      tenant_ids: res.locals.principal.tenant_ids,
    } as AuditFilters);
    // Pull the first chunk before answering: a bad filter still gets its 400 envelope.
    const iterator = chunks[Symbol.asyncIterator]();
    const first = await iterator.next();
    res.status(200);
    res.setHeader("content-type", EXPORT_CONTENT_TYPES[format]);
    res.setHeader("content-disposition", `attachment; filename="audit.${format}"`);
    async function* rest() {
      if (!first.done) yield first.value;
      for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
    }
    // pipeline: constant memory however many rows (it waits for the socket to drain), and a client
    // that goes away ends the generator instead of leaving it waiting for a drain that never comes.
    try {
      await pipeline(Readable.from(rest()), res);
    } catch {
      // the client disconnected or the store failed mid-stream: the response is already cut short
    }
  });

  return r;
}
