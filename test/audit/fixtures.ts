// Audit events shaped like the ones the service writes, for the audit suites and the benchmark.

import { generateKeyPairSync, randomUUID } from "node:crypto";
import { createAuditLog } from "../../src/audit/audit-log.ts";
import type { DecisionAuditPayload } from "../../src/audit/query.ts";
import type { AuditEventInput } from "../../src/audit/types.ts";
import type { Db } from "../../src/store/db.ts";

export function decisionEvent(overrides: Partial<AuditEventInput> = {}): AuditEventInput {
  const payload: DecisionAuditPayload = {
    request: {
      tenant_id: "tenant-a",
      learner_id: "learner-1",
      operation_type: "write",
      resource_type: "submission",
      resource_id: "sub-42",
      requested_region: "eu-west",
    },
    decision: {
      allowed: true,
      reason_code: "ALLOW_PRIMARY",
      target_region: "eu-west",
      legal_regions: ["eu-west", "eu-central", "ca-central"],
      permitted_regions: ["eu-west", "eu-central"],
    },
  };
  return {
    event_id: randomUUID(),
    type: "decision.access",
    occurred_at: new Date(),
    tenant_id: "tenant-a",
    learner_id: "learner-1",
    actor: "svc-gradebook",
    request_id: randomUUID(),
    bundle_revision: "rev-1",
    policy_id: "pol-1",
    policy_version: 3,
    payload,
    ...overrides,
  };
}

/**
 * Runs SQL past the append-only triggers, as only a superuser can: what a tamperer (or a test
 * resetting the log) does. Both test backends connect as superuser.
 */
export async function asSuperuser(db: Db, sql: string, params: unknown[] = []): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query("SET LOCAL session_replication_role = replica");
    await tx.query(sql, params);
  });
}

/** Empties the log between tests (starting a PGlite costs seconds, so suites share one). */
export function resetAuditLog(db: Db): Promise<void> {
  return asSuperuser(db, "TRUNCATE audit_log, audit_checkpoints, audit_archives, audit_contexts");
}

/** Appends `events` at once through a group-commit log (as concurrent requests would); their hashes. */
export async function appendAll(db: Db, events: AuditEventInput[]): Promise<string[]> {
  const log = createAuditLog({ db });
  const appended = await Promise.all(events.map((event) => log.append(event)));
  await log.close();
  return appended.map((a) => a.hash);
}

/** `count` fresh decision events. */
export const decisionEvents = (count: number): AuditEventInput[] =>
  Array.from({ length: count }, () => decisionEvent());

/** A fresh Ed25519 key pair as PEM: the checkpoint signing key and the auditor's public key. */
export function testKeys() {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return {
    privatePem: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
  };
}
