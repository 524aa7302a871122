-- Pruning the bundles history (docs/decisions/0014). A stored bundle's bytes (~100 KB each) are
-- kept while any retained audit record cites its revision — a replay or dry run of that record
-- needs the exact bundle — and for the last BUNDLE_HISTORY_KEEP bundles. Which revisions the
-- retained records cite is kept here, one row per (revision, partition day), written by the audit
-- writer in the records' own transaction and deleted with the day's partition: no index on
-- audit_log.bundle_revision (a cost on every append) and no scan of the log to prune.
CREATE TABLE audit_bundle_citations (
  bundle_revision text NOT NULL,
  logged_on       date NOT NULL,
  PRIMARY KEY (bundle_revision, logged_on)
);
-- The records already written (one scan, once).
INSERT INTO audit_bundle_citations (bundle_revision, logged_on)
  SELECT DISTINCT bundle_revision, logged_on FROM audit_log WHERE bundle_revision IS NOT NULL;

-- A pruned bundle keeps its row (the activation history and its sha256 stay, for the record) but
-- not its bytes, which were first copied to the archive target and read back.
ALTER TABLE bundles ALTER COLUMN bytes DROP NOT NULL;
ALTER TABLE bundles ADD COLUMN pruned_at timestamptz;
ALTER TABLE bundles ADD COLUMN archived_location text;
ALTER TABLE bundles ADD CONSTRAINT bundles_bytes_or_pruned CHECK ((bytes IS NULL) = (pruned_at IS NOT NULL));
