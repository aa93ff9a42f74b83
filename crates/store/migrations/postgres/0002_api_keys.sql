-- Contract B's API keys: only an HMAC-SHA256 of the key's 16 bytes is kept.
CREATE TABLE api_keys (
    id                UUID PRIMARY KEY,
    principal_id      UUID NOT NULL,
    key_hash          BYTEA NOT NULL UNIQUE,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT,
    revoked_at        BIGINT,
    last_used_at      BIGINT,
    tokens_revoked_at BIGINT
);
CREATE INDEX api_keys_principal_id ON api_keys (principal_id);
