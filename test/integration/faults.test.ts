import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  cacheRedisOptions,
  createRedisCache,
  subscriberRedisOptions,
} from "../../src/context/cache-redis.ts";
import { createStoreGenerations } from "../../src/context/generations.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { type Api, api } from "../support/http.ts";
import { type OwnRedis, redisServerAvailable, startOwnRedis } from "../support/redis-server.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { startTcpProxy, type TcpProxy } from "../support/tcp-proxy.ts";

// Fault injection: two instances (A writes, B decides) on the real Postgres and a redis-server of
// this suite's own, each behind a TCP proxy the test cuts. Whatever the order of cut, write and
// reconnect, across Redis restarts with and without their data, a revoked override or key stops
// granting on B within the bound, and B keeps deciding from Postgres without Redis. Each scenario
// prints the staleness it measured (time from the committed change — or from Redis coming back —
// to B's first refusal) and how many decisions were answered and failed meanwhile.
//
// The bound asserted is the issue's (5 s); what the configuration promises (CACHE_MAX_STALENESS_MS,
// 1 s here as by default) and what was measured is printed.

const postgres = testBackends().find((b) => b.name === "postgres");
const BOUND_MS = 5_000;
const STALENESS_MS = 1_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type Instance = { t: TestService; redis: Redis; close(): Promise<void> };
type Grant = { tenant: string; overrideId: string; keyId: string; key: string };
type Watched = {
  overrideMs: number | null;
  keyMs: number | null;
  answered: number;
  failed: number;
  /** Grants served after B had already refused them once (must be 0). */
  regressions: number;
};

