-- Asymmetric JWT signing keys. A key is published (JWKS) from creation and
-- signs from `signs_from` on (staged rotation).
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_der BYTEA NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    signs_from  BIGINT NOT NULL
);
CREATE INDEX signing_keys_algorithm ON signing_keys (algorithm, signs_from);
