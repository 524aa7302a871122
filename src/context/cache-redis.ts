import type { Redis } from "ioredis";
import type { TenantCache } from "./cache.ts";
import { createMemoryCache } from "./cache.ts";

// Two levels: an in-process L1 (no network on the hot path) over Redis shared by every instance.
//
// In Redis every value lives under a key that contains its tenant's generation
// (`<prefix>ctx:<tenant>:<generation>:<key>`, with its own TTL). An invalidation is one INCR of
// the generation plus a PUBLISH: from that instant no instance can read an older value from Redis,
// whatever happens to the message, and stale keys simply expire. The message tells every instance
// to drop its L1 copies; the writer drops its own before it answers. If a message were lost, the
// short L1 TTL bounds how long another instance could serve from its L1.
//
// Redis unreachable: reads fall back to Postgres (a miss, reported through onError) and invalidations
// throw so the caller retries them (createInvalidator); decisions keep flowing from the store.

export type RedisCacheOptions = {
  redis: Redis;
  /** A second connection in subscriber mode (ioredis `duplicate()`); closed with the cache. */
  subscriber: Redis;
  prefix?: string;
  ttlSeconds?: number;
  l1TtlMs?: number;
  onError?: (err: Error) => void;
};

const GET_CURRENT = `
local generation = redis.call('GET', KEYS[1]) or '0'
return {generation, redis.call('GET', ARGV[1] .. generation .. ':' .. ARGV[2])}`;

// Store only if the generation has not moved since the reader looked.
const SET_IF_CURRENT = `
local generation = redis.call('GET', KEYS[1]) or '0'
if generation ~= ARGV[1] then return 0 end
redis.call('SET', ARGV[2] .. generation .. ':' .. ARGV[3], ARGV[4], 'EX', ARGV[5])
return 1`;

const UNAVAILABLE = "unavailable";

export async function createRedisCache(options: RedisCacheOptions): Promise<TenantCache> {
  const { redis, subscriber } = options;
  const prefix = options.prefix ?? "residency:";
  const ttl = options.ttlSeconds ?? 300;
  const channel = `${prefix}invalidate`;
  const l1 = createMemoryCache({ ttlMs: options.l1TtlMs ?? 10_000 });
  const genKey = (tenant: string) => `${prefix}gen:${tenant}`;
  const entryPrefix = (tenant: string) => `${prefix}ctx:${tenant}:`;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));

  subscriber.on("message", (ch: string, tenant: string) => {
    if (ch === channel) void l1.invalidate(tenant);
  });
  await subscriber.subscribe(channel);

  return {
    async get<T>(tenant: string, key: string) {
      const local = await l1.get<{ value: T; generation: string }>(tenant, key);
      if (local.value !== undefined) return local.value;
      let generation: string;
      let raw: string | null;
      try {
        [generation, raw] = (await redis.eval(GET_CURRENT, 1, genKey(tenant), entryPrefix(tenant), key)) as [
          string,
          string | null,
        ];
      } catch (err) {
        report(err);
        return { value: undefined, generation: UNAVAILABLE };
      }
      if (raw === null) return { value: undefined, generation };
      const value = JSON.parse(raw) as T;
      await l1.set(tenant, key, { value, generation }, local.generation);
      return { value, generation };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string) {
      // Without Redis there is no shared generation to check against: keep the value out of every
      // cache rather than risk pinning a stale one.
      if (generation === UNAVAILABLE) return;
      const localGen = (await l1.get(tenant, key)).generation;
      try {
        const stored = await redis.eval(
          SET_IF_CURRENT,
          1,
          genKey(tenant),
          generation,
          entryPrefix(tenant),
          key,
          JSON.stringify(value),
          String(ttl),
        );
        if (stored === 1) await l1.set(tenant, key, { value, generation }, localGen);
      } catch (err) {
        report(err);
      }
    },
    async invalidate(tenant: string) {
      await l1.invalidate(tenant); // local first: this instance never serves stale, even if Redis fails
      await redis.multi().incr(genKey(tenant)).publish(channel, tenant).exec();
    },
    async close() {
      await subscriber.unsubscribe(channel).catch(report);
      subscriber.disconnect();
      await l1.close();
    },
  };
}
