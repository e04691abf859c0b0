-- Opaque platform tokens (master and mobile now; API and install tokens later),
-- found by the SHA-256 of the presented value. The kind is also the value's prefix.
CREATE TABLE platform_tokens (
    id            TEXT PRIMARY KEY,
    token_hash    BYTEA NOT NULL UNIQUE,
    kind          TEXT NOT NULL CHECK (kind IN ('master', 'mobile', 'api', 'install')),
    app_id        TEXT NOT NULL REFERENCES applications (id),
    name          TEXT NOT NULL,
    enabled       BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT,
    last_used_at  BIGINT
);

-- Exactly one master token per application: it is rotated in place, never added.
CREATE UNIQUE INDEX platform_tokens_one_master ON platform_tokens (app_id) WHERE kind = 'master';
CREATE INDEX platform_tokens_app ON platform_tokens (app_id, kind);
