import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemoryCache } from "../../src/context/cache.ts";
import {
  cacheRedisOptions,
  createRedisCache,
  subscriberRedisOptions,
} from "../../src/context/cache-redis.ts";
import { createLocalGenerations, createStoreGenerations } from "../../src/context/generations.ts";
import type { Db } from "../../src/store/db.ts";
import { createPgliteDb } from "../../src/store/db-pglite.ts";
import { migrate } from "../../src/store/migrate.ts";
import { startTcpProxy } from "../support/tcp-proxy.ts";

describe("in-process cache", () => {
  it("a reader that loaded before an invalidation cannot store its stale value after it", async () => {
    const cache = createMemoryCache();
    const seen = await cache.get("t1", "k"); // a reader starts loading from the store…
    await cache.invalidate("t1"); // …a writer commits and invalidates…
    await cache.set("t1", "k", { version: 1 }, seen.generation); // …the reader's stale value arrives
    expect((await cache.get("t1", "k")).value).toBeUndefined();
    const fresh = await cache.get("t1", "k");
    await cache.set("t1", "k", { version: 2 }, fresh.generation);
    expect((await cache.get("t1", "k")).value).toEqual({ version: 2 });
  });

  it("invalidating a tenant drops all its keys and no other tenant's", async () => {
    const cache = createMemoryCache();
    for (const [t, k] of [
      ["a", "1"],
      ["a", "2"],
      ["b", "1"],
    ] as const) {
      await cache.set(t, k, `${t}${k}`, (await cache.get(t, k)).generation);
    }
    await cache.invalidate("a");
    expect((await cache.get("a", "1")).value).toBeUndefined();
    expect((await cache.get("a", "2")).value).toBeUndefined();
    expect((await cache.get("b", "1")).value).toBe("b1");
  });

  it("expires entries after the TTL and evicts the least recently used beyond the limit", async () => {
    let now = 0;
    const cache = createMemoryCache({ maxEntries: 2, ttlMs: 1_000, now: () => now });
    await cache.set("t", "x", 1, "0");
    await cache.set("t", "y", 2, "0");
    await cache.get("t", "x"); // x is now the most recently used
    await cache.set("t", "z", 3, "0");
    expect((await cache.get("t", "y")).value).toBeUndefined();
    expect((await cache.get("t", "x")).value).toBe(1);
    now = 1_001;
    expect((await cache.get("t", "x")).value).toBeUndefined();
  });
});

const REDIS_URL = process.env.REDIS_URL;

describe.skipIf(!REDIS_URL)("Redis cache (real Redis)", () => {
  const clients: Redis[] = [];
  const closers: Array<() => Promise<void> | void> = [];
  const prefix = `residency-cache-test-${randomBytes(4).toString("hex")}:`;
  let db: Db;

  beforeAll(async () => {
    db = await createPgliteDb();
    await migrate(db);
  });
  // Two instances on one store; polling off, so only the Redis announcement can tell B of A's write.
  const make = async () => {
    const redis = new Redis(REDIS_URL!);
    const subscriber = redis.duplicate();
    clients.push(redis, subscriber);
    await Promise.all([once(redis, "ready"), once(subscriber, "ready")]);
    const generations = await createStoreGenerations({ db, pollMs: null });
    closers.push(() => generations.close());
    return createRedisCache({ redis, subscriber, prefix, generations });
  };
  afterAll(async () => {
    for (const close of closers) await close();
    const keys = await clients[0]!.keys(`${prefix}*`);
    if (keys.length > 0) await clients[0]!.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
    await db.close();
  });

  it("a value stored by one instance is read by another; a committed change reaches both", async () => {
    const a = await make();
    const b = await make();
    const g = await a.get("tenant", "ctx");
    await a.set("tenant", "ctx", { policy: 1 }, g.generation);
    await expect.poll(async () => (await b.get("tenant", "ctx")).value).toEqual({ policy: 1 }); // via Redis
    await db.query("SELECT bump_cache_generation('tenant:tenant')"); // what a policy write's trigger does
    await a.invalidate("tenant");
    expect((await a.get("tenant", "ctx")).value).toBeUndefined();
    await expect.poll(async () => (await b.get("tenant", "ctx")).value, { timeout: 2_000 }).toBeUndefined();
  });

  it("refuses a stale write that raced a change committed through another instance", async () => {
    const a = await make();
    const b = await make();
    const seen = await b.get("race", "ctx"); // B misses and starts loading
    await db.query("SELECT bump_cache_generation('tenant:race')");
    await a.invalidate("race"); // A committed a new policy
    await expect.poll(async () => (await b.get("race", "other")).generation).not.toBe(seen.generation);
    await b.set("race", "ctx", { stale: true }, seen.generation); // B's stale value arrives late
    expect((await a.get("race", "ctx")).value).toBeUndefined();
    expect((await b.get("race", "ctx")).value).toBeUndefined();
  });
});

