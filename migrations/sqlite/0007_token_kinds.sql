-- The token-kind registry (domain::platform_tokens::TokenKind) says which kinds
-- exist; the table no longer lists them, so a new kind needs no table rebuild.
-- API and install tokens are bound to a user (and a department and user type);
-- install tokens to a device's install id; API tokens keep an AES-256-GCM
-- ciphertext of their value under the data key, so an administrator may reveal it.
CREATE TABLE platform_tokens_new (
    id                 TEXT PRIMARY KEY,
    token_hash         BLOB NOT NULL UNIQUE,
    kind               TEXT NOT NULL,
    app_id             TEXT NOT NULL REFERENCES applications (id),
    name               TEXT NOT NULL,
    enabled            BOOLEAN NOT NULL,
    created_at         BIGINT NOT NULL,
    expires_at         BIGINT,
    last_used_at       BIGINT,
    user_id            TEXT,
    department         TEXT,
    user_type          TEXT,
    install_id         TEXT,
    description        TEXT,
    secret_ciphertext  BLOB
);
INSERT INTO platform_tokens_new (id, token_hash, kind, app_id, name, enabled, created_at, expires_at, last_used_at)
    SELECT id, token_hash, kind, app_id, name, enabled, created_at, expires_at, last_used_at FROM platform_tokens;
DROP TABLE platform_tokens;
ALTER TABLE platform_tokens_new RENAME TO platform_tokens;
CREATE UNIQUE INDEX platform_tokens_one_master ON platform_tokens (app_id) WHERE kind = 'master';
CREATE INDEX platform_tokens_app ON platform_tokens (app_id, kind, created_at);
CREATE INDEX platform_tokens_user ON platform_tokens (app_id, user_id);

-- Bumped by every change that can change what a presented token is worth (a
-- token, a user, a user type, an application's forward-auth switch), so that
-- every instance drops its token cache.
INSERT INTO change_counters (name, version) VALUES ('tokens', 0);

-- Forward auth (/v1/auth/check) answers only for applications that enable it.
ALTER TABLE applications ADD COLUMN forward_auth BOOLEAN NOT NULL DEFAULT FALSE;
