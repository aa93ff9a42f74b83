-- The admin portal's sign-in sessions (DESIGN.md §8): only the SHA-256 of
-- each session id is kept, so a copy of the database signs nobody in. Kept
-- in the database, not in a node's memory, so that a session holds across
-- restarts and on every node. Removing a principal ends its sessions.
-- spent_form: the one-time id of the last form that made a secret, so that
-- a reload (which sends the form again) makes no second key.
CREATE TABLE portal_sessions (
    id_hash      BYTEA PRIMARY KEY,
    principal_id UUID NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    spent_form   TEXT
);
CREATE INDEX portal_sessions_principal_id ON portal_sessions (principal_id);
CREATE INDEX portal_sessions_last_seen_at ON portal_sessions (last_seen_at);
CREATE INDEX portal_sessions_created_at ON portal_sessions (created_at);
