import type { Entrypoint } from "../domain/policy-contract.ts";
import {
  ACCESS_OPERATIONS,
  FRAMEWORKS,
  INFERENCE_OPERATIONS,
  REGION_CODES,
  type RegionCode,
} from "../domain/vocabulary.ts";
import type { LoadedBundle } from "./candidate.ts";

// Realistic inputs for a candidate bundle, beyond the fixed invariants of self-check.ts: a matrix
// of tenants, learners, frameworks, primary regions and operations the service's vocabulary
// allows, and the inputs of recently audited decisions (real tenants, exactly as their bundle saw
// them). A candidate must answer every one well-formed and within its evaluation budget — a bundle
// slow or broken only for some tenant, framework or operation is refused before it serves anyone.
//
// What is checked is the shape every answer needs and the invariants no law table changes (an
// allowed answer never targets a prohibited region), not particular outcomes: compliance engineers
// change those with every bundle, and dry runs show them.

export type Probe = { entrypoint: Entrypoint; input: unknown; label: string };

const NOW = Date.UTC(2026, 0, 1);

const COMBINATIONS: readonly string[][] = [
  ...FRAMEWORKS.map((f) => [f]),
  [],
  ["gdpr", "ferpa"],
  ["coppa", "ferpa"],
  ["pipeda", "quebec_law25"],
  ["lgpd", "gdpr"],
];

const AGES = [null, 10, 15, 30] as const;

/** The generated matrix: every framework set × every primary region, each with every operation. */
export function matrixProbes(): Probe[] {
  const probes: Probe[] = [];
  COMBINATIONS.forEach((frameworks, f) => {
    REGION_CODES.forEach((primary, r) => {
      const tenant = `probe-tenant-${f}-${r}`;
      const others = REGION_CODES.filter((c) => c !== primary);
      const prohibited = others[(f + r) % others.length]!;
      const age = AGES[(f + r) % AGES.length]!;
      const policy = {
        tenant_id: tenant,
        learner_id: `probe-learner-${r}`,
        primary_region: primary,
        allowed_regions: others.filter((c) => c !== prohibited).slice(0, 1 + ((f + r) % 3)),
        prohibited_regions: [prohibited],
        compliance_frameworks: frameworks,
        data_classification: ["educational", "standard", "sensitive", "health"][(f + r) % 4],
        allow_cross_region_failover: (f + r) % 2 === 0,
        failover_regions: [],
        data_retention_days: 365,
        transfer_mechanisms: { dpf: [], scc_tia: [], pipeda_contract: false, anpd_scc: false, qc_pia: [] },
        consents:
          (f + r) % 3 === 0
            ? {}
            : { school_authorization: true, parental_consent: (f + r) % 3 === 1, ai_training_consent: false },
        learner_age: age,
        override_permitted: false,
        emergency_contact: null,
      };
      const health: Record<string, string> = (f + r) % 5 === 0 ? { [primary]: "unavailable" } : {};
      const common = {
        now_ms: NOW,
        region_health: health,
        settings: { required_approvals: 2 },
        overrides: [],
        policy,
      };
      ACCESS_OPERATIONS.forEach((operation, o) => {
        const requested = o % 2 === 0 ? null : REGION_CODES[(r + o) % REGION_CODES.length]!;
        probes.push({
          entrypoint: "residency/decision",
          label: `access ${operation} for ${frameworks.join("+") || "no framework"} in ${primary}`,
          input: {
            ...common,
            request: {
              tenant_id: tenant,
              learner_id: policy.learner_id,
              operation_type: operation,
              resource_type: "document",
              resource_id: `probe-${o}`,
              ...(requested ? { requested_region: requested } : {}),
            },
          },
        });
      });
      INFERENCE_OPERATIONS.slice(0, 2).forEach((operation) => {
        probes.push({
          entrypoint: "inference/route",
          label: `${operation} for ${frameworks.join("+") || "no framework"} in ${primary}`,
          input: {
            ...common,
            request: {
              tenant_id: tenant,
              learner_id: policy.learner_id,
              model_type: "claude-3-haiku",
              operation_type: operation,
              data_classification: policy.data_classification,
            },
          },
        });
      });
      probes.push({
        entrypoint: "residency/validate",
        label: `validate a tenant policy for ${frameworks.join("+") || "no framework"} in ${primary}`,
        input: { policy: { ...policy, learner_id: null }, kind: "tenant" },
      });
    });
  });
  return probes;
}

