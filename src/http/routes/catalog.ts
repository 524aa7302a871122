import { Router } from "express";
import { wholePage } from "../../domain/page.ts";
import type { CatalogEntry } from "../../domain/policy-contract.ts";
import { AppError } from "../../errors.ts";
import type { Authenticate } from "../auth.ts";
import { guard, parse } from "../express-kit.ts";
import { endpointsQuery } from "../schemas.ts";

/** The provider catalog shipped in the active bundle (SPEC §5), filtered by region and model. */
export function catalogRoutes(deps: {
  authenticate: Authenticate;
  catalog: () => CatalogEntry[] | null;
}): Router {
  const r = Router();
  r.get("/endpoints", guard(deps.authenticate, ["service"]), (req, res) => {
    const q = parse(endpointsQuery, req.query, "query");
    const catalog = deps.catalog();
    if (!catalog) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    const items = catalog.filter(
      (e) => (!q.region || e.region === q.region) && (!q.model_type || e.models.includes(q.model_type)),
    );
    res.json(wholePage(items));
  });
  return r;
}
