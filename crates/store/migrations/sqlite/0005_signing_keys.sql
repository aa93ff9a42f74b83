-- Asymmetric JWT signing keys. A key is published (JWKS) from creation and
-- signs from `signs_from` on (staged rotation).
CREATE TABLE signing_keys (
    kid         TEXT PRIMARY KEY,
    algorithm   TEXT NOT NULL,
    private_der BLOB NOT NULL,
    public_jwk  TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    signs_from  INTEGER NOT NULL
);
CREATE INDEX signing_keys_algorithm ON signing_keys (algorithm, signs_from);
