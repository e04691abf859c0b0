-- User types an application defines for itself: a name and the scopes it allows.
-- Types not defined here fall back to the configuration's [users.user_types].
CREATE TABLE user_types (
    app_id      TEXT NOT NULL REFERENCES applications (id),
    name        TEXT NOT NULL,
    scope       TEXT NOT NULL,
    updated_at  BIGINT NOT NULL,
    PRIMARY KEY (app_id, name)
);
