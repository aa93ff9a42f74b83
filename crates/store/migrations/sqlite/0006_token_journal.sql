-- Access tokens as they are issued, in issue order. A token's hash is random,
-- so writing it straight into `tokens` (keyed by hash) dirties a different
-- page per row; appending here dirties one page per ~30 rows. A background
-- merge moves the rows that are still live into `tokens` in large batches
-- sorted by hash, where many land on the same page, and deletes the rest.
-- The server finds journal rows through an index it keeps in memory, rebuilt
-- from this table (see crates/store/src/sqlite/journal.rs). AUTOINCREMENT:
-- a sequence number is never reused, even after the journal empties.
CREATE TABLE token_journal (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    hash          BLOB NOT NULL,
    kind          INTEGER NOT NULL,
    principal_id  BLOB NOT NULL,
    session_id    BLOB,
    credential_id BLOB,
    issued_at     INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    revoked_at    INTEGER
);

-- A merge inserts in hash order; an index in expiry order beside it would
-- be written at random again (a merge cost about four times as much). Expired
-- tokens are swept by walking `tokens` in hash order instead.
DROP INDEX tokens_expires_at;
