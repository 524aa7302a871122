-- Break-glass overrides (SPEC §4.4) and their approvals.

CREATE TABLE overrides (
  override_id    text        PRIMARY KEY,
  tenant_id      text        NOT NULL,
  learner_ids    text[],
  target_region  text        NOT NULL,
  operations     text[],
  reason         text        NOT NULL,
  ticket         text        NOT NULL,
  duration_hours double precision NOT NULL,
  requested_by   text        NOT NULL,
  created_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  activated_at   timestamptz,
  revoked_at     timestamptz,
  revoked_by     text,
  revoke_reason  text,
  use_count      bigint      NOT NULL DEFAULT 0,
  last_used_at   timestamptz,
  expiry_recorded boolean    NOT NULL DEFAULT false
);
CREATE INDEX overrides_tenant ON overrides (tenant_id, created_at DESC);

CREATE TABLE override_approvals (
  override_id text        NOT NULL REFERENCES overrides (override_id),
  principal   text        NOT NULL,
  approved_at timestamptz NOT NULL,
  PRIMARY KEY (override_id, principal)
);
