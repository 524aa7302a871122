import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createMemoryCache } from "../../src/context/cache.ts";
import { createRedisCache } from "../../src/context/cache-redis.ts";

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
  const prefix = `residency-cache-test-${randomBytes(4).toString("hex")}:`;
  const make = async () => {
    const redis = new Redis(REDIS_URL!);
    const subscriber = redis.duplicate();
    clients.push(redis, subscriber);
    return createRedisCache({ redis, subscriber, prefix });
  };
  afterAll(async () => {
    const keys = await clients[0]!.keys(`${prefix}*`);
    if (keys.length > 0) await clients[0]!.del(...keys);
    await Promise.all(clients.map((c) => c.quit()));
  });

  it("a value stored by one instance is read by another; an invalidation reaches both", async () => {
    const a = await make();
    const b = await make();
    const g = await a.get("tenant", "ctx");
    await a.set("tenant", "ctx", { policy: 1 }, g.generation);
    expect((await b.get("tenant", "ctx")).value).toEqual({ policy: 1 }); // from Redis, now in B's L1
    await a.invalidate("tenant");
    await expect.poll(async () => (await b.get("tenant", "ctx")).value, { timeout: 2_000 }).toBeUndefined();
  });

  it("refuses a stale write that raced an invalidation from another instance", async () => {
    const a = await make();
    const b = await make();
    const seen = await b.get("race", "ctx"); // B misses and starts loading
    await a.invalidate("race"); // A writes a new policy
    await b.set("race", "ctx", { stale: true }, seen.generation); // B's stale value arrives late
    expect((await a.get("race", "ctx")).value).toBeUndefined();
    expect((await b.get("race", "ctx")).value).toBeUndefined();
  });
});
