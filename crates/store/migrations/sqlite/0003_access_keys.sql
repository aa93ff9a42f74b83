-- Contract C's access keys (also OAuth 2.0 clients). The access key is a
-- public identifier; the secret is kept only as HMAC-SHA256.
CREATE TABLE access_keys (
    id                BLOB PRIMARY KEY,
    principal_id      BLOB NOT NULL,
    access_key        TEXT NOT NULL UNIQUE,
    secret_hash       BLOB NOT NULL,
    state             TEXT NOT NULL,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    last_used_at      INTEGER,
    tokens_revoked_at INTEGER
);
CREATE INDEX access_keys_principal_id ON access_keys (principal_id);
