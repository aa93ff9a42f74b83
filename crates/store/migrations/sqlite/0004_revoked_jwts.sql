-- JWTs revoked one by one (by `jti`), kept until they would have expired.
CREATE TABLE revoked_jwts (
    jti        BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX revoked_jwts_expires_at ON revoked_jwts (expires_at);
