import { auditEvent } from "../audit/events.ts";
import type { AuditAppender } from "../audit/types.ts";
import {
  type OverrideRecord,
  type OverrideStatus,
  type OverridesRepo,
  overrideStatus,
} from "../context/overrides-repo.ts";
import type { Caller } from "../decision/types.ts";
import { canonicalPrincipal } from "../domain/principal.ts";
import type { AccessOperation, RegionCode } from "../domain/vocabulary.ts";
import { AppError, toError } from "../errors.ts";

// Break-glass life cycle (SPEC §4.4): request → approvals by distinct approvers (never the
// requester) → active inside its window → revoked or expired. Whether an override *applies* is
// decided by the bundle at each decision (expiry included); this room keeps the records,
// the audit trail and the notifications.

export type OverrideEvent = "requested" | "approved" | "activated" | "revoked" | "expired";

export type OverrideNotifier = (event: OverrideEvent, override: OverrideView) => void;

/** An override as the API shows it: the stored record with its status now and the approvals rule. */
export type OverrideView = Omit<OverrideRecord, "expiry_recorded"> & {
  status: OverrideStatus;
  required_approvals: number;
};

export type OverrideAdminDeps = {
  repo: OverridesRepo;
  audit: AuditAppender;
  invalidateTenant: (tenantId: string) => Promise<void>;
  notify?: OverrideNotifier;
  requiredApprovals: number;
  maxHours: number;
  bundleRevision: () => string | null;
  clock?: () => Date;
  onActiveCount?: (n: number) => void;
  onBackgroundError?: (err: Error) => void;
};

