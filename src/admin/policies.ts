import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import type { LoadedBundle } from "../bundles/candidate.ts";
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

export type PolicyView = PolicyDocument & {
  policy_id: string;
  version: number;
  is_active: boolean;
  created_at: string;
  updated_at: string;
  created_by: string;
};

export function policyView(p: StoredPolicy): PolicyView {
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
  };
}

export type PolicyAdminDeps = {
  repo: PoliciesRepo;
  engine: Pick<PolicyEngine<LoadedBundle>, "current">;
  audit: AuditAppender;
  invalidateTenant: (tenantId: string) => Promise<void>;
  clock?: () => Date;
};

export function createPolicyAdmin(deps: PolicyAdminDeps) {
  const clock = deps.clock ?? (() => new Date());

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
    const effective = mergePolicies(tenantDoc, learnerId ? doc : null).policy;
    const bundle = deps.engine.current();
    if (!bundle) throw new AppError("POLICY_UNAVAILABLE", "no policy bundle is active yet");
    let result: ValidateResult;
    try {
      result = bundle.evaluate<ValidateResult>("residency/validate", {
        policy: effective,
        kind: learnerId ? "learner" : "tenant",
      });
    } catch (err) {
      throw new AppError("POLICY_UNAVAILABLE", `policy validation failed: ${toError(err).message}`, {
        cause: err,
      });
    }
    if (!result.valid) {
      throw new AppError("POLICY_VIOLATION", `policy violates ${result.violations.length} rule(s)`, {
        details: { violations: result.violations, warnings: result.warnings },
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

  return {
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
      return { policy: policyView(stored), warnings };
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
      return { policy: policyView(stored), warnings };
    },

    async deactivate(policyId: string, caller: Caller) {
      const stored = await deps.repo.deactivate(policyId, recordInTx(caller, "policy.deactivated"));
      await deps.invalidateTenant(stored.tenant_id);
      return policyView(stored);
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
      return {
        tenant_id: tenantId,
        learner_id: learnerId,
        policy,
        provenance,
        sources: {
          tenant: { policy_id: tenant.policy_id, version: tenant.version },
          learner: learner ? { policy_id: learner.policy_id, version: learner.version } : null,
        },
      };
    },
  };
}

export type PolicyAdmin = ReturnType<typeof createPolicyAdmin>;
