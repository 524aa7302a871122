import { Router } from "express";
import { AppError } from "../../errors.ts";
import type { BundleService } from "../../policy/bundle-service.ts";
import type { Authenticate } from "../auth.ts";
import { guard } from "../express-kit.ts";

export function bundleRoutes(deps: { authenticate: Authenticate; bundles: BundleService }): Router {
  const r = Router();
  const anyKey = guard(deps.authenticate, "any");
  r.get("/active", anyKey, (_req, res) => {
    const active = deps.bundles.active();
    if (!active) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    res.json(active);
  });
  r.get("/", anyKey, (_req, res) => {
    res.json({ items: deps.bundles.history() });
  });
  return r;
}
