-- The audit writer's lock and head read in one round trip (docs/decisions/0015, second pass). The
-- head must be read after the lock is held, so that it sees the previous holder's commit: as one
-- plain statement it would not (its snapshot is taken before the lock is waited for), but each
-- statement of a VOLATILE PL/pgSQL function takes its own snapshot under READ COMMITTED, so the
-- head query below runs after the lock and sees every batch committed before it. Its plans are
-- cached per connection, like a named statement's.
CREATE FUNCTION audit_lock_and_head(lock_key integer)
RETURNS TABLE (seq bigint, hash text, day text, cp_id bigint, cp_last_seq bigint, cp_hash text,
               cp_created_at timestamptz)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(lock_key, hashtext(current_schema()));
  RETURN QUERY
    SELECT h.seq, h.hash, h.day, c.id, c.last_seq, c.hash, c.created_at
      FROM (SELECT 1) AS one
      LEFT JOIN LATERAL (SELECT l.seq, l.hash, l.logged_on::text AS day
                           FROM audit_log AS l ORDER BY l.seq DESC LIMIT 1) AS h ON true
      LEFT JOIN LATERAL (SELECT k.id, k.last_seq, k.hash, k.created_at
                           FROM audit_checkpoints AS k ORDER BY k.id DESC LIMIT 1) AS c ON true;
END
$$;
