import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { z } from "zod";
import type { Principal } from "../context/keys-repo.ts";
import type { Caller } from "../decision/types.ts";
import type { Role } from "../domain/vocabulary.ts";
import { AppError } from "../errors.ts";
import { type Authenticate, authenticateHeader, requireRole } from "./auth.ts";
import { hasBody, MAX_BODY_BYTES, readBody, readJsonBody } from "./body.ts";
import { issuesOf } from "./schemas.ts";

// Small helpers the Express routes share: authenticate + role, parse with zod, the caller.

/** The raw body as a Buffer on `req.body` (empty when there is none), at most `limit` bytes. */
export function rawBody(limit: number): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    req.body = hasBody(req) ? await readBody(req, limit) : Buffer.alloc(0);
    next();
  };
}

export function guard(authenticate: Authenticate, roles: readonly Role[] | "any"): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const principal = await authenticateHeader(req.headers.authorization, authenticate);
    if (roles !== "any") requireRole(principal, roles);
    res.locals.principal = principal;
    // On a JSON mount the body is read only now: a request without a valid key or the role is
    // answered (401/403) at once, without reading whatever it is still sending. 413 at once too.
    if (res.locals.jsonBody === true && hasBody(req)) req.body = await readJsonBody(req, MAX_BODY_BYTES);
    next();
  };
}

export function callerOf(res: Response): Caller {
  return { principal: res.locals.principal as Principal, requestId: res.locals.requestId as string };
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, what = "request"): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new AppError("VALIDATION_FAILED", `${what} failed validation`, { details: issuesOf(r.error) });
  return r.data;
}
