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

ALTER TABLE api_keys ADD CONSTRAINT api_keys_principal_fk
    FOREIGN KEY (principal_id) REFERENCES principals (id) ON DELETE CASCADE;
ALTER TABLE access_keys ADD CONSTRAINT access_keys_principal_fk
    FOREIGN KEY (principal_id) REFERENCES principals (id) ON DELETE CASCADE;
ALTER TABLE sessions ADD CONSTRAINT sessions_principal_fk
    FOREIGN KEY (principal_id) REFERENCES principals (id) ON DELETE CASCADE;
ALTER TABLE refresh_tokens ADD CONSTRAINT refresh_tokens_session_fk
    FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE;
CREATE INDEX sessions_principal_id ON sessions (principal_id);
-- A session's sweep deletes its refresh tokens through this.
CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
