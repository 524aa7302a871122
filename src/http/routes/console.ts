import { fileURLToPath } from "node:url";
import express, { type NextFunction, type Request, type Response, Router } from "express";

// The compliance console (SPEC §10): static files, no build step, no server-side state. The page
// signs in with an API key and calls the public JSON API like any client, so nothing here is
// privileged. Every path under /console without a file extension is the page itself, so a deep
// link (/console/decisions/<id>) loads it and the page routes on the client.

export const CONSOLE_DIR = fileURLToPath(new URL("../../../console/", import.meta.url));

/** Scripts, styles, fetches and images from this origin only; no inline script or style, no frames. */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export function consoleRoutes(dir: string = CONSOLE_DIR): Router {
  const r = Router();
  r.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader("content-security-policy", CONSOLE_CSP);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("referrer-policy", "no-referrer");
    res.setHeader("cache-control", "no-cache");
    next();
  });
  r.use(express.static(dir, { index: "index.html", redirect: false, fallthrough: true }));
  r.use((req: Request, res: Response, next: NextFunction) => {
    if ((req.method !== "GET" && req.method !== "HEAD") || req.path.includes(".")) return next();
    res.sendFile("index.html", { root: dir });
  });
  return r;
}
