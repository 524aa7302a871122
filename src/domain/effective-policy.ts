import type { Consents, EffectivePolicy, PolicyDocument, Provenance, TransferMechanisms } from "./policy.ts";
import { FRAMEWORKS, type Framework, type RegionCode } from "./vocabulary.ts";

export type EffectiveWithProvenance = {
  policy: EffectivePolicy;
  provenance: Record<keyof EffectivePolicy, Provenance>;
};

const present = <T>(v: T | null | undefined): v is T => v !== null && v !== undefined;
const nonEmpty = <T>(v: T[] | null | undefined): v is T[] => Array.isArray(v) && v.length > 0;
const unique = <T>(xs: T[]): T[] => [...new Set(xs)];

/**
 * SPEC §2 inheritance: stricter wins, except where the learner's own facts rule.
 * The tenant policy is required; a learner policy alone is no policy (fail closed).
 */
export function mergePolicies(
  tenant: PolicyDocument,
  learner: PolicyDocument | null,
): EffectiveWithProvenance {
  const prov = {} as Record<keyof EffectivePolicy, Provenance>;
  const pick = <K extends keyof EffectivePolicy>(
    field: K,
    learnerValue: EffectivePolicy[K] | null | undefined,
    tenantValue: EffectivePolicy[K] | null | undefined,
    fallback: EffectivePolicy[K],
  ): EffectivePolicy[K] => {
    if (learner && present(learnerValue)) {
      prov[field] = "learner";
      return learnerValue;
    }
    if (present(tenantValue)) {
      prov[field] = "tenant";
      return tenantValue;
    }
    prov[field] = "default";
    return fallback;
  };

  const primary = pick("primary_region", learner?.primary_region, tenant.primary_region, null);

  // Unions: a learner can only add restrictions and laws.
  const frameworks = unionOrdered(tenant.compliance_frameworks, learner?.compliance_frameworks);
  prov.compliance_frameworks = provenanceOfUnion(
    tenant.compliance_frameworks,
    learner?.compliance_frameworks,
  );
  const prohibited = unique([...(tenant.prohibited_regions ?? []), ...(learner?.prohibited_regions ?? [])]);
  prov.prohibited_regions = provenanceOfUnion(tenant.prohibited_regions, learner?.prohibited_regions);

  // Allow-list: the learner's, narrowed by the tenant's. An empty intersection must not read as
  // "no allow-list" (which would widen to every region): it narrows to the primary alone.
  let allowed: RegionCode[];
  if (nonEmpty(learner?.allowed_regions) && nonEmpty(tenant.allowed_regions)) {
    const tenantSet = new Set(tenant.allowed_regions);
    allowed = learner.allowed_regions.filter((r) => tenantSet.has(r));
    if (allowed.length === 0 && primary) allowed = [primary];
    prov.allowed_regions = "merged";
  } else if (nonEmpty(learner?.allowed_regions)) {
    allowed = [...learner.allowed_regions];
    prov.allowed_regions = "learner";
  } else if (nonEmpty(tenant.allowed_regions)) {
    allowed = [...tenant.allowed_regions];
    prov.allowed_regions = "tenant";
  } else {
    allowed = [];
    prov.allowed_regions = "default";
  }

  const failoverAllowed =
    (tenant.allow_cross_region_failover ?? false) && (learner?.allow_cross_region_failover ?? true);
  prov.allow_cross_region_failover =
    learner && present(learner.allow_cross_region_failover)
      ? "merged"
      : present(tenant.allow_cross_region_failover)
        ? "tenant"
        : "default";

  const retentions = [tenant.data_retention_days, learner?.data_retention_days].filter(present);
  const retention = retentions.length > 0 ? Math.min(...retentions) : null;
  prov.data_retention_days =
    retentions.length === 2
      ? "merged"
      : present(learner?.data_retention_days)
        ? "learner"
        : present(tenant.data_retention_days)
          ? "tenant"
          : "default";

  let failover = pick(
    "failover_regions",
    nonEmpty(learner?.failover_regions) ? learner.failover_regions : null,
    nonEmpty(tenant.failover_regions) ? tenant.failover_regions : null,
    [],
  );
  if (failover.length === 0 && allowed.length > 0) {
    failover = [...allowed]; // SPEC §2 default: allowed_regions in order
    prov.failover_regions = "default";
  }

  const consents = mergeConsents(tenant.consents, learner?.consents);
  prov.consents = learner?.consents
    ? tenant.consents
      ? "merged"
      : "learner"
    : tenant.consents
      ? "tenant"
      : "default";

  prov.tenant_id = "tenant";
  prov.transfer_mechanisms = tenant.transfer_mechanisms ? "tenant" : "default";
  prov.override_permitted = present(tenant.override_permitted) ? "tenant" : "default";
  // Attestations of the tenant's (SPEC §11.A1): a learner policy cannot carry them (422 FIELD_TENANT_ONLY).
  prov.min_learner_age = present(tenant.min_learner_age) ? "tenant" : "default";
  prov.dpdp_education_exemption = present(tenant.dpdp_education_exemption) ? "tenant" : "default";

  const policy: EffectivePolicy = {
    tenant_id: tenant.tenant_id,
    learner_id: learner?.learner_id ?? null,
    primary_region: primary,
    allowed_regions: allowed,
    prohibited_regions: prohibited,
    compliance_frameworks: frameworks,
    data_classification: pick(
      "data_classification",
      learner?.data_classification,
      tenant.data_classification,
      "educational",
    ),
    allow_cross_region_failover: failoverAllowed,
    failover_regions: failover,
    data_retention_days: retention,
    transfer_mechanisms: mechanisms(tenant.transfer_mechanisms),
    consents,
    learner_age: pick("learner_age", learner?.learner_age, tenant.learner_age, null),
    min_learner_age: tenant.min_learner_age ?? null,
    dpdp_education_exemption: tenant.dpdp_education_exemption ?? false,
    override_permitted: tenant.override_permitted ?? false, // a contract: the tenant's alone
    emergency_contact: pick("emergency_contact", learner?.emergency_contact, tenant.emergency_contact, null),
  };
  prov.learner_id = learner ? "learner" : "default";
  return { policy, provenance: prov };
}

