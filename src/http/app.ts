import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import express, { type NextFunction, type Request, type Response, type Router } from "express";
import type { KeyAdmin } from "../admin/keys.ts";
import type { LegalHoldAdmin } from "../admin/legal-holds.ts";
import type { OverrideAdmin } from "../admin/overrides.ts";
import type { PolicyAdmin } from "../admin/policies.ts";
import type { RegionAdmin } from "../admin/regions.ts";
import type { AuditReader } from "../audit/types.ts";
import type { Decide } from "../decision/decide.ts";
import type { createPresign } from "../decision/presign.ts";
import type { CatalogEntry } from "../domain/policy-contract.ts";
import { ID_PATTERN } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";
import { createAccessLog } from "../observability/access-log.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { Authenticate } from "./auth.ts";
import { requestIdOf, sendError } from "./envelope.ts";
import { createFastRouter, type FastRoute, type RouteObserver } from "./fast-routes.ts";
import { auditRoutes } from "./routes/audit.ts";
import { catalogRoutes } from "./routes/catalog.ts";
import { consoleRoutes } from "./routes/console.ts";
import { type HealthReport, healthRoutes } from "./routes/health.ts";
import { keyRoutes } from "./routes/keys.ts";
import { legalHoldRoutes } from "./routes/legal-holds.ts";
import { openApiRoutes } from "./routes/openapi.ts";
import { overrideRoutes } from "./routes/overrides.ts";
import { policyRoutes } from "./routes/policies.ts";
import { regionRoutes } from "./routes/regions.ts";
import {
  type AccessBatch,
  type AccessRequest,
  accessBatchSchema,
  accessRequestSchema,
  type InferenceRequest,
  inferenceRequestSchema,
  MAX_BATCH,
  type PresignRequestBody,
  presignRequestSchema,
} from "./schemas.ts";

export type AppDeps = {
  logger: Logger;
  metrics: Metrics;
  /** What /metrics answers instead of this registry's text (WORKERS > 1: the cluster's aggregate). */
  metricsText?: () => Promise<string>;
  authenticate: Authenticate;
  decide: Decide;
  presign: ReturnType<typeof createPresign>;
  policies: PolicyAdmin;
  overrides: OverrideAdmin;
  regions: RegionAdmin;
  keys: KeyAdmin;
  legalHolds: LegalHoldAdmin;
  audit: AuditReader;
  catalog: () => CatalogEntry[] | null;
  health: () => Promise<HealthReport>;
  bundleRoutes: Router;
};

export type App = { handler: RequestListener; express: express.Express; routes: () => RouteEntry[] };

/**
 * The service as a request listener: the three decision routes on bare node:http (fast path),
 * everything else through Express. Tests pass their own dependencies; main.ts passes real ones.
 */
