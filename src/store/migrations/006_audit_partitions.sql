-- Time partitions for audit_log (docs/decisions/0007). Records are partitioned by `logged_on`, the
-- UTC day the writer committed them, never earlier than the record before: so each partition holds
-- one contiguous seq range, the writer closes it on a checkpoint, and a whole partition can be
-- archived and dropped. (occurred_at cannot be the key: it is hashed, set by the caller's clock,
-- and need not rise with seq.) logged_on is not hashed: the hash of every record is unchanged.
--
-- The rows already in audit_log become the partition audit_log_legacy (logged_on 1970-01-01, a
-- constant default: no table rewrite). Uniqueness of seq and event_id is per partition, as
-- Postgres requires the partition key in every unique constraint; seq is unique anyway (one
-- writer at a time under the chain lock), event_id is a fresh UUID per record.

DROP TRIGGER audit_log_no_update_delete ON audit_log;
DROP TRIGGER audit_log_no_truncate ON audit_log;
ALTER TABLE audit_log RENAME TO audit_log_legacy;
ALTER INDEX audit_log_pkey RENAME TO audit_log_legacy_pkey;
ALTER INDEX audit_log_event_id_key RENAME TO audit_log_legacy_event_id_key;
ALTER INDEX audit_log_tenant RENAME TO audit_log_legacy_tenant;
ALTER INDEX audit_log_occurred RENAME TO audit_log_legacy_occurred;
ALTER INDEX audit_log_learner RENAME TO audit_log_legacy_learner;
ALTER TABLE audit_log_legacy ADD COLUMN logged_on date NOT NULL DEFAULT DATE '1970-01-01';
ALTER TABLE audit_log_legacy ALTER COLUMN logged_on DROP DEFAULT;
-- The partition's key must be the parent's (seq, logged_on); its event_id stays unique on its own.
ALTER TABLE audit_log_legacy DROP CONSTRAINT audit_log_legacy_pkey;
ALTER TABLE audit_log_legacy ADD CONSTRAINT audit_log_legacy_pkey PRIMARY KEY (seq, logged_on);

CREATE TABLE audit_log (
  seq             bigint      NOT NULL,
  event_id        text        NOT NULL,
  type            text        NOT NULL,
  occurred_at     timestamptz NOT NULL,
  tenant_id       text,
  learner_id      text,
  actor           text,
  request_id      text,
  bundle_revision text,
  policy_id       text,
  policy_version  integer,
  payload         json        NOT NULL,
  prev_hash       text        NOT NULL,
  hash            text        NOT NULL,
  logged_on       date        NOT NULL,
  PRIMARY KEY (seq, logged_on),
  UNIQUE (event_id, logged_on)
) PARTITION BY RANGE (logged_on);
CREATE INDEX audit_log_tenant ON audit_log (tenant_id, seq);
CREATE INDEX audit_log_occurred ON audit_log (occurred_at, seq);
CREATE INDEX audit_log_learner ON audit_log (learner_id, seq) WHERE learner_id IS NOT NULL;

ALTER TABLE audit_log ATTACH PARTITION audit_log_legacy FOR VALUES FROM (MINVALUE) TO ('1970-01-02');

-- Row triggers on the parent are cloned onto every partition, present and future. TRUNCATE
-- triggers are not: each partition gets its own (audit_log_partition below).
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_legacy_no_truncate BEFORE TRUNCATE ON audit_log_legacy
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- The partition for one day, created when the writer first needs it (in the schema first on the
-- search path, like every table here). Returns its name.
CREATE FUNCTION audit_log_partition(day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  name text := 'audit_log_' || to_char(day, 'YYYYMMDD');
BEGIN
  IF to_regclass(quote_ident(name)) IS NULL THEN
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)', name, day, day + 1);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()',
      name || '_no_truncate', name);
  END IF;
  RETURN name;
END
$$;
