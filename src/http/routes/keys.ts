import { Router } from "express";
import type { KeyAdmin } from "../../admin/keys.ts";
import { type Authenticate, requireUnscoped } from "../auth.ts";
import { callerOf, guard, parse } from "../express-kit.ts";
import { keyCreateSchema, keyIdParam, keysListQuery } from "../schemas.ts";

export function keyRoutes(deps: { authenticate: Authenticate; keys: KeyAdmin }): Router {
  const r = Router();
  const admin = guard(deps.authenticate, ["admin"]);

  // Who this key is: the console signs in with it and shows only what the roles allow.
  r.get("/self", guard(deps.authenticate, "any"), (_req, res) => {
    const { key_id, principal, roles, tenant_ids } = callerOf(res).principal;
    res.json({ key_id, principal, roles, tenant_ids });
  });

  r.get("/", admin, async (req, res) => {
    requireUnscoped(res.locals.principal, "listing API keys");
    const q = parse(keysListQuery, req.query, "query");
    res.json(
      await deps.keys.list({ includeRevoked: q.include_revoked ?? false, limit: q.limit, cursor: q.cursor }),
    );
  });

  r.post("/", admin, async (req, res) => {
    requireUnscoped(res.locals.principal, "managing API keys");
    const body = parse(keyCreateSchema, req.body, "key");
    const created = await deps.keys.create(body, callerOf(res));
    // The secret appears in this one response and nowhere else.
    res.status(201).json(created);
  });

  r.delete("/:id", admin, async (req, res) => {
    requireUnscoped(res.locals.principal, "managing API keys");
    const keyId = parse(keyIdParam, req.params.id, "key id");
    res.json(await deps.keys.revoke(keyId, callerOf(res)));
  });

  return r;
}
