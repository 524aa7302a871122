import type { Db } from "../store/db.ts";

// Which cached values may still be used. Postgres is the source of truth (migration 005 bumps a
// scope's generation by trigger in the very transaction that changes it); each instance keeps the
// generations it has seen and tags every cached value with its scope's generation, so a value
// cached before a change is never read again once the change is seen.
//
// How soon a change is seen: at once by the writer (it reads the new generation back before it
// answers), within milliseconds by the others when Redis carries the writer's message, and within
// `pollMs` when it does not (every instance reads the generations changed since its last look).
// What is never done: vouch for a cache when Postgres has not confirmed the generations within
// `maxStalenessMs` — `current()` then answers null and callers read the store (which, being
// unreachable, answers 503: a grant is never served from a cache beyond the bound).
// See docs/decisions/0009-cache-freshness-from-postgres.md.

export type Generations = {
  /** The scope's generation, or null when it cannot be vouched for: use and fill no cache then. */
  current(scope: string): string | null;
  /** Called by the writer after it committed a change to `scope`; returns the generation to announce. */
  afterWrite(scope: string): Promise<number | null>;
  /** A generation learned from a peer's message; generations only ever move forward. */
  advance(scope: string, generation: number): void;
  close(): void;
};

/** Cache scopes that are not tenants (tenant ids never contain NUL). */
export const KEYS_SCOPE = "\u0000keys";
export const REGIONS_SCOPE = "\u0000regions";

/** The cache scope's row in `cache_generations`. */
export function storeScope(scope: string): string {
  if (scope === KEYS_SCOPE) return "keys";
  if (scope === REGIONS_SCOPE) return "regions";
  return `tenant:${scope}`;
}

function cacheScope(stored: string): string {
  if (stored === "keys") return KEYS_SCOPE;
  if (stored === "regions") return REGIONS_SCOPE;
  return stored.startsWith("tenant:") ? stored.slice("tenant:".length) : stored;
}

/** Generations held in this process only: right for one instance whose writes all pass through it. */
export function createLocalGenerations(): Generations {
  const generations = new Map<string, number>();
  return {
    current: (scope) => String(generations.get(scope) ?? 0),
    async afterWrite(scope) {
      const next = (generations.get(scope) ?? 0) + 1;
      generations.set(scope, next);
      return next;
    },
    advance(scope, generation) {
      if (generation > (generations.get(scope) ?? 0)) generations.set(scope, generation);
    },
    close() {},
  };
}

// A transaction may commit some time after its trigger stamped `changed_at`; each look re-reads
// this much history so such a commit is never skipped. Only rows changed in the window are read.
const LOOKBACK_MS = 30_000;

export type StoreGenerationsOptions = {
  db: Db;
  /** How often to read changed generations; null when no other process writes (embedded store). */
  pollMs: number | null;
  /** Older confirmation than this and no cache is used (default 1000 ms). */
  maxStalenessMs?: number;
  now?: () => number;
  onError?: (err: Error) => void;
  /** Each successful look, with how long it took (metrics, tests). */
  onPoll?: (ms: number) => void;
};

export async function createStoreGenerations(options: StoreGenerationsOptions): Promise<Generations> {
  const { db } = options;
  const now = options.now ?? Date.now;
  const maxStalenessMs = options.maxStalenessMs ?? 1_000;
  const generations = new Map<string, number>();
  /** Scopes whose write could not be read back: no cache for them until a later look succeeds. */
  const unsure = new Map<string, number>();
  let confirmedAt = Number.NEGATIVE_INFINITY;
  let since: string | null = null;
  let closed = false;
  let polling = false;
  const report = (err: unknown) => options.onError?.(err instanceof Error ? err : new Error(String(err)));

  function advance(scope: string, generation: number) {
    if (generation > (generations.get(scope) ?? 0)) generations.set(scope, generation);
  }

  async function look(): Promise<void> {
    const started = now();
    const r = await db.query<{ now: Date | string; changed: Array<[string, number]> }>(
      `SELECT clock_timestamp() AS now, coalesce((SELECT json_agg(json_build_array(scope, generation))
         FROM cache_generations
        WHERE $1::timestamptz IS NULL OR changed_at > $1::timestamptz - make_interval(secs => $2)), '[]') AS changed`,
      [since, LOOKBACK_MS / 1000],
    );
    const row = r.rows[0]!;
    const changed =
      typeof row.changed === "string" ? (JSON.parse(row.changed) as typeof row.changed) : row.changed;
    for (const [scope, generation] of changed) advance(cacheScope(scope), Number(generation));
    since = new Date(row.now).toISOString();
    confirmedAt = started;
    for (const [scope, at] of unsure) if (at <= started) unsure.delete(scope);
    options.onPoll?.(now() - started);
  }

  await look();

  const timer =
    options.pollMs === null
      ? null
      : setInterval(() => {
          if (polling || closed) return;
          polling = true;
          look()
            .catch(report)
            .finally(() => {
              polling = false;
            });
        }, options.pollMs);
  timer?.unref();

  return {
    current(scope) {
      if (unsure.has(scope)) return null;
      if (options.pollMs !== null && now() - confirmedAt > maxStalenessMs) return null;
      return String(generations.get(scope) ?? 0);
    },
    async afterWrite(scope) {
      try {
        const r = await db.query<{ generation: number | string }>(
          "SELECT generation FROM cache_generations WHERE scope = $1",
          [storeScope(scope)],
        );
        const generation = Number(r.rows[0]?.generation ?? 0);
        advance(scope, generation);
        unsure.delete(scope);
        return generation;
      } catch (err) {
        // Committed, but its generation could not be read back: distrust the scope until the
        // next successful look (which starts after now) has brought the generation in.
        unsure.set(scope, now());
        report(err);
        return null;
      }
    },
    advance,
    close() {
      closed = true;
      if (timer) clearInterval(timer);
    },
  };
}
