import { Counter, Gauge, Histogram, type Registry } from "prom-client";

// Every metric of the service, registered on the registry main.ts (or a test) passes in —
// never the prom-client global, so two apps in one process do not collide.
export function createMetrics(registry: Registry) {
  const registers = [registry];
  return {
    registry,
    httpRequests: new Counter({
      name: "residency_http_requests_total",
      help: "HTTP requests by route and status",
      labelNames: ["route", "status"] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: "residency_http_request_duration_seconds",
      help: "HTTP request duration by route",
      labelNames: ["route"] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    }),
    httpErrors: new Counter({
      name: "residency_http_errors_total",
      help: "Error answers by route and envelope code (SPEC §6), so a 503 says whether audit or policy failed",
      labelNames: ["route", "code"] as const,
      registers,
    }),
    healthChecks: new Gauge({
      name: "residency_health_check_up",
      // WORKERS > 1: a check failing in any worker shows as failing.
      aggregator: "min",
      help: "Readiness checks at the last scrape or probe (1 ok, 0 failing or degraded), by check",
      labelNames: ["check"] as const,
      registers,
    }),
    decisions: new Counter({
      name: "residency_decisions_total",
      help: "Decisions by kind, outcome and reason code",
      labelNames: ["kind", "allowed", "code"] as const,
      registers,
    }),
    evalDuration: new Histogram({
      name: "residency_policy_eval_duration_seconds",
      help: "Time to answer from the bundle per decision (a memo hit or a wasm evaluation)",
      labelNames: ["entrypoint"] as const,
      buckets: [0.00002, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005],
      registers,
    }),
    decisionMemo: new Counter({
      name: "residency_decision_memo_total",
      help: "Decisions answered from the memo (hit) or evaluated (miss), by entrypoint",
      labelNames: ["entrypoint", "result"] as const,
      registers,
    }),
    cacheLookups: new Counter({
      name: "residency_context_cache_total",
      help: "Policy context cache lookups by result",
      labelNames: ["result"] as const,
      registers,
    }),
    auditBatchSize: new Histogram({
      name: "residency_audit_batch_size",
      help: "Records per audit group commit",
      buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500],
      registers,
    }),
    auditFlushDuration: new Histogram({
      name: "residency_audit_flush_duration_seconds",
      help: "Duration of one audit group commit",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5],
      registers,
    }),
    auditFailures: new Counter({
      name: "residency_audit_failures_total",
      help: "Audit commits that failed (their decisions answered 503)",
      registers,
    }),
    bundleLoads: new Counter({
      name: "residency_bundle_loads_total",
      help: "Bundle activation attempts by outcome",
      labelNames: ["outcome"] as const,
      registers,
    }),
    bundlePrepared: new Counter({
      name: "residency_bundle_instantiations_total",
      help: "Wasm instances created on the serving thread (one per activation; checks and dry runs run in workers)",
      registers,
    }),
    evaluationsStopped: new Counter({
      name: "residency_policy_evaluations_stopped_total",
      help: "Wasm evaluations of the serving bundle stopped at their time limit (answered 503)",
      labelNames: ["entrypoint"] as const,
      registers,
    }),
    bundleInfo: new Gauge({
      name: "residency_bundle_active_info",
      // WORKERS > 1: 1 for every revision some worker serves (two lines while they differ).
      aggregator: "max",
      help: "The active bundle revision (value 1)",
      labelNames: ["revision"] as const,
      registers,
    }),
    authFailures: new Counter({
      name: "residency_auth_failures_total",
      help: "Requests refused for a missing or invalid key (401) or a role or scope it lacks (403), by route",
      labelNames: ["route", "status"] as const,
      registers,
    }),
    activeOverrides: new Gauge({
      name: "residency_active_overrides",
      // The same cluster-wide count in every worker: not a sum.
      aggregator: "max",
      help: "Break-glass overrides currently active",
      registers,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
