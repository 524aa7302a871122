import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { jsonReusingMembers } from "../domain/sealed.ts";
import { AppError, isAppError } from "../errors.ts";
import { hasBody } from "./body.ts";

// The SPEC §6 error envelope and the one JSON writer both the bare node:http routes and the
// Express routes use, so every answer looks the same whichever path served it.

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

// One id per request, whoever asks first (the access log, the fast path, Express): a minted id must
// be the same in the answer, the log lines and the audit record.
const assigned = new WeakMap<IncomingMessage, string>();

/** Accept the caller's X-Request-ID when it is sane, else mint one (once per request). */
export function requestIdOf(req: IncomingMessage): string {
  const known = assigned.get(req);
  if (known) return known;
  const given = req.headers["x-request-id"];
  const id = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
  assigned.set(req, id);
  return id;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, requestId: string): void {
  // A decision's sealed parts (the memo's answer, the cached policy reference) print from memory.
  const payload = jsonReusingMembers(body) ?? "null";
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(payload),
    "x-request-id": requestId,
    "cache-control": "no-store",
    // Answered before the body was read (401, 413, 415…): close the connection once the answer is
    // out rather than read on through whatever the client still sends.
    ...(res.req && hasBody(res.req) && !res.req.complete ? { connection: "close" } : {}),
  });
  res.end(payload);
}

export type ErrorBody = { error: { code: string; message: string; details: unknown; request_id: string } };

export function errorBody(err: AppError, requestId: string): ErrorBody {
  return {
    error: { code: err.code, message: err.message, details: err.details ?? null, request_id: requestId },
  };
}

/** Anything thrown becomes an envelope; what is not an AppError is a 500 that hides its text. */
export function toAppError(err: unknown): AppError {
  if (isAppError(err)) return err;
  const e = err as { type?: string; status?: number; statusCode?: number } | null;
  // body-parser / raw-body errors carry a status and a type.
  if (e?.type === "entity.too.large") return new AppError("PAYLOAD_TOO_LARGE", "request body is too large");
  if (e?.type === "entity.parse.failed")
    return new AppError("VALIDATION_FAILED", "request body is not valid JSON");
  if (e?.type === "encoding.unsupported" || e?.type === "charset.unsupported") {
    return new AppError("VALIDATION_FAILED", "unsupported body encoding");
  }
  const status = e?.status ?? e?.statusCode;
  if (status === 400) return new AppError("VALIDATION_FAILED", "malformed request");
  return new AppError("INTERNAL", "internal error", { cause: err });
}

export function sendError(res: ServerResponse, err: unknown, requestId: string): AppError {
  const appError = toAppError(err);
  if (!res.headersSent) sendJson(res, appError.status, errorBody(appError, requestId), requestId);
  else res.destroy();
  return appError;
}
