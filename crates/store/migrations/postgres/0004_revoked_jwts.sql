-- JWTs revoked one by one (by `jti`), kept until they would have expired.
CREATE TABLE revoked_jwts (
    jti        UUID PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX revoked_jwts_expires_at ON revoked_jwts (expires_at);
