import { Router } from "express";

import type { PolicyAdmin } from "../../admin/policies.ts";
import { wholePage } from "../../domain/page.ts";
import type { PolicyDocument } from "../../domain/policy.ts";
import { AppError } from "../../errors.ts";
import type { Authenticate } from "../auth.ts";
import { canSeeTenant, requireTenant } from "../auth.ts";
import { callerOf, guard, parse } from "../express-kit.ts";
import { effectiveQuery, id, ifMatchHeader, policyDocumentSchema, policyListQuery } from "../schemas.ts";

export function policyRoutes(deps: { authenticate: Authenticate; policies: PolicyAdmin }): Router {
  const r = Router();
  const admin = guard(deps.authenticate, ["policy_admin"]);
  const readers = guard(deps.authenticate, ["policy_admin", "auditor"]);
  const policyId = (v: unknown) => parse(id, v, "policy_id");

  r.post("/", admin, async (req, res) => {
    const doc = parse(policyDocumentSchema, req.body, "policy") as PolicyDocument;
    requireTenant(res.locals.principal, doc.tenant_id);
    const { policy, warnings } = await deps.policies.create(doc, callerOf(res));
    res
      .status(201)
      .set("ETag", `"${policy.version}"`)
      .json({ ...policy, warnings });
  });

  r.get("/", readers, async (req, res) => {
    const q = parse(policyListQuery, req.query, "query");
    if (q.tenant_id) requireTenant(res.locals.principal, q.tenant_id);
    const page = await deps.policies.list({
      tenantIds: res.locals.principal.tenant_ids,
      ...(q.tenant_id ? { tenantId: q.tenant_id } : {}),
      ...(q.learner_id ? { learnerId: q.learner_id } : {}),
      includeInactive: q.include_inactive ?? false,
      limit: q.limit,
      cursor: q.cursor,
    });
    res.json({ items: await deps.policies.views(page.items), next_cursor: page.next_cursor });
  });

  // Before /:tenant_id so "effective" and "id" are never read as tenant ids.
  r.get("/effective", guard(deps.authenticate, ["policy_admin", "service"]), async (req, res) => {
    const q = parse(effectiveQuery, req.query, "query");
    requireTenant(res.locals.principal, q.tenant_id);
    res.json(await deps.policies.effective(q.tenant_id, q.learner_id ?? null));
  });

  r.get("/id/:policy_id", readers, async (req, res) => {
    const p = await deps.policies.get(policyId(req.params.policy_id));
    // Out-of-scope policies are reported as missing, not forbidden: ids leak nothing.
    if (!canSeeTenant(res.locals.principal, p.tenant_id)) throw new AppError("NOT_FOUND", "policy not found");
    res.set("ETag", `"${p.version}"`).json(await deps.policies.view(p));
  });

  r.get("/id/:policy_id/versions", readers, async (req, res) => {
    const versions = await deps.policies.history(policyId(req.params.policy_id));
    if (versions.length === 0 || !canSeeTenant(res.locals.principal, versions[0]!.tenant_id)) {
      throw new AppError("NOT_FOUND", "policy not found");
    }
    res.json(wholePage(await deps.policies.views(versions)));
  });

  r.put("/id/:policy_id", admin, async (req, res) => {
    const pid = policyId(req.params.policy_id);
    const doc = parse(policyDocumentSchema, req.body, "policy") as PolicyDocument;
    const ifMatch = req.headers["if-match"];
    const expected = ifMatch === undefined ? undefined : parse(ifMatchHeader, ifMatch, "If-Match header");
    const current = await deps.policies.get(pid);
    if (!canSeeTenant(res.locals.principal, current.tenant_id))
      throw new AppError("NOT_FOUND", "policy not found");
    requireTenant(res.locals.principal, doc.tenant_id);
    const { policy, warnings } = await deps.policies.update(pid, doc, expected, callerOf(res));
    res.set("ETag", `"${policy.version}"`).json({ ...policy, warnings });
  });

  r.delete("/id/:policy_id", admin, async (req, res) => {
    const pid = policyId(req.params.policy_id);
    const current = await deps.policies.get(pid);
    if (!canSeeTenant(res.locals.principal, current.tenant_id))
      throw new AppError("NOT_FOUND", "policy not found");
    res.json(await deps.policies.deactivate(pid, callerOf(res)));
  });

  r.get("/:tenant_id", readers, async (req, res) => {
    const tenantId = parse(id, req.params.tenant_id, "tenant_id");
    requireTenant(res.locals.principal, tenantId);
    const q = parse(policyListQuery.omit({ tenant_id: true }), req.query, "query");
    const page = await deps.policies.list({
      tenantIds: res.locals.principal.tenant_ids,
      tenantId,
      ...(q.learner_id ? { learnerId: q.learner_id } : {}),
      includeInactive: q.include_inactive ?? false,
      limit: q.limit,
      cursor: q.cursor,
    });
    res.json({ items: await deps.policies.views(page.items), next_cursor: page.next_cursor });
  });

  return r;
}
