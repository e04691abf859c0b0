-- Token status lists (draft-ietf-oauth-status-list): every access token carries
-- an index into a list; a revoked token's bit is set in the list the server signs
-- and serves, so offline verifiers learn of revocations.

-- A list of `size` indexes, handed out in blocks from `next_index`; a full list
-- is closed and a new one opened, so an index is never given twice.
CREATE TABLE status_lists (
    id          BIGINT PRIMARY KEY,
    size        BIGINT NOT NULL,
    next_index  BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    closed_at   BIGINT
);

-- The index of each access token issued in a login (a refresh token family),
-- so that ending the login sets the bits of every token it issued.
CREATE TABLE status_entries (
    jti         TEXT PRIMARY KEY,
    list_id     BIGINT NOT NULL,
    idx         BIGINT NOT NULL,
    family_id   TEXT NOT NULL,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX status_entries_family ON status_entries (family_id);
CREATE INDEX status_entries_list ON status_entries (list_id);
CREATE INDEX status_entries_expiry ON status_entries (expires_at);

-- Access tokens revoked one by one (RFC 7009, a replayed code).
CREATE TABLE status_revocations (
    list_id     BIGINT NOT NULL,
    idx         BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    PRIMARY KEY (list_id, idx)
);

-- Bumped with every revocation that sets a bit, so every instance re-signs its lists.
INSERT INTO change_counters (name, version) VALUES ('status', 0);

-- Where the access token a code's first use issued sits in the status lists,
-- so that a replay of the code sets its bit.
ALTER TABLE authorization_codes ADD COLUMN access_status_list BIGINT;
ALTER TABLE authorization_codes ADD COLUMN access_status_idx BIGINT;
