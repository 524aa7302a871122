import type { ErrorCode } from "../errors.ts";

// What a call can fail with, as values a caller can switch on: the service's SPEC §6 error codes
// (ApiError, one `code` of a closed set) and the failure to reach it at all (ConnectionError).

export type { ErrorCode };

export type ErrorEnvelope = {
  error: { code: ErrorCode; message: string; details: unknown; request_id: string };
};

/** The service answered with its error envelope (or, rarely, with a status and no envelope). */
export class ApiError<C extends ErrorCode = ErrorCode> extends Error {
  readonly code: C;
  readonly status: number;
  readonly details: unknown;
  readonly requestId: string | null;

  constructor(code: C, status: number, message: string, details: unknown, requestId: string | null) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = status;
    this.details = details;
    this.requestId = requestId;
  }
}

/** The request never got an answer: refused, reset, timed out, DNS… `cause` says which. */
export class ConnectionError extends Error {
  readonly url: string;
  /** ECONNREFUSED, ENOTFOUND, "timed out", … */
  readonly reason: string;

  constructor(url: string, cause: unknown) {
    const reason = describeCause(cause);
    super(`cannot reach ${url}: ${reason}`, { cause });
    this.name = "ConnectionError";
    this.url = url;
    this.reason = reason;
  }
}

/** Narrows to an ApiError, optionally of one of these codes: `if (isApiError(e, "FORBIDDEN"))`. */
export function isApiError<C extends ErrorCode>(err: unknown, ...codes: C[]): err is ApiError<C> {
  return err instanceof ApiError && (codes.length === 0 || codes.includes(err.code as C));
}

function describeCause(cause: unknown): string {
  const c = cause as { name?: string; message?: string; cause?: { code?: string; message?: string } } | null;
  if (c?.name === "TimeoutError") return "timed out";
  return c?.cause?.code ?? c?.cause?.message ?? c?.message ?? String(cause);
}
