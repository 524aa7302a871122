import type { IncomingMessage, ServerResponse } from "node:http";
import { pinoHttp } from "pino-http";
import type { Logger } from "./logger.ts";

// One access-log line per request, on the node:http fast path and through Express alike:
// request id (the X-Request-ID echoed, or the one minted), method, route template, status and
// duration. Probes and scrapes log at debug: a failing readiness probe is reported once per state
// change (state-log.ts), not once per probe.

const QUIET = /^\/(health(\/|$)|metrics$)/;

export function createAccessLog(deps: {
  logger: Logger;
  requestIdOf: (req: IncomingMessage) => string;
  routeOf: (req: IncomingMessage, res: ServerResponse) => string;
}) {
  const line = (req: IncomingMessage, res: ServerResponse, val: { duration_ms: number }) => ({
    method: req.method,
    route: deps.routeOf(req, res),
    status: res.statusCode,
    duration_ms: val.duration_ms,
  });
  return pinoHttp({
    logger: deps.logger,
    genReqId: (req) => deps.requestIdOf(req),
    quietReqLogger: true,
    quietResLogger: true,
    customAttributeKeys: { reqId: "request_id", responseTime: "duration_ms" },
    customLogLevel: (req, res, err) => {
      if (QUIET.test(req.url ?? "")) return "debug";
      if (err || res.statusCode >= 500) return "error";
      return res.statusCode >= 400 ? "warn" : "info";
    },
    customSuccessObject: (req, res, val) => line(req, res, val),
    customErrorObject: (req, res, _err, val) => line(req, res, val),
    customSuccessMessage: () => "request",
    customErrorMessage: () => "request failed",
  });
}

/** Logs a check when it starts failing and when it recovers — not on every probe that sees it. */
export function createStateLog(logger: Pick<Logger, "warn" | "info">) {
  const last = new Map<string, boolean>();
  return function report(name: string, ok: boolean, fields: Record<string, unknown> = {}): void {
    const before = last.get(name);
    last.set(name, ok);
    if (before === ok || (before === undefined && ok)) return;
    if (ok) logger.info({ check: name }, `readiness: ${name} recovered`);
    else logger.warn({ check: name, ...fields }, `readiness: ${name} failing`);
  };
}
