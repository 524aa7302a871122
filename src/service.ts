import type { KeyObject } from "node:crypto";
import type { Redis } from "ioredis";
import type { Registry } from "prom-client";
import { createKeyAdmin } from "./admin/keys.ts";
import { createLegalHoldAdmin } from "./admin/legal-holds.ts";
import { createOverrideAdmin, type OverrideNotifier } from "./admin/overrides.ts";
import { createPolicyAdmin } from "./admin/policies.ts";
import { createRegionAdmin } from "./admin/regions.ts";
import type { ArchiveTarget } from "./audit/archive.ts";
import { createAuditLog } from "./audit/audit-log.ts";
import type { CheckpointSigner } from "./audit/checkpoint.ts";
import { createAuditReader } from "./audit/reader.ts";
import { archiveOldestPartitions } from "./audit/retention.ts";
import { createVerifyJobs } from "./audit/verify-job.ts";
import { BUNDLE_HISTORY_KEEP, pruneBundles } from "./bundles/bundle-pruning.ts";
import { createBundleService } from "./bundles/bundle-service.ts";
import type { LoadedBundle } from "./bundles/candidate.ts";
import type { SandboxBudget } from "./bundles/sandbox.ts";
import type { WatchdogOptions } from "./bundles/watchdog.ts";
import { createCachedAuthenticate } from "./context/auth-cache.ts";
import type { TenantCache } from "./context/cache.ts";
import { createContextLoader } from "./context/context-loader.ts";
import { createKeysRepo } from "./context/keys-repo.ts";
import { createLegalHoldsRepo } from "./context/legal-holds-repo.ts";
import { createOverridesRepo } from "./context/overrides-repo.ts";
import { createPoliciesRepo } from "./context/policies-repo.ts";
import { createRegionsRepo } from "./context/regions-repo.ts";
import { createDecide } from "./decision/decide.ts";
import { createPresign } from "./decision/presign.ts";
import type { InfrastructureMap } from "./endpoints/infrastructure.ts";
import type { Presigner } from "./endpoints/presigner.ts";
import { createPolicyEngine } from "./engine/index.ts";
import { toError } from "./errors.ts";
import { type App, createApp } from "./http/app.ts";
import { bundleRoutes } from "./http/routes/bundles.ts";
import { createStateLog } from "./observability/access-log.ts";
import type { Logger } from "./observability/logger.ts";
import { createMetrics } from "./observability/metrics.ts";
import type { Db } from "./store/db.ts";

// Composition: rooms wired from clients that were built elsewhere (main.ts from the environment,
// tests from their own fixtures). No environment reads here.

export type ServiceOptions = {
  db: Db;
  cache: TenantCache;
  redis: Redis | null;
  redisPrefix: string;
  logger: Logger;
  registry: Registry;
  /** What /metrics answers instead of `registry`'s text (WORKERS > 1: every worker's, aggregated). */
  metricsText?: () => Promise<string>;
  infrastructure: InfrastructureMap;
  presigner: Presigner;
  bundlePath: string;
  bundleVerificationKey: string | null;
  bundleVerificationAlg?: string | null;
  /** Hard limit on one evaluation of the serving bundle, ms (0: none). */
  bundleEvaluationTimeoutMs?: number;
  /** Budgets of sandboxed candidate checks and dry runs; watchdog thresholds (tests shorten them). */
  bundleSandbox?: Partial<SandboxBudget>;
  bundleWatchdog?: Partial<WatchdogOptions>;
  bundlePollIntervalMs: number;
  /** Decisions reused per entrypoint within their time window (0: evaluate every time). */
  decisionMemoEntries: number;
  /** Watch bundlePath for changes while running (default true). */
  bundleWatch?: boolean;
  requiredApprovals: number;
  overrideMaxHours: number;
  notify?: OverrideNotifier;
  clock?: () => Date;
  /** Audit checkpoints (default: every 10,000 records, no time trigger, unsigned). */
  auditCheckpoints?: {
    everyRecords: number;
    everySeconds: number | null;
    signer: (CheckpointSigner & { publicKey: KeyObject }) | null;
  };
  /**
   * Archive and drop partitions older than `days` (default: keep everything); then prune the bundles
   * no retained record cites beyond the last `bundleHistoryKeep` (default 20), archived to the same
   * target (docs/decisions/0014).
   */
  auditRetention?: { days: number; target: ArchiveTarget; intervalMs?: number; bundleHistoryKeep?: number };
};

