import { existsSync, mkdirSync, readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { join } from "node:path";
import { Redis } from "ioredis";
import { collectDefaultMetrics, Registry } from "prom-client";
import { createWebhookNotifier } from "./admin/webhook.ts";
import { directoryTarget } from "./audit/archive.ts";
import { ed25519Signer } from "./audit/checkpoint.ts";
import { clusterMetricsSource, isClusterWorker, superviseWorkers, WORKER_READY } from "./cluster.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { createMemoryCache, type TenantCache } from "./context/cache.ts";
import { cacheRedisOptions, createRedisCache, subscriberRedisOptions } from "./context/cache-redis.ts";
import { createStoreGenerations } from "./context/generations.ts";
import { createS3ArchiveTarget } from "./endpoints/archive-s3.ts";
import { loadInfrastructure } from "./endpoints/infrastructure.ts";
import { createPresigner } from "./endpoints/presigner.ts";
import { AppError, toError } from "./errors.ts";
import { requestIdOf, sendError, sendJson } from "./http/envelope.ts";
import { createHttpServer } from "./http/server.ts";
import { createLogger } from "./observability/logger.ts";
import { createService } from "./service.ts";
import { lockDataDir } from "./store/data-dir-lock.ts";
import type { Db } from "./store/db.ts";
import { createPgliteThreadDb } from "./store/db-pglite-thread.ts";
import { createPostgresDb } from "./store/db-postgres.ts";
import { migrate } from "./store/migrate.ts";

// The only place that reads the environment and builds clients. Start-up order: config → data
// directory lock and port (answering 503 meanwhile) → store → cache → audit → bundle → keys →
// service handler; shutdown in reverse, draining the audit queue last.

async function main() {
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`residency: configuration error: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }

  let auditSigner: ReturnType<typeof ed25519Signer> | null = null;
  if (config.AUDIT_SIGNING_KEY) {
    const text = config.AUDIT_SIGNING_KEY.trimStart().startsWith("-----BEGIN")
      ? config.AUDIT_SIGNING_KEY
      : readFileSync(config.AUDIT_SIGNING_KEY, "utf8");
    try {
      auditSigner = ed25519Signer(text);
    } catch (err) {
      process.stderr.write(`residency: configuration error: AUDIT_SIGNING_KEY: ${toError(err).message}\n`);
      process.exit(2);
    }
  }

  const logger = createLogger(config.LOG_LEVEL);
  if (config.WORKERS > 1 && !isClusterWorker()) {
    superviseWorkers(config.WORKERS, (message, fields) => logger.info(fields ?? {}, message));
    return;
  }
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  // The data directory's lock, then the port, before anything is migrated or created: a second
  // start on the same directory or port refuses at once and changes nothing (no migration, no key).
  let dataDirLock: { release(): void } | null = null;
  if (!config.DATABASE_URL) {
    if (!existsSync(config.RESIDENCY_DATA_DIR)) mkdirSync(config.RESIDENCY_DATA_DIR, { recursive: true });
    try {
      dataDirLock = lockDataDir(config.RESIDENCY_DATA_DIR, { port: config.PORT });
    } catch (err) {
      process.stderr.write(`residency: failed to start: ${toError(err).message}\n`);
      process.exit(1);
    }
    process.on("exit", () => dataDirLock?.release());
  }
  // Until the service is wired, every request but liveness answers 503 (readiness: not ready).
  let handler: RequestListener = (req, res) => {
    if (req.url === "/health/live") sendJson(res, 200, { status: "ok" }, requestIdOf(req));
    else if (req.url === "/health/ready") sendJson(res, 503, { status: "starting" }, requestIdOf(req));
    else sendError(res, new AppError("STORE_UNAVAILABLE", "starting: not ready yet"), requestIdOf(req));
  };
  const server = createHttpServer((req, res) => handler(req, res), {
    requestTimeoutMs: config.HTTP_REQUEST_TIMEOUT_MS,
    headersTimeoutMs: config.HTTP_HEADERS_TIMEOUT_MS,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.PORT, config.HOST, () => resolve());
    });
  } catch (err) {
    process.stderr.write(
      `residency: failed to start: cannot listen on ${config.HOST}:${config.PORT}: ${toError(err).message}\n`,
    );
    process.exit(1);
  }

  let db: Db;
  if (config.DATABASE_URL) {
    db = await createPostgresDb({
      connectionString: config.DATABASE_URL,
      max: 20,
      onError: (err) => logger.warn({ err }, "postgres connection error"),
    });
  } else {
    // On a thread of its own: PGlite's work then runs beside the event loop, not on it.
    db = await createPgliteThreadDb(config.RESIDENCY_DATA_DIR);
    // Said once, at start: what the embedded default does and does not promise (README, "Embedded store").
    logger.warn(
      { dataDir: config.RESIDENCY_DATA_DIR },
      "embedded store (PGlite): a commit survives this process crashing, not the machine crashing or losing power (PGlite never fsyncs); set DATABASE_URL for durable storage",
    );
  }
  const applied = await migrate(db);
  logger.info({ store: db.kind, applied }, "store ready");

  // Freshness comes from Postgres (generations.ts); the embedded store has no other writer (its
  // data directory is locked), so it needs no polling.
  const generations = await createStoreGenerations({
    db,
    pollMs: db.kind === "postgres" ? Math.max(50, Math.floor(config.CACHE_MAX_STALENESS_MS / 4)) : null,
    maxStalenessMs: config.CACHE_MAX_STALENESS_MS,
    onError: (err) => logger.warn({ err }, "cache generations unreadable; caches bypassed until they are"),
  });
  let redis: Redis | null = null;
  let cache: TenantCache;
  if (config.REDIS_URL) {
    // A cache, not a dependency: start whether or not Redis is there (cacheRedisOptions).
    redis = new Redis(config.REDIS_URL, cacheRedisOptions(config.REDIS_TIMEOUT_MS));
    redis.on(
      "error",
      throttled((err, suppressed) => logger.warn({ err, suppressed }, "redis error")),
    );
    await redis
      .connect()
      .catch((err) => logger.warn({ err }, "redis unreachable at start; continuing without it"));
    const subscriber = redis.duplicate(subscriberRedisOptions);
    subscriber.on(
      "error",
      throttled((err, suppressed) => logger.warn({ err, suppressed }, "redis subscriber error")),
    );
    cache = await createRedisCache({
      redis,
      subscriber,
      generations,
      prefix: config.REDIS_PREFIX,
      timeoutMs: config.REDIS_TIMEOUT_MS,
      onError: throttled((err, suppressed) =>
        logger.warn({ err, suppressed }, "redis cache error; falling through to Postgres"),
      ),
    });
  } else {
    cache = createMemoryCache({ generations });
  }

  const infrastructure = loadInfrastructure({
    ...(config.INFRASTRUCTURE_CONFIG
      ? { file: config.INFRASTRUCTURE_CONFIG }
      : existsSync("config/infrastructure.json")
        ? { file: "config/infrastructure.json" }
        : {}),
    ...(config.S3_ENDPOINT ? { s3Endpoint: config.S3_ENDPOINT } : {}),
  });
  const presigner = createPresigner({
    infrastructure,
    forcePathStyle: config.S3_FORCE_PATH_STYLE,
    ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: config.AWS_ACCESS_KEY_ID,
            secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
            ...(config.AWS_SESSION_TOKEN ? { sessionToken: config.AWS_SESSION_TOKEN } : {}),
          },
        }
      : {}),
  });

  // Retention: archives go to a bucket when one is configured, else to a directory beside the data.
  let auditRetention: NonNullable<Parameters<typeof createService>[0]["auditRetention"]> | undefined;
  if (config.AUDIT_RETENTION_DAYS) {
    const bucket = config.AUDIT_ARCHIVE_BUCKET?.match(/^s3:\/\/([^/]+)\/?(.*)$/);
    const target = bucket
      ? createS3ArchiveTarget({
          bucket: bucket[1]!,
          prefix: bucket[2] ?? "",
          region: config.AUDIT_ARCHIVE_S3_REGION,
          forcePathStyle: config.S3_FORCE_PATH_STYLE,
          ...(config.S3_ENDPOINT ? { endpoint: config.S3_ENDPOINT } : {}),
          ...(config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
            ? {
                credentials: {
                  accessKeyId: config.AWS_ACCESS_KEY_ID,
                  secretAccessKey: config.AWS_SECRET_ACCESS_KEY,
                  ...(config.AWS_SESSION_TOKEN ? { sessionToken: config.AWS_SESSION_TOKEN } : {}),
                },
              }
            : {}),
          lockDays: config.AUDIT_ARCHIVE_LOCK_DAYS,
        })
      : directoryTarget(config.AUDIT_ARCHIVE_DIR ?? join(config.RESIDENCY_DATA_DIR, "audit-archive"));
    auditRetention = {
      days: config.AUDIT_RETENTION_DAYS,
      target,
      intervalMs: config.AUDIT_RETENTION_INTERVAL_MS,
      bundleHistoryKeep: config.BUNDLE_HISTORY_KEEP,
    };
  }

  const webhook = config.OVERRIDE_WEBHOOK_URL
    ? createWebhookNotifier({
        url: config.OVERRIDE_WEBHOOK_URL,
        secret: config.OVERRIDE_WEBHOOK_SECRET!,
        onFailed: (event, err, attempts) =>
          logger.error({ event, err, attempts }, "override webhook undeliverable"),
      })
    : null;
  const service = await createService({
    db,
    cache,
    redis,
    redisPrefix: config.REDIS_PREFIX,
    logger,
    registry,
    ...(isClusterWorker() ? { metricsText: clusterMetricsSource(registry) } : {}),
    infrastructure,
    presigner,
    bundlePath: config.BUNDLE_PATH,
    bundleVerificationKey: config.BUNDLE_VERIFICATION_KEY ?? null,
    bundleVerificationAlg: config.BUNDLE_VERIFICATION_ALG ?? null,
    bundleEvaluationTimeoutMs: config.BUNDLE_EVALUATION_TIMEOUT_MS,
    bundlePollIntervalMs: config.BUNDLE_POLL_INTERVAL_MS,
    decisionMemoEntries: config.DECISION_MEMO_ENTRIES,
    requiredApprovals: config.OVERRIDE_REQUIRED_APPROVALS,
    overrideMaxHours: config.OVERRIDE_MAX_HOURS,
    auditCheckpoints: {
      everyRecords: config.AUDIT_CHECKPOINT_RECORDS,
      everySeconds: config.AUDIT_CHECKPOINT_SECONDS,
      signer: auditSigner,
    },
    ...(auditRetention ? { auditRetention } : {}),
    ...(webhook ? { notify: webhook } : {}),
  });
  const { app, keys, overrides } = service;

  const { printed, warning } = await keys.bootstrap(config.RESIDENCY_BOOTSTRAP_ADMIN_KEY);
  if (warning) logger.warn(warning);
  if (printed) {
    // Shown once: no key existed, so this admin key is the only way in. It is stored hashed.
    process.stdout.write(
      `\nresidency: no API keys existed; created an admin key (shown once):\n\n  ${printed}\n\n`,
    );
  }

  handler = app.handler;
  // Under WORKERS > 1: the supervisor starts the next worker once this one serves (it listened
  // before migrating, to refuse a busy port early, so 'listening' says too little).
  if (isClusterWorker()) process.send?.(WORKER_READY);
  const address = server.address();
  logger.info(
    {
      address,
      store: db.kind,
      cache: redis ? "redis" : "memory",
      bundle: service.bundles.engine.current()?.revision,
    },
    "listening",
  );

  await overrides.refreshGauge();
  let sweeping: Promise<unknown> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = overrides.sweepExpired().catch((err) => logger.warn({ err }, "override expiry sweep failed"));
  }, config.OVERRIDE_SWEEP_INTERVAL_MS);
  sweeper.unref();

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining requests and the audit queue");
    clearInterval(sweeper);
    await sweeping;
    // Stop accepting; let requests in flight finish, but not forever (a stuck client must not
    // keep the process, and with it the audit drain below, from completing).
    const closing = new Promise<void>((resolve) => server.close(() => resolve()));
    const deadline = setTimeout(() => server.closeAllConnections(), 10_000);
    await closing;
    clearTimeout(deadline);
    await service.close(); // every answered decision is already committed; this drains the rest
    if (webhook) await Promise.race([webhook.drain(), new Promise((r) => setTimeout(r, 10_000).unref())]);
    await cache.close();
    generations.close();
    if (redis) await redis.quit().catch(() => undefined);
    await db.close();
    dataDirLock?.release();
    logger.info("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  // Last line of defence: a bug in one request must not take the others down with it.
  process.on("unhandledRejection", (err) => logger.error({ err }, "unhandled rejection"));
}

/** One line per `everyMs` for a failure that repeats (a Redis that is away is retried every 100–500 ms). */
function throttled(log: (err: Error, suppressed: number) => void, everyMs = 10_000) {
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (err: Error) => {
    const now = Date.now();
    if (now - last < everyMs) {
      suppressed++;
      return;
    }
    last = now;
    log(err, suppressed);
    suppressed = 0;
  };
}

main().catch((err) => {
  process.stderr.write(`residency: failed to start: ${toError(err).message}\n`);
  process.exit(1);
});
