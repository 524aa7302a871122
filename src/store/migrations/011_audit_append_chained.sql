-- The audit batch linked by the database, for writers that do not know the head (docs/decisions/0015,
-- eighth pass). When several writers share the chain (instances, WORKERS), a writer's guess of the
-- head is usually stale, and the locked path holds the chain lock across two answers that must go
-- back to a busy service. Here the service sends each record's canonical text in three parts around
-- its payload and its seq (neither depends on the head but the seq), and under the lock the function
-- numbers the records after the head, hashes each (sha256 of the previous hash and the canonical
-- text, as canonical.ts does) and inserts them: one statement, committed by the server, whatever
-- the other writers do. A head on another day (or none) raises RZ001 and inserts nothing: the
-- writer's locked path creates the day's partition. So does a batch that would end past until_seq
-- (RZ003): the last seq before a checkpoint is due by the writer's count, which other writers'
-- batches may have brought nearer than it knows; the locked path writes the checkpoint.
-- The lock and the head come from migration 009's audit_lock_and_head, as on the locked path: each
-- statement of a VOLATILE PL/pgSQL function takes its own snapshot under READ COMMITTED, so the
-- head is read after the lock is held. Under a stricter level the snapshot is older, so both chain
-- functions refuse to run there (RZ002: the writer keeps to its locked path, which begins READ
-- COMMITTED itself).
-- The chain lock and the head, for the two functions below: refused (RZ002) outside READ COMMITTED.
CREATE FUNCTION audit_head_read_committed(lock_key integer, OUT seq bigint, OUT hash text,
                                          OUT day date)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'the audit chain is linked under READ COMMITTED only'
      USING ERRCODE = 'RZ002';
  END IF;
  SELECT h.seq, h.hash, h.day::date INTO seq, hash, day FROM audit_lock_and_head(lock_key) AS h;
END
$$;

CREATE FUNCTION audit_append_chained(lock_key integer, on_day date, until_seq bigint, batch json,
                                     OUT first_seq bigint, OUT hashes text[])
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  head_day date;
  r record;
  s bigint;
  h text;
  prev text;
BEGIN
  SELECT h.seq, h.hash, h.day INTO head_seq, head_hash, head_day
    FROM audit_head_read_committed(lock_key) AS h;
  IF head_day IS DISTINCT FROM on_day THEN
    RAISE EXCEPTION 'the audit head is not on %', on_day
      USING ERRCODE = 'RZ001', DETAIL = coalesce(head_seq, 0)::text;
  END IF;
  IF head_seq + json_array_length(batch) > until_seq THEN
    RAISE EXCEPTION 'a checkpoint is due within this batch' USING ERRCODE = 'RZ003';
  END IF;
  first_seq := head_seq + 1;
  hashes := '{}';
  s := head_seq;
  h := head_hash;
  -- A row at a time: hashing in this loop and then one insert from arrays parsed the batch twice
  -- and cost more (46 vs 51–62 µs a record, 25-record batches). Each payload comes as the one
  -- element of an array, as in audit_append_after: `->0` gives its exact text back (a bare JSON
  -- null would unpack as SQL NULL, a bare string be unescaped and escaped again).
  FOR r IN SELECT * FROM json_to_recordset(batch) AS x(event_id text, type text,
                 occurred_at timestamptz, tenant_id text, learner_id text, actor text,
                 request_id text, bundle_revision text, policy_id text, policy_version integer,
                 payload json, before_payload text, before_seq text, after_seq text)
  LOOP
    s := s + 1;
    prev := h;
    h := encode(sha256(convert_to(prev || r.before_payload || (r.payload->0)::text || r.before_seq
                                  || s::text || r.after_seq, 'UTF8')), 'hex');
    INSERT INTO audit_log (seq, event_id, type, occurred_at, tenant_id, learner_id, actor, request_id,
                           bundle_revision, policy_id, policy_version, payload, prev_hash, hash,
                           logged_on)
    VALUES (s, r.event_id, r.type, r.occurred_at, r.tenant_id, r.learner_id, r.actor, r.request_id,
            r.bundle_revision, r.policy_id, r.policy_version, r.payload->0, prev, h, on_day);
    hashes := hashes || h;
  END LOOP;
END
$$;

-- Migration 010's function, unchanged but for the same refusal outside READ COMMITTED and the head
-- read by audit_lock_and_head.
CREATE OR REPLACE FUNCTION audit_append_after(lock_key integer, after_seq bigint, after_hash text,
                                              on_day date, batch json)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  head_day date;
BEGIN
  SELECT h.seq, h.hash, h.day INTO head_seq, head_hash, head_day
    FROM audit_head_read_committed(lock_key) AS h;
  IF head_seq IS DISTINCT FROM after_seq OR head_hash IS DISTINCT FROM after_hash
     OR head_day IS DISTINCT FROM on_day THEN
    RAISE EXCEPTION 'the audit head moved: expected seq %, found %', after_seq, head_seq
      USING ERRCODE = 'RZ001', DETAIL = coalesce(head_seq, 0)::text;
  END IF;
  INSERT INTO audit_log (seq, event_id, type, occurred_at, tenant_id, learner_id, actor, request_id,
                         bundle_revision, policy_id, policy_version, payload, prev_hash, hash,
                         logged_on)
  SELECT r.seq, r.event_id, r.type, r.occurred_at, r.tenant_id, r.learner_id, r.actor, r.request_id,
         r.bundle_revision, r.policy_id, r.policy_version, r.payload->0, r.prev_hash, r.hash,
         r.logged_on
    FROM json_to_recordset(batch) AS r(seq bigint, event_id text, type text, occurred_at timestamptz,
                                       tenant_id text, learner_id text, actor text, request_id text,
                                       bundle_revision text, policy_id text, policy_version integer,
                                       payload json, prev_hash text, hash text, logged_on date);
END
$$;
