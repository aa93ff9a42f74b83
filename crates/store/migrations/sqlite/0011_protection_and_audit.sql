-- Password guessing at a principal's name (DESIGN.md §9): failures since the
-- last success or lock, locks so far in the window (the ladder), the lock's
-- end, and the last failure (the window counts from it). Every node reads
-- them with the principal at each login, so a lock holds everywhere.
ALTER TABLE principals ADD COLUMN failed_logins INTEGER NOT NULL DEFAULT 0;
ALTER TABLE principals ADD COLUMN lockout_level INTEGER NOT NULL DEFAULT 0;
ALTER TABLE principals ADD COLUMN locked_until BIGINT;
ALTER TABLE principals ADD COLUMN last_failed_at BIGINT;
CREATE INDEX principals_last_failed_at ON principals (last_failed_at) WHERE last_failed_at IS NOT NULL;

-- The audit trail (DESIGN.md §8): one row per management change and per
-- security event, in write order (newest first is by id). Never a secret.
CREATE TABLE audit_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    target    TEXT,
    source_ip TEXT,
    details   TEXT
);
CREATE INDEX audit_events_action ON audit_events (action, id);
CREATE INDEX audit_events_actor ON audit_events (actor, id);
CREATE INDEX audit_events_target ON audit_events (target, id);
CREATE INDEX audit_events_at ON audit_events (at);
