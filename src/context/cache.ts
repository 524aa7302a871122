// The policy-context cache. Values are grouped by tenant because every change (a policy, an
// override) invalidates a whole tenant at once. Invalidation carries a generation so a reader
// that loaded from Postgres *before* a write cannot put the stale value back *after* it.

export type TenantCache = {
  get<T>(tenant: string, key: string): Promise<{ value: T | undefined; generation: string }>;
  /** Stores only if the tenant's generation is still the one seen by `get`. */
  set<T>(tenant: string, key: string, value: T, generation: string): Promise<void>;
  invalidate(tenant: string): Promise<void>;
  close(): Promise<void>;
};

type Entry = { value: unknown; expires: number };

/** In-process LRU (Map insertion order) with TTL: the single-instance default. */
export function createMemoryCache(
  options: { maxEntries?: number; ttlMs?: number; now?: () => number } = {},
): TenantCache {
  const maxEntries = options.maxEntries ?? 10_000;
  const ttlMs = options.ttlMs ?? 60_000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const generations = new Map<string, number>();
  const byTenant = new Map<string, Set<string>>();

  const fullKey = (tenant: string, key: string) => `${tenant}\u0000${key}`;
  const gen = (tenant: string) => String(generations.get(tenant) ?? 0);

  return {
    async get<T>(tenant: string, key: string) {
      const k = fullKey(tenant, key);
      const entry = entries.get(k);
      if (entry && entry.expires > now()) {
        entries.delete(k); // refresh LRU position
        entries.set(k, entry);
        return { value: entry.value as T, generation: gen(tenant) };
      }
      if (entry) entries.delete(k);
      return { value: undefined, generation: gen(tenant) };
    },
    async set<T>(tenant: string, key: string, value: T, generation: string) {
      if (generation !== gen(tenant)) return;
      const k = fullKey(tenant, key);
      entries.set(k, { value, expires: now() + ttlMs });
      let keys = byTenant.get(tenant);
      if (!keys) {
        keys = new Set();
        byTenant.set(tenant, keys);
      }
      keys.add(k);
      while (entries.size > maxEntries) {
        const oldest = entries.keys().next().value as string;
        entries.delete(oldest);
      }
    },
    async invalidate(tenant: string) {
      generations.set(tenant, (generations.get(tenant) ?? 0) + 1);
      for (const k of byTenant.get(tenant) ?? []) entries.delete(k);
      byTenant.delete(tenant);
    },
    async close() {
      entries.clear();
    },
  };
}
