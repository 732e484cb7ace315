-- 0001: the first PostgreSQL schema, the model of the SQLite schema (through its 0002).
-- config, pending and credentials are AES-256-GCM sealed (see seal.go), bound to the
-- row id and column name; NULL means none (nil). message and validation_results are
-- bytea so that they come back byte for byte (text cannot hold a NUL byte).

CREATE TABLE integrations (
    id                 bigint      GENERATED ALWAYS AS IDENTITY (SEQUENCE NAME integrations_id_seq)
                                   PRIMARY KEY,                   -- never reused
    type               text        NOT NULL,
    auto_bootstrap     boolean,
    status             text        NOT NULL,
    message            bytea       NOT NULL DEFAULT '',
    config             bytea,
    pending            bytea,
    credentials        bytea,
    validation_results bytea,
    version            bigint      NOT NULL,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    -- The job queue: the replica whose background work holds the integration ('' for
    -- none) and when its lease lapses (NULL for none).
    lease_owner        text        NOT NULL DEFAULT '',
    lease_until        timestamptz
);

CREATE INDEX integrations_status ON integrations (status, id);

-- The unique keys of live integrations only: the primary key enforces uniqueness
-- across every replica. "C" collation: keys compare byte for byte.
CREATE TABLE integration_keys (
    key            text   COLLATE "C" PRIMARY KEY,
    integration_id bigint NOT NULL REFERENCES integrations (id)
);

CREATE INDEX integration_keys_integration ON integration_keys (integration_id);

-- API keys: only the SHA-256 hash of the plaintext is kept. seq orders them by
-- creation.
CREATE TABLE api_keys (
    seq            bigint      GENERATED ALWAYS AS IDENTITY UNIQUE,
    id             text        PRIMARY KEY,
    name           text        NOT NULL,
    hash           bytea       NOT NULL UNIQUE,
    permissions    text        NOT NULL,                  -- JSON array
    integration_id bigint      REFERENCES integrations (id), -- NULL for none
    created_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);

CREATE INDEX api_keys_name ON api_keys (name);
CREATE INDEX api_keys_integration ON api_keys (integration_id);

-- Store-wide values, e.g. the sealed key check that tells a wrong secret key at Open.
CREATE TABLE store_meta (
    name  text  PRIMARY KEY,
    value bytea NOT NULL
);
