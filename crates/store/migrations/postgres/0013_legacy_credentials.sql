-- Credentials moved in from the legacy systems (DESIGN.md §10): an access
-- key's secret may arrive as a legacy hash instead of the secret. It is
-- kept (as the import record, `secret_format` naming its format) until the
-- first successful login replaces it with the keyed hash in `secret_hash`;
-- meanwhile `secret_hash` holds 32 zero bytes, which no keyed hash equals.
ALTER TABLE access_keys ADD COLUMN secret_format TEXT;
ALTER TABLE access_keys ADD COLUMN secret_legacy TEXT;

-- What is left to migrate is counted often (tollgate_legacy_credentials):
-- only the rows still in a legacy format are indexed.
CREATE INDEX principals_legacy_password ON principals (password_format)
    WHERE password_format IS NOT NULL AND password_format <> 'argon2id';
CREATE INDEX access_keys_legacy_secret ON access_keys (secret_format) WHERE secret_format IS NOT NULL;
