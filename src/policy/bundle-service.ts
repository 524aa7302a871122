import { randomUUID } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { Redis } from "ioredis";
import type { AuditAppender } from "../audit/types.ts";
import type { Db } from "../context/db.ts";
import { toError } from "../errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Metrics } from "../observability/metrics.ts";
import type { LoadedBundle } from "./bundle.ts";
import { type BundleSource, createPolicyEngine, type PolicyEngine } from "./engine.ts";

export type BundleSummary = {
  revision: string;
  sha256: string;
  loaded_at: string;
  entrypoints: string[];
  source: BundleSource;
};

export type BundleService = {
  engine: PolicyEngine;
  active(): BundleSummary | null;
  history(): BundleSummary[];
  close(): Promise<void>;
};

export async function createBundleService(deps: {
  db: Db;
  audit: AuditAppender;
  logger: Logger;
  metrics: Metrics;
  bundlePath: string;
  verificationKey: string | null;
  redis: Redis | null;
  redisPrefix: string;
  pollIntervalMs: number;
}): Promise<BundleService> {
  const history: BundleSummary[] = [];
  const summary = (b: LoadedBundle, source: BundleSource): BundleSummary => ({
    revision: b.revision,
    sha256: b.sha256,
    loaded_at: b.loadedAt.toISOString(),
    entrypoints: b.entrypoints,
    source,
  });
  const auditEvent = (type: string, payload: Record<string, unknown>, revision: string | null) =>
    deps.audit
      .append({
        event_id: randomUUID(),
        type,
        occurred_at: new Date(),
        tenant_id: null,
        learner_id: null,
        actor: "system",
        request_id: null,
        bundle_revision: revision,
        policy_id: null,
        policy_version: null,
        payload,
      })
      .catch((err) => deps.logger.error({ err }, "could not audit bundle event"));

  const engine = createPolicyEngine({
    events: {
      onActivated: (bundle, source, previous) => {
        history.unshift(summary(bundle, source));
        deps.metrics.bundleLoads.inc({ outcome: "activated" });
        deps.metrics.bundleInfo.reset();
        deps.metrics.bundleInfo.set({ revision: bundle.revision }, 1);
        deps.logger.info(
          { revision: bundle.revision, source, previous: previous?.revision },
          "bundle activated",
        );
        void auditEvent(
          "bundle.activated",
          { ...summary(bundle, source), previous: previous?.revision ?? null },
          bundle.revision,
        );
      },
      onRejected: (error, source) => {
        deps.metrics.bundleLoads.inc({ outcome: "rejected" });
        deps.logger.error({ code: error.code, reason: error.message, source }, "bundle rejected");
        void auditEvent("bundle.rejected", { code: error.code, reason: error.message, source }, null);
      },
    },
  });

  try {
    await engine.activate(await readFile(deps.bundlePath), "startup");
  } catch (err) {
    // Not fatal: the service stays up, not ready, and answers 503 POLICY_UNAVAILABLE until a
    // valid bundle arrives.
    deps.logger.error(
      { err: toError(err), path: deps.bundlePath },
      "no bundle could be activated at start-up",
    );
  }

  return {
    engine,
    active: () => {
      const b = engine.current();
      return b ? (history.find((h) => h.sha256 === b.sha256) ?? summary(b, "startup")) : null;
    },
    history: () => [...history],
    close: async () => undefined,
  };
}
