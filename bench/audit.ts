// Audit write throughput: group commit against one transaction per record, on real Postgres.
//
//   node --import tsx bench/audit.ts
//   DATABASE_URL=postgres://… AUDIT_BENCH_SECONDS=5 AUDIT_BENCH_CONCURRENCY=64,256 node --import tsx bench/audit.ts
//
// Each of N concurrent "decisions" appends a record and waits for its commit, as a request does,
// then starts the next. Runs in a schema of its own, dropped at the end.

import { randomBytes, randomUUID } from "node:crypto";
import { type AuditLog, createAuditLog, createPerRowAuditLog } from "../src/audit/audit-log.ts";
import { canonicalJson } from "../src/audit/canonical.ts";
import { newEventId } from "../src/audit/event-id.ts";
import type { AuditEventInput } from "../src/audit/types.ts";
import { verifyChain } from "../src/audit/verify.ts";
import { createPostgresDb } from "../src/store/db-postgres.ts";
import { migrate } from "../src/store/migrate.ts";

const url = process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/test";
const seconds = Number(process.env.AUDIT_BENCH_SECONDS ?? 5);
const concurrencies = (process.env.AUDIT_BENCH_CONCURRENCY ?? "64,256,1024").split(",").map(Number);
const TARGET_RATE = 5_000;
const TARGET_RATIO = 5;

// What a decision record carries: the compact request and the full answer (~1.5 KB).
function decisionEvent(): AuditEventInput {
  const decisionId = newEventId(); // as the service makes them: time-ordered
  return {
    event_id: decisionId,
    type: "decision.access",
    occurred_at: new Date(),
    tenant_id: "tenant-northwind-academy",
    learner_id: `learner-${Math.floor(Math.random() * 100_000)}`,
    actor: "svc-gradebook",
    request_id: randomUUID(),
    bundle_revision: "2024-06-01T12:00:00Z-7f3c2a1",
    policy_id: "pol-7d1f0b2e",
    policy_version: 4,
    payload: {
      request: {
        tenant_id: "tenant-northwind-academy",
        learner_id: "learner-1234",
        operation_type: "replicate",
        resource_type: "submission",
        resource_id: `sub-${randomBytes(6).toString("hex")}`,
        requested_region: "eu-central",
        purpose: "backup",
        override_id: null,
        data_locations: ["eu-west"],
      },
      decision: {
        decision_id: decisionId,
        allowed: true,
        target_region: "eu-central",
        reason_code: "ALLOW_PERMITTED_REGION",
        reason: {
          code: "ALLOW_PERMITTED_REGION",
          decided_by: "tenant",
          framework: "gdpr",
          message: "eu-central is a permitted region for this tenant and legal under every framework",
        },
        reasons: ["gdpr:adequate", "ferpa:school_official", "tenant:permitted"],
        legal_regions: ["eu-west", "eu-central", "ca-central", "apac-east"],
        permitted_regions: ["eu-west", "eu-central"],
        eliminated: {
          "us-east": "gdpr:no_transfer_mechanism",
          "us-west": "gdpr:no_transfer_mechanism",
          "apac-south": "gdpr:no_transfer_mechanism",
          "ca-central": "tenant:not_allowed",
          "apac-east": "tenant:prohibited",
        },
        frameworks: ["gdpr", "ferpa"],
        obligations: {
          retention_days: 365,
          erasure_deadline_days: 30,
          encryption_at_rest: true,
          notify: [],
        },
        failover: false,
        flags: [],
        infrastructure: {
          storage: {
            bucket: "residency-eu-central-1-data",
            region: "eu-central-1",
            kms_key: "alias/residency",
          },
          search: {
            domain: "residency-eu-central",
            endpoint: "https://search-residency-eu-central.example.com",
          },
        },
        policy: { policy_id: "pol-7d1f0b2e", version: 4 },
        evaluated_at: new Date().toISOString(),
      },
    },
  };
}

/**
 * What decide puts beside the answer so a dry run can replay it: the effective policy with its
 * provenance, region health, overrides and settings (~1.3 KB), the same for every decision of a
 * tenant until something changes. One of 50 tenants' contexts, and `now_ms`, differ per record.
 */
function evaluationContext(): Record<string, unknown> {
  const tenant = `tenant-${Math.floor(Math.random() * 50)}`;
  const regions = ["us-east", "us-west", "eu-west", "eu-central", "ca-central", "apac-south", "apac-east"];
  return {
    now_ms: Date.now(),
    policy: {
      tenant_id: tenant,
      learner_id: null,
      primary_region: "eu-central",
      allowed_regions: ["eu-west", "eu-central"],
      prohibited_regions: ["apac-east"],
      compliance_frameworks: ["gdpr", "ferpa"],
      data_classification: "confidential",
      transfer_mechanisms: { scc_tia: [], dpf: [], idta: [], qc_pia: [], appi_equivalent_measures: [] },
      consents: { parental_consent: false, school_authorization: true },
      legal_hold: { active: false },
      provenance: {
        primary_region: { source: "tenant", policy_id: "pol-7d1f0b2e", version: 4 },
        allowed_regions: { source: "tenant", policy_id: "pol-7d1f0b2e", version: 4 },
        compliance_frameworks: { source: "tenant", policy_id: "pol-7d1f0b2e", version: 4 },
      },
    },
    region_health: Object.fromEntries(
      regions.map((r) => [r, { status: "healthy", reason: null, changed_at: "2026-11-30T08:00:00.000Z" }]),
    ),
    overrides: [],
    settings: { required_approvals: 2, override_max_hours: 24 },
  };
}

