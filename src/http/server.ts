import { createServer, type RequestListener, type Server } from "node:http";

export type ServerLimits = {
  /** The whole request (headers and body) must arrive within this; else 408 and the connection closes. */
  requestTimeoutMs: number;
  /** The headers must arrive within this (at most requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection closes after this (default 65 s: above common load-balancer idles). */
  keepAliveTimeoutMs?: number;
};

/**
 * The listening server, with its limits against slow clients. Node enforces request and header
 * timeouts from a periodic sweep (every 30 s by default), which lets a slow client hold a socket
 * that long past its limit: the sweep here runs at a quarter of the header timeout (≤ 1 s).
 */
export function createHttpServer(handler: RequestListener, limits: ServerLimits): Server {
  return createServer(
    {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.headersTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs ?? 65_000,
      connectionsCheckingInterval: Math.max(50, Math.min(1_000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    handler,
  );
}
