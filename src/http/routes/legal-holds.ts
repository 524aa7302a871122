import { Router } from "express";
import type { LegalHoldAdmin } from "../../admin/legal-holds.ts";
import { type Authenticate, requireTenant } from "../auth.ts";
import { callerOf, guard, parse } from "../express-kit.ts";
import { legalHoldListQuery, legalHoldSchema } from "../schemas.ts";

// PUT sets or releases a hold (legal_admin; admin passes every guard); GET lists them for legal
// admins, auditors and policy admins — who see holds but cannot change them (SPEC §11.A8).
export function legalHoldRoutes(deps: { authenticate: Authenticate; legalHolds: LegalHoldAdmin }): Router {
  const r = Router();

  r.put("/", guard(deps.authenticate, ["legal_admin"]), async (req, res) => {
    const body = parse(legalHoldSchema, req.body, "legal hold");
    requireTenant(res.locals.principal, body.tenant_id);
    res.json(await deps.legalHolds.put(body, callerOf(res)));
  });

  r.get("/", guard(deps.authenticate, ["legal_admin", "auditor", "policy_admin"]), async (req, res) => {
    const q = parse(legalHoldListQuery, req.query, "query");
    if (q.tenant_id) requireTenant(res.locals.principal, q.tenant_id);
    res.json(
      await deps.legalHolds.list({
        tenantIds: res.locals.principal.tenant_ids,
        tenantId: q.tenant_id,
        learnerId: q.learner_id,
        active: q.active,
        limit: q.limit,
        cursor: q.cursor,
      }),
    );
  });

  return r;
}
