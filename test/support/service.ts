// A whole service (every room, the real bundle, real stores) for API tests, wired exactly as
// main.ts wires it, minus the environment. Keys are created through the API itself.

import type { Redis } from "ioredis";
import { Registry } from "prom-client";
import type { OverrideNotifier } from "../../src/admin/overrides.ts";
import type { SandboxBudget } from "../../src/bundles/sandbox.ts";
import type { WatchdogOptions } from "../../src/bundles/watchdog.ts";
import { orThrow } from "../../src/client/client.ts";
import { createMemoryCache, type TenantCache } from "../../src/context/cache.ts";
import type { Role } from "../../src/domain/vocabulary.ts";
import { loadInfrastructure } from "../../src/endpoints/infrastructure.ts";
import { createPresigner } from "../../src/endpoints/presigner.ts";
import { createLogger, type Logger } from "../../src/observability/logger.ts";
import { createService, type Service, type ServiceOptions } from "../../src/service.ts";
import type { Db } from "../../src/store/db.ts";
import { type TestDb, testBackends } from "./databases.ts";
import { clientFor, stopServing } from "./http.ts";

export const ADMIN_KEY = "test-admin-key-0123456789abcdefghij";
export const BUNDLE_PATH = "bundles/residency.tar.gz";

/** Postgres when DATABASE_URL is set (CI), else PGlite. */
export function primaryBackend() {
  const backends = testBackends();
  return backends[backends.length - 1]!;
}

export type TestService = {
  service: Service;
  handler: Service["app"]["handler"];
  db: Db;
  /** A new API key with these roles (and tenant scope), made through POST /api/v1/keys. */
  keyFor(roles: Role[], tenantIds?: string[], principal?: string): Promise<string>;
  close(): Promise<void>;
};

export async function startTestService(
  options: {
    db?: Db;
    cache?: TenantCache;
    redis?: Redis | null;
    redisPrefix?: string;
    clock?: () => Date;
    requiredApprovals?: number;
    overrideMaxHours?: number;
    notify?: OverrideNotifier;
    bundlePath?: string;
    bundleVerificationKey?: string | null;
    bundlePollIntervalMs?: number;
    /** As in production (DECISION_MEMO_ENTRIES's default) unless a test turns it off. */
    decisionMemoEntries?: number;
    bundleWatch?: boolean;
    bundleEvaluationTimeoutMs?: number;
    bundleSandbox?: Partial<SandboxBudget>;
    bundleWatchdog?: Partial<WatchdogOptions>;
    /** An S3-compatible server for every region (path-style URLs), with its credentials. */
    s3?: { endpoint: string; accessKeyId: string; secretAccessKey: string };
    auditCheckpoints?: ServiceOptions["auditCheckpoints"];
    auditRetention?: ServiceOptions["auditRetention"];
    /** Silent unless a test reads the log lines. */
    logger?: Logger;
  } = {},
): Promise<TestService> {
  const owned: TestDb | null = options.db ? null : await primaryBackend().create();
  const db = options.db ?? owned!;
  const infrastructure = loadInfrastructure({
    file: "config/infrastructure.json",
    ...(options.s3 ? { s3Endpoint: options.s3.endpoint } : {}),
  });
  const service = await createService({
    db,
    cache: options.cache ?? createMemoryCache(),
    redis: options.redis ?? null,
    redisPrefix: options.redisPrefix ?? "residency-test:",
    logger: options.logger ?? createLogger("silent"),
    registry: new Registry(),
    infrastructure,
    presigner: createPresigner({
      infrastructure,
      credentials: {
        accessKeyId: options.s3?.accessKeyId ?? "AKIATESTTESTTESTTEST",
        secretAccessKey: options.s3?.secretAccessKey ?? "test-secret-key-for-signing-only",
      },
      ...(options.s3 ? { forcePathStyle: true } : {}),
    }),
    bundlePath: options.bundlePath ?? BUNDLE_PATH,
    bundleVerificationKey: options.bundleVerificationKey ?? null,
    bundlePollIntervalMs: options.bundlePollIntervalMs ?? 60_000,
    decisionMemoEntries: options.decisionMemoEntries ?? 50_000,
    bundleWatch: options.bundleWatch ?? false,
    // Suites share two cores with each other: a generous wall-clock limit unless a test sets one.
    bundleEvaluationTimeoutMs: options.bundleEvaluationTimeoutMs ?? 5_000,
    ...(options.bundleSandbox ? { bundleSandbox: options.bundleSandbox } : {}),
    ...(options.bundleWatchdog ? { bundleWatchdog: options.bundleWatchdog } : {}),
    requiredApprovals: options.requiredApprovals ?? 2,
    overrideMaxHours: options.overrideMaxHours ?? 24,
    ...(options.notify ? { notify: options.notify } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.auditCheckpoints ? { auditCheckpoints: options.auditCheckpoints } : {}),
    ...(options.auditRetention ? { auditRetention: options.auditRetention } : {}),
  });
  await service.keys.bootstrap(ADMIN_KEY);
  const handler = service.app.handler;
  let n = 0;
  return {
    service,
    handler,
    db,
    async keyFor(roles, tenantIds, principal) {
      const admin = await clientFor(handler, ADMIN_KEY);
      const created = orThrow(
        await admin.POST("/api/v1/keys", {
          body: {
            principal: principal ?? `test-${roles.join("-")}-${++n}`,
            roles,
            ...(tenantIds ? { tenant_ids: tenantIds } : {}),
          },
        }),
      );
      return created.key;
    },
    async close() {
      await stopServing(handler);
      await service.close();
      if (owned) await owned.close();
    },
  };
}