describe.skipIf(!REDIS_URL)("Redis that stops answering (hung, paused)", () => {
  it("is a miss after the command timeout, then bypassed without waiting; reported degraded", async () => {
    const target = new URL(REDIS_URL!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const redis = new Redis(proxy.url(REDIS_URL!));
    const subscriber = redis.duplicate();
    for (const c of [redis, subscriber]) c.on("error", () => {});
    await once(redis, "ready");
    const cache = await createRedisCache({
      redis,
      subscriber,
      generations: createLocalGenerations(),
      prefix: `residency-hung-test-${randomBytes(4).toString("hex")}:`,
      timeoutMs: 100,
    });
    try {
      expect(cache.status()).toMatchObject({ shared: "ok" });
      proxy.freeze(); // connections open, nothing answers: what a hung or paused Redis looks like
      const t0 = performance.now();
      const first = await cache.get("t", "k");
      const firstMs = performance.now() - t0;
      const t1 = performance.now();
      const second = await cache.get("t", "k");
      const secondMs = performance.now() - t1;
      console.log(
        `hung Redis: first lookup answered a miss in ${firstMs.toFixed(1)} ms, the next in ${secondMs.toFixed(2)} ms`,
      );
      expect(first.value).toBeUndefined();
      expect(second.value).toBeUndefined();
      expect(cache.status()).toMatchObject({ shared: "degraded" });
      // The in-process layer keeps working while Redis is bypassed.
      await cache.set("t", "k", { v: 1 }, second.generation);
      expect((await cache.get("t", "k")).value).toEqual({ v: 1 });
    } finally {
      proxy.thaw();
      await cache.close();
      redis.disconnect();
      await proxy.close();
    }
  });
});

describe.skipIf(!REDIS_URL)("Redis subscriber closed while it resubscribes", () => {
  // ioredis resubscribes on reconnect without a catch: a client closed before that SUBSCRIBE is
  // answered rejected it unhandled ("Connection is closed."), which ends a process by default.
  it("closing the cache right after a reconnection leaves no unhandled rejection", async () => {
    const target = new URL(REDIS_URL!);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    const prefix = `residency-resub-test-${randomBytes(4).toString("hex")}:`;
    const direct = new Redis(REDIS_URL!);
    const redis = new Redis(proxy.url(REDIS_URL!), { ...cacheRedisOptions(100), lazyConnect: false });
    const subscriber = redis.duplicate(subscriberRedisOptions);
    for (const c of [redis, subscriber]) c.on("error", () => {});
    try {
      await once(redis, "ready");
      const cache = await createRedisCache({
        redis,
        subscriber,
        generations: createLocalGenerations(),
        prefix,
        timeoutMs: 100,
      });
      const subscribers = async () =>
        ((await direct.call("PUBSUB", "NUMSUB", `${prefix}invalidate`)) as [string, number])[1];
      const cut = async () => {
        proxy.pause(); // both connections cut; ioredis retries
        await until(() => subscriber.status !== "ready");
        proxy.resume();
        await once(subscriber, "ready"); // the reconnection; its SUBSCRIBE is on the wire now
      };
      await until(() => subscriber.status === "ready");
      await eventually(async () => (await subscribers()) === 1);
      // Without ioredis's own resubscribe, the cache's subscribes again after a reconnection…
      await cut();
      await eventually(async () => (await subscribers()) === 1);
      // …and closing before that SUBSCRIBE is answered is quiet.
      await cut();
      await cache.close();
      redis.disconnect();
      await sleep(100);
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
      direct.disconnect();
      await proxy.close();
    }
  });
});

async function eventually(condition: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(10);
  }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await sleep(5);
  }
}
