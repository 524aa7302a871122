import { Router } from "express";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { BundleService } from "../../src/bundles/bundle-service.ts";
import type { Principal } from "../../src/context/keys-repo.ts";
import { type AppDeps, createApp } from "../../src/http/app.ts";
import { bundleRoutes } from "../../src/http/routes/bundles.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";

// The `route` label is the route template whatever the status: errors answered from inside an
// Express sub-router used to be labelled with the sub-router's own path ("/", "/active").

const ADMIN: Principal = { key_id: "key_t", principal: "t", roles: ["admin"], tenant_ids: null };

function appWith(overrides: Partial<AppDeps>) {
  const metrics = createMetrics(new Registry());
  const authenticate = async (key: string) => (key === "good-key-0123456789abcdef" ? ADMIN : null);
  const failing = () => {
    throw new Error("store exploded");
  };
  const deps = {
    logger: createLogger("silent"),
    metrics,
    authenticate,
    decide: {} as AppDeps["decide"],
    presign: (() => failing()) as unknown as AppDeps["presign"],
    policies: { list: failing } as unknown as AppDeps["policies"],
    overrides: {} as AppDeps["overrides"],
    regions: { list: failing } as unknown as AppDeps["regions"],
    keys: {} as AppDeps["keys"],
    legalHolds: {} as AppDeps["legalHolds"],
    audit: {} as AppDeps["audit"],
    catalog: () => null,
    health: async () => ({ ready: false, checks: {} }),
    bundleRoutes: bundleRoutes({
      authenticate,
      bundles: { active: () => null } as unknown as BundleService,
    }),
    ...overrides,
  } satisfies AppDeps;
  return { app: createApp(deps), metrics };
}

async function labels(metrics: ReturnType<typeof createMetrics>) {
  const m = await metrics.httpRequests.get();
  return m.values.map((v) => `${v.labels.route} ${v.labels.status}`).sort();
}

describe("HTTP metrics labels", () => {
  it("4xx and 5xx from sub-routers carry the full route template", async () => {
    const { app, metrics } = appWith({ bundleRoutes: Router() });
    const { app: withBundles, metrics: bundleMetrics } = appWith({});
    const auth = { authorization: "Bearer good-key-0123456789abcdef" };
    expect((await request(app.handler).get("/api/v1/regions").set(auth)).status).toBe(500);
    expect((await request(app.handler).get("/api/v1/policies").set(auth)).status).toBe(500);
    expect((await request(app.handler).get("/api/v1/policies/id/p1")).status).toBe(401);
    expect((await request(app.handler).get("/api/v1/policies?limit=0").set(auth)).status).toBe(400);
    expect((await request(app.handler).get("/api/v1/inference/endpoints").set(auth)).status).toBe(503);
    expect((await request(app.handler).get("/health/ready")).status).toBe(503);
    expect((await request(app.handler).get("/api/v1/nowhere").set(auth)).status).toBe(404);
    expect((await request(app.handler).post("/api/v1/access/resolve").send({})).status).toBe(401);
    expect(await labels(metrics)).toEqual([
      "/api/v1/access/resolve 401",
      "/api/v1/inference/endpoints 503",
      "/api/v1/policies 400",
      "/api/v1/policies 500",
      "/api/v1/policies/id/:policy_id 401",
      "/api/v1/regions 500",
      "/health/ready 503",
      "unmatched 404",
    ]);

    expect((await request(withBundles.handler).get("/api/v1/bundles/active").set(auth)).status).toBe(503);
    expect((await request(withBundles.handler).get("/api/v1/bundles/active")).status).toBe(401);
    expect(await labels(bundleMetrics)).toEqual(["/api/v1/bundles/active 401", "/api/v1/bundles/active 503"]);
  });
});
