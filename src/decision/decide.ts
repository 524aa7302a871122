import { newEventId } from "../audit/index.ts";
import type { AuditAppender, AuditEventInput } from "../audit/types.ts";
import type { LoadedBundle } from "../bundles/candidate.ts";
import type { ContextLoader, TenantContext } from "../context/context-loader.ts";
import type {
  AccessResult,
  Entrypoint,
  InferenceResult,
  Obligations,
  Reason,
} from "../domain/policy-contract.ts";
import { seal } from "../domain/sealed.ts";
import { REGION_CODES, type RegionCode } from "../domain/vocabulary.ts";
import type { Infrastructure } from "../endpoints/infrastructure.ts";
import type { PolicyEngine } from "../engine/index.ts";
import { AppError, toError } from "../errors.ts";
import type { AccessRequest, InferenceRequest } from "./requests.ts";
import type { AccessDecision, Caller, DecisionEnvelope, InferenceDecision } from "./types.ts";

// The use case: load context → evaluate the bundle → map to infrastructure → audit → answer.
// No driver, no HTTP: everything comes in through DecideDeps.

export type DecideDeps = {
  context: Pick<ContextLoader, "tenantContext" | "regionHealth">;
  engine: Pick<PolicyEngine<LoadedBundle>, "current">;
  infrastructure: (region: RegionCode) => Infrastructure;
  audit: AuditAppender;
  /** Counts a use of an override that carried a decision (best effort after the audit record). */
  recordOverrideUse: (overrideId: string, at: Date) => Promise<void>;
  requiredApprovals: number;
  clock?: () => Date;
  newId?: () => string;
  onEvaluated?: (entrypoint: Entrypoint, seconds: number) => void;
  onDecision?: (kind: "access" | "inference" | "presign", allowed: boolean, code: string) => void;
  onBackgroundError?: (err: Error) => void;
};

const reasonOf = (r: Reason): Reason => ({
  code: r.code,
  decided_by: r.decided_by,
  framework: r.framework,
  message: r.message,
});
// A bundle built before SPEC §11 answers without the newer keys: they read as their defaults.
const obligationsOf = (o: Obligations): Obligations => ({
  retention_days: o.retention_days,
  erasure_deadline_days: o.erasure_deadline_days,
  erasure_deadline_framework: o.erasure_deadline_framework ?? null,
  encryption_at_rest: o.encryption_at_rest,
  notify: o.notify,
  dpia_required: o.dpia_required ?? false,
  art9_condition_required: o.art9_condition_required ?? false,
  ai_act_high_risk: o.ai_act_high_risk ?? null,
  legal_hold: o.legal_hold ?? null,
});
const eliminatedOf = (e: Record<string, string>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(e).sort(
      ([a], [b]) => REGION_CODES.indexOf(a as RegionCode) - REGION_CODES.indexOf(b as RegionCode),
    ),
  );

// Wire order of SPEC §6 (the wasm returns fields in hash order): what a reader scans for first,
// first. Erasure fields only on deletes.
function accessDecision(env: DecisionEnvelope, r: AccessResult, erasure: boolean): AccessDecision {
  return {
    decision_id: env.decision_id,
    allowed: r.allowed,
    target_region: r.target_region,
    ...outcomeFields(r),
    infrastructure: env.infrastructure,
    ...(erasure ? { erasure_targets: r.erasure_targets, deferred: r.deferred } : {}),
    flags: r.flags,
    ...provenanceFields(env),
  } as AccessDecision;
}

function inferenceDecision(env: DecisionEnvelope, r: InferenceResult): InferenceDecision {
  return {
    decision_id: env.decision_id,
    allowed: r.allowed,
    provider: r.provider,
    model: r.model,
    endpoint: r.endpoint,
    route: r.route,
    provider_region: r.provider_region,
    destinations: r.destinations,
    fallback_used: r.fallback_used,
    target_region: r.target_region,
    ...outcomeFields(r),
    infrastructure: env.infrastructure,
    flags: r.flags,
    rejected_candidates: r.rejected_candidates,
    ...provenanceFields(env),
  };
}

