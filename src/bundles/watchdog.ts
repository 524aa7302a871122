// The serving bundle's watchdog. Candidates are checked off the event loop (sandbox.ts), but the
// serving bundle evaluates on it, for inputs no check has seen. Every wasm evaluation there runs
// under a hard deadline (engine/deadline.ts) and is reported here with its duration; an evaluation
// stopped at the deadline, or one slower than `slowMs`, is a strike against its bundle. After
// `strikes` strikes within `windowMs` the bundle is retired once: the life cycle returns to the
// last good bundle, cluster-wide, and audits it (bundle-service.ts). One strike alone never
// retires a bundle: a single descheduled thread on a loaded machine must not roll a cluster back.

export type WatchdogOptions = {
  /** An evaluation slower than this (ms) is a strike even when it finished. */
  slowMs: number;
  /** Strikes within `windowMs` that retire a bundle. */
  strikes: number;
  windowMs: number;
  now?: () => number;
};

export const WATCHDOG_DEFAULTS: WatchdogOptions = { slowMs: 200, strikes: 3, windowMs: 60_000 };

export type Retirement = {
  sha256: string;
  strikes: number;
  /** Of the strikes: evaluations stopped at the deadline. */
  stopped: number;
  slowest_ms: number;
  window_ms: number;
};

export type Watchdog = {
  /** One wasm evaluation of the bundle `sha256` on the serving path. */
  observe(sha256: string, ms: number, stopped: boolean): void;
  /** Forget a bundle's strikes and retirement (it was activated again on purpose). */
  reset(sha256: string): void;
};

export function createWatchdog(options: WatchdogOptions, onRetire: (r: Retirement) => void): Watchdog {
  const now = options.now ?? (() => Date.now());
  const strikes = new Map<string, Array<{ at: number; ms: number; stopped: boolean }>>();
  const retired = new Set<string>();
  return {
    observe(sha256, ms, stopped) {
      if (!stopped && ms <= options.slowMs) return;
      if (retired.has(sha256)) return;
      const at = now();
      const recent = (strikes.get(sha256) ?? []).filter((s) => at - s.at < options.windowMs);
      recent.push({ at, ms, stopped });
      strikes.set(sha256, recent);
      if (recent.length < options.strikes) return;
      retired.add(sha256);
      strikes.delete(sha256);
      onRetire({
        sha256,
        strikes: recent.length,
        stopped: recent.filter((s) => s.stopped).length,
        slowest_ms: Math.round(Math.max(...recent.map((s) => s.ms))),
        window_ms: options.windowMs,
      });
    },
    reset(sha256) {
      strikes.delete(sha256);
      retired.delete(sha256);
    },
  };
}
