import type { IncomingMessage, ServerResponse } from "node:http";
import type { z } from "zod";
import type { Principal } from "../context/keys-repo.ts";
import type { Role } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";
import { type Authenticate, authenticateHeader, requireRole, requireTenant } from "./auth.ts";
import { readJsonBody } from "./body.ts";
import { requestIdOf, sendError, sendJson } from "./envelope.ts";
import { issuesOf } from "./schemas.ts";

// The decision routes on bare node:http. Measured here, Express 5 costs ~6× bare node:http on a
// small JSON POST; these routes need none of its middleware, so they never touch it: a thin
// wrapper runs request id → auth → body → zod → role/tenant → use case → JSON.

export type FastRoute<S extends z.ZodType> = {
  path: string;
  roles: readonly Role[];
  schema: S;
  /**
   * The tenant the body acts for — or, for a batch, every item's tenant in order — checked against
   * the key's scope before anything runs.
   */
  tenantOf: (body: z.output<S>, req: IncomingMessage) => string | readonly string[];
  /** Body size limit (default MAX_BODY_BYTES). */
  maxBytes?: number;
  handle: (
    body: z.output<S>,
    ctx: { principal: Principal; requestId: string; tenantId: string },
  ) => Promise<unknown>;
};

export type RouteObserver = (
  route: string,
  status: number,
  seconds: number,
  context: { req: IncomingMessage; requestId: string; err?: AppError },
) => void;

export function createFastRouter(deps: {
  authenticate: Authenticate;
  routes: Array<FastRoute<z.ZodType>>;
  observe?: RouteObserver;
}) {
  const byPath = new Map(deps.routes.map((r) => [r.path, r]));

  /** Returns false when the request is not one of ours (Express takes it). */
  return function handleFast(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== "POST") return false;
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const route = byPath.get(q === -1 ? url : url.slice(0, q));
    if (!route) return false;
    void run(route, req, res);
    return true;
  };

  async function run(route: FastRoute<z.ZodType>, req: IncomingMessage, res: ServerResponse) {
    const start = process.hrtime.bigint();
    const requestId = requestIdOf(req);
    const seconds = () => Number(process.hrtime.bigint() - start) / 1e9;
    try {
      const principal = await authenticateHeader(req.headers.authorization, deps.authenticate);
      requireRole(principal, route.roles);
      const raw = await readJsonBody(req, route.maxBytes);
      const parsed = route.schema.safeParse(raw);
      if (!parsed.success) {
        throw new AppError("VALIDATION_FAILED", "request body failed validation", {
          details: issuesOf(parsed.error),
        });
      }
      const scope = route.tenantOf(parsed.data, req);
      const tenants = typeof scope === "string" ? [scope] : scope;
      for (const [i, tenant] of tenants.entries()) {
        try {
          requireTenant(principal, tenant);
        } catch (err) {
          if (tenants.length === 1 || !(err instanceof AppError)) throw err;
          throw new AppError(err.code, `requests[${i}]: ${err.message}`, { details: { index: i } });
        }
      }
      const tenantId = tenants[0] ?? "";
      const result = await route.handle(parsed.data, { principal, requestId, tenantId });
      sendJson(res, 200, result, requestId);
      deps.observe?.(route.path, 200, seconds(), { req, requestId });
    } catch (err) {
      const appError = sendError(res, err, requestId);
      deps.observe?.(route.path, appError.status, seconds(), { req, requestId, err: appError });
    }
  }
}
