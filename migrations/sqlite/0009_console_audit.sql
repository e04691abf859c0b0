-- Sessions of the admin console: made after the console's own OAuth sign-in
-- (code + PKCE), found by the SHA-256 of the cookie's value, ended by signing
-- out, by being idle too long, or at their absolute expiry.
CREATE TABLE console_sessions (
    id_hash         BLOB PRIMARY KEY,
    app_id          TEXT NOT NULL REFERENCES applications (id),
    user_id         TEXT NOT NULL,
    username        TEXT NOT NULL,
    platform_admin  BOOLEAN NOT NULL,
    csrf_token      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL
);

-- Every change made through the admin API or the console: who, to which
-- application, what, on what, when, and the request id to find it in the logs.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    app_id      TEXT NOT NULL,
    at          BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    request_id  TEXT NOT NULL
);
CREATE INDEX audit_log_app ON audit_log (app_id, at);
