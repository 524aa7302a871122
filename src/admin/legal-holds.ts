import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import type { LoadedBundle } from "../bundles/candidate.ts";
import type { LegalHold, LegalHoldsRepo } from "../context/legal-holds-repo.ts";
import type { Caller } from "../decision/types.ts";
import type { PolicyEngine } from "../engine/index.ts";

// Legal holds (SPEC §11.A8): set or released by a legal admin, held apart from policy versions, each
// change audited in the same transaction, and the tenant's cached context dropped before answering —
// the next delete is refused with DENY_LEGAL_HOLD at once.

export type LegalHoldChange = {
  tenant_id: string;
  learner_id?: string | undefined;
  active: boolean;
  reason: string;
  reference: string;
};

export type LegalHoldAdmin = ReturnType<typeof createLegalHoldAdmin>;

export function createLegalHoldAdmin(deps: {
  repo: LegalHoldsRepo;
  engine: Pick<PolicyEngine<LoadedBundle>, "current">;
  audit: AuditAppender;
  invalidateTenant: (tenantId: string) => Promise<void>;
  clock?: () => Date;
}) {
  const clock = deps.clock ?? (() => new Date());
  return {
    async put(change: LegalHoldChange, caller: Caller): Promise<LegalHold> {
      const now = clock();
      const hold: LegalHold = {
        tenant_id: change.tenant_id,
        learner_id: change.learner_id ?? null,
        active: change.active,
        reason: change.reason,
        reference: change.reference,
        set_by: caller.principal.principal,
        set_at: now.toISOString(),
      };
      const { hold: stored } = await deps.repo.put(hold, (tx, { hold: written, previous }) =>
        deps.audit.appendInTx(tx, [
          auditEvent({
            type: written.active ? "legal_hold.set" : "legal_hold.released",
            occurred_at: now,
            tenant_id: written.tenant_id,
            learner_id: written.learner_id,
            actor: caller.principal.principal,
            request_id: caller.requestId,
            bundle_revision: deps.engine.current()?.revision ?? null,
            payload: {
              reason: written.reason,
              reference: written.reference,
              active: written.active,
              previous: previous
                ? {
                    active: previous.active,
                    reason: previous.reason,
                    reference: previous.reference,
                    set_by: previous.set_by,
                    set_at: previous.set_at,
                  }
                : null,
            },
          }),
        ]),
      );
      await deps.invalidateTenant(stored.tenant_id);
      return stored;
    },
    list: deps.repo.list,
  };
}
