import { mergePolicies } from "../domain/effective-policy.ts";
import type { EffectivePolicy, MechanismItem, PolicyDocument, StoredPolicy } from "../domain/policy.ts";
import { seal } from "../domain/sealed.ts";
import type { RegionCode, RegionHealth } from "../domain/vocabulary.ts";
import { AppError, isAppError } from "../errors.ts";
import { createInvalidator, type TenantCache } from "./cache.ts";
import { REGIONS_SCOPE } from "./generations.ts";
import type { LegalHold, LegalHoldsRepo } from "./legal-holds-repo.ts";
import type { OverridesRepo } from "./overrides-repo.ts";
import type { PoliciesRepo } from "./policies-repo.ts";
import type { RegionsRepo } from "./regions-repo.ts";

/** An override as the bundle reads it (docs/policy-contract.md). */
export type OverrideInput = {
  override_id: string;
  tenant_id: string;
  learner_ids: string[] | null;
  target_region: string;
  operations: string[] | null;
  requested_by: string;
  approvals: Array<{ principal: string; at: string }>;
  expires_at_ms: number;
  revoked: boolean;
};

/** A legal hold as the bundle reads it (docs/policy-contract.md). */
export type HoldInput = { active: boolean; reference: string | null };

/** What erasure must reach beyond the active policy (SPEC §11.A8; docs/policy-contract.md). */
export type HistoryInput = {
  routed_regions: RegionCode[];
  named_regions: RegionCode[];
  policy_inactive: boolean;
};

/** The policy's own fields the bundle reads apart from the merged policy (SPEC §11.A7). */
export type OwnTenantFields = Pick<
  PolicyDocument,
  "primary_region" | "allowed_regions" | "prohibited_regions"
>;
export type OwnLearnerFields = Pick<
  PolicyDocument,
  "primary_region" | "allowed_regions" | "consents" | "min_learner_age" | "dpdp_education_exemption"
>;

export type TenantContext = {
  tenantPolicy: StoredPolicy | null;
  learnerPolicy: StoredPolicy | null;
  effective: EffectivePolicy | null;
  /** The most specific policy that decided: the learner's when there is one. */
  policyRef: { policy_id: string; version: number } | null;
  overrides: OverrideInput[];
  tenantOwn: OwnTenantFields | null;
  learnerOwn: OwnLearnerFields | null;
  /** The tenant's or the learner's active hold (every operation). */
  hold: HoldInput;
  /** For a delete: also any learner's hold when the request names no learner. */
  deleteHold: HoldInput;
  history: HistoryInput;
  /** No active tenant policy but earlier versions: the last versions, merged, for a delete only. */
  inactive: {
    effective: EffectivePolicy;
    policyRef: { policy_id: string; version: number };
    tenantOwn: OwnTenantFields;
    learnerOwn: OwnLearnerFields | null;
  } | null;
};

export function ownTenantFields(doc: PolicyDocument): OwnTenantFields {
  return {
    primary_region: doc.primary_region ?? null,
    allowed_regions: doc.allowed_regions ?? [],
    prohibited_regions: doc.prohibited_regions ?? [],
  };
}

export function ownLearnerFields(doc: PolicyDocument): OwnLearnerFields {
  return {
    primary_region: doc.primary_region ?? null,
    allowed_regions: doc.allowed_regions ?? [],
    consents: doc.consents ?? {},
    min_learner_age: doc.min_learner_age ?? null,
    dpdp_education_exemption: doc.dpdp_education_exemption ?? null,
  };
}

const itemRegions = (items: MechanismItem[] | undefined): RegionCode[] =>
  (items ?? []).flatMap((item) => (typeof item === "string" ? [item] : item.regions));

/** Regions data was routed to under a version, and regions it only named (SPEC §11.A8). */
function regionsOf(doc: PolicyDocument): { routed: RegionCode[]; named: RegionCode[] } {
  const m = doc.transfer_mechanisms ?? {};
  return {
    routed: [
      ...(doc.primary_region ? [doc.primary_region] : []),
      ...(doc.allowed_regions ?? []),
      ...(doc.failover_regions ?? []),
    ],
    named: [
      ...(doc.prohibited_regions ?? []),
      ...(m.dpf ?? []),
      ...(m.uk_extension ?? []),
      ...itemRegions(m.scc_tia),
      ...itemRegions(m.idta),
      ...itemRegions(m.appi_equivalent_measures),
      ...itemRegions(m.qc_pia),
    ],
  };
}

const holdOf = (hold: LegalHold | undefined): HoldInput =>
  hold ? { active: true, reference: hold.reference } : { active: false, reference: null };

export type ContextLoader = ReturnType<typeof createContextLoader>;

const REGIONS_KEY = REGIONS_SCOPE;

