-- The audit writer's batch in one statement when it already knows the head (docs/decisions/0015,
-- seventh pass). The writer links a batch to the head it last wrote itself, before the lock, and
-- sends this with the rows; under the lock the function checks that the head is still that one
-- (same seq, hash and day) and inserts, or raises RZ001 and inserts nothing — the writer then
-- links the batch again to the head it reads under the lock. No answer has to travel back to the
-- service and wait for its event loop while the lock is held, except the COMMIT's. As in
-- audit_lock_and_head, each statement of a VOLATILE PL/pgSQL function takes its own snapshot, so
-- the head is read after the lock is held; the insert's plan is cached per connection.
CREATE FUNCTION audit_append_after(lock_key integer, after_seq bigint, after_hash text, on_day date,
                                   batch json)
RETURNS void
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  head_seq bigint;
  head_hash text;
  head_day date;
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key, hashtext(current_schema()));
  SELECT l.seq, l.hash, l.logged_on INTO head_seq, head_hash, head_day
    FROM audit_log AS l ORDER BY l.seq DESC LIMIT 1;
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
