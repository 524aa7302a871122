-- Core tables: policies (versioned), API keys, region health.

CREATE TABLE policies (
  policy_id         text        NOT NULL,
  version           integer     NOT NULL,
  tenant_id         text        NOT NULL,
  learner_id        text,
  document          jsonb       NOT NULL,
  is_active         boolean     NOT NULL,
  policy_created_at timestamptz NOT NULL,
  created_at        timestamptz NOT NULL,
  created_by        text        NOT NULL,
  PRIMARY KEY (policy_id, version)
);
-- At most one active version per tenant/learner scope: the database, not the code, guarantees it.
CREATE UNIQUE INDEX policies_one_active ON policies (tenant_id, (coalesce(learner_id, ''))) WHERE is_active;
CREATE INDEX policies_scope ON policies (tenant_id, learner_id);

CREATE TABLE api_keys (
  key_id      text        PRIMARY KEY,
  principal   text        NOT NULL,
  roles       text[]      NOT NULL,
  tenant_ids  text[],
  secret_hash text        NOT NULL,
  created_at  timestamptz NOT NULL,
  created_by  text        NOT NULL,
  revoked_at  timestamptz
);
CREATE UNIQUE INDEX api_keys_secret_hash ON api_keys (secret_hash);

CREATE TABLE region_health (
  code       text        PRIMARY KEY,
  status     text        NOT NULL CHECK (status IN ('healthy', 'degraded', 'unavailable')),
  reason     text,
  updated_at timestamptz NOT NULL,
  updated_by text        NOT NULL
);