describe.skipIf(!postgres || !redisServerAvailable())(
  "faults: Redis and Postgres cut, restarted, paused",
  () => {
    let db: TestDb;
    let own: OwnRedis;
    let redisProxy: TcpProxy;
    let pgProxy: TcpProxy;
    let a: Instance;
    let b: Instance;
    const extra: Instance[] = [];
    const prefix = `residency-faults-${randomBytes(4).toString("hex")}:`;
    const figures: string[] = [];
    let admin: Api;
    let requester: Api;
    let approvers: Api[];
    let svcB: Api;
    let n = 0;

    async function instance(options: { dbViaProxy?: boolean } = {}): Promise<Instance> {
      const peer = await db.peer(
        options.dbViaProxy ? { connectionString: pgProxy.url(process.env.DATABASE_URL!) } : {},
      );
      const generations = await createStoreGenerations({
        db: peer,
        pollMs: 250,
        maxStalenessMs: STALENESS_MS,
      });
      const redis = new Redis(redisProxy.url(own.url), cacheRedisOptions(100));
      redis.on("error", () => {});
      await redis.connect();
      const subscriber = redis.duplicate(subscriberRedisOptions);
      subscriber.on("error", () => {});
      const cache = await createRedisCache({ redis, subscriber, generations, prefix, timeoutMs: 100 });
      const t = await startTestService({ db: peer, cache, redis, redisPrefix: prefix });
      return {
        t,
        redis,
        async close() {
          await t.close();
          await cache.close();
          generations.close();
          redis.disconnect();
        },
      };
    }

    const decision = (client: Api, tenant: string) =>
      client.post("/api/v1/access/resolve", {
        tenant_id: tenant,
        operation_type: "replicate",
        resource_type: "document",
        resource_id: "d-1",
        requested_region: "apac-east",
      });

    /** A tenant with an active break-glass override and a service key, both warm in B and in Redis. */
    async function grant(): Promise<Grant> {
      const tenant = `faults-${++n}`;
      await admin.post("/api/v1/policies", {
        tenant_id: tenant,
        primary_region: "us-east",
        compliance_frameworks: ["ferpa"],
        prohibited_regions: ["apac-east"],
        override_permitted: true,
      });
      const created = await requester.post("/api/v1/emergency/override", {
        tenant_id: tenant,
        target_region: "apac-east",
        operations: ["replicate"],
        duration_hours: 2,
        reason: "fault drill",
        ticket: "FD-1",
      });
      const overrideId = created.body.override_id as string;
      for (const approver of approvers)
        await approver.post(`/api/v1/emergency/override/${overrideId}/approve`);
      const key = await admin.post("/api/v1/keys", { principal: `victim-${n}`, roles: ["service"] });
      expect(key.status).toBe(201);
      const g = { tenant, overrideId, keyId: key.body.key_id as string, key: key.body.key as string };
      const victim = api(b.t.handler, g.key);
      for (let i = 0; i < 2; i++) {
        expect((await decision(svcB, tenant)).body.reason.code).toBe("ALLOW_BREAK_GLASS");
        expect((await decision(victim, tenant)).status).toBe(200);
      }
      return g;
    }

    async function revoke(g: Grant): Promise<void> {
      const [o, k] = await Promise.all([
        approvers[0]!.post(`/api/v1/emergency/override/${g.overrideId}/revoke`, { reason: "drill" }),
        admin.delete(`/api/v1/keys/${g.keyId}`),
      ]);
      expect(o.status).toBe(200);
      expect(k.status).toBeLessThan(300);
    }

    /** Decides on `on` until both grants are refused and `minMs` passed, or the bound is over. */
    async function watch(on: Instance, g: Grant, since: number, minMs = 0): Promise<Watched> {
      const svc = api(on.t.handler, ADMIN_KEY);
      const victim = api(on.t.handler, g.key);
      const out: Watched = { overrideMs: null, keyMs: null, answered: 0, failed: 0, regressions: 0 };
      for (;;) {
        const elapsed = Date.now() - since;
        if (elapsed > BOUND_MS + 500) break;
        if (out.overrideMs !== null && out.keyMs !== null && elapsed >= minMs) break;
        const [o, k] = await Promise.all([decision(svc, g.tenant), decision(victim, g.tenant)]);
        const at = Date.now() - since;
        for (const res of [o, k]) {
          if (res.status === 200) out.answered++;
          else if (res.status >= 500) out.failed++;
        }
        if (o.status === 200 && o.body.reason.code !== "ALLOW_BREAK_GLASS") out.overrideMs ??= at;
        else if (o.status === 200 && out.overrideMs !== null) out.regressions++;
        if (k.status === 401) out.keyMs ??= at;
        else if (k.status === 200 && out.keyMs !== null) out.regressions++;
        await sleep(10);
      }
      return out;
    }

    function expectRefused(name: string, w: Watched, from: string) {
      figures.push(
        `${name.padEnd(44)} override refused after ${String(w.overrideMs ?? "never").padStart(5)} ms, key after ${String(w.keyMs ?? "never").padStart(5)} ms (from ${from}); decisions answered ${w.answered}, failed ${w.failed}`,
      );
      expect(w.overrideMs, `${name}: the revoked override kept granting`).not.toBeNull();
      expect(w.keyMs, `${name}: the revoked key kept working`).not.toBeNull();
      expect(w.overrideMs!).toBeLessThanOrEqual(BOUND_MS);
      expect(w.keyMs!).toBeLessThanOrEqual(BOUND_MS);
      expect(w.regressions).toBe(0);
    }

    beforeAll(async () => {
      db = await postgres!.create();
      own = await startOwnRedis();
      redisProxy = await startTcpProxy({ host: "127.0.0.1", port: own.port });
      const pg = new URL(process.env.DATABASE_URL!);
      pgProxy = await startTcpProxy({ host: pg.hostname, port: Number(pg.port || 5432) });
      a = await instance();
      b = await instance({ dbViaProxy: true });
      admin = api(a.t.handler, ADMIN_KEY);
      requester = api(a.t.handler, await a.t.keyFor(["service", "approver"], undefined, "ops-alice"));
      approvers = [
        api(a.t.handler, await a.t.keyFor(["approver"], undefined, "dpo-bob")),
        api(a.t.handler, await a.t.keyFor(["approver"], undefined, "cto-carol")),
      ];
      svcB = api(b.t.handler, ADMIN_KEY);
    }, 60_000);

    afterAll(async () => {
      redisProxy?.resume();
      pgProxy?.resume();
      for (const i of [a, b, ...extra]) await i?.close();
      await redisProxy?.close();
      await pgProxy?.close();
      await own?.close();
      await db?.close();
      console.log(
        `\nfault injection (bound asserted ${BOUND_MS} ms; configured staleness ${STALENESS_MS} ms):\n  ${figures.join("\n  ")}\n`,
      );
    });

    it("Redis cut before the write: B refuses within the bound, reading Postgres", {
      timeout: 30_000,
    }, async () => {
      const g = await grant();
      redisProxy.pause();
      try {
        const writing = Date.now();
        await revoke(g);
        expectRefused("cut before write", await watch(b, g, writing), "the write's start");
      } finally {
        redisProxy.resume();
      }
      await sleep(1_000);
      expectRefused("  …and after reconnecting", await watch(b, g, Date.now(), 1_000), "reconnect + 1 s");
    });

    it("Redis cut during the write", { timeout: 30_000 }, async () => {
      const g = await grant();
      const started = Date.now();
      const writing = revoke(g);
      await sleep(2);
      redisProxy.pause();
      try {
        await writing;
        expectRefused("cut during write", await watch(b, g, started), "the write's start");
      } finally {
        redisProxy.resume();
      }
    });

    it("Redis cut after the write, then reconnected", { timeout: 30_000 }, async () => {
      const g = await grant();
      await revoke(g);
      const committed = Date.now();
      redisProxy.pause(); // the announcement may or may not have gone out
      try {
        expectRefused("cut after write", await watch(b, g, committed), "the write's answer");
      } finally {
        redisProxy.resume();
      }
      const back = Date.now();
      expectRefused("  …reconnected", await watch(b, g, back, 1_500), "reconnect");
    });

    it("cut, write, reconnect at once (before any retry could run)", { timeout: 30_000 }, async () => {
      const g = await grant();
      redisProxy.pause();
      await revoke(g);
      redisProxy.resume();
      const back = Date.now();
      const w = await watch(b, g, back, 1_500);
      expectRefused("cut, write, reconnect", w, "reconnect");
      // The issue's second bound: honoured within 1 s of Redis being reachable again.
      expect(Math.max(w.overrideMs!, w.keyMs!)).toBeLessThanOrEqual(1_000);
    });

    it("a policy update, a deactivation and a region health change made during a cut", {
      timeout: 30_000,
    }, async () => {
      const tenant = `faults-policy-${++n}`;
      const operator = api(a.t.handler, await a.t.keyFor(["operator"]));
      const policy = await admin.post("/api/v1/policies", {
        tenant_id: tenant,
        primary_region: "eu-west",
        compliance_frameworks: ["gdpr"],
        allowed_regions: ["eu-central"],
        allow_cross_region_failover: true,
        failover_regions: ["eu-central"],
      });
      const decideB = (requested?: string) =>
        svcB.post("/api/v1/access/resolve", {
          tenant_id: tenant,
          operation_type: "write",
          resource_type: "d",
          resource_id: "1",
          ...(requested ? { requested_region: requested } : {}),
        });
      expect((await decideB("eu-central")).body.reason.code).toBe("ALLOW_PERMITTED_REGION");
      expect((await decideB()).body.reason.code).toBe("ALLOW_PRIMARY");

      const until = async (what: string, check: () => Promise<boolean>) => {
        const since = Date.now();
        while (Date.now() - since < BOUND_MS) {
          if (await check()) {
            figures.push(`${`cut: ${what}`.padEnd(44)} seen by B after ${Date.now() - since} ms`);
            return;
          }
          await sleep(10);
        }
        throw new Error(`${what}: B still decided on the old value after ${BOUND_MS} ms`);
      };

      redisProxy.pause();
      try {
        await admin.post("/api/v1/policies", {
          tenant_id: tenant,
          primary_region: "eu-west",
          compliance_frameworks: ["gdpr"],
          prohibited_regions: ["eu-central"],
        });
        await until(
          "policy update",
          async () => (await decideB("eu-central")).body.reason.code === "DENY_TENANT_PROHIBITED",
        );
        await operator.put("/api/v1/regions/eu-west/health", { status: "unavailable", reason: "drill" });
        await until("region health", async () => (await decideB()).body.reason.code !== "ALLOW_PRIMARY");
        await operator.put("/api/v1/regions/eu-west/health", { status: "healthy" });
        await until(
          "region health restored",
          async () => (await decideB()).body.reason.code === "ALLOW_PRIMARY",
        );
        const current = await admin.get(`/api/v1/policies?tenant_id=${tenant}`);
        const active =
          (current.body.items ?? current.body).find((p: { is_active: boolean }) => p.is_active) ??
          policy.body;
        expect((await admin.delete(`/api/v1/policies/id/${active.policy_id}`)).status).toBeLessThan(300);
        await until(
          "policy deactivated",
          async () => (await decideB()).body.reason.code === "DENY_NO_POLICY",
        );
      } finally {
        redisProxy.resume();
        await operator.put("/api/v1/regions/eu-west/health", { status: "healthy" });
      }
    });

    for (const keepData of [false, true]) {
      const name = keepData
        ? "Redis restarted with its data (old entries back)"
        : "Redis restarted without its data";
      it(name, { timeout: 40_000 }, async () => {
        const g = await grant();
        await own.stop({ keepData });
        await revoke(g); // Redis is down: nobody is told
        await own.start();
        const back = Date.now();
        const size = await own.admin().dbsize();
        if (keepData) expect(size).toBeGreaterThan(0); // the stale entries really are there
        expectRefused(
          keepData ? "restart with data" : "restart without data",
          await watch(b, g, back, 1_500),
          "restart",
        );
        // A fresh instance, nothing in its memory, reading the same Redis: refuses too.
        const c = await instance();
        extra.push(c);
        const victim = api(c.t.handler, g.key);
        expect((await decision(victim, g.tenant)).status).toBe(401);
        expect((await decision(api(c.t.handler, ADMIN_KEY), g.tenant)).body.reason.code).not.toBe(
          "ALLOW_BREAK_GLASS",
        );
      });
    }

    it("Redis paused (CLIENT PAUSE): decisions keep flowing from Postgres; ready, cache degraded", {
      timeout: 40_000,
    }, async () => {
      const g = await grant();
      const pauseMs = 3_000;
      await own.admin().call("CLIENT", "PAUSE", String(pauseMs), "ALL");
      const since = Date.now();
      const latencies: number[] = [];
      let answered = 0;
      let failed = 0;
      let revoked = false;
      let refusedAt: number | null = null;
      let degraded = false;
      while (Date.now() - since < pauseMs - 200) {
        const t0 = performance.now();
        const [warm, cold] = await Promise.all([
          decision(svcB, g.tenant),
          decision(svcB, `faults-cold-${randomBytes(3).toString("hex")}`),
        ]);
        latencies.push(performance.now() - t0);
        for (const res of [warm, cold]) res.status === 200 ? answered++ : failed++;
        if (!revoked && Date.now() - since > 500) {
          revoked = true;
          await revoke(g);
          refusedAt = null;
        }
        if (
          revoked &&
          refusedAt === null &&
          warm.status === 200 &&
          warm.body.reason.code !== "ALLOW_BREAK_GLASS"
        )
          refusedAt = Date.now() - since;
        const ready = await svcB.get("/health/ready");
        expect(ready.status).toBe(200);
        if (ready.body.checks.cache?.detail?.status === "degraded") degraded = true;
      }
      latencies.sort((x, y) => x - y);
      const worst = latencies[latencies.length - 1]!;
      const p50 = latencies[Math.floor(latencies.length / 2)]!;
      figures.push(
        `${"Redis paused 3 s".padEnd(44)} decisions answered ${answered}, failed ${failed}; latency p50 ${p50.toFixed(1)} ms, worst ${worst.toFixed(1)} ms; revoked override refused ${refusedAt === null ? "never" : `${refusedAt - 500}`}~ms after the revoke`,
      );
      expect(failed).toBe(0);
      expect(degraded).toBe(true);
      expect(refusedAt).not.toBeNull();
    });

    it("Postgres (and Redis) cut from B: a grant is not served from B's cache past the bound", {
      timeout: 40_000,
    }, async () => {
      const g = await grant();
      const victim = api(b.t.handler, g.key);
      const catalog = () => victim.get("/api/v1/inference/endpoints");
      expect((await catalog()).status).toBe(200); // the key is cached in B
      redisProxy.pause();
      pgProxy.pause();
      const cut = Date.now();
      try {
        await revoke(g); // through A, which still reaches Postgres
        let lastServed: number | null = null;
        let decisionsFailed = 0;
        let decisionsAnswered = 0;
        while (Date.now() - cut < STALENESS_MS + 2_000) {
          const [c, d] = await Promise.all([catalog(), decision(svcB, g.tenant)]);
          if (c.status === 200) lastServed = Date.now() - cut;
          d.status === 200 ? decisionsAnswered++ : decisionsFailed++;
          await sleep(20);
        }
        figures.push(
          `${"Postgres+Redis cut from B".padEnd(44)} revoked key last served from B's cache ${lastServed ?? "never"} ms after the cut (bound ${STALENESS_MS} ms); decisions answered ${decisionsAnswered}, failed ${decisionsFailed} (503: no audit, no answer)`,
        );
        expect(decisionsAnswered).toBe(0);
        expect((await catalog()).status).toBe(503);
        expect(lastServed ?? 0).toBeLessThanOrEqual(BOUND_MS);
      } finally {
        pgProxy.resume();
        redisProxy.resume();
      }
      await expect.poll(async () => (await catalog()).status, { timeout: 10_000, interval: 100 }).toBe(401);
      await expect
        .poll(async () => (await decision(svcB, g.tenant)).status, { timeout: 10_000, interval: 100 })
        .toBe(200);
      expect((await decision(svcB, g.tenant)).body.reason.code).not.toBe("ALLOW_BREAK_GLASS");
    });
  },
);
