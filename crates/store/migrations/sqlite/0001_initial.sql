-- Instants are Unix milliseconds; UUIDs are 16-byte blobs; token hashes are
-- SHA-256 (32 bytes). No token is ever stored in plain text.
CREATE TABLE principals (
    id                BLOB PRIMARY KEY,
    name              TEXT NOT NULL UNIQUE,
    roles             TEXT NOT NULL DEFAULT '[]',
    realm             TEXT,
    attributes        TEXT NOT NULL DEFAULT '{}',
    enabled           INTEGER NOT NULL DEFAULT 1,
    password_hash     TEXT,
    created_at        INTEGER NOT NULL,
    -- tokens issued at or before this instant are void
    tokens_revoked_at INTEGER
);

-- One contract A login: the family every refresh token descends from.
CREATE TABLE sessions (
    id           BLOB PRIMARY KEY,
    principal_id BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER
);

CREATE TABLE refresh_tokens (
    hash       BLOB PRIMARY KEY,
    session_id BLOB NOT NULL,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER,
    successor  BLOB
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

CREATE TABLE tokens (
    hash          BLOB PRIMARY KEY,
    kind          INTEGER NOT NULL,
    principal_id  BLOB NOT NULL,
    session_id    BLOB,
    credential_id BLOB,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX tokens_expires_at ON tokens (expires_at);

-- Grows whenever something caches must forget changes.
CREATE TABLE change_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO change_counter (id, value) VALUES (1, 0);

-- Secrets the server generates for itself once (e.g. the JWT key).
CREATE TABLE server_secrets (
    name  TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
