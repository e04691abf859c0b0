-- OpenID Connect sign-in: what an ID token needs from its code, the addresses a
-- client may be sent to after logout, and an application's brand on the pages.

-- The request's nonce and when the person signed in, carried by the code into
-- the ID token (OpenID Connect Core §2).
ALTER TABLE authorization_codes ADD COLUMN nonce TEXT;
ALTER TABLE authorization_codes ADD COLUMN auth_time BIGINT;

-- RP-initiated logout: post_logout_redirect_uri values registered exactly, as a
-- JSON array like redirect_uris.
ALTER TABLE clients ADD COLUMN post_logout_redirect_uris TEXT NOT NULL DEFAULT '[]';

-- The name and accent colour the sign-in pages show instead of "tessera".
ALTER TABLE applications ADD COLUMN display_name TEXT;
ALTER TABLE applications ADD COLUMN accent_colour TEXT;

-- An application's logo, uploaded through the admin API and served by tessera.
CREATE TABLE application_logos (
    app_id        TEXT PRIMARY KEY REFERENCES applications (id),
    content_type  TEXT NOT NULL,
    image         BYTEA NOT NULL,
    digest        TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
