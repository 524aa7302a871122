-- Compact decision records (docs/decisions/0007): each distinct evaluation context once, addressed
-- by the sha256 of its canonical JSON (the exact text stored here), referenced from the records.
-- Append-only like the log; contexts are shared across partitions and outlive their drop (small).
CREATE TABLE audit_contexts (
  sha256 text PRIMARY KEY,
  body   json NOT NULL
);
CREATE TRIGGER audit_contexts_no_update_delete BEFORE UPDATE OR DELETE ON audit_contexts
  FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_contexts_no_truncate BEFORE TRUNCATE ON audit_contexts
  FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
