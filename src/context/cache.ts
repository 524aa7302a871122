import { createLocalGenerations, type Generations } from "./generations.ts";

// The policy-context cache. Values are grouped by scope (a tenant, or the keys, or region health)
// because every change invalidates a whole scope at once. Every value carries its scope's
// generation (generations.ts: kept in Postgres, bumped in the transaction of each change) at the
// time it was loaded, and is read only while that generation is current — so a change, once seen,
// makes every older value unreadable, and no cache is used at all while the generations cannot be
// vouched for (`generation: null`).

export type TenantCache = {
  get<T>(tenant: string, key: string): Promise<{ value: T | undefined; generation: string | null }>;
  /** Stores only if `generation` (what `get` answered) is still the scope's current one. */
  set<T>(tenant: string, key: string, value: T, generation: string | null): Promise<void>;
  /** After a committed change: makes the scope's older values unreadable here, and (Redis) tells the others. */
  invalidate(tenant: string): Promise<void>;
  /** "ok", or why the shared layer is being bypassed (readiness reports it; never fatal). */
  status(): { shared: "none" | "ok" | "degraded"; detail?: string };
  close(): Promise<void>;
};

type Entry = { value: unknown; expires: number; generation: string };

/** In-process LRU (Map insertion order) with TTL: the single-instance default. */
export function createMemoryCache(
  options: { maxEntries?: number; ttlMs?: number; now?: () => number; generations?: Generations } = {},
): TenantCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const generations = options.generations ?? createLocalGenerations();
  const entries = new Map<string, Entry>();

  const fullKey = (tenant: string, key: string) => `${tenant}\u0000${key}`;

  return {
    async get<T>(tenant: string, key: string) {
      const k = fullKey(tenant, key);
      const entry = entries.get(k);
      const current = generations.current(tenant);
      if (entry && current !== null && entry.expires > now() && entry.generation === current) {
        entries.delete(k); // refresh LRU position
        entries.set(k, entry);
        return { value: entry.value as T, generation: current };
      }
      if (entry) entries.delete(k);
      return { value: undefined, generation: current };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string | null) {
      if (generation === null || generation !== generations.current(tenant)) return;
      const k = fullKey(tenant, key);
      entries.delete(k);
      entries.set(k, { value, expires: now() + ttlMs, generation });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    async invalidate(tenant: string) {
      await generations.afterWrite(tenant);
    },
    status: () => ({ shared: "none" }),
    async close() {
      entries.clear();
    },
  };
}

/**
 * Invalidation after a committed change: it must neither fail the API call (the change stands)
 * nor leave a stale value usable. Caches make it safe by construction (a failed read-back of the
 * generation distrusts the scope until Postgres confirms it); this only reports the failure.
 */
export function createInvalidator(cache: TenantCache, onError?: (err: Error, tenant: string) => void) {
  return {
    async invalidate(tenant: string): Promise<void> {
      try {
        await cache.invalidate(tenant);
      } catch (err) {
        onError?.(err instanceof Error ? err : new Error(String(err)), tenant);
      }
    },
    close() {},
  };
}
