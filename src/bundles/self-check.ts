import type { AccessResult, Entrypoint, InferenceResult, ValidateResult } from "../domain/policy-contract.ts";
import { reuseOf } from "../domain/policy-contract.ts";
import type { Evaluator } from "../engine/index.ts";

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

/** Self-checks never read or fill the decision memo. */
const FRESH = { fresh: true };

export function selfCheck(bundle: Pick<Evaluator, "evaluate">): string[] {
  const failures: string[] = [];
  const check = (name: string, fn: () => boolean) => {
    try {
      if (!fn()) failures.push(name);
    } catch (err) {
      failures.push(`${name}: ${(err as Error).message}`);
    }
  };
  const common = { now_ms: NOW, region_health: {}, settings: { required_approvals: 2 }, overrides: [] };
  const decide = (input: Record<string, unknown>) =>
    bundle.evaluate<AccessResult>("residency/decision", input, FRESH);

  check("no policy ⇒ DENY_NO_POLICY (fail closed)", () => {
    const r = decide({ ...common, policy: null, request });
    return r.allowed === false && r.reason?.code === "DENY_NO_POLICY";
  });
  check("primary with no framework ⇒ ALLOW_PRIMARY with the full decision shape", () => {
    const r = decide({ ...common, policy: basePolicy, request });
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
    const r = decide({
      ...common,
      policy,
      request: { ...request, requested_region: "apac-east" },
    });
    return r.allowed === false;
  });
  check("delete is always routable", () => {
    const r = decide({
      ...common,
      policy: { ...basePolicy, compliance_frameworks: ["coppa"], learner_age: null, consents: {} },
      request: { ...request, operation_type: "delete" },
    });
    return r.allowed === true && r.reason.code === "ALLOW_ERASURE_ROUTED";
  });
  check("inference without policy ⇒ DENY_NO_POLICY", () => {
    const r = bundle.evaluate<InferenceResult>(
      "inference/route",
      {
        ...common,
        policy: null,
        request: { tenant_id: "self-check", model_type: "x", operation_type: "inference" },
      },
      FRESH,
    );
    return r.allowed === false && r.reason?.code === "DENY_NO_POLICY";
  });
  check("validate answers {valid, violations}", () => {
    const ok = bundle.evaluate<ValidateResult>(
      "residency/validate",
      { policy: basePolicy, kind: "tenant" },
      FRESH,
    );
    const bad = bundle.evaluate<ValidateResult>(
      "residency/validate",
      { policy: { ...basePolicy, prohibited_regions: ["eu-west"] }, kind: "tenant" },
      FRESH,
    );
    return ok.valid === true && bad.valid === false && bad.violations.length > 0;
  });
  // The memo trusts `reuse` (docs/decisions/0006-decision-reuse.md): wherever a published window
  // reaches, the answer must not change, nor for another learner unless per_learner. Probed at
  // times on both sides of an override's expiry — each probe's own window against every other
  // probe — with the override tenant-wide and scoped to the learner, and for inference. (An answer
  // without a well-formed `reuse` is never stored, so never reused, and passes.)
  check("reuse, when published, holds across its window and for another learner", () => {
    const expiry = NOW + 60_000;
    const override = {
      override_id: "self-check",
      tenant_id: "self-check",
      learner_ids: null as string[] | null,
      target_region: "apac-east",
      operations: null,
      requested_by: "x",
      approvals: [
        { principal: "y", at: "" },
        { principal: "z", at: "" },
      ],
      expires_at_ms: expiry,
      revoked: false,
    };
    const access = (learners: string[] | null) => ({
      ...common,
      policy: { ...basePolicy, prohibited_regions: ["apac-east"], override_permitted: true },
      request: { ...request, learner_id: "a", operation_type: "replicate", requested_region: "apac-east" },
      overrides: [{ ...override, learner_ids: learners }],
    });
    const inference = {
      ...common,
      policy: basePolicy,
      request: {
        tenant_id: "self-check",
        learner_id: "a",
        model_type: "claude-3-haiku",
        operation_type: "inference",
      },
    };
    const cases: Array<[Entrypoint, Record<string, unknown>]> = [
      ["residency/decision", access(null)],
      ["residency/decision", access(["a"])],
      ["inference/route", inference],
    ];
    const probes = [NOW - 60_000, NOW, expiry - 1, expiry, expiry + 60_000];
    return cases.every(([entrypoint, input]) => {
      const at = (now: number, learner = "a") =>
        JSON.stringify(
          bundle.evaluate(
            entrypoint,
            { ...input, now_ms: now, request: { ...(input.request as object), learner_id: learner } },
            FRESH,
          ),
        );
      return probes.every((now) => {
        const answer = at(now);
        const reuse = reuseOf(JSON.parse(answer));
        if (!reuse) return true; // never stored, so never reused
        const from = reuse.from_ms ?? Number.NEGATIVE_INFINITY;
        const until = reuse.until_ms ?? Number.POSITIVE_INFINITY;
        return (
          probes.every((other) => other < from || other >= until || at(other) === answer) &&
          (reuse.per_learner || at(now, "b") === answer)
        );
      });
    });
  });
  return failures;
}
