-- The login service learns keys created since its last look (its filters of
-- existing keys, see crates/core/src/login/known.rs): by creation time.
CREATE INDEX api_keys_created_at ON api_keys (created_at);
CREATE INDEX access_keys_created_at ON access_keys (created_at);
