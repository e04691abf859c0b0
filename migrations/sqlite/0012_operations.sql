-- Signing keys live in the database, sealed (AES-256-GCM) under the data key,
-- so that every instance over one database signs with the same active key and
-- publishes the same JWKS. A key is active from activated_at until retired_at;
-- a retired key stays published until the tokens it signed have expired.
ALTER TABLE signing_keys ADD COLUMN private_key BLOB;
ALTER TABLE signing_keys ADD COLUMN activated_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN retired_at BIGINT;

-- Bumped by every key change, so that every instance reloads its key set.
INSERT INTO change_counters (name, version) VALUES ('keys', 0);

-- The sweeper deletes by expiry; these keep its scans short.
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);
CREATE INDEX revoked_access_tokens_expiry ON revoked_access_tokens (expires_at);
CREATE INDEX refresh_families_expiry ON refresh_families (expires_at);
CREATE INDEX authorization_interactions_expiry ON authorization_interactions (expires_at);
CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);
CREATE INDEX audit_log_at ON audit_log (at);
