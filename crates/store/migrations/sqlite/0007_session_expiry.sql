-- A session (contract A's refresh family) lives as long as the latest token
-- issued in it; after that it is swept. Without this the table only grew.
ALTER TABLE sessions ADD COLUMN expires_at BIGINT;
-- Sessions from before: as long as their longest-lived refresh token, or
-- over now if none is left (found through a temporary index).
CREATE INDEX refresh_tokens_session_backfill ON refresh_tokens (session_id);
UPDATE sessions SET expires_at = COALESCE(
    (SELECT MAX(r.expires_at) FROM refresh_tokens r WHERE r.session_id = sessions.id),
    created_at);
DROP INDEX refresh_tokens_session_backfill;
CREATE INDEX sessions_expires_at ON sessions (expires_at);
