-- Append-only, hash-chained audit log (SPEC §7).

CREATE TABLE audit_log (
  seq             bigint      PRIMARY KEY,
  event_id        text        NOT NULL UNIQUE,
  type            text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  tenant_id       text,
  learner_id      text,
  actor           text,
  request_id      text,
  bundle_revision text,
  policy_id       text,
  policy_version  integer,
  payload         json        NOT NULL, -- json, not jsonb: stored as the exact canonical text that was hashed, and twice as cheap to insert
  prev_hash       text        NOT NULL,
  hash            text        NOT NULL
);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at, seq);
-- "Everything about this learner" (a data subject's access or erasure request) must not scan the log.
CREATE INDEX audit_log_learner ON audit_log (learner_id, seq) WHERE learner_id IS NOT NULL;

-- The database refuses rewrites of history, whoever the caller is (short of a superuser who
-- disables triggers — which the hash chain then exposes).
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
