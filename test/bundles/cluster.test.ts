import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisCache } from "../../src/context/cache-redis.ts";
import { createStoreGenerations } from "../../src/context/generations.ts";
import { type TestDb, testBackends } from "../support/databases.ts";
import { api } from "../support/http.ts";
import { ADMIN_KEY, startTestService, type TestService } from "../support/service.ts";
import { buildBundle, DECISION, fileRevision, putBundle } from "./support.ts";

// Several instances sharing Postgres and Redis converge on the bundle Postgres records as active:
// at once on the Redis announcement, and through the periodic check when a message is missed.

const REDIS_URL = process.env.REDIS_URL;
const postgres = testBackends().find((b) => b.name === "postgres");
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!REDIS_URL || !postgres)("bundles across instances sharing Postgres and Redis", () => {
  let db: TestDb;
  let a: TestService;
  let b: TestService;
  let prefix: string;
  const clients: Redis[] = [];
  const extra: TestService[] = [];
  const closers: Array<() => void> = [];

  async function instance(options: { redis?: boolean; pollMs?: number } = {}) {
    if (options.redis === false) {
      return startTestService({ db: await db.peer(), bundlePollIntervalMs: options.pollMs ?? 60_000 });
    }
    const redis = new Redis(REDIS_URL!);
    const subscriber = redis.duplicate();
    clients.push(redis, subscriber);
    const peer = await db.peer();
    const generations = await createStoreGenerations({ db: peer, pollMs: 250 });
    closers.push(() => generations.close());
    const cache = await createRedisCache({ redis, subscriber, prefix, generations });
    return startTestService({
      db: peer,
      cache,
      redis,
      redisPrefix: prefix,
      // A minute: within the test, only the Redis announcement can explain a fast convergence.
      bundlePollIntervalMs: options.pollMs ?? 60_000,
    });
  }

  /** Polls B's decisions until one carries `revision`; returns the time it took. */
  async function servedWithin(t: TestService, revision: string, timeoutMs: number): Promise<number> {
    const svc = api(t.handler, ADMIN_KEY);
    const started = Date.now();
    while (Date.now() - started < timeoutMs) {
      const res = await svc.post("/api/v1/access/resolve", DECISION);
      expect(res.status).toBe(200);
      if (res.body.bundle_revision === revision) return Date.now() - started;
      await sleep(20);
    }
    throw new Error(`${revision} not served within ${timeoutMs} ms`);
  }

  beforeAll(async () => {
    db = await postgres!.create();
    prefix = `residency-test-${randomBytes(4).toString("hex")}:`;
    a = await instance();
    b = await instance();
    await api(a.handler, ADMIN_KEY).post("/api/v1/policies", {
      tenant_id: DECISION.tenant_id,
      primary_region: "eu-west",
    });
  });
  afterAll(async () => {
    for (const t of [a, b, ...extra]) await t?.close();
    for (const close of closers) close();
    await Promise.all(clients.map((c) => c.quit()));
    await db?.close();
  });

  it("both instances start on the same bundle, recorded once", async () => {
    for (const t of [a, b]) {
      expect((await api(t.handler, ADMIN_KEY).get("/api/v1/bundles/active")).body.revision).toBe(
        fileRevision(),
      );
    }
    expect((await db.query("SELECT count(*)::int AS n FROM bundle_activations")).rows[0]).toEqual({ n: 1 });
  });

  it("a push to A is served by B within 2 s (Redis announcement)", async () => {
    const res = await putBundle(a.handler, ADMIN_KEY, buildBundle("rev-cluster-1"));
    expect(res.status).toBe(201);
    const ms = await servedWithin(b, "rev-cluster-1", 2_000);
    process.stdout.write(`[cluster] a push to A was served by B after ${ms} ms\n`);
    expect(ms).toBeLessThan(2_000);
    expect((await api(b.handler, ADMIN_KEY).get("/api/v1/bundles/active")).body).toMatchObject({
      revision: "rev-cluster-1",
      source: "cluster",
      activated_by: "bootstrap-admin",
    });
  });

  it("a rollback through B is served by A within 2 s", async () => {
    const res = await api(b.handler, ADMIN_KEY).post(`/api/v1/bundles/${fileRevision()}/activate`);
    expect(res.status).toBe(200);
    expect(await servedWithin(a, fileRevision(), 2_000)).toBeLessThan(2_000);
  });

  it("a bundle refused by A changes nothing anywhere", async () => {
    const res = await putBundle(a.handler, ADMIN_KEY, Buffer.from("corrupt"));
    expect(res.status).toBe(422);
    await sleep(300);
    for (const t of [a, b]) {
      const d = await api(t.handler, ADMIN_KEY).post("/api/v1/access/resolve", DECISION);
      expect(d.body.bundle_revision).toBe(fileRevision());
    }
  });

  it("an instance that misses the announcement (no Redis) converges through its periodic check", async () => {
    const c = await instance({ redis: false, pollMs: 300 });
    extra.push(c);
    const res = await putBundle(a.handler, ADMIN_KEY, buildBundle("rev-cluster-2"));
    expect(res.status).toBe(201);
    expect(await servedWithin(c, "rev-cluster-2", 2_000)).toBeLessThan(2_000);
  });

  it("a new instance joins on the cluster's active bundle, not on its (known) bundle file", async () => {
    const d = await instance();
    extra.push(d);
    expect((await api(d.handler, ADMIN_KEY).get("/api/v1/bundles/active")).body).toMatchObject({
      revision: "rev-cluster-2",
      source: "startup",
    });
  });
});