function unionOrdered(a: Framework[] | null | undefined, b: Framework[] | null | undefined): Framework[] {
  const set = new Set([...(a ?? []), ...(b ?? [])]);
  return FRAMEWORKS.filter((f) => set.has(f));
}

function provenanceOfUnion(
  tenant: unknown[] | null | undefined,
  learner: unknown[] | null | undefined,
): Provenance {
  if (nonEmpty(tenant) && nonEmpty(learner)) return "merged";
  if (nonEmpty(learner)) return "learner";
  if (nonEmpty(tenant)) return "tenant";
  return "default";
}

function mergeConsents(
  tenant: Consents | null | undefined,
  learner: Consents | null | undefined,
): Required<Consents> {
  const get = (k: keyof Consents) => learner?.[k] ?? tenant?.[k] ?? false;
  return {
    school_authorization: get("school_authorization"),
    parental_consent: get("parental_consent"),
    ai_training_consent: get("ai_training_consent"),
  };
}

function mechanisms(m: TransferMechanisms | null | undefined): Required<TransferMechanisms> {
  return {
    dpf: m?.dpf ?? [],
    uk_extension: m?.uk_extension ?? [],
    scc_tia: m?.scc_tia ?? [],
    idta: m?.idta ?? [],
    appi_equivalent_measures: m?.appi_equivalent_measures ?? [],
    qc_pia: m?.qc_pia ?? [],
    pipeda_contract: m?.pipeda_contract ?? false,
    anpd_scc: m?.anpd_scc ?? false,
    appi_consent: m?.appi_consent ?? false,
  };
}
