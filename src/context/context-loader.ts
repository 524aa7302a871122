import { mergePolicies } from "../domain/effective-policy.ts";
import type { EffectivePolicy, StoredPolicy } from "../domain/policy.ts";
import { seal } from "../domain/sealed.ts";
import type { RegionCode, RegionHealth } from "../domain/vocabulary.ts";
import { AppError, isAppError } from "../errors.ts";
import { createInvalidator, type TenantCache } from "./cache.ts";
import { REGIONS_SCOPE } from "./generations.ts";
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

export type TenantContext = {
  tenantPolicy: StoredPolicy | null;
  learnerPolicy: StoredPolicy | null;
  effective: EffectivePolicy | null;
  /** The most specific policy that decided: the learner's when there is one. */
  policyRef: { policy_id: string; version: number } | null;
  overrides: OverrideInput[];
};

export type ContextLoader = ReturnType<typeof createContextLoader>;

const REGIONS_KEY = REGIONS_SCOPE;

export function createContextLoader(deps: {
  policies: Pick<PoliciesRepo, "activeFor">;
  overrides: Pick<OverridesRepo, "liveForTenant">;
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
      const [tenantPolicy, learnerPolicy, overrides] = await Promise.all([
        deps.policies.activeFor(tenantId, null),
        learnerId ? deps.policies.activeFor(tenantId, learnerId) : Promise.resolve(null),
        deps.overrides.liveForTenant(tenantId, clock()),
      ]);
      const effective = tenantPolicy
        ? mergePolicies(tenantPolicy.document, learnerPolicy?.document ?? null).policy
        : null;
      const decidingPolicy = learnerPolicy ?? tenantPolicy;
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
