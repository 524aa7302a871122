// The result documents of the three entrypoints (docs/policy-contract.md). The bundle is trusted
// only after its self-check; these types describe what that check guarantees.

import type { RegionCode } from "./vocabulary.ts";

export const ENTRYPOINTS = ["residency/decision", "residency/validate", "inference/route"] as const;
export type Entrypoint = (typeof ENTRYPOINTS)[number];

export type Reason = { code: string; decided_by: string; framework: string | null; message: string };

export type Obligations = {
  retention_days: number | null;
  erasure_deadline_days: number | null;
  /** The framework setting the shortest deadline (SPEC §11.A9). */
  erasure_deadline_framework?: string | null;
  encryption_at_rest: boolean;
  notify: string[];
  dpia_required?: boolean;
  art9_condition_required?: boolean;
  /** Inference with an AI Act Annex III(3) purpose (SPEC §11.A4). */
  ai_act_high_risk?: { category: string; duties: string[] } | null;
  /** While a legal hold is active: the matter's reference; erasure deadlines are suspended. */
  legal_hold?: { reference: string; erasure_deadline_suspended: boolean } | null;
};

export type AccessResult = {
  allowed: boolean;
  target_region: RegionCode | null;
  reason: Reason;
  reasons: Reason[];
  legal_regions: RegionCode[];
  permitted_regions: RegionCode[];
  eliminated: Record<string, string>;
  frameworks: string[];
  obligations: Obligations;
  override_id: string | null;
  failover: boolean;
  erasure_targets: RegionCode[];
  deferred: RegionCode[];
  flags: string[];
};

export type InferenceResult = Omit<AccessResult, "erasure_targets" | "deferred"> & {
  provider: string | null;
  model: string | null;
  endpoint: string | null;
  route: string | null;
  provider_region: RegionCode | null;
  destinations: RegionCode[] | null;
  fallback_used: boolean;
  rejected_candidates: Array<{ provider: string; region: string; code: string }>;
};

export type Violation = {
  code: string;
  field: string;
  framework: string | null;
  message: string;
  /** LEARNER_POLICY_INVALIDATED: `{learner_ids, affected_count, by_code}` (SPEC §11.A7). */
  details?: Record<string, unknown>;
};
export type ValidateResult = { valid: boolean; violations: Violation[]; warnings: Violation[] };

export type RegionFacts = {
  name: string;
  location: string;
  jurisdiction: string;
  certifications: string[];
  aws_region: string;
};

export type CatalogEntry = {
  provider: string;
  region: RegionCode;
  models: string[];
  endpoint: string;
  route: string;
  destinations: RegionCode[];
  dpa: boolean;
  zero_data_retention: boolean;
  trains_on_data: boolean;
  attested: boolean;
};

export type ReferenceData = {
  regions: Record<RegionCode, RegionFacts>;
  providers: { catalog: CatalogEntry[] };
};

/**
 * What an answer publishes about its own reuse (docs/decisions/0006-decision-reuse.md): the window
 * of `now_ms` over which it cannot change, and whether it holds only for the requesting learner.
 */
export type Reuse = { from_ms: number | null; until_ms: number | null; per_learner: boolean };

/** The answer's `reuse`, or null unless it is well formed (then the answer is not stored). */
export function reuseOf(result: unknown): Reuse | null {
  const reuse = (result as { reuse?: unknown } | null)?.reuse;
  if (reuse === null || typeof reuse !== "object") return null;
  const { from_ms, until_ms, per_learner } = reuse as Partial<Reuse>;
  const end = (v: unknown) => v === null || (typeof v === "number" && Number.isFinite(v));
  return end(from_ms) && end(until_ms) && typeof per_learner === "boolean"
    ? { from_ms: from_ms ?? null, until_ms: until_ms ?? null, per_learner }
    : null;
}
