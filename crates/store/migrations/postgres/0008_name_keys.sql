-- Names that differ only in letter case or Unicode form (`USER` and `user`,
-- NFC and NFD `café`) cannot both exist: each name keeps its case-folded
-- form here, unique. Existing rows are filled in by the store when it opens
-- (the folding is Unicode's, done in Rust), so the column starts empty.
ALTER TABLE principals ADD COLUMN name_key TEXT;
CREATE UNIQUE INDEX principals_folded_name ON principals (name_key);
