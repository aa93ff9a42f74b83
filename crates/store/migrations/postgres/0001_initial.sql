-- Instants are Unix milliseconds (as in SQLite, so both backends share their
-- queries); token hashes are SHA-256. No token is stored in plain text.
CREATE TABLE principals (
    id                UUID PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    roles             TEXT NOT NULL DEFAULT '[]',
    realm             TEXT,
    attributes        TEXT NOT NULL DEFAULT '{}',
    enabled           BOOLEAN NOT NULL DEFAULT TRUE,
    password_hash     TEXT,
    created_at        BIGINT NOT NULL,
    tokens_revoked_at BIGINT
);

CREATE TABLE sessions (
    id           UUID PRIMARY KEY,
    principal_id UUID NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);

CREATE TABLE refresh_tokens (
    hash       BYTEA PRIMARY KEY,
    session_id UUID NOT NULL,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    spent_at   BIGINT,
    successor  BYTEA
);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE tokens (
    hash          BYTEA PRIMARY KEY,
    kind          SMALLINT NOT NULL,
    principal_id  UUID NOT NULL,
    session_id    UUID,
    credential_id UUID,
    issued_at     BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT
);
CREATE INDEX tokens_expires_at ON tokens (expires_at);

CREATE TABLE change_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);
