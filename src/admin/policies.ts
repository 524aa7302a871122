import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import type { LoadedBundle } from "../bundles/candidate.ts";
import { ownLearnerFields, ownTenantFields } from "../context/context-loader.ts";
import type { LegalHold, LegalHoldsRepo } from "../context/legal-holds-repo.ts";
import type { PoliciesRepo } from "../context/policies-repo.ts";
import type { Caller } from "../decision/types.ts";
import { mergePolicies } from "../domain/effective-policy.ts";
import type { PolicyDocument, StoredPolicy } from "../domain/policy.ts";
import type { ValidateResult, Violation } from "../domain/policy-contract.ts";
import type { PolicyEngine } from "../engine/index.ts";
import { AppError, toError } from "../errors.ts";
import type { Queryable } from "../store/db.ts";

// Policy administration: every write is checked by the bundle's `residency/validate`, stored as a
// new version, audited, and invalidates the tenant's cached context before it answers.

/** Read-only on every policy (SPEC §11.A1): never writable through /policies. */
export type LegalHoldView = {
  active: boolean;
  reason: string | null;
  reference: string | null;
  set_by: string | null;
  set_at: string | null;
};

const NO_HOLD: LegalHoldView = { active: false, reason: null, reference: null, set_by: null, set_at: null };

export type PolicyView = PolicyDocument & {
  policy_id: string;
  version: number;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  created_by: string;
  legal_hold: LegalHoldView;
};

export function policyView(p: StoredPolicy, hold: LegalHold | null = null): PolicyView {
  return {
    ...p.document,
    tenant_id: p.tenant_id,
    learner_id: p.learner_id,
    policy_id: p.policy_id,
    version: p.version,
    is_active: p.is_active,
    created_at: p.created_at,
    updated_at: p.updated_at,
    created_by: p.created_by,
    legal_hold: holdView(hold),
  };
}

const holdView = (h: LegalHold | null | undefined): LegalHoldView =>
  h
    ? { active: h.active, reason: h.reason, reference: h.reference, set_by: h.set_by, set_at: h.set_at }
    : NO_HOLD;

/** LEARNER_POLICY_INVALIDATED lists at most this many learner ids (ascending) and counts the rest. */
const LISTED_LEARNERS = 50;

export type PolicyAdminDeps = {
  repo: PoliciesRepo;
  holds: Pick<LegalHoldsRepo, "all">;
  engine: Pick<PolicyEngine<LoadedBundle>, "current">;
  audit: AuditAppender;
  invalidateTenant: (tenantId: string) => Promise<void>;
  clock?: () => Date;
};