type Run = { rate: number; p50: number; p99: number; batches: number; records: number };

async function run(
  log: AuditLog,
  concurrency: number,
  durationMs: number,
  batchSizes: number[],
  event: () => AuditEventInput = decisionEvent,
): Promise<Run> {
  const latencies: number[] = [];
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await log.append(event());
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = performance.now() - started;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    rate: (latencies.length / elapsed) * 1000,
    p50: at(0.5),
    p99: at(0.99),
    batches: batchSizes.length,
    records: latencies.length,
  };
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

const schema = `bench_audit_${randomBytes(4).toString("hex")}`;

/** Bytes on disk of every audit_log partition and audit_contexts, indexes and TOAST included. */
async function storedBytes(): Promise<number> {
  const { rows } = await db.query<{ bytes: string }>(
    `SELECT (coalesce(sum(pg_total_relation_size(i.inhrelid)), 0) + pg_total_relation_size('audit_contexts'))::text AS bytes
       FROM pg_inherits i WHERE i.inhparent = 'audit_log'::regclass`,
  );
  return Number(rows[0]!.bytes);
}
// The per-row writer queues hundreds of callers for 16 connections: let them wait instead of failing.
const db = await createPostgresDb({ connectionString: url, schema, max: 16, connectionTimeoutMs: 60_000 });
let failed = false;
try {
  await migrate(db);
  const sample = decisionEvent();
  console.log(`audit append benchmark — ${new URL(url).host}, schema ${schema}, ${seconds}s per run`);
  console.log(`payload: ${fmt(Buffer.byteLength(canonicalJson(sample.payload)))} bytes of canonical JSON\n`);
  console.log("concurrency  writer    records/s   p50 ms   p99 ms   transactions  avg batch");

  for (const concurrency of concurrencies) {
    const results: Record<string, Run> = {};
    for (const writer of ["group", "per-row"] as const) {
      const batchSizes: number[] = [];
      const options = { db, onFlush: ({ size }: { size: number }) => batchSizes.push(size) };
      const log = writer === "group" ? createAuditLog(options) : createPerRowAuditLog(options);
      await run(log, concurrency, 500, []); // warm the pool and the plan cache
      batchSizes.length = 0;
      const result = await run(log, concurrency, seconds * 1000, batchSizes);
      await log.close();
      results[writer] = result;
      console.log(
        `${String(concurrency).padStart(11)}  ${writer.padEnd(8)} ${fmt(result.rate).padStart(10)} ${fmt(result.p50, 1).padStart(8)} ${fmt(result.p99, 1).padStart(8)} ${fmt(result.batches).padStart(14)} ${fmt(result.records / Math.max(1, result.batches), 1).padStart(10)}`,
      );
    }
    const ratio = results.group!.rate / results["per-row"]!.rate;
    const pass = ratio >= TARGET_RATIO && results.group!.rate >= TARGET_RATE;
    failed ||= !pass;
    console.log(
      `${" ".repeat(13)}group / per-row = ${fmt(ratio, 1)}×  (targets ≥ ${TARGET_RATIO}× and ≥ ${fmt(TARGET_RATE)}/s: ${pass ? "met" : "MISSED"})\n`,
    );
  }

  // Bytes per record with the evaluation context inline (as before) and stored once by hash.
  // The payload decide writes (src/decision/decide.ts): the request, the recorded answer, and the
  // evaluation context the bundle saw.
  const withContext = (): AuditEventInput => {
    const e = decisionEvent();
    const { request } = e.payload as { request: unknown };
    return {
      ...e,
      payload: {
        request,
        evaluation: evaluationContext(),
        decision: {
          allowed: true,
          reason_code: "ALLOW_PERMITTED_REGION",
          target_region: "eu-central",
          override_id: null,
          failover: false,
          flags: [],
          legal_regions: ["eu-west", "eu-central", "ca-central", "apac-east"],
          permitted_regions: ["eu-west", "eu-central"],
        },
      },
    };
  };
  const sizeConcurrency = Number(process.env.AUDIT_BENCH_SIZE_CONCURRENCY ?? 256);
  console.log(
    `record size — decide's payload: ${fmt(Buffer.byteLength(canonicalJson(withContext().payload)))} bytes inline, of which the evaluation context ${fmt(Buffer.byteLength(canonicalJson(evaluationContext())))} (50 distinct); group commit, ${sizeConcurrency} callers`,
  );
  console.log("records      records/s   bytes/record (table + indexes + contexts)");
  for (const compact of [false, true]) {
    const before = await storedBytes();
    const log = createAuditLog({ db, compactContexts: compact });
    const result = await run(log, sizeConcurrency, seconds * 1000, [], withContext);
    await log.close();
    const bytes = (await storedBytes()) - before;
    console.log(
      `${(compact ? "compact" : "inline").padEnd(9)} ${fmt(result.rate).padStart(12)}   ${fmt(bytes / result.records).padStart(8)}   (${fmt(result.records)} records, ${fmt(bytes / 1e6, 1)} MB)`,
    );
  }
  console.log("");

  const started = performance.now();
  const verified = await verifyChain(db);
  console.log(
    `chain after the runs: ok=${verified.ok}, ${fmt(verified.checked)} records verified in ${fmt((performance.now() - started) / 1000, 1)}s`,
  );
  failed ||= !verified.ok;
} finally {
  await db.exec(`DROP SCHEMA ${schema} CASCADE`);
  await db.close();
}
process.exitCode = failed ? 1 : 0;
