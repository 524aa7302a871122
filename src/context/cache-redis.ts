import type { Redis, RedisOptions } from "ioredis";
import type { TenantCache } from "./cache.ts";
import { createMemoryCache } from "./cache.ts";
import type { Generations } from "./generations.ts";

// Two levels: an in-process L1 (no network on the hot path) over Redis shared by every instance.
// Redis is a cache, never a dependency and never the judge of freshness:
//
// - Every value lives under a key holding its scope's generation as Postgres knows it
//   (`<prefix>ctx:<tenant>:<generation>:<key>`, with its own TTL; generations.ts). A change bumps
//   the generation in Postgres, so an older value is unreadable once the change is seen — whatever
//   Redis holds: a cut that swallowed the announcement, a restart with or without its data.
// - The writer announces the new generation on `<prefix>invalidate`, so peers drop their copies
//   within milliseconds; without Redis they see it at their next look at Postgres.
// - No caller waits on Redis longer than `timeoutMs`: a command that fails or does not answer in
//   time (Redis paused, hung, cut) is a miss, and Redis is then bypassed for `retryAfterMs`, so the
//   decisions that follow go straight to the L1 and Postgres without waiting at all.

/**
 * Client options for a Redis that is a cache, not a dependency: commands fail at once while it is
 * away (no offline queue, no retries), connecting and answering are bounded, and reconnection is
 * tried every 100–500 ms so it is used again soon after it is back. Start-up does not wait for it.
 */
export function cacheRedisOptions(timeoutMs = 100): RedisOptions {
  return {
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: timeoutMs * 2,
    retryStrategy: (times) => Math.min(times * 100, 500),
  };
}

/**
 * The subscriber connection: queues its SUBSCRIBE until connected, and waits on messages forever.
 * It subscribes itself on every "ready": ioredis's own resubscribe has no catch, so a client closed
 * before that SUBSCRIBE is answered rejected it unhandled ("Connection is closed.").
 */
export const subscriberRedisOptions: RedisOptions = {
  enableOfflineQueue: true,
  commandTimeout: undefined,
  autoResubscribe: false,
};

export type RedisCacheOptions = {
  redis: Redis;
  /** A second connection in subscriber mode (ioredis `duplicate()`); closed with the cache. */
  subscriber: Redis;
  generations: Generations;
  prefix?: string;
  ttlSeconds?: number;
  l1TtlMs?: number;
  /** Longest wait for one Redis command before falling through to Postgres (default 100 ms). */
  timeoutMs?: number;
  /** How long Redis is bypassed after a failure or timeout before it is tried again (default 1 s). */
  retryAfterMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
};

type Attempt<T> = { ok: true; value: T } | { ok: false };

export async function createRedisCache(options: RedisCacheOptions): Promise<TenantCache> {
  const { redis, subscriber, generations } = options;
  const prefix = options.prefix ?? "residency:";
  const ttl = options.ttlSeconds ?? 300;
  const timeoutMs = options.timeoutMs ?? 100;
  const retryAfterMs = options.retryAfterMs ?? 1_000;
  const now = options.now ?? Date.now;
  const channel = `${prefix}invalidate`;
  const l1 = createMemoryCache({ ttlMs: options.l1TtlMs ?? 10_000, generations });
  const entryKey = (tenant: string, generation: string, key: string) =>
    `${prefix}ctx:${tenant}:${generation}:${key}`;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));

  let bypassUntil = 0;
  let lastFailure = "";

  async function attempt<T>(op: () => Promise<T>): Promise<Attempt<T>> {
    if (redis.status !== "ready" || now() < bypassUntil) return { ok: false };
    let timer: NodeJS.Timeout | undefined;
    const pending = op();
    pending.catch(() => {}); // abandoned after a timeout: its late failure is not news
    try {
      const value = await Promise.race([
        pending,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`redis: no answer within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
      return { ok: true, value };
    } catch (err) {
      bypassUntil = now() + retryAfterMs;
      lastFailure = err instanceof Error ? err.message : String(err);
      report(err);
      return { ok: false };
    } finally {
      clearTimeout(timer);
    }
  }

  subscriber.on("message", (ch: string, message: string) => {
    if (ch !== channel) return;
    try {
      const { scope, generation } = JSON.parse(message) as { scope: string; generation: number };
      if (typeof scope === "string" && Number.isSafeInteger(generation))
        generations.advance(scope, generation);
    } catch (err) {
      report(err);
    }
  });
  // On every (re)connection; what was announced meanwhile comes from Postgres at the next look.
  subscriber.on("ready", () => void subscriber.subscribe(channel).catch(report));
  if (subscriber.status === "wait") subscriber.connect().catch(report);
  else if (subscriber.status === "ready") {
    const subscribed = subscriber.subscribe(channel);
    subscribed.catch(report);
    await Promise.race([subscribed, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  }

  return {
    async get<T>(tenant: string, key: string) {
      const local = await l1.get<T>(tenant, key);
      if (local.value !== undefined || local.generation === null) return local;
      const generation = local.generation;
      const raw = await attempt(() => redis.get(entryKey(tenant, generation, key)));
      if (!raw.ok || raw.value === null) return { value: undefined, generation };
      const value = JSON.parse(raw.value) as T;
      await l1.set(tenant, key, value, generation);
      return { value, generation };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string | null) {
      if (generation === null || generation !== generations.current(tenant)) return;
      await l1.set(tenant, key, value, generation);
      // Not awaited: sharing the value with the peers is no reason to hold a decision.
      void attempt(() => redis.set(entryKey(tenant, generation, key), JSON.stringify(value), "EX", ttl));
    },
    async invalidate(tenant: string) {
      const generation = await generations.afterWrite(tenant); // this instance: at once
      if (generation === null) return;
      await attempt(() => redis.publish(channel, JSON.stringify({ scope: tenant, generation })));
    },
    status() {
      if (redis.status !== "ready") return { shared: "degraded", detail: `redis ${redis.status}` };
      if (now() < bypassUntil) return { shared: "degraded", detail: lastFailure };
      return { shared: "ok" };
    },
    async close() {
      await attempt(() => subscriber.unsubscribe(channel));
      subscriber.disconnect();
      await l1.close();
    },
  };
}