export function createApp(deps: AppDeps): App {
  const observe: RouteObserver = (route, status, seconds, { req, requestId, err }) => {
    deps.metrics.httpRequests.inc({ route, status: String(status) });
    deps.metrics.httpDuration.observe({ route }, seconds);
    if (err) deps.metrics.httpErrors.inc({ route, code: err.code });
    // The envelope names the request id and hides the cause; this line holds the cause under that id.
    // (A not-ready probe answers 503 without an error: its state log says why, once.)
    if (err && status >= 500) {
      deps.logger.error(
        { request_id: requestId, route, status, code: err.code, err: err.cause ?? err },
        err.message,
      );
    }
    if (status === 401 || status === 403) {
      // Someone trying keys or roles leaves a trace: counted, and logged with the request id and
      // where it came from — never the key (the Authorization header is not logged at all).
      deps.metrics.authFailures.inc({ route, status: String(status) });
      deps.logger.warn(
        {
          request_id: requestId,
          route,
          method: req.method,
          status,
          code: err?.code,
          reason: err?.message,
          remote_address: req.socket?.remoteAddress,
        },
        "request refused: authentication or authorisation failed",
      );
    }
  };

  const tenantFromHeader = (
    body: InferenceRequest | { tenant_id?: string },
    req: IncomingMessage,
  ): string => {
    const header = req.headers["x-tenant-id"];
    const fromHeader = typeof header === "string" && header !== "" ? header : undefined;
    if (body.tenant_id && fromHeader && body.tenant_id !== fromHeader) {
      throw new AppError("VALIDATION_FAILED", "tenant_id in the body and X-Tenant-ID differ");
    }
    const tenantId = body.tenant_id ?? fromHeader;
    // The same pattern as the body's tenant_id (so "." and ".." are refused here too).
    if (!tenantId || !ID_PATTERN.test(tenantId)) {
      throw new AppError("VALIDATION_FAILED", "tenant_id (body) or X-Tenant-ID (header) is required", {
        details: [{ path: "tenant_id", message: "required, [A-Za-z0-9._-]{1,128}" }],
      });
    }
    return tenantId;
  };

  const fastRoutes = [
    {
      path: "/api/v1/access/resolve",
      roles: ["service"],
      schema: accessRequestSchema,
      tenantOf: (b: AccessRequest) => b.tenant_id,
      handle: async (b: AccessRequest, c) =>
        (await deps.decide.decideAccess(b, { principal: c.principal, requestId: c.requestId })).decision,
    } satisfies FastRoute<typeof accessRequestSchema>,
    {
      path: "/api/v1/access/resolve-batch",
      roles: ["service"],
      schema: accessBatchSchema,
      // 100 bodies of up to ~1.5 KB each: the single-request limit would refuse a legal batch.
      maxBytes: MAX_BATCH * 2 * 1024,
      tenantOf: (b: AccessBatch) => b.requests.map((r) => r.tenant_id),
      handle: async (b: AccessBatch, c) => ({
        decisions: await deps.decide.decideAccessBatch(b.requests, {
          principal: c.principal,
          requestId: c.requestId,
        }),
      }),
    } satisfies FastRoute<typeof accessBatchSchema>,
    {
      path: "/api/v1/inference/route",
      roles: ["service"],
      schema: inferenceRequestSchema,
      tenantOf: tenantFromHeader,
      handle: async (b, c) =>
        (
          await deps.decide.decideInference(
            { ...b, tenant_id: c.tenantId },
            { principal: c.principal, requestId: c.requestId },
          )
        ).decision,
    } satisfies FastRoute<typeof inferenceRequestSchema>,
    {
      path: "/api/v1/storage/presign",
      roles: ["service"],
      schema: presignRequestSchema,
      tenantOf: (b: PresignRequestBody) => b.tenant_id,
      handle: (b: PresignRequestBody, c) =>
        deps.presign(b, { principal: c.principal, requestId: c.requestId }),
    } satisfies FastRoute<typeof presignRequestSchema>,
  ] as unknown as Array<FastRoute<import("zod").ZodType>>;

  const handleFast = createFastRouter({ authenticate: deps.authenticate, routes: fastRoutes, observe });

  const mounts = expressMounts(deps);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.use((req: Request, res: Response, next: NextFunction) => {
    const requestId = requestIdOf(req);
    res.locals.requestId = requestId;
    res.setHeader("x-request-id", requestId);
    const start = process.hrtime.bigint();
    res.on("finish", () => {
      const err = res.locals.appError as AppError | undefined;
      observe(routeOf(req, res), res.statusCode, Number(process.hrtime.bigint() - start) / 1e9, {
        req,
        requestId,
        ...(err ? { err } : {}),
      });
    });
    next();
  });
  for (const m of mounts) {
    // Express restores req.baseUrl when an error leaves a sub-router, so by the time the error
    // handler answers, only the route's own path is left ("/", "/active"): keep the mount.
    const keepMount = (_req: Request, res: Response, next: NextFunction) => {
      res.locals.mount = m.path === "/" ? "" : m.path;
      // JSON mounts read the body in `guard`, once the key and role are checked (express-kit.ts).
      res.locals.jsonBody = m.json;
      next();
    };
    app.use(m.path, keepMount, m.router);
  }
  // The compliance console: static files, not an API route (so not in the route table).
  app.use("/console", consoleRoutes());
  app.use((req: Request) => {
    throw new AppError("NOT_FOUND", `no route for ${req.method} ${req.path}`);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const appError = sendError(res, err, res.locals.requestId as string);
    res.locals.appError = appError; // logged and counted once, on finish
  });

  const fastPaths = new Set(fastRoutes.map((r) => r.path));
  const accessLog = createAccessLog({
    logger: deps.logger,
    requestIdOf,
    routeOf: (req, res) => {
      const path = (req.url ?? "").split("?")[0]!;
      return req.method === "POST" && fastPaths.has(path) ? path : routeOf(req as Request, res as Response);
    },
  });

  const handler: RequestListener = (req: IncomingMessage, res: ServerResponse) => {
    accessLog(req, res);
    if (!handleFast(req, res)) app(req, res);
  };
  return { handler, express: app, routes: () => routeTable(fastRoutes, mounts) };
}

/** Every Express sub-router, where it is mounted, and whether it takes JSON bodies. */
export type Mount = { path: string; router: Router; json: boolean };

function expressMounts(deps: AppDeps): Mount[] {
  return [
    {
      path: "/",
      router: healthRoutes({
        health: deps.health,
        registry: deps.metrics.registry,
        ...(deps.metricsText ? { metricsText: deps.metricsText } : {}),
      }),
      json: false,
    },
    { path: "/", router: openApiRoutes(), json: false },
    { path: "/api/v1/policies", router: policyRoutes(deps), json: true },
    { path: "/api/v1/emergency", router: overrideRoutes(deps), json: true },
    { path: "/api/v1/regions", router: regionRoutes(deps), json: true },
    { path: "/api/v1/keys", router: keyRoutes(deps), json: true },
    { path: "/api/v1/legal-holds", router: legalHoldRoutes(deps), json: true },
    { path: "/api/v1/audit", router: auditRoutes(deps), json: false },
    { path: "/api/v1/inference", router: catalogRoutes(deps), json: false },
    { path: "/api/v1/bundles", router: deps.bundleRoutes, json: false },
  ];
}

export type RouteEntry = { method: string; path: string };

/**
 * The routes the service really answers, read from the routers themselves (the fast routes and
 * every Express sub-router's stack), with Express parameters written as OpenAPI templates.
 */
function routeTable(fast: ReadonlyArray<{ path: string }>, mounts: Mount[]): RouteEntry[] {
  const out: RouteEntry[] = fast.map((r) => ({ method: "post", path: r.path }));
  for (const m of mounts) {
    for (const layer of m.router.stack) {
      const route = layer.route as { path: string; methods?: Record<string, boolean> } | undefined;
      if (!route) continue;
      const full = `${m.path === "/" ? "" : m.path}${route.path === "/" ? "" : route.path}` || "/";
      for (const [method, on] of Object.entries(route.methods ?? {})) {
        if (on && method !== "_all") out.push({ method, path: full.replace(/:([A-Za-z_]+)/g, "{$1}") });
      }
    }
  }
  return out;
}

/** The metrics label: the route template (mount + route path), never the raw URL. */
function routeOf(req: Request, res: Response): string {
  if (!req.route?.path) return "unmatched";
  const mount = typeof res.locals?.mount === "string" ? res.locals.mount : req.baseUrl;
  return `${mount}${req.route.path === "/" && mount !== "" ? "" : req.route.path}`;
}
