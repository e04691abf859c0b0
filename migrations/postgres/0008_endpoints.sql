-- Integration endpoints secured by tokens (the seed 002). An endpoint's primary
-- tokens (one per method) and the application's secondary endpoint tokens are
-- kinds of the token registry, kept in platform_tokens; a primary names its
-- endpoint and method there.
CREATE TABLE endpoints (
    id            TEXT PRIMARY KEY,
    app_id        TEXT NOT NULL REFERENCES applications (id),
    name          TEXT NOT NULL,
    path          TEXT NOT NULL,
    allow_delete  BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL,
    UNIQUE (app_id, path)
);
CREATE INDEX endpoints_app ON endpoints (app_id, created_at);

ALTER TABLE platform_tokens ADD COLUMN endpoint_id TEXT;
ALTER TABLE platform_tokens ADD COLUMN method TEXT;
CREATE UNIQUE INDEX platform_tokens_one_primary ON platform_tokens (endpoint_id, method)
    WHERE kind = 'endpoint_primary';

-- A secondary token mapped to some of an endpoint's methods; a mapping can be
-- switched off without touching the token's other mappings.
CREATE TABLE endpoint_assignments (
    app_id       TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL REFERENCES endpoints (id),
    token_id     TEXT NOT NULL,
    methods      TEXT NOT NULL,
    enabled      BOOLEAN NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (endpoint_id, token_id)
);
CREATE INDEX endpoint_assignments_token ON endpoint_assignments (app_id, token_id);

-- Calls checked at POST /v1/endpoint-check, written in batches, kept for
-- endpoints.call_retention. Identical calls (same endpoint, second, method,
-- outcome and token) are one row with their number in `calls`, so that a busy
-- endpoint writes rows per second and token, not per call. The token's name is
-- the one it had at the call.
CREATE TABLE endpoint_calls (
    id BIGSERIAL PRIMARY KEY,
    app_id       TEXT NOT NULL,
    endpoint_id  TEXT NOT NULL,
    at           BIGINT NOT NULL,
    method       TEXT NOT NULL,
    allowed      BOOLEAN NOT NULL,
    reason       TEXT,
    token_id     TEXT,
    token_kind   TEXT,
    token_name   TEXT,
    calls        BIGINT NOT NULL
);
-- One index, kept narrow because every call writes it: the viewer reads by
-- endpoint and time, and the retention sweep deletes endpoint by endpoint.
CREATE INDEX endpoint_calls_endpoint ON endpoint_calls (endpoint_id, at);

-- Bumped by every change to endpoints, their tokens and mappings, so that every
-- instance reloads the endpoint-check index.
INSERT INTO change_counters (name, version) VALUES ('endpoints', 0);
