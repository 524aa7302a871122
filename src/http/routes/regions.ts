import { Router } from "express";
import type { RegionAdmin } from "../../admin/regions.ts";
import { wholePage } from "../../domain/page.ts";
import { type Authenticate, requireUnscoped } from "../auth.ts";
import { callerOf, guard, parse } from "../express-kit.ts";
import { healthUpdateSchema, region } from "../schemas.ts";

export function regionRoutes(deps: { authenticate: Authenticate; regions: RegionAdmin }): Router {
  const r = Router();
  const anyKey = guard(deps.authenticate, "any");

  r.get("/", anyKey, async (_req, res) => {
    res.json(wholePage(await deps.regions.list()));
  });

  r.get("/:code", anyKey, async (req, res) => {
    res.json(await deps.regions.get(parse(region, req.params.code, "region code")));
  });

  r.put("/:code/health", guard(deps.authenticate, ["operator"]), async (req, res) => {
    requireUnscoped(res.locals.principal, "setting region health (it applies to every tenant)");
    const code = parse(region, req.params.code, "region code");
    const body = parse(healthUpdateSchema, req.body, "health update");
    res.json(await deps.regions.setHealth(code, body.status, body.reason ?? null, callerOf(res)));
  });

  return r;
}