export function createPolicyAdmin(deps: PolicyAdminDeps) {
  const clock = deps.clock ?? (() => new Date());

  function runValidate(input: Record<string, unknown>): ValidateResult {
    const bundle = deps.engine.current();
    if (!bundle) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    try {
      return bundle.evaluate<ValidateResult>("residency/validate", input);
    } catch (err) {
      throw new AppError("POLICY_UNAVAILABLE", `policy validation failed: ${toError(err).message}`, {
        cause: err,
      });
    }
  }

  /** A learner policy merged with a tenant policy, as `residency/validate` reads it. */
  const learnerInput = (tenantDoc: PolicyDocument, learnerDoc: PolicyDocument) => ({
    policy: mergePolicies(tenantDoc, learnerDoc).policy,
    kind: "learner",
    tenant_policy: ownTenantFields(tenantDoc),
    learner_policy: ownLearnerFields(learnerDoc),
  });

  /**
   * SPEC §11.A7: a tenant write may not invalidate an active learner policy. Every active learner
   * policy is validated merged with the candidate tenant version; one violation names them.
   */
  async function invalidatedLearners(tenantDoc: PolicyDocument): Promise<Violation[]> {
    const learners = await deps.repo.activeLearners(tenantDoc.tenant_id);
    const failed: Array<{ learner: string; codes: string[] }> = [];
    for (const l of learners) {
      const r = runValidate(learnerInput(tenantDoc, l.document));
      if (!r.valid) failed.push({ learner: l.learner_id as string, codes: r.violations.map((v) => v.code) });
    }
    if (failed.length === 0) return [];
    const byCode: Record<string, number> = {};
    for (const f of failed) for (const code of new Set(f.codes)) byCode[code] = (byCode[code] ?? 0) + 1;
    const ids = failed.map((f) => f.learner).sort();
    return [
      {
        code: "LEARNER_POLICY_INVALIDATED",
        field: "learner_id",
        framework: null,
        message: `the change would invalidate ${failed.length} active learner polic${failed.length === 1 ? "y" : "ies"}; change or deactivate them first`,
        details: {
          learner_ids: ids.slice(0, LISTED_LEARNERS),
          affected_count: failed.length,
          by_code: byCode,
        },
      },
    ];
  }

  async function validate(doc: PolicyDocument): Promise<{ warnings: Violation[] }> {
    const learnerId = doc.learner_id ?? null;
    let tenantDoc: PolicyDocument;
    if (learnerId) {
      const tenant = await deps.repo.activeFor(doc.tenant_id, null);
      if (!tenant) {
        throw new AppError("POLICY_VIOLATION", "a learner policy needs an active tenant policy first", {
          details: {
            violations: [
              {
                code: "TENANT_POLICY_REQUIRED",
                field: "tenant_id",
                framework: null,
                message: `tenant ${doc.tenant_id} has no active tenant policy`,
              },
            ],
            warnings: [],
          },
        });
      }
      tenantDoc = tenant.document;
    } else {
      tenantDoc = doc;
    }
    const result = learnerId
      ? runValidate(learnerInput(tenantDoc, doc))
      : runValidate({ policy: mergePolicies(doc, null).policy, kind: "tenant" });
    const violations = [...result.violations, ...(learnerId ? [] : await invalidatedLearners(doc))];
    if (violations.length > 0) {
      throw new AppError("POLICY_VIOLATION", `policy violates ${violations.length} rule(s)`, {
        details: { violations, warnings: result.warnings },
      });
    }
    return { warnings: result.warnings };
  }

  // The change and its audit record commit in one transaction: no policy version without its record.
  const recordInTx =
    (caller: Caller, type: ((p: StoredPolicy) => string) | string, extra: Record<string, unknown> = {}) =>
    (tx: Queryable, policy: StoredPolicy) =>
      deps.audit.appendInTx(tx, [
        auditEvent({
          type: typeof type === "string" ? type : type(policy),
          occurred_at: clock(),
          tenant_id: policy.tenant_id,
          learner_id: policy.learner_id,
          actor: caller.principal.principal,
          request_id: caller.requestId,
          bundle_revision: deps.engine.current()?.revision ?? null,
          policy_id: policy.policy_id,
          policy_version: policy.version,
          payload: { policy: policyView(policy), ...extra },
        }),
      ]);

  /** Policies as shown: each with its scope's legal hold, read-only (SPEC §11.A1). */
  async function views(policies: StoredPolicy[]): Promise<PolicyView[]> {
    const tenants = [...new Set(policies.map((p) => p.tenant_id))];
    const holds = tenants.length > 0 ? await deps.holds.all({ tenantIds: tenants }) : [];
    const key = (tenant: string, learner: string | null) => `${tenant}\u0000${learner ?? ""}`;
    const byScope = new Map(holds.map((h) => [key(h.tenant_id, h.learner_id), h]));
    return policies.map((p) => policyView(p, byScope.get(key(p.tenant_id, p.learner_id)) ?? null));
  }
  const view = async (p: StoredPolicy) => (await views([p]))[0] as PolicyView;

  return {
    views,
    view,

    /** POST: a new version replaces the active policy of the same tenant/learner. */
    async create(doc: PolicyDocument, caller: Caller) {
      const { warnings } = await validate(doc);
      const stored = await deps.repo.writeVersion({
        document: doc,
        actor: caller.principal.principal,
        now: clock(),
        onWritten: recordInTx(caller, (p) => (p.version === 1 ? "policy.created" : "policy.updated")),
      });
      await deps.invalidateTenant(stored.tenant_id);
      return { policy: await view(stored), warnings };
    },

    /** PUT by id: the body replaces the document; If-Match guards against lost updates. */
    async update(policyId: string, doc: PolicyDocument, expectedVersion: number | undefined, caller: Caller) {
      const current = await deps.repo.latest(policyId);
      if (!current) throw new AppError("NOT_FOUND", `policy ${policyId} not found`);
      if (doc.tenant_id !== current.tenant_id || (doc.learner_id ?? null) !== current.learner_id) {
        throw new AppError("VALIDATION_FAILED", "tenant_id and learner_id of a policy cannot change", {
          details: [
            {
              path: "tenant_id",
              message: `policy ${policyId} belongs to ${current.tenant_id}/${current.learner_id ?? "-"}`,
            },
          ],
        });
      }
      if (expectedVersion !== undefined && expectedVersion !== current.version) {
        throw new AppError(
          "CONFLICT",
          `policy ${policyId} is at version ${current.version}, not ${expectedVersion}`,
          {
            details: { current_version: current.version },
          },
        );
      }
      const { warnings } = await validate(doc);
      const stored = await deps.repo.writeVersion({
        document: doc,
        actor: caller.principal.principal,
        policyId,
        ...(expectedVersion !== undefined ? { expectedVersion } : {}),
        now: clock(),
        onWritten: recordInTx(caller, "policy.updated", { previous_version: current.version }),
      });
      await deps.invalidateTenant(stored.tenant_id);
      return { policy: await view(stored), warnings };
    },

    async deactivate(policyId: string, caller: Caller) {
      const stored = await deps.repo.deactivate(policyId, recordInTx(caller, "policy.deactivated"));
      await deps.invalidateTenant(stored.tenant_id);
      return view(stored);
    },

    async get(policyId: string): Promise<StoredPolicy> {
      const p = await deps.repo.latest(policyId);
      if (!p) throw new AppError("NOT_FOUND", `policy ${policyId} not found`);
      return p;
    },

    history: (policyId: string) => deps.repo.history(policyId),
    list: deps.repo.list,

    /** The merged policy a decision would use, with the source of every field. */
    async effective(tenantId: string, learnerId: string | null) {
      const tenant = await deps.repo.activeFor(tenantId, null);
      if (!tenant) throw new AppError("NOT_FOUND", `tenant ${tenantId} has no active policy`);
      const learner = learnerId ? await deps.repo.activeFor(tenantId, learnerId) : null;
      const { policy, provenance } = mergePolicies(tenant.document, learner?.document ?? null);
      // Active when the tenant's or the learner's hold is (SPEC §11.A1); shown, never merged in.
      const holds = await deps.holds.all({ tenantIds: [tenantId], active: true });
      const hold =
        holds.find((h) => h.learner_id === null) ??
        holds.find((h) => learnerId !== null && h.learner_id === learnerId);
      return {
        tenant_id: tenantId,
        learner_id: learnerId,
        policy: { ...policy, legal_hold: holdView(hold) },
        provenance: {
          ...provenance,
          legal_hold: hold ? (hold.learner_id ? "learner" : "tenant") : "default",
        },
        sources: {
          tenant: { policy_id: tenant.policy_id, version: tenant.version },
          learner: learner ? { policy_id: learner.policy_id, version: learner.version } : null,
        },
      };
    },
  };
}

export type PolicyAdmin = ReturnType<typeof createPolicyAdmin>;
