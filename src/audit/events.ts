import { newEventId } from "./event-id.ts";
import type { AuditEventInput } from "./types.ts";

type EventFields = Pick<AuditEventInput, "type" | "payload" | "occurred_at"> &
  Partial<Omit<AuditEventInput, "type" | "payload" | "occurred_at">>;

/** An audit event with a fresh, time-ordered id (event-id.ts); whatever a caller does not know is recorded as null. */
export function auditEvent(fields: EventFields): AuditEventInput {
  return {
    event_id: fields.event_id ?? newEventId(),
    type: fields.type,
    occurred_at: fields.occurred_at,
    tenant_id: fields.tenant_id ?? null,
    learner_id: fields.learner_id ?? null,
    actor: fields.actor ?? null,
    request_id: fields.request_id ?? null,
    bundle_revision: fields.bundle_revision ?? null,
    policy_id: fields.policy_id ?? null,
    policy_version: fields.policy_version ?? null,
    payload: fields.payload,
  };
}