type Answer = Record<string, unknown> | null | undefined;

const isRegion = (v: unknown): v is RegionCode => REGION_CODES.includes(v as RegionCode);
const regionList = (v: unknown) => Array.isArray(v) && v.every(isRegion);

/** Why an answer is not one the host can serve (null: it is). */
export function answerProblem(probe: Probe, answer: Answer): string | null {
  if (answer === null || typeof answer !== "object") return "no answer object";
  if (probe.entrypoint === "residency/validate") {
    return typeof answer.valid === "boolean" && Array.isArray(answer.violations)
      ? null
      : "validate must answer {valid, violations}";
  }
  if (typeof answer.allowed !== "boolean") return "`allowed` is not a boolean";
  const reason = answer.reason as { code?: unknown } | null | undefined;
  if (typeof reason?.code !== "string" || reason.code === "") return "no reason code";
  if (answer.target_region !== null && !isRegion(answer.target_region))
    return "target_region is not a region";
  if (!regionList(answer.legal_regions) || !regionList(answer.permitted_regions)) {
    return "legal_regions / permitted_regions are not region lists";
  }
  if (!Array.isArray(answer.flags)) return "flags is not a list";
  const input = probe.input as { policy?: { prohibited_regions?: unknown } | null };
  const prohibited = Array.isArray(input.policy?.prohibited_regions) ? input.policy.prohibited_regions : [];
  const target = probe.entrypoint === "inference/route" ? answer.provider_region : answer.target_region;
  if (answer.allowed === true && prohibited.includes(target) && !answer.override_id) {
    return `allowed into ${String(target)}, which the policy prohibits`;
  }
  return null;
}

export type ProbeReport = {
  evaluations: number;
  failures: string[];
  /** The slowest single evaluation, ms. */
  slowest_ms: number;
  slowest: string | null;
};

/** Evaluates every probe fresh (never through the memo) and collects what is wrong, at most `keep`. */
export function runProbes(bundle: Pick<LoadedBundle, "evaluate">, probes: Probe[], keep = 10): ProbeReport {
  const report: ProbeReport = { evaluations: 0, failures: [], slowest_ms: 0, slowest: null };
  let failed = 0;
  for (const probe of probes) {
    const started = performance.now();
    let problem: string | null;
    try {
      problem = answerProblem(probe, bundle.evaluate<Answer>(probe.entrypoint, probe.input, { fresh: true }));
    } catch (err) {
      problem = (err as Error).message;
    }
    const ms = performance.now() - started;
    report.evaluations++;
    if (ms > report.slowest_ms) {
      report.slowest_ms = ms;
      report.slowest = probe.label;
    }
    if (problem) {
      failed++;
      if (report.failures.length < keep) report.failures.push(`${probe.label}: ${problem}`);
    }
  }
  if (failed > report.failures.length) report.failures.push(`and ${failed - report.failures.length} more`);
  return report;
}

const RECORDED: Record<string, Entrypoint> = {
  "decision.access": "residency/decision",
  "decision.presign": "residency/decision",
  "decision.inference": "inference/route",
};

/** Probes from audited decision rows (`type`, `payload` with `evaluation` + `request`). */
export function recordedProbes(
  rows: Array<{ type: string; tenant_id?: string | null; payload: unknown }>,
): Probe[] {
  const probes: Probe[] = [];
  for (const row of rows) {
    const entrypoint = RECORDED[row.type];
    const payload = (typeof row.payload === "string" ? JSON.parse(row.payload) : row.payload) as {
      evaluation?: Record<string, unknown>;
      request?: unknown;
    } | null;
    if (!entrypoint || !payload?.evaluation || payload.request === undefined) continue;
    probes.push({
      entrypoint,
      label: `recorded ${row.type} of tenant ${row.tenant_id ?? "?"}`,
      input: { ...payload.evaluation, request: payload.request },
    });
  }
  return probes;
}