/**
 * What `build` makes from the bundle's answer alone, made once per answer when the answer is a
 * memo's (frozen, shared by every decision it serves) and sealed, so the HTTP writer and the audit
 * writer reuse its printed text; made afresh for an answer of one decision.
 */
function perAnswer<T extends object>(memo: WeakMap<object, T>, answer: object, build: () => T): T {
  if (!Object.isFrozen(answer)) return build();
  let value = memo.get(answer);
  if (value === undefined) {
    value = seal(build());
    memo.set(answer, value);
  }
  return value;
}

const sharedFields = new WeakMap<object, ReturnType<typeof buildOutcomeFields>>();

/** Why, and within which sets: the fields every kind of decision shares. */
const outcomeFields = (r: AccessResult | InferenceResult) =>
  perAnswer(sharedFields, r, () => buildOutcomeFields(r));

function buildOutcomeFields(r: AccessResult | InferenceResult) {
  return {
    reason: reasonOf(r.reason),
    reasons: r.reasons.map(reasonOf),
    legal_regions: r.legal_regions,
    permitted_regions: r.permitted_regions,
    eliminated: eliminatedOf(r.eliminated),
    frameworks: r.frameworks,
    obligations: obligationsOf(r.obligations),
    override_id: r.override_id,
    failover: r.failover,
  };
}

function provenanceFields(env: DecisionEnvelope) {
  return { policy: env.policy, bundle_revision: env.bundle_revision, evaluated_at: env.evaluated_at };
}

/** The fields the host reads; the self-check proves them for known inputs, this for every input. */
function assertDecisionShape(result: unknown): void {
  const r = result as Partial<AccessResult> | null;
  const ok =
    r !== null &&
    typeof r === "object" &&
    typeof r.allowed === "boolean" &&
    typeof r.reason?.code === "string" &&
    Array.isArray(r.reasons) &&
    Array.isArray(r.legal_regions) &&
    Array.isArray(r.permitted_regions) &&
    Array.isArray(r.flags) &&
    typeof r.eliminated === "object" &&
    r.eliminated !== null &&
    typeof r.obligations === "object" &&
    r.obligations !== null;
  if (!ok) throw new Error("the bundle answered without the decision fields the host reads");
}

function withoutRequest(input: unknown): Record<string, unknown> {
  const { request: _request, ...rest } = input as Record<string, unknown>;
  return rest;
}

export type Decided<T> = { decision: T; input: unknown; context: TenantContext };

