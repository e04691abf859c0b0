-- The authorization code flow: browser sessions, remembered consent, codes,
-- refresh token families, revoked access tokens and login backoff.

-- A browser's server-side session; the cookie holds the id, the table its SHA-256.
CREATE TABLE sessions (
    id_hash           BYTEA PRIMARY KEY,
    csrf_token        TEXT NOT NULL,
    user_id           TEXT REFERENCES users (id),
    authenticated_at  BIGINT,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT NOT NULL
);

CREATE INDEX sessions_expiry ON sessions (expires_at);

-- Consent a user gave a client, remembered until revoked.
CREATE TABLE consents (
    user_id     TEXT NOT NULL REFERENCES users (id),
    client_id   TEXT NOT NULL REFERENCES clients (id),
    scope       TEXT NOT NULL,
    granted_at  BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- A refresh token family: every token rotated from one authorization.
CREATE TABLE refresh_families (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES applications (id),
    client_id     TEXT NOT NULL REFERENCES clients (id),
    user_id       TEXT NOT NULL REFERENCES users (id),
    scope         TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash   BYTEA PRIMARY KEY,
    family_id    TEXT NOT NULL REFERENCES refresh_families (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    rotated_at   BIGINT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

-- Authorization codes (RFC 6749 §4.1.2): 60 seconds, single use. A redemption
-- records what it issued, so that a replay can revoke it.
CREATE TABLE authorization_codes (
    code_hash       BYTEA PRIMARY KEY,
    client_id       TEXT NOT NULL REFERENCES clients (id),
    user_id         TEXT NOT NULL REFERENCES users (id),
    redirect_uri    TEXT NOT NULL,
    scope           TEXT NOT NULL,
    code_challenge  TEXT,
    created_at      BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT,
    replayed_at     BIGINT,
    family_id       TEXT,
    access_jti      TEXT,
    access_expires_at BIGINT
);

-- Access tokens (by jti) revoked before their expiry; introspection denies them.
CREATE TABLE revoked_access_tokens (
    jti         TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);

-- Failed logins per username and per client address, for the backoff.
CREATE TABLE login_failures (
    subject          TEXT PRIMARY KEY,
    failures         BIGINT NOT NULL,
    last_failure_at  BIGINT NOT NULL
);