export type Service = Awaited<ReturnType<typeof createService>>;

export async function createService(o: ServiceOptions) {
  const { db, logger } = o;
  const metrics = createMetrics(o.registry);
  const clock = o.clock ?? (() => new Date());
  const withClock = o.clock ? { clock: o.clock } : {};

  const checkpointSigner = o.auditCheckpoints?.signer ?? null;
  const audit = createAuditLog({
    db,
    checkpoints: {
      everyRecords: o.auditCheckpoints?.everyRecords ?? 10_000,
      everySeconds: o.auditCheckpoints?.everySeconds ?? null,
      signer: checkpointSigner,
      clock,
    },
    onFlush: ({ size, ms }) => {
      metrics.auditBatchSize.observe(size);
      metrics.auditFlushDuration.observe(ms / 1000);
    },
    onError: (err, { size }) => {
      metrics.auditFailures.inc(size);
      logger.error({ err, size }, "audit commit failed: decisions answered 503");
    },
  });

  const verifyJobs = createVerifyJobs({ db, publicKey: checkpointSigner?.publicKey ?? null, clock });

  // Retention runs on a timer; a second instance doing the same finds the work done or refused
  // (archives are numbered, a partition is dropped once) and tries again next time.
  const retention = o.auditRetention;
  let retaining: Promise<unknown> = Promise.resolve();
  const runRetention = async () => {
    if (!retention) return [];
    const done = await archiveOldestPartitions(db, {
      target: retention.target,
      publicKey: checkpointSigner?.publicKey ?? null,
      retentionDays: retention.days,
      clock,
    });
    for (const p of done) logger.info(p, "audit partition archived and dropped");
    // Records leaving may free the bundles only they cited; run every pass (a cheap query when not).
    const pruned = await pruneBundles(db, {
      keep: retention.bundleHistoryKeep ?? BUNDLE_HISTORY_KEEP,
      archive: retention.target.open("bundles"),
      audit,
      clock,
    });
    for (const b of pruned) logger.info(b, "bundle pruned from the store (archived)");
    return done;
  };
  const retentionTimer = retention
    ? setInterval(() => {
        retaining = runRetention().catch((err) =>
          logger.error({ err }, "audit retention failed; retrying later"),
        );
      }, retention.intervalMs ?? 3_600_000)
    : null;
  retentionTimer?.unref();

  const policiesRepo = createPoliciesRepo(db);
  const overridesRepo = createOverridesRepo(db);
  const regionsRepo = createRegionsRepo(db);
  const keysRepo = createKeysRepo(db);
  const legalHoldsRepo = createLegalHoldsRepo(db);
  const context = createContextLoader({
    ...withClock,
    policies: policiesRepo,
    overrides: overridesRepo,
    legalHolds: legalHoldsRepo,
    regions: regionsRepo,
    cache: o.cache,
    onLookup: (result) => metrics.cacheLookups.inc({ result }),
    onInvalidateError: (err, tenant) => logger.warn({ err, tenant }, "cache invalidation failed; retrying"),
  });
  const auth = createCachedAuthenticate({
    repo: keysRepo,
    cache: o.cache,
    onInvalidateError: (err) => logger.warn({ err }, "key cache invalidation failed; retrying"),
  });

  const auditReader = createAuditReader(db, {
    publicKey: checkpointSigner?.publicKey ?? null,
    jobs: verifyJobs,
  });
  const engine = createPolicyEngine<LoadedBundle>();
  const bundles = await createBundleService({
    engine,
    db,
    audit,
    records: auditReader,
    logger,
    metrics,
    bundlePath: o.bundlePath,
    verificationKey: o.bundleVerificationKey,
    verificationAlg: o.bundleVerificationAlg ?? null,
    ...(o.bundleEvaluationTimeoutMs !== undefined
      ? { evaluationTimeoutMs: o.bundleEvaluationTimeoutMs }
      : {}),
    ...(o.bundleSandbox ? { sandbox: o.bundleSandbox } : {}),
    ...(o.bundleWatchdog ? { watchdog: o.bundleWatchdog } : {}),
    redis: o.redis,
    redisPrefix: o.redisPrefix,
    pollIntervalMs: o.bundlePollIntervalMs,
    memoEntries: o.decisionMemoEntries,
    watch: o.bundleWatch ?? true,
    ...withClock,
  });

  const decide = createDecide({
    context,
    engine: engine,
    infrastructure: (code) => o.infrastructure[code],
    audit,
    recordOverrideUse: (id, at) => overridesRepo.recordUse(id, at),
    requiredApprovals: o.requiredApprovals,
    ...withClock,
    onEvaluated: (entrypoint, seconds) => metrics.evalDuration.observe({ entrypoint }, seconds),
    onDecision: (kind, allowed, code) => metrics.decisions.inc({ kind, allowed: String(allowed), code }),
    onBackgroundError: (err) => logger.warn({ err }, "background task failed"),
  });
  const presign = createPresign({ decide, presigner: o.presigner, infrastructure: o.infrastructure });

  const overrides = createOverrideAdmin({
    repo: overridesRepo,
    audit,
    invalidateTenant: context.invalidateTenant,
    ...(o.notify ? { notify: o.notify } : {}),
    requiredApprovals: o.requiredApprovals,
    maxHours: o.overrideMaxHours,
    bundleRevision: () => engine.current()?.revision ?? null,
    ...withClock,
    onActiveCount: (n) => metrics.activeOverrides.set(n),
    onBackgroundError: (err) => logger.warn({ err }, "override gauge refresh failed"),
  });
  const policies = createPolicyAdmin({
    repo: policiesRepo,
    holds: legalHoldsRepo,
    engine: engine,
    audit,
    invalidateTenant: context.invalidateTenant,
    ...withClock,
  });
  const regions = createRegionAdmin({
    repo: regionsRepo,
    engine: engine,
    infrastructure: o.infrastructure,
    audit,
    invalidateRegions: context.invalidateRegions,
    ...withClock,
  });
  const keys = createKeyAdmin({ repo: keysRepo, audit, forgetKey: auth.forgetKey, ...withClock });
  const legalHolds = createLegalHoldAdmin({
    repo: legalHoldsRepo,
    engine,
    audit,
    invalidateTenant: context.invalidateTenant,
    ...withClock,
  });

  const reportReadiness = createStateLog(logger);
  const app: App = createApp({
    logger,
    metrics,
    ...(o.metricsText ? { metricsText: o.metricsText } : {}),
    authenticate: auth.authenticate,
    decide,
    presign,
    policies,
    overrides,
    regions,
    keys,
    legalHolds,
    audit: auditReader,
    catalog: () => engine.current()?.reference.providers.catalog ?? null,
    health: async () => {
      const checks: Record<string, { ok: boolean; degraded?: boolean; detail?: unknown }> = {};
      const bundle = engine.current();
      checks.bundle = {
        ok: bundle !== null,
        detail: bundle ? { revision: bundle.revision } : "no bundle active",
      };
      let storeError: Error | null = null;
      try {
        await db.query("SELECT 1");
        checks.store = { ok: true, detail: db.kind };
      } catch (err) {
        // The probe is unauthenticated: say what is wrong, not where the database lives.
        storeError = toError(err);
        checks.store = { ok: false, detail: `${db.kind} unreachable` };
      }
      // Redis is a cache: without it decisions come from the in-process layer and Postgres, so it
      // is reported (degraded), never a reason to leave the load balancer.
      const shared = o.cache.status();
      if (shared.shared !== "none")
        checks.cache =
          shared.shared === "ok"
            ? { ok: true, detail: "ready" }
            : { ok: true, degraded: true, detail: { status: "degraded", reason: shared.detail } };
      // What the probe saw is also a gauge, so alerts need no probe logs (deploy/alerts.yml).
      for (const [check, c] of Object.entries(checks)) {
        metrics.healthChecks.set({ check }, c.ok && c.degraded !== true ? 1 : 0);
        // Probes come every few seconds: a failing check is logged when it starts and when it ends.
        reportReadiness(
          check,
          c.ok,
          check === "store" && storeError ? { err: storeError } : { detail: c.detail },
        );
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
    bundleRoutes: bundleRoutes({ authenticate: auth.authenticate, bundles }),
  });

  return {
    app,
    metrics,
    audit,
    verifyJobs,
    /** One retention pass now (the timer runs them hourly): what was archived and dropped. */
    runRetention,
    bundles,
    decide,
    overrides,
    policies,
    keys,
    legalHolds,
    context,
    clock,
    /** Stops background work and drains the audit queue; leaves the clients to their owner. */
    async close() {
      await bundles.close();
      if (retentionTimer) clearInterval(retentionTimer);
      await retaining;
      await verifyJobs.idle();
      await audit.close();
      context.close();
      auth.close();
    },
  };
}
