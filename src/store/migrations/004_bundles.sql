-- Policy bundles (SPEC §8). Postgres is the cluster's source of truth for the bundle every instance
-- serves: the bytes of every bundle ever published, the one active now, and each activation in order
-- (a rollback is an activation of an older bundle, so it survives restarts).

CREATE TABLE bundles (
  sha256      text        PRIMARY KEY,
  revision    text        NOT NULL,
  bytes       bytea       NOT NULL,
  size_bytes  integer     NOT NULL,
  manifest    jsonb       NOT NULL,
  entrypoints text[]      NOT NULL,
  signed      boolean     NOT NULL,
  source      text        NOT NULL,
  uploaded_by text,
  uploaded_at timestamptz NOT NULL
);
CREATE INDEX bundles_revision ON bundles (revision, uploaded_at DESC);
CREATE INDEX bundles_uploaded ON bundles (uploaded_at DESC);

CREATE TABLE bundle_activations (
  generation        bigserial   PRIMARY KEY,
  sha256            text        NOT NULL REFERENCES bundles (sha256),
  revision          text        NOT NULL,
  previous_sha256   text,
  previous_revision text,
  source            text        NOT NULL,
  activated_by      text,
  activated_at      timestamptz NOT NULL
);

-- One row once anything was activated: the bundle every instance converges on.
CREATE TABLE bundle_active (
  singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
  sha256       text        NOT NULL REFERENCES bundles (sha256),
  revision     text        NOT NULL,
  generation   bigint      NOT NULL REFERENCES bundle_activations (generation),
  activated_at timestamptz NOT NULL,
  activated_by text
);
