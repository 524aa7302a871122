-- Cache freshness lives in Postgres, next to the data it describes (docs/decisions/0009).
-- Every write that can change a cached value bumps its scope's generation in the same
-- transaction, by trigger, so no code path can commit a change and forget to say so, and no
-- Redis state (cut, restarted, restored from an old snapshot) can make an old value current again.
-- Scopes: 'tenant:<tenant_id>' (policies, overrides, approvals), 'keys', 'regions'.

CREATE TABLE cache_generations (
  scope      text        PRIMARY KEY,
  generation bigint      NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX cache_generations_changed ON cache_generations (changed_at);

CREATE FUNCTION bump_cache_generation(target text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO cache_generations (scope, generation, changed_at) VALUES (target, 1, clock_timestamp())
  ON CONFLICT (scope) DO UPDATE
    SET generation = cache_generations.generation + 1, changed_at = clock_timestamp();
END $$;

CREATE FUNCTION cache_bump_tenant() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN PERFORM bump_cache_generation('tenant:' || OLD.tenant_id); END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
    PERFORM bump_cache_generation('tenant:' || NEW.tenant_id);
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION cache_bump_approval() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target text;
BEGIN
  SELECT tenant_id INTO target FROM overrides
   WHERE override_id = CASE WHEN TG_OP = 'DELETE' THEN OLD.override_id ELSE NEW.override_id END;
  IF target IS NOT NULL THEN PERFORM bump_cache_generation('tenant:' || target); END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION cache_bump_scope() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM bump_cache_generation(TG_ARGV[0]);
  RETURN NULL;
END $$;

CREATE TRIGGER policies_cache AFTER INSERT OR UPDATE OR DELETE ON policies
  FOR EACH ROW EXECUTE FUNCTION cache_bump_tenant();
-- Use counts and the expiry sweep's bookkeeping change nothing a decision reads.
CREATE TRIGGER overrides_cache_insert_delete AFTER INSERT OR DELETE ON overrides
  FOR EACH ROW EXECUTE FUNCTION cache_bump_tenant();
CREATE TRIGGER overrides_cache_update
  AFTER UPDATE OF tenant_id, learner_ids, target_region, operations, requested_by, expires_at,
    activated_at, revoked_at ON overrides
  FOR EACH ROW EXECUTE FUNCTION cache_bump_tenant();
CREATE TRIGGER override_approvals_cache AFTER INSERT OR UPDATE OR DELETE ON override_approvals
  FOR EACH ROW EXECUTE FUNCTION cache_bump_approval();
CREATE TRIGGER api_keys_cache AFTER INSERT OR UPDATE OR DELETE ON api_keys
  FOR EACH ROW EXECUTE FUNCTION cache_bump_scope('keys');
CREATE TRIGGER region_health_cache AFTER INSERT OR UPDATE OR DELETE ON region_health
  FOR EACH ROW EXECUTE FUNCTION cache_bump_scope('regions');
