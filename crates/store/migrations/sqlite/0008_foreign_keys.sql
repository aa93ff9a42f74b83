-- Referential integrity: removing a principal removes what it holds. Its API
-- keys, access keys and sessions go by foreign key, and a session's refresh
-- tokens with it. Its access tokens are deleted by the same statement that
-- removes it (no foreign key there: a check and an index per token would
-- cost every login; see crates/store/src/sql/queries.rs).
--
-- Earlier versions deleted only the principals row: their orphans go first.
DELETE FROM api_keys WHERE principal_id NOT IN (SELECT id FROM principals);
DELETE FROM access_keys WHERE principal_id NOT IN (SELECT id FROM principals);
DELETE FROM sessions WHERE principal_id NOT IN (SELECT id FROM principals);
DELETE FROM refresh_tokens WHERE session_id NOT IN (SELECT id FROM sessions);
DELETE FROM tokens WHERE principal_id NOT IN (SELECT id FROM principals);
DELETE FROM token_journal WHERE principal_id NOT IN (SELECT id FROM principals);

-- SQLite cannot add a foreign key to a table: each is rebuilt, parents
-- before children (a child created against the old parent would lose its
-- rows when the old parent is dropped).
CREATE TABLE api_keys_new (
    id                BLOB PRIMARY KEY,
    principal_id      BLOB NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    key_hash          BLOB NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    revoked_at        INTEGER,
    last_used_at      INTEGER,
    tokens_revoked_at INTEGER
);
INSERT INTO api_keys_new (id, principal_id, key_hash, created_at, expires_at, revoked_at, last_used_at,
    tokens_revoked_at)
    SELECT id, principal_id, key_hash, created_at, expires_at, revoked_at, last_used_at, tokens_revoked_at
    FROM api_keys;
DROP TABLE api_keys;
ALTER TABLE api_keys_new RENAME TO api_keys;
CREATE INDEX api_keys_principal_id ON api_keys (principal_id);

CREATE TABLE access_keys_new (
    id                BLOB PRIMARY KEY,
    principal_id      BLOB NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    access_key        TEXT NOT NULL UNIQUE,
    secret_hash       BLOB NOT NULL,
    state             TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    last_used_at      INTEGER,
    tokens_revoked_at INTEGER
);
INSERT INTO access_keys_new (id, principal_id, access_key, secret_hash, state, created_at, expires_at,
    last_used_at, tokens_revoked_at)
    SELECT id, principal_id, access_key, secret_hash, state, created_at, expires_at, last_used_at,
        tokens_revoked_at
    FROM access_keys;
DROP TABLE access_keys;
ALTER TABLE access_keys_new RENAME TO access_keys;
CREATE INDEX access_keys_principal_id ON access_keys (principal_id);

CREATE TABLE sessions_new (
    id           BLOB PRIMARY KEY,
    principal_id BLOB NOT NULL REFERENCES principals (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    expires_at   BIGINT
);
INSERT INTO sessions_new (id, principal_id, created_at, revoked_at, expires_at)
    SELECT id, principal_id, created_at, revoked_at, expires_at FROM sessions;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
CREATE INDEX sessions_principal_id ON sessions (principal_id);

CREATE TABLE refresh_tokens_new (
    hash       BLOB PRIMARY KEY,
    session_id BLOB NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER,
    successor  BLOB
) WITHOUT ROWID;
INSERT INTO refresh_tokens_new (hash, session_id, issued_at, expires_at, spent_at, successor)
    SELECT hash, session_id, issued_at, expires_at, spent_at, successor FROM refresh_tokens;
DROP TABLE refresh_tokens;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);
-- A session's sweep deletes its refresh tokens through this.
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
