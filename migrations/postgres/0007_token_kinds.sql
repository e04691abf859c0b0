-- The token-kind registry (domain::platform_tokens::TokenKind) says which kinds
-- exist; the table no longer lists them, so a new kind needs no table change.
-- API and install tokens are bound to a user (and a department and user type);
-- install tokens to a device's install id; API tokens keep an AES-256-GCM
-- ciphertext of their value under the data key, so an administrator may reveal it.
ALTER TABLE platform_tokens DROP CONSTRAINT IF EXISTS platform_tokens_kind_check;
ALTER TABLE platform_tokens ADD COLUMN user_id TEXT;
ALTER TABLE platform_tokens ADD COLUMN department TEXT;
ALTER TABLE platform_tokens ADD COLUMN user_type TEXT;
ALTER TABLE platform_tokens ADD COLUMN install_id TEXT;
ALTER TABLE platform_tokens ADD COLUMN description TEXT;
ALTER TABLE platform_tokens ADD COLUMN secret_ciphertext BYTEA;
DROP INDEX platform_tokens_app;
CREATE INDEX platform_tokens_app ON platform_tokens (app_id, kind, created_at);
CREATE INDEX platform_tokens_user ON platform_tokens (app_id, user_id);

-- Bumped by every change that can change what a presented token is worth (a
-- token, a user, a user type, an application's forward-auth switch), so that
-- every instance drops its token cache.
INSERT INTO change_counters (name, version) VALUES ('tokens', 0);

-- Forward auth (/v1/auth/check) answers only for applications that enable it.
ALTER TABLE applications ADD COLUMN forward_auth BOOLEAN NOT NULL DEFAULT FALSE;
