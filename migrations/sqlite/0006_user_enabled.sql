-- A user can be disabled: no login, no refresh, and their API tokens stop.
ALTER TABLE users ADD COLUMN enabled BOOLEAN NOT NULL DEFAULT TRUE;
