import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "./logger.ts";

// One access-log line per request, on the node:http fast path and through Express alike:
// request id (the X-Request-ID echoed, or the one minted), method, route template, status and
// duration. Probes and scrapes log at debug: a failing readiness probe is reported once per state
// change (state-log.ts), not once per probe.
//
// One logger call when the response is done. pino-http did the same line through a child logger
// made for every request (its bindings serialised each time): 8% of the decision path's CPU in a
// profile under load, for a line nothing else reads (docs/decisions/0015).

const QUIET = /^\/(health(\/|$)|metrics$)/;

export function createAccessLog(deps: {
  logger: Logger;
  requestIdOf: (req: IncomingMessage) => string;
  routeOf: (req: IncomingMessage, res: ServerResponse) => string;
}) {
  const { logger } = deps;
  return function accessLog(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    const done = (finished: boolean) => {
      res.removeListener("finish", onFinish);
      res.removeListener("close", onClose);
      const status = res.statusCode;
      const level = QUIET.test(req.url ?? "")
        ? "debug"
        : status >= 500
          ? "error"
          : !finished || status >= 400
            ? "warn"
            : "info";
      if (!logger.isLevelEnabled(level)) return;
      const line = {
        request_id: deps.requestIdOf(req),
        method: req.method,
        route: deps.routeOf(req, res),
        status,
        duration_ms: Math.round(performance.now() - start),
        ...(finished ? {} : { aborted: true }),
      };
      logger[level](line, finished && status < 500 ? "request" : "request failed");
    };
    const onFinish = () => done(true);
    // Closed before the answer was sent: the client went away (or the socket failed).
    const onClose = () => done(res.writableFinished);
    res.on("finish", onFinish);
    res.on("close", onClose);
  };
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