export function createDecide(deps: DecideDeps) {
  const clock = deps.clock ?? (() => new Date());
  const newId = deps.newId ?? newEventId;
  const settings = seal({ required_approvals: deps.requiredApprovals });
  const outcomes = new WeakMap<object, Record<string, unknown>>();

  function activeBundle(): LoadedBundle {
    const bundle = deps.engine.current();
    if (!bundle) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    return bundle;
  }

  /** The bundle's answer: at once for a memo hit, a promise when it runs on the evaluation thread. */
  function evaluate<T>(bundle: LoadedBundle, entrypoint: Entrypoint, input: unknown): T | Promise<T> {
    const start = process.hrtime.bigint();
    const settle = (result: T): T => {
      deps.onEvaluated?.(entrypoint, Number(process.hrtime.bigint() - start) / 1e9);
      try {
        assertDecisionShape(result);
      } catch (err) {
        throw unavailable(err);
      }
      return result;
    };
    const fail = (err: unknown): never => {
      deps.onEvaluated?.(entrypoint, Number(process.hrtime.bigint() - start) / 1e9);
      throw unavailable(err);
    };
    let answer: T | Promise<T>;
    try {
      answer = bundle.evaluateServing<T>(entrypoint, input);
    } catch (err) {
      return fail(err);
    }
    return answer instanceof Promise ? answer.then(settle, fail) : settle(answer);
  }

  // A bundle that cannot evaluate this input (or answers in a shape we cannot read) decides
  // nothing: fail closed with a 503, never a 500 and never a guess.
  const unavailable = (err: unknown) =>
    new AppError("POLICY_UNAVAILABLE", `policy evaluation failed: ${toError(err).message}`, { cause: err });

  function envelope(
    bundle: LoadedBundle,
    context: TenantContext,
    now: Date,
    target: RegionCode | null,
    allowed: boolean,
  ) {
    return {
      decision_id: newId(),
      infrastructure: allowed && target ? deps.infrastructure(target) : null,
      policy: context.policyRef,
      bundle_revision: bundle.revision,
      evaluated_at: now.toISOString(),
    };
  }

  function auditRecord(
    type: string,
    decision: AccessDecision | InferenceDecision,
    request: { tenant_id: string; learner_id?: string | undefined },
    input: unknown,
    caller: Caller,
    now: Date,
    outcome: Record<string, unknown>,
  ): AuditEventInput {
    return {
      event_id: decision.decision_id,
      type,
      occurred_at: now,
      tenant_id: request.tenant_id,
      learner_id: request.learner_id ?? null,
      actor: caller.principal.principal,
      request_id: caller.requestId,
      bundle_revision: decision.bundle_revision,
      policy_id: decision.policy?.policy_id ?? null,
      policy_version: decision.policy?.version ?? null,
      payload: {
        request: (input as { request: unknown }).request,
        // The rest of the evaluated input (effective policy, health, overrides, now): with `request`
        // it is exactly what the bundle saw, so a candidate bundle can replay it (dry runs).
        evaluation: withoutRequest(input),
        decision: outcome,
      },
    };
  }

  /** The record's `decision`: what was decided and why, in the bundle's words. */
  function outcomeOf(decision: AccessDecision | InferenceDecision, extra: Record<string, unknown> = {}) {
    return {
      allowed: decision.allowed,
      reason_code: decision.reason.code,
      reason: decision.reason,
      target_region: decision.target_region,
      override_id: decision.override_id,
      failover: decision.failover,
      flags: decision.flags,
      legal_regions: decision.legal_regions,
      permitted_regions: decision.permitted_regions,
      // Why each region was removed: what an auditor reads first on a deny.
      eliminated: decision.eliminated,
      ...extra,
    };
  }

  /** `outcomeOf` when it depends on the bundle's answer alone: once per memo answer (perAnswer). */
  const sharedOutcome = (answer: object, build: () => Record<string, unknown>) =>
    perAnswer(outcomes, answer, build);

  /** The decision's record, and the override's use when the decision rests on one: one fact. */
  function recordsOf(
    record: AuditEventInput,
    decision: { override_id: string | null; allowed: boolean },
    caller: Caller,
  ) {
    if (!(decision.allowed && decision.override_id)) return [record];
    return [
      record,
      {
        ...record,
        event_id: newId(),
        type: "override.used",
        payload: {
          override_id: decision.override_id,
          decision_id: record.event_id,
          actor: caller.principal.principal,
        },
      },
    ];
  }

  /** The audit trail already proves a use; the counter is a convenience for the listing. */
  function countOverrideUse(decision: { override_id: string | null; allowed: boolean }, now: Date) {
    if (decision.allowed && decision.override_id) {
      deps
        .recordOverrideUse(decision.override_id, now)
        .catch((err) => deps.onBackgroundError?.(toError(err)));
    }
  }

  /** Appends the decision (and the override use, if any) and resolves once both are committed. */
  async function commit(
    record: AuditEventInput,
    decision: { override_id: string | null; allowed: boolean },
    caller: Caller,
    now: Date,
  ) {
    const records = recordsOf(record, decision, caller);
    if (records.length === 1) await deps.audit.append(record);
    else await deps.audit.appendAll(records);
    countOverrideUse(decision, now);
  }

  /** The tenant's context and the evaluation input (docs/policy-contract.md) for one request. */
  async function loadInputs(
    request: AccessRequest | InferenceRequest,
    now: Date,
    parts: { overrides: boolean },
  ) {
    const [context, health] = await Promise.all([
      deps.context.tenantContext(request.tenant_id, request.learner_id ?? null),
      deps.context.regionHealth(),
    ]);
    // A delete reaches every copy: the policy history, and after offboarding the last versions
    // (SPEC §11.A8). Every other operation sees only the active policy.
    const erasing = "operation_type" in request && request.operation_type === "delete";
    const last = erasing && !context.effective ? context.inactive : null;
    const input = {
      now_ms: now.getTime(),
      request,
      policy: last ? last.effective : context.effective,
      region_health: health,
      ...(parts.overrides ? { overrides: context.overrides } : {}), // overrides never apply to inference
      settings,
      tenant_policy: last ? last.tenantOwn : context.tenantOwn,
      learner_policy: last ? last.learnerOwn : context.learnerOwn,
      legal_hold: erasing ? context.deleteHold : context.hold,
      ...(erasing ? { history: context.history } : {}),
    };
    return { context: last ? { ...context, policyRef: last.policyRef } : context, input };
  }

  type AccessOptions = {
    auditType?: string;
    /** Runs after evaluation, before the audit commit; its fields join the answer and the record. */
    enrich?: (
      d: AccessDecision,
    ) => Promise<{ response: Record<string, unknown>; audit: Record<string, unknown> }>;
  };

  /** Everything up to the audit commit: the decision and the record that must commit before it is told. */
  async function evaluateAccess(
    bundle: LoadedBundle,
    request: AccessRequest,
    caller: Caller,
    now: Date,
    options: AccessOptions,
  ) {
    const { context, input } = await loadInputs(request, now, { overrides: true });
    const answer = evaluate<AccessResult>(bundle, "residency/decision", input);
    const result = answer instanceof Promise ? await answer : answer;
    let decision = accessDecision(
      envelope(bundle, context, now, result.target_region, result.allowed),
      result,
      request.operation_type === "delete",
    );
    const type = options.auditType ?? "decision.access";
    const enriched = options.enrich ? await options.enrich(decision) : null;
    if (enriched) decision = { ...decision, ...enriched.response };
    const outcome = enriched
      ? outcomeOf(decision, enriched.audit)
      : sharedOutcome(result, () => outcomeOf(decision));
    const record = auditRecord(type, decision, request, input, caller, now, outcome);
    return { decision, input, context, record, type };
  }

  async function decideAccess(
    request: AccessRequest,
    caller: Caller,
    options: AccessOptions = {},
  ): Promise<Decided<AccessDecision>> {
    const bundle = activeBundle();
    const now = clock();
    const { decision, input, context, record, type } = await evaluateAccess(
      bundle,
      request,
      caller,
      now,
      options,
    );
    await commit(record, decision, caller, now);
    deps.onDecision?.(
      type === "decision.presign" ? "presign" : "access",
      decision.allowed,
      decision.reason.code,
    );
    return { decision, input, context };
  }

  /**
   * Several access decisions against one bundle and one clock, answered in order. Every record
   * (and every override use) commits in one append: all are told, or none is (503).
   */
  async function decideAccessBatch(requests: AccessRequest[], caller: Caller): Promise<AccessDecision[]> {
    const bundle = activeBundle();
    const now = clock();
    const evaluated = await Promise.all(requests.map((r) => evaluateAccess(bundle, r, caller, now, {})));
    await deps.audit.appendAll(evaluated.flatMap((e) => recordsOf(e.record, e.decision, caller)));
    for (const e of evaluated) {
      countOverrideUse(e.decision, now);
      deps.onDecision?.("access", e.decision.allowed, e.decision.reason.code);
    }
    return evaluated.map((e) => e.decision);
  }

  async function decideInference(
    request: InferenceRequest,
    caller: Caller,
  ): Promise<Decided<InferenceDecision>> {
    const bundle = activeBundle();
    const now = clock();
    const { context, input } = await loadInputs(request, now, { overrides: false });
    const answer = evaluate<InferenceResult>(bundle, "inference/route", input);
    const result = answer instanceof Promise ? await answer : answer;
    const decision = inferenceDecision(
      envelope(bundle, context, now, result.provider_region, result.allowed),
      result,
    );
    await commit(
      auditRecord(
        "decision.inference",
        decision,
        request,
        input,
        caller,
        now,
        sharedOutcome(result, () =>
          outcomeOf(decision, {
            provider: decision.provider,
            model: decision.model,
            provider_region: decision.provider_region,
          }),
        ),
      ),
      decision,
      caller,
      now,
    );
    deps.onDecision?.("inference", decision.allowed, decision.reason.code);
    return { decision, input, context };
  }

  return { decideAccess, decideAccessBatch, decideInference };
}

export type Decide = ReturnType<typeof createDecide>;
