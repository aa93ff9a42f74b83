-- Contract C's access keys (also OAuth 2.0 clients). The access key is a
-- public identifier; the secret is kept only as HMAC-SHA256.
CREATE TABLE access_keys (
    id                UUID PRIMARY KEY,
    principal_id      UUID NOT NULL,
    access_key        TEXT NOT NULL UNIQUE,
    secret_hash       BYTEA NOT NULL,
    state             TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    expires_at        BIGINT,
    last_used_at      BIGINT,
    tokens_revoked_at BIGINT
);
CREATE INDEX access_keys_principal_id ON access_keys (principal_id);