export function createContextLoader(deps: {
  policies: Pick<PoliciesRepo, "activeFor" | "versionsFor">;
  overrides: Pick<OverridesRepo, "liveForTenant" | "approvedTargets">;
  legalHolds: Pick<LegalHoldsRepo, "activeForTenant">;
  regions: Pick<RegionsRepo, "health">;
  cache: TenantCache;
  clock?: () => Date;
  onLookup?: (result: "hit" | "miss") => void;
  onInvalidateError?: (err: Error, tenant: string) => void;
}) {
  const clock = deps.clock ?? (() => new Date());
  const invalidator = createInvalidator(deps.cache, deps.onInvalidateError);
  // A store outage must read as "cannot decide" (503), never as "no policy" (a deny that looks final).
  // (An unreachable store keeps the decision routes' own code, SPEC §6.)
  const unavailable = (err: unknown) =>
    isAppError(err) && err.code !== "STORE_UNAVAILABLE"
      ? err
      : new AppError("POLICY_UNAVAILABLE", "policy store unavailable", { cause: err });

  async function tenantContext(tenantId: string, learnerId: string | null): Promise<TenantContext> {
    const key = learnerId ?? "";
    try {
      const cached = await deps.cache.get<TenantContext>(tenantId, key);
      if (cached.value) {
        deps.onLookup?.("hit");
        // Sealed when the in-process cache was filled (a no-op here); a copy read from Redis is
        // then held in the in-process layer and shared, so it is sealed once, on its first hit.
        return seal(cached.value);
      }
      deps.onLookup?.("miss");
      const [tenantPolicy, learnerPolicy, overrides, versions, approved, holds] = await Promise.all([
        deps.policies.activeFor(tenantId, null),
        learnerId ? deps.policies.activeFor(tenantId, learnerId) : Promise.resolve(null),
        deps.overrides.liveForTenant(tenantId, clock()),
        deps.policies.versionsFor(tenantId, learnerId),
        deps.overrides.approvedTargets(tenantId),
        deps.legalHolds.activeForTenant(tenantId),
      ]);
      const effective = tenantPolicy
        ? mergePolicies(tenantPolicy.document, learnerPolicy?.document ?? null).policy
        : null;
      const decidingPolicy = learnerPolicy ?? tenantPolicy;
      const tenantHold = holds.find((h) => h.learner_id === null);
      const learnerHold = learnerId ? holds.find((h) => h.learner_id === learnerId) : undefined;
      const hold = holdOf(tenantHold ?? learnerHold);
      // A delete without a learner erases every learner's data: any learner's hold stops it.
      const deleteHold = learnerId ? hold : holdOf(tenantHold ?? holds[0]);
      const routed = new Set<RegionCode>();
      const named = new Set<RegionCode>();
      for (const v of versions) {
        const r = regionsOf(v.document);
        for (const region of r.routed) routed.add(region);
        for (const region of r.named) named.add(region);
      }
      for (const o of approved) {
        if (!learnerId || o.learner_ids === null || o.learner_ids.includes(learnerId))
          named.add(o.target_region);
      }
      // Versions come newest first: the first of each scope is its last version.
      const lastTenant = tenantPolicy ? undefined : versions.find((v) => v.learner_id === null);
      const lastLearner = learnerId ? versions.find((v) => v.learner_id === learnerId) : undefined;
      const inactive = lastTenant
        ? {
            effective: mergePolicies(lastTenant.document, lastLearner?.document ?? null).policy,
            policyRef: {
              policy_id: (lastLearner ?? lastTenant).policy_id,
              version: (lastLearner ?? lastTenant).version,
            },
            tenantOwn: ownTenantFields(lastTenant.document),
            learnerOwn: lastLearner ? ownLearnerFields(lastLearner.document) : null,
          }
        : null;
      const context: TenantContext = {
        tenantPolicy,
        learnerPolicy,
        effective,
        policyRef: decidingPolicy
          ? { policy_id: decidingPolicy.policy_id, version: decidingPolicy.version }
          : null,
        overrides: overrides.map((o) => ({
          override_id: o.override_id,
          tenant_id: o.tenant_id,
          learner_ids: o.learner_ids,
          target_region: o.target_region,
          operations: o.operations,
          requested_by: o.requested_by,
          approvals: o.approvals,
          expires_at_ms: Date.parse(o.expires_at),
          revoked: o.revoked_at !== null,
        })),
        tenantOwn: tenantPolicy ? ownTenantFields(tenantPolicy.document) : null,
        learnerOwn: learnerPolicy ? ownLearnerFields(learnerPolicy.document) : null,
        hold,
        deleteHold,
        history: {
          routed_regions: [...routed],
          named_regions: [...named],
          policy_inactive: inactive !== null,
        },
        inactive,
      };
      // Sealed: shared by every decision that reads it from the in-process cache, and serialised
      // into their inputs once (domain/sealed.ts).
      seal(context);
      await deps.cache.set(tenantId, key, context, cached.generation);
      return context;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async function regionHealth(): Promise<Partial<Record<RegionCode, RegionHealth>>> {
    try {
      const cached = await deps.cache.get<Partial<Record<RegionCode, RegionHealth>>>(REGIONS_KEY, "health");
      if (cached.value) return seal(cached.value);
      const records = await deps.regions.health();
      const health: Partial<Record<RegionCode, RegionHealth>> = {};
      for (const [code, rec] of Object.entries(records)) health[code as RegionCode] = rec.status;
      seal(health);
      await deps.cache.set(REGIONS_KEY, "health", health, cached.generation);
      return health;
    } catch (err) {
      throw unavailable(err);
    }
  }

  return {
    tenantContext,
    regionHealth,
    /** Never throws: the change is committed; a failed shared invalidation is retried. */
    invalidateTenant: (tenantId: string) => invalidator.invalidate(tenantId),
    invalidateRegions: () => invalidator.invalidate(REGIONS_KEY),
    close: () => invalidator.close(),
  };
}
