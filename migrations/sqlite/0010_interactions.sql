-- An authorization request waiting on the login or consent page, stored under
-- the SHA-256 of a random interaction id that the pages' forms carry instead
-- of the request's parameters, so that a decision applies to the request that
-- was shown and no other.
CREATE TABLE authorization_interactions (
    id_hash     BLOB PRIMARY KEY,
    query       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL
);
