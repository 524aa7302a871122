import { Router } from "express";
import type { OverrideAdmin } from "../../admin/overrides.ts";
import { AppError } from "../../errors.ts";
import type { Authenticate } from "../auth.ts";
import { canSeeTenant, requireTenant } from "../auth.ts";
import { callerOf, guard, parse } from "../express-kit.ts";
import { id, overrideRequestSchema, overridesListQuery, revokeRequestSchema } from "../schemas.ts";

export function overrideRoutes(deps: { authenticate: Authenticate; overrides: OverrideAdmin }): Router {
  const r = Router();
  const approvers = guard(deps.authenticate, ["approver"]);

  r.post("/override", guard(deps.authenticate, ["service", "policy_admin"]), async (req, res) => {
    const body = parse(overrideRequestSchema, req.body, "override request");
    requireTenant(res.locals.principal, body.tenant_id);
    res.status(201).json(await deps.overrides.request(body, callerOf(res)));
  });

  r.get(
    "/override/:id",
    guard(deps.authenticate, ["approver", "auditor", "service", "policy_admin"]),
    async (req, res) => {
      const o = await deps.overrides.get(parse(id, req.params.id, "override id"));
      if (!canSeeTenant(res.locals.principal, o.tenant_id))
        throw new AppError("NOT_FOUND", "override not found");
      res.json(o);
    },
  );

  r.post("/override/:id/approve", approvers, async (req, res) => {
    res.json(await deps.overrides.approve(parse(id, req.params.id, "override id"), callerOf(res)));
  });

  r.post("/override/:id/revoke", approvers, async (req, res) => {
    const body = parse(revokeRequestSchema, req.body ?? {}, "revoke request");
    res.json(
      await deps.overrides.revoke(
        parse(id, req.params.id, "override id"),
        body.reason ?? null,
        callerOf(res),
      ),
    );
  });

  r.get("/overrides", guard(deps.authenticate, ["approver", "auditor"]), async (req, res) => {
    const q = parse(overridesListQuery, req.query, "query");
    if (q.tenant_id) requireTenant(res.locals.principal, q.tenant_id);
    res.json(
      await deps.overrides.list({
        tenantIds: res.locals.principal.tenant_ids,
        ...(q.tenant_id ? { tenantId: q.tenant_id } : {}),
        ...(q.status ? { status: q.status } : {}),
        limit: q.limit,
        cursor: q.cursor,
      }),
    );
  });

  return r;
}
