-- Contract B's API keys: only an HMAC-SHA256 of the key's 16 bytes is kept.
CREATE TABLE api_keys (
    id                BLOB PRIMARY KEY,
    principal_id      BLOB NOT NULL,
    key_hash          BLOB NOT NULL UNIQUE,
    created_at        INTEGER NOT NULL,
    expires_at        INTEGER,
    revoked_at        INTEGER,
    last_used_at      INTEGER,
    -- tokens issued with this key at or before this instant are void
    tokens_revoked_at INTEGER
);
CREATE INDEX api_keys_principal_id ON api_keys (principal_id);
