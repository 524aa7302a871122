import { type NextFunction, type Request, type Response, Router } from "express";
import type { Actor, BundleService } from "../../bundles/bundle-service.ts";
import { AppError } from "../../errors.ts";
import { type Authenticate, requireUnscoped } from "../auth.ts";
import { callerOf, guard, parse, rawBody } from "../express-kit.ts";
import { bundleListQuery, bundlePutQuery, bundleRefParam } from "../schemas.ts";

// SPEC §6 bundle endpoints. The upload body is the raw .tar.gz. A refused bundle answers 422
// POLICY_VIOLATION with `details: {code: "BUNDLE_SIGNATURE_INVALID" | ..., reason, sha256,
// revision, serving_revision}` — the serving bundle is untouched.

export const MAX_BUNDLE_BYTES = 32 * 1024 * 1024;

const BUNDLE_TYPES = /^application\/(gzip|x-gzip|octet-stream|x-tar|x-gtar|x-compressed-tar)\s*(;|$)/i;

function actorOf(res: Response): Actor {
  const caller = callerOf(res);
  return { principal: caller.principal.principal, requestId: caller.requestId };
}

function bundleBody(req: Request, _res: Response, next: NextFunction) {
  if (!BUNDLE_TYPES.test(req.headers["content-type"] ?? "")) {
    throw new AppError(
      "UNSUPPORTED_MEDIA_TYPE",
      "send the bundle .tar.gz as the body with Content-Type: application/gzip (or application/octet-stream)",
    );
  }
  next();
}

export function bundleRoutes(deps: { authenticate: Authenticate; bundles: BundleService }): Router {
  const r = Router();
  const anyKey = guard(deps.authenticate, "any");
  const publisher = guard(deps.authenticate, ["bundle_publisher"]);
  // Authenticated before a byte of a (possibly 32 MB) body is read.
  // Read as bytes whatever Content-Encoding says: a gzip-encoded upload must not reach the loader
  // as a bare tar. 413 as soon as the limit is crossed.
  const raw = rawBody(MAX_BUNDLE_BYTES);

  r.get("/active", anyKey, (_req, res) => {
    const active = deps.bundles.active();
    if (!active) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    res.json(active);
  });

  r.get("/", anyKey, async (req, res) => {
    const { limit, cursor } = parse(bundleListQuery, req.query, "query");
    res.json(await deps.bundles.history(limit, cursor));
  });

  r.get("/activations", anyKey, async (req, res) => {
    const { limit, cursor } = parse(bundleListQuery, req.query, "query");
    res.json(await deps.bundles.activationHistory(limit, cursor));
  });

  // Bundles are every tenant's rules, and a dry run replays every tenant's decisions: unscoped only.
  const unscoped = (req: Request, res: Response, next: NextFunction) => {
    requireUnscoped(res.locals.principal, `${req.method === "PUT" ? "publishing" : "activating"} a bundle`);
    next();
  };

  r.put("/", publisher, unscoped, bundleBody, raw, async (req, res) => {
    const query = parse(bundlePutQuery, req.query, "query");
    const body = req.body as unknown;
    if (!Buffer.isBuffer(body) || body.length === 0) {
      throw new AppError("VALIDATION_FAILED", "the request body must be the bundle .tar.gz; it is empty");
    }
    const actor = actorOf(res);
    if (query.dry_run) {
      res.json(await deps.bundles.dryRun(body, { limit: query.limit, examples: query.examples, actor }));
      return;
    }
    const result = await deps.bundles.publish(body, { source: "api", actor });
    res.status(result.changed ? 201 : 200).json(result);
  });

  r.post("/:revision/activate", publisher, unscoped, async (req, res) => {
    const ref = parse(bundleRefParam, req.params.revision, "revision");
    const result = await deps.bundles.activate(ref, actorOf(res));
    res.json(result);
  });

  return r;
}
