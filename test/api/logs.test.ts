import { Writable } from "node:stream";
import { Router } from "express";
import { Registry } from "prom-client";
import request from "supertest";
import { describe, expect, it } from "vitest";
import type { Principal } from "../../src/context/keys-repo.ts";
import { type AppDeps, createApp } from "../../src/http/app.ts";
import { createStateLog } from "../../src/observability/access-log.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { createMetrics } from "../../src/observability/metrics.ts";
import type { Db } from "../../src/store/db.ts";
import { primaryBackend, startTestService } from "../support/service.ts";

// Access logs (pino-http) on the fast path and through Express: one line per request with the
// request id, method, route template, status and duration; every error line carries the request
// id that the error envelope names; probes do not flood the log.

type Line = Record<string, unknown> & { level: number; msg: string };

function memoryLogger() {
  const lines: Line[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const l of String(chunk).split("\n").filter(Boolean)) lines.push(JSON.parse(l));
      done();
    },
  });
  return { logger: createLogger("debug", stream), lines };
}

const KEY = "good-key-0123456789abcdef";
const ADMIN: Principal = { key_id: "key_t", principal: "t", roles: ["admin"], tenant_ids: null };

function appWith(logger: AppDeps["logger"], ready = true) {
  const failing = () => {
    throw new Error("store exploded: password=hunter2");
  };
  return createApp({
    logger,
    metrics: createMetrics(new Registry()),
    authenticate: async (key) => (key === KEY ? ADMIN : null),
    decide: {
      decideAccess: async () => ({ decision: { decision_id: "d-1", allowed: true } }),
    } as unknown as AppDeps["decide"],
    presign: (async () => failing()) as unknown as AppDeps["presign"],
    policies: {} as AppDeps["policies"],
    overrides: {} as AppDeps["overrides"],
    regions: { list: failing } as unknown as AppDeps["regions"],
    keys: {} as AppDeps["keys"],
    legalHolds: {} as AppDeps["legalHolds"],
    audit: {} as AppDeps["audit"],
    catalog: () => null,
    health: async () => ({ ready, checks: { store: { ok: ready } } }),
    bundleRoutes: Router(),
  });
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const auth = { authorization: `Bearer ${KEY}` };

describe("access logs", () => {
  it("one line per request on both paths: request id, method, route template, status, duration", async () => {
    const { logger, lines } = memoryLogger();
    const app = appWith(logger);
    await request(app.handler)
      .post("/api/v1/access/resolve?x=1")
      .set(auth)
      .set("x-request-id", "log-fast-1")
      .send({ tenant_id: "t", operation_type: "read", resource_type: "d", resource_id: "1" })
      .expect(200);
    await request(app.handler)
      .get("/api/v1/regions/nowhere")
      .set("x-request-id", "log-express-1")
      .expect(401);
    const minted = await request(app.handler).get("/api/v1/nowhere").set(auth).expect(404);
    await flush();
    const access = lines.filter((l) => l.msg === "request" || l.msg === "request failed");
    expect(access).toEqual([
      expect.objectContaining({
        request_id: "log-fast-1",
        method: "POST",
        route: "/api/v1/access/resolve",
        status: 200,
        duration_ms: expect.any(Number),
        level: 30,
      }),
      expect.objectContaining({
        request_id: "log-express-1",
        method: "GET",
        route: "/api/v1/regions/:code",
        status: 401,
        level: 40,
      }),
      // No X-Request-ID: the id the service minted, the same one it answered with.
      expect.objectContaining({
        request_id: minted.headers["x-request-id"],
        route: "unmatched",
        status: 404,
      }),
    ]);
    expect(JSON.stringify(lines)).not.toContain(KEY);
  });

  it("every error line carries the request id the envelope names (fast path and Express)", async () => {
    const { logger, lines } = memoryLogger();
    const app = appWith(logger);
    const express = await request(app.handler).get("/api/v1/regions").set(auth).expect(500);
    const fast = await request(app.handler)
      .post("/api/v1/storage/presign")
      .set(auth)
      .send({ tenant_id: "t", operation: "read", key: "a/b" })
      .expect(500);
    await flush();
    const errors = lines.filter((l) => l.level >= 50);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    for (const l of errors) expect(l.request_id, JSON.stringify(l)).toBeTruthy();
    const ids = new Set(errors.map((l) => l.request_id));
    expect(ids).toEqual(new Set([express.body.error.request_id, fast.body.error.request_id]));
    // The cause is in the log (found by the id), never in the answer.
    expect(JSON.stringify(errors)).toContain("store exploded");
    expect(express.body.error.message).toBe("internal error");
  });

  it("failing probes log at debug, not once per probe at warn or error", async () => {
    const { logger, lines } = memoryLogger();
    const app = appWith(logger, false);
    for (let i = 0; i < 5; i++) await request(app.handler).get("/health/ready").expect(503);
    await request(app.handler).get("/metrics").expect(200);
    await flush();
    expect(lines.filter((l) => l.level >= 40)).toEqual([]);
    expect(lines.filter((l) => l.route === "/health/ready" && l.level === 20)).toHaveLength(5);
  });
});

describe("readiness state log", () => {
  it("logs a check when it starts failing and when it recovers, not on every probe", () => {
    const said: Array<[string, unknown]> = [];
    const report = createStateLog({
      warn: (o: unknown, m?: string) => said.push([`warn ${m}`, o]),
      info: (o: unknown, m?: string) => said.push([`info ${m}`, o]),
    } as never);
    for (const ok of [true, false, false, false, true, true, false]) report("store", ok, { detail: "x" });
    report("cache", true);
    expect(said.map(([m]) => m)).toEqual([
      "warn readiness: store failing",
      "info readiness: store recovered",
      "warn readiness: store failing",
    ]);
    expect(said[0]![1]).toMatchObject({ check: "store", detail: "x" });
  });
});

describe("readiness log on the real service", () => {
  it("a store outage seen by 10 probes is logged once, its recovery once", async () => {
    const owned = await primaryBackend().create();
    let down = false;
    // The probe's `SELECT 1` fails while `down`; everything else reaches the store.
    const db: Db = {
      kind: owned.kind,
      query: ((sql: string, params?: readonly unknown[]) =>
        down && sql === "SELECT 1"
          ? Promise.reject(new Error("connect ECONNREFUSED 10.0.0.9:5432"))
          : owned.query(sql, params)) as Db["query"],
      exec: (sql) => owned.exec(sql),
      transaction: (fn) => owned.transaction(fn),
      close: async () => {},
    };
    const { logger, lines } = memoryLogger();
    const t = await startTestService({ db, logger });
    try {
      const probe = () => request(t.handler).get("/health/ready");
      expect((await probe()).status).toBe(200);
      down = true;
      for (let i = 0; i < 10; i++) expect((await probe()).status).toBe(503);
      down = false;
      for (let i = 0; i < 3; i++) expect((await probe()).status).toBe(200);
      await flush();
      const readiness = lines.filter((l) => String(l.msg).startsWith("readiness:"));
      expect(readiness.map((l) => `${l.level} ${l.msg}`)).toEqual([
        "40 readiness: store failing",
        "30 readiness: store recovered",
      ]);
      expect(JSON.stringify(readiness[0])).toContain("ECONNREFUSED"); // the cause, in the log only
      // The probes themselves: debug lines, nothing at warn or above from the probe route.
      expect(lines.filter((l) => l.route === "/health/ready" && l.level >= 40)).toEqual([]);
    } finally {
      await t.close();
      await owned.close();
    }
  });
});
