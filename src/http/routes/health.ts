import { Router } from "express";
import type { Registry } from "prom-client";

export type HealthReport = { ready: boolean; checks: Record<string, { ok: boolean; detail?: unknown }> };

export function healthRoutes(deps: {
  health: () => Promise<HealthReport>;
  registry: Registry;
  /** The text a scrape answers (WORKERS > 1: every worker's, aggregated); default this registry's. */
  metricsText?: () => Promise<string>;
}): Router {
  const r = Router();
  r.get("/health/live", (_req, res) => {
    res.json({ status: "ok" });
  });
  r.get("/health/ready", async (_req, res) => {
    const report = await deps.health();
    res
      .status(report.ready ? 200 : 503)
      .json({ status: report.ready ? "ready" : "not_ready", checks: report.checks });
  });
  r.get("/health", async (_req, res) => {
    const report = await deps.health();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? "ready" : "not_ready", ...report });
  });
  r.get("/metrics", async (_req, res) => {
    // A scrape refreshes the readiness gauges; a failing check is a value, not a failed scrape.
    await deps.health().catch(() => undefined);
    const own = () => deps.registry.metrics();
    // The cluster's aggregate when it answers; this worker's own figures when it does not.
    const text = deps.metricsText ? await deps.metricsText().catch(own) : await own();
    res.set("content-type", deps.registry.contentType).send(text);
  });
  return r;
}
