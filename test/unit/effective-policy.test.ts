import { describe, expect, it } from "vitest";
import { mergePolicies } from "../../src/domain/effective-policy.ts";

describe("effective policy (SPEC §2 inheritance)", () => {
  const tenant = {
    tenant_id: "t",
    primary_region: "us-east" as const,
    allowed_regions: ["us-west" as const, "ca-central" as const],
    compliance_frameworks: ["ferpa" as const],
    allow_cross_region_failover: true,
    data_retention_days: 3650,
    transfer_mechanisms: { pipeda_contract: true },
    override_permitted: true,
    consents: { school_authorization: true },
  };

  it("without a learner policy the tenant's values and the defaults apply", () => {
    const { policy, provenance } = mergePolicies(tenant, null);
    expect(policy).toMatchObject({
      learner_id: null,
      allowed_regions: ["us-west", "ca-central"],
      failover_regions: ["us-west", "ca-central"], // defaults to the allow-list, in order
      data_classification: "educational",
      learner_age: null,
      consents: { school_authorization: true, parental_consent: false, ai_training_consent: false },
    });
    expect(provenance.failover_regions).toBe("default");
    expect(provenance.data_classification).toBe("default");
  });

  it("an empty allow-list intersection narrows to the primary, never widens to every region", () => {
    const { policy } = mergePolicies(tenant, {
      tenant_id: "t",
      learner_id: "l",
      allowed_regions: ["eu-west"],
    });
    expect(policy.allowed_regions).toEqual(["us-east"]);
  });

  it("stricter wins: unions, minimum retention, failover only if both allow; contracts stay the tenant's", () => {
    const { policy } = mergePolicies(tenant, {
      tenant_id: "t",
      learner_id: "l",
      compliance_frameworks: ["coppa"],
      prohibited_regions: ["ca-central"],
      allow_cross_region_failover: false,
      data_retention_days: 30,
      consents: { parental_consent: true, school_authorization: false },
      learner_age: 9,
    });
    expect(policy.compliance_frameworks).toEqual(["ferpa", "coppa"]);
    expect(policy.prohibited_regions).toEqual(["ca-central"]);
    expect(policy.allow_cross_region_failover).toBe(false);
    expect(policy.data_retention_days).toBe(30);
    expect(policy.consents).toEqual({
      school_authorization: false,
      parental_consent: true,
      ai_training_consent: false,
    });
    expect(policy.learner_age).toBe(9);
    expect(policy.transfer_mechanisms.pipeda_contract).toBe(true);
    expect(policy.override_permitted).toBe(true);
  });

  it("a learner cannot switch failover on when the tenant has it off", () => {
    const { policy } = mergePolicies(
      { ...tenant, allow_cross_region_failover: false },
      { tenant_id: "t", learner_id: "l", allow_cross_region_failover: true },
    );
    expect(policy.allow_cross_region_failover).toBe(false);
  });
});
