-- Legal holds (SPEC §11.A8): one row per tenant (learner_id null) or tenant + learner, kept apart
-- from policy versions so a hold survives new versions and deactivation. Set and release update the
-- row in place; every change is an audit record (legal_hold.set / legal_hold.released).

CREATE TABLE legal_holds (
  tenant_id  text        NOT NULL,
  learner_id text,
  active     boolean     NOT NULL,
  reason     text        NOT NULL,
  reference  text        NOT NULL,
  set_by     text        NOT NULL,
  set_at     timestamptz NOT NULL
);
CREATE UNIQUE INDEX legal_holds_scope ON legal_holds (tenant_id, (coalesce(learner_id, '')));
