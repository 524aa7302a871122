-- Signed checkpoints over the audit chain (docs/decisions/0007-audit-checkpoints-and-archives.md).
-- Checkpoint n covers seq first_seq..last_seq (contiguous with n-1), names the hash of the record
-- at last_seq, and links to checkpoint n-1 by its hash: a second, sparse chain that an auditor can
-- check with one public key, and that lets the service verify from the last one instead of seq 1.

CREATE TABLE audit_checkpoints (
  id                       bigint      PRIMARY KEY,
  first_seq                bigint      NOT NULL,
  last_seq                 bigint      NOT NULL,
  head_hash                text        NOT NULL,
  previous_checkpoint_hash text        NOT NULL,
  created_at               timestamptz NOT NULL,
  -- sha256 of the signed statement (canonical JSON of the five fields above and the format).
  hash                     text        NOT NULL,
  -- Both null when no signing key is configured: the checkpoint is then only a hash.
  key_id                   text,
  signature                text,
  CHECK (first_seq <= last_seq),
  CHECK ((key_id IS NULL) = (signature IS NULL))
);
CREATE UNIQUE INDEX audit_checkpoints_last_seq ON audit_checkpoints (last_seq);

CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- Ranges of the chain written to an archive (a directory or a bucket), read back and verified;
-- dropped_at is set once the rows left the database. The online chain then starts after the last
-- dropped range, from its head_hash, and the query API names the archive holding a range.
CREATE TABLE audit_archives (
  id                bigint      PRIMARY KEY,
  first_seq         bigint      NOT NULL,
  last_seq          bigint      NOT NULL,
  first_occurred_at timestamptz NOT NULL,
  last_occurred_at  timestamptz NOT NULL,
  prev_hash         text        NOT NULL,
  head_hash         text        NOT NULL,
  partition_name    text,
  location          text        NOT NULL,
  manifest_sha256   text        NOT NULL,
  created_at        timestamptz NOT NULL,
  dropped_at        timestamptz,
  CHECK (first_seq <= last_seq)
);
CREATE UNIQUE INDEX audit_archives_last_seq ON audit_archives (last_seq);