export function createOverrideAdmin(deps: OverrideAdminDeps) {
  const clock = deps.clock ?? (() => new Date());
  const view = (o: OverrideRecord, now = clock()): OverrideView => ({
    override_id: o.override_id,
    status: overrideStatus(o, deps.requiredApprovals, now),
    tenant_id: o.tenant_id,
    learner_ids: o.learner_ids,
    target_region: o.target_region,
    operations: o.operations,
    reason: o.reason,
    ticket: o.ticket,
    duration_hours: o.duration_hours,
    requested_by: o.requested_by,
    approvals: o.approvals,
    required_approvals: deps.requiredApprovals,
    created_at: o.created_at,
    activated_at: o.activated_at,
    expires_at: o.expires_at,
    revoked_at: o.revoked_at,
    revoked_by: o.revoked_by,
    use_count: o.use_count,
    last_used_at: o.last_used_at,
  });

  const overrideEvent = (
    event: OverrideEvent,
    o: OverrideView,
    actor: string | null,
    requestId: string | null,
  ) =>
    auditEvent({
      type: `override.${event}`,
      occurred_at: clock(),
      tenant_id: o.tenant_id,
      actor,
      request_id: requestId,
      bundle_revision: deps.bundleRevision(),
      payload: { override: o },
    });

  // Operators are paged on state changes that matter (each approval is in the audit trail).
  // Called after the change and its audit record have committed together.
  const notify = (event: OverrideEvent, o: OverrideView) => {
    if (event !== "approved") deps.notify?.(event, o);
  };

  async function refreshGauge() {
    if (!deps.onActiveCount) return;
    try {
      deps.onActiveCount(await deps.repo.countActive(deps.requiredApprovals, clock()));
    } catch (err) {
      deps.onBackgroundError?.(toError(err));
    }
  }

  return {
    async request(
      body: {
        tenant_id: string;
        learner_ids?: string[] | undefined;
        target_region: RegionCode;
        operations?: AccessOperation[] | undefined;
        reason: string;
        ticket: string;
        duration_hours: number;
      },
      caller: Caller,
    ): Promise<OverrideView> {
      if (body.duration_hours > deps.maxHours) {
        throw new AppError(
          "VALIDATION_FAILED",
          `duration_hours must be at most ${deps.maxHours} (OVERRIDE_MAX_HOURS)`,
          {
            details: [{ path: "duration_hours", message: `at most ${deps.maxHours}` }],
          },
        );
      }
      const created = await deps.repo.create({
        tenantId: body.tenant_id,
        learnerIds: body.learner_ids ?? null,
        targetRegion: body.target_region,
        operations: body.operations ?? null,
        reason: body.reason,
        ticket: body.ticket,
        durationHours: body.duration_hours,
        requestedBy: caller.principal.principal,
        now: clock(),
        onWritten: (tx, rec) =>
          deps.audit.appendInTx(tx, [
            overrideEvent("requested", view(rec), caller.principal.principal, caller.requestId),
          ]),
      });
      const v = view(created);
      notify("requested", v);
      return v;
    },

    async approve(id: string, caller: Caller): Promise<OverrideView> {
      const existing = await deps.repo.get(id);
      if (!existing) throw new AppError("NOT_FOUND", `override ${id} not found`);
      if (caller.principal.tenant_ids && !caller.principal.tenant_ids.includes(existing.tenant_id)) {
        throw new AppError("NOT_FOUND", `override ${id} not found`); // out of scope reads as missing
      }
      if (canonicalPrincipal(existing.requested_by) === canonicalPrincipal(caller.principal.principal)) {
        throw new AppError("FORBIDDEN", "the requester of an override cannot approve it");
      }
      const actor = caller.principal.principal;
      const {
        record: after,
        activated,
        duplicate,
      } = await deps.repo.approve(id, actor, deps.requiredApprovals, clock(), (tx, { record, activated }) =>
        deps.audit.appendInTx(tx, [
          overrideEvent("approved", view(record), actor, caller.requestId),
          ...(activated ? [overrideEvent("activated", view(record), actor, caller.requestId)] : []),
        ]),
      );
      if (duplicate)
        throw new AppError("CONFLICT", `${caller.principal.principal} has already approved ${id}`);
      const v = view(after);
      // The cached context holds the override list: the next decision must see the approval.
      await deps.invalidateTenant(after.tenant_id);
      if (activated) {
        notify("activated", v);
        await refreshGauge();
      }
      return v;
    },

    async revoke(id: string, reason: string | null, caller: Caller): Promise<OverrideView> {
      const existing = await deps.repo.get(id);
      if (!existing) throw new AppError("NOT_FOUND", `override ${id} not found`);
      if (caller.principal.tenant_ids && !caller.principal.tenant_ids.includes(existing.tenant_id)) {
        throw new AppError("NOT_FOUND", `override ${id} not found`); // out of scope reads as missing
      }
      let revoked: OverrideRecord;
      try {
        revoked = await deps.repo.revoke(id, caller.principal.principal, reason, clock(), (tx, rec) =>
          deps.audit.appendInTx(tx, [
            overrideEvent("revoked", view(rec), caller.principal.principal, caller.requestId),
          ]),
        );
      } catch (err) {
        // Already revoked (409): a retry after a failed answer must still leave no cached copy.
        await deps.invalidateTenant(existing.tenant_id);
        throw err;
      }
      // Revocation is immediate: drop the cached override list before answering.
      await deps.invalidateTenant(revoked.tenant_id);
      const v = view(revoked);
      notify("revoked", v);
      await refreshGauge();
      return v;
    },

    async get(id: string): Promise<OverrideView> {
      const o = await deps.repo.get(id);
      if (!o) throw new AppError("NOT_FOUND", `override ${id} not found`);
      return view(o);
    },

    async list(filter: {
      tenantIds: string[] | null;
      tenantId?: string;
      status?: OverrideStatus;
      limit: number;
      cursor?: string | undefined;
    }) {
      const now = clock();
      const page = await deps.repo.list({ ...filter, requiredApprovals: deps.requiredApprovals, now });
      return { items: page.items.map((o) => view(o, now)), next_cursor: page.next_cursor };
    },

    /**
     * Records expiries that already took effect (decisions check expiry themselves): one audit
     * event and one notification per override, claimed atomically so instances do not double up.
     */
    async sweepExpired(): Promise<number> {
      const expired = await deps.repo.claimNewlyExpired(clock(), (tx, recs) =>
        deps.audit.appendInTx(
          tx,
          recs.map((o) => overrideEvent("expired", view(o), "system", null)),
        ),
      );
      for (const o of expired) notify("expired", view(o));
      if (expired.length > 0) await refreshGauge();
      return expired.length;
    },

    refreshGauge,
  };
}

export type OverrideAdmin = ReturnType<typeof createOverrideAdmin>;
