// The policy-context cache. Values are grouped by tenant because every change (a policy, an
// override) invalidates a whole tenant at once. Every value carries the tenant's generation at the
// time it was loaded: an invalidation bumps the generation, so older values can never be read
// again, and a reader that loaded from Postgres *before* a write cannot store its stale value *after*
// it (`set` refuses a generation that is no longer current).

export type TenantCache = {
  get<T>(tenant: string, key: string): Promise<{ value: T | undefined; generation: string }>;
  /** Stores only if the tenant's generation is still the one seen by `get`. */
  set<T>(tenant: string, key: string, value: T, generation: string): Promise<void>;
  /** Makes every value of the tenant unreadable, here and (Redis) on every instance. */
  invalidate(tenant: string): Promise<void>;
  close(): Promise<void>;
};

type Entry = { value: unknown; expires: number; generation: number };

/** In-process LRU (Map insertion order) with TTL: the single-instance default. */
export function createMemoryCache(
  options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {},
): TenantCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const generations = new Map<string, number>();

  const fullKey = (tenant: string, key: string) => `${tenant}\u0000${key}`;
  const gen = (tenant: string) => generations.get(tenant) ?? 0;

  return {
    async get<T>(tenant: string, key: string) {
      const k = fullKey(tenant, key);
      const entry = entries.get(k);
      const current = gen(tenant);
      if (entry && entry.expires > now() && entry.generation === current) {
        entries.delete(k); // refresh LRU position
        entries.set(k, entry);
        return { value: entry.value as T, generation: String(current) };
      }
      if (entry) entries.delete(k);
      return { value: undefined, generation: String(current) };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string) {
      const current = gen(tenant);
      if (generation !== String(current)) return;
      const k = fullKey(tenant, key);
      entries.delete(k);
      entries.set(k, { value, expires: now() + ttlMs, generation: current });
      while (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    },
    async invalidate(tenant: string) {
      generations.set(tenant, gen(tenant) + 1);
    },
    async close() {
      entries.clear();
    },
  };
}

/**
 * Invalidation that cannot be lost: the change it follows is already committed, so a failure
 * (Redis away for a moment) must neither fail the API call nor leave the stale value readable.
 * The local copy is dropped at once; the shared one is retried in the background until it works.
 */
export function createInvalidator(cache: TenantCache, onError?: (err: Error, tenant: string) => void) {
  const timers = new Set<NodeJS.Timeout>();
  let closed = false;

  async function attempt(tenant: string, delayMs: number): Promise<void> {
    try {
      await cache.invalidate(tenant);
    } catch (err) {
      onError?.(err instanceof Error ? err : new Error(String(err)), tenant);
      if (closed) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        void attempt(tenant, Math.min(delayMs * 2, 30_000));
      }, delayMs);
      timer.unref();
      timers.add(timer);
    }
  }

  return {
    invalidate: (tenant: string) => attempt(tenant, 250),
    close() {
      closed = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
