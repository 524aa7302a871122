import type { LoadedBundle } from "./bundle.ts";
import type { AccessResult, InferenceResult, ValidateResult } from "./types.ts";

// Invariants any bundle must keep before it may serve: they hold whatever the rules say about
// particular regions, so they never need editing when compliance engineers change the law tables.

const NOW = Date.UTC(2026, 0, 1);

const basePolicy = {
  tenant_id: "self-check",
  learner_id: null,
  primary_region: "eu-west",
  allowed_regions: [],
  prohibited_regions: [],
  compliance_frameworks: [],
  data_classification: "educational",
  allow_cross_region_failover: false,
  failover_regions: [],
  data_retention_days: 365,
  transfer_mechanisms: { dpf: [], scc_tia: [], pipeda_contract: false, anpd_scc: false, qc_pia: [] },
  consents: { school_authorization: true, parental_consent: true, ai_training_consent: false },
  learner_age: 30,
  override_permitted: false,
  emergency_contact: null,
};

const request = {
  tenant_id: "self-check",
  operation_type: "read",
  resource_type: "document",
  resource_id: "self-check",
};

export function selfCheck(bundle: LoadedBundle): string[] {
  const failures: string[] = [];
  const check = (name: string, fn: () => boolean) => {
    try {
      if (!fn()) failures.push(name);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  };
  const common = { now_ms: NOW, region_health: {}, settings: { required_approvals: 2 }, overrides: [] };

  check("no policy ⇒ DENY_NO_POLICY (fail closed)", () => {
    const r = bundle.evaluate<AccessResult>("residency/decision", { ...common, policy: null, request });
    return r.allowed === false && r.reason?.code === "DENY_NO_POLICY";
  });
  check("primary with no framework ⇒ ALLOW_PRIMARY with the full decision shape", () => {
    const r = bundle.evaluate<AccessResult>("residency/decision", { ...common, policy: basePolicy, request });
    return (
      r.allowed === true &&
      r.target_region === "eu-west" &&
      r.reason.code === "ALLOW_PRIMARY" &&
      Array.isArray(r.legal_regions) &&
      Array.isArray(r.permitted_regions) &&
      typeof r.eliminated === "object" &&
      Array.isArray(r.flags) &&
      typeof r.obligations === "object"
    );
  });
  check("a prohibited requested region is denied", () => {
    const policy = { ...basePolicy, prohibited_regions: ["apac-east"] };
    const r = bundle.evaluate<AccessResult>("residency/decision", {
      ...common,
      policy,
      request: { ...request, requested_region: "apac-east" },
    });
    return r.allowed === false;
  });
  check("delete is always routable", () => {
    const r = bundle.evaluate<AccessResult>("residency/decision", {
      ...common,
      policy: { ...basePolicy, compliance_frameworks: ["coppa"], learner_age: null, consents: {} },
      request: { ...request, operation_type: "delete" },
    });
    return r.allowed === true && r.reason.code === "ALLOW_ERASURE_ROUTED";
  });
  check("inference without policy ⇒ DENY_NO_POLICY", () => {
    const r = bundle.evaluate<InferenceResult>("inference/route", {
      ...common,
      policy: null,
      request: { tenant_id: "self-check", model_type: "x", operation_type: "inference" },
    });
    return r.allowed === false && r.reason?.code === "DENY_NO_POLICY";
  });
  check("validate answers {valid, violations}", () => {
    const ok = bundle.evaluate<ValidateResult>("residency/validate", { policy: basePolicy, kind: "tenant" });
    const bad = bundle.evaluate<ValidateResult>("residency/validate", {
      policy: { ...basePolicy, prohibited_regions: ["eu-west"] },
      kind: "tenant",
    });
    return ok.valid === true && bad.valid === false && bad.violations.length > 0;
  });
  return failures;
}
