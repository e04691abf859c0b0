-- Applications, clients, users and signing-key metadata.
-- Times are unix seconds; secrets are stored as SHA-256 digests only.

CREATE TABLE applications (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);

INSERT INTO applications (id, name, created_at) VALUES ('default', 'default', 0);

CREATE TABLE clients (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES applications (id),
    name           TEXT NOT NULL,
    client_type    TEXT NOT NULL CHECK (client_type IN ('public', 'confidential', 'mobile')),
    secret_hash    BYTEA,
    redirect_uris  TEXT NOT NULL,
    grants         TEXT NOT NULL,
    scope          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);

CREATE INDEX clients_app ON clients (app_id);

CREATE TABLE users (
    id             TEXT PRIMARY KEY,
    app_id         TEXT NOT NULL REFERENCES applications (id),
    username       TEXT NOT NULL,
    email          TEXT,
    password_hash  TEXT NOT NULL,
    department     TEXT,
    user_type      TEXT,
    is_admin       BOOLEAN NOT NULL,
    created_at     BIGINT NOT NULL,
    UNIQUE (app_id, username)
);

CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    alg         TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    seen_at     BIGINT NOT NULL
);

-- Bumped in the same transaction as every change to a cached table, so that
-- each instance can drop its cache when another process changed the data.
CREATE TABLE change_counters (
    name     TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);

INSERT INTO change_counters (name, version) VALUES ('clients', 0);
