-- Which scheme a stored password hash is in (DESIGN.md §11): argon2id for
-- passwords set here, a legacy scheme for hashes imported from the systems
-- users come from until their first login rehashes them.
ALTER TABLE principals ADD COLUMN password_format TEXT;
UPDATE principals SET password_format = 'argon2id' WHERE password_hash IS NOT NULL;
