import type { Redis } from "ioredis";
import type { TenantCache } from "./cache.ts";
import { createMemoryCache } from "./cache.ts";

// Two levels: an in-process L1 (no network on the hot path) over Redis shared by every instance.
// A write bumps the tenant's generation in Redis, drops its hash and publishes the tenant on a
// channel; every instance drops its L1 entries on receipt. The writer drops its own L1 before it
// answers, so it never serves stale; other instances converge as soon as the message lands
// (sub-millisecond on a LAN) and their L1 TTL bounds the worst case if a message were lost.

export type RedisCacheOptions = {
  redis: Redis;
  /** A second connection in subscriber mode (ioredis `duplicate()`). */
  subscriber: Redis;
  prefix?: string;
  ttlSeconds?: number;
  l1TtlMs?: number;
  onError?: (err: Error) => void;
};

// Set only if the generation has not moved since the reader looked.
const SET_IF_GENERATION = `
local current = redis.call('GET', KEYS[2]) or '0'
if current ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

export async function createRedisCache(options: RedisCacheOptions): Promise<TenantCache> {
  const { redis, subscriber } = options;
  const prefix = options.prefix ?? "residency:";
  const ttl = options.ttlSeconds ?? 300;
  const channel = `${prefix}invalidate`;
  const l1 = createMemoryCache({ ttlMs: options.l1TtlMs ?? 30_000 });
  const hashKey = (tenant: string) => `${prefix}ctx:${tenant}`;
  const genKey = (tenant: string) => `${prefix}gen:${tenant}`;

  subscriber.on("message", (ch: string, tenant: string) => {
    if (ch === channel) void l1.invalidate(tenant);
  });
  await subscriber.subscribe(channel);

  return {
    async get<T>(tenant: string, key: string) {
      const local = await l1.get<{ value: T; generation: string }>(tenant, key);
      if (local.value !== undefined) return local.value;
      const results = await redis.pipeline().hget(hashKey(tenant), key).get(genKey(tenant)).exec();
      const raw = results?.[0]?.[1] as string | null | undefined;
      const generation = (results?.[1]?.[1] as string | null | undefined) ?? "0";
      if (raw === null || raw === undefined) return { value: undefined, generation };
      const value = JSON.parse(raw) as T;
      await l1.set(tenant, key, { value, generation }, local.generation);
      return { value, generation };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string) {
      const localGen = (await l1.get(tenant, key)).generation;
      const stored = await redis.eval(
        SET_IF_GENERATION,
        2,
        hashKey(tenant),
        genKey(tenant),
        generation,
        key,
        JSON.stringify(value),
        String(ttl),
      );
      if (stored === 1) await l1.set(tenant, key, { value, generation }, localGen);
    },
    async invalidate(tenant: string) {
      await l1.invalidate(tenant);
      await redis.multi().incr(genKey(tenant)).del(hashKey(tenant)).publish(channel, tenant).exec();
    },
    async close() {
      await subscriber.unsubscribe(channel).catch((err: Error) => options.onError?.(err));
      await l1.close();
    },
  };
}
