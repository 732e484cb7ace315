-- 0001: the first schema. Times are Unix microseconds (UTC). config, pending and
-- credentials are AES-256-GCM sealed (see seal.go), bound to the row id and column
-- name; NULL means none (nil).

CREATE TABLE integrations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT, -- never reused
    type               TEXT    NOT NULL,
    auto_bootstrap     INTEGER,                           -- NULL, 0 or 1
    status             TEXT    NOT NULL,
    message            TEXT    NOT NULL DEFAULT '',
    config             BLOB,
    pending            BLOB,
    credentials        BLOB,
    validation_results TEXT,
    version            INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);

CREATE INDEX integrations_status ON integrations (status, id);

-- The unique keys of live integrations only: the primary key enforces uniqueness.
CREATE TABLE integration_keys (
    key            TEXT    PRIMARY KEY,
    integration_id INTEGER NOT NULL REFERENCES integrations (id)
) WITHOUT ROWID;

CREATE INDEX integration_keys_integration ON integration_keys (integration_id);

-- API keys: only the SHA-256 hash of the plaintext is kept.
CREATE TABLE api_keys (
    id             TEXT    PRIMARY KEY,
    name           TEXT    NOT NULL,
    hash           BLOB    NOT NULL UNIQUE,
    permissions    TEXT    NOT NULL,                      -- JSON array
    integration_id INTEGER REFERENCES integrations (id),  -- NULL for none
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
);

CREATE INDEX api_keys_name ON api_keys (name);
CREATE INDEX api_keys_integration ON api_keys (integration_id);

-- Store-wide values, e.g. the sealed key check that tells a wrong secret key at Open.
CREATE TABLE store_meta (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
