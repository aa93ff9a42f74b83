//! The SQL both backends run. Placeholders are `$N`, which sqlx accepts for
//! SQLite and PostgreSQL alike.

use std::sync::LazyLock;

pub(crate) const PRINCIPAL_COLUMNS: &str = "p.id, p.name, p.roles, p.realm, p.attributes, p.enabled, \
    p.created_at, p.tokens_revoked_at, p.failed_logins, p.lockout_level, p.locked_until, p.last_failed_at, \
    p.password_format";

pub(crate) const INSERT_PRINCIPAL: &str = "INSERT INTO principals \
    (id, name, roles, realm, attributes, enabled, password_hash, created_at, name_key, password_format) \
    VALUES ($1, $2, $3, $4, $5, $10, $6, $7, $8, $9)";

/// Nothing if the name (or its folded form, or the id) is taken.
pub(crate) const INSERT_PRINCIPAL_IF_ABSENT: &str = "INSERT INTO principals \
    (id, name, roles, realm, attributes, enabled, password_hash, created_at, name_key, password_format) \
    VALUES ($1, $2, $3, $4, $5, $10, $6, $7, $8, $9) ON CONFLICT DO NOTHING";

/// Rows from before names had a folded form (filled in at open).
pub(crate) const PRINCIPALS_WITHOUT_NAME_KEY: &str =
    "SELECT id, name FROM principals WHERE name_key IS NULL ORDER BY name LIMIT 1000";

pub(crate) const SET_NAME_KEY: &str = "UPDATE principals SET name_key = $2 WHERE id = $1";

pub(crate) const SPEND_REFRESH: &str = "UPDATE refresh_tokens SET spent_at = $2, successor = $3 \
    WHERE hash = $1 AND spent_at IS NULL";

pub(crate) const BUMP_CHANGES: &str = "UPDATE change_counter SET value = value + 1 WHERE id = 1";

pub(crate) const CHANGE_COUNTER: &str = "SELECT value FROM change_counter WHERE id = 1";

/// A write that changes nothing, committed like any other: whether writes
/// work again after they failed (readiness).
pub(crate) const PROBE_WRITE: &str = "UPDATE change_counter SET value = value WHERE id = 1";

/// PostgreSQL (by its `expires_at` index; SQLite walks `tokens` in hash
/// order instead, see `sqlite/journal.rs`).
pub(crate) const SWEEP_TOKENS: &str =
    "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_at < $1 LIMIT $2)";

/// A session whose last token has expired (and with it any need for its
/// revocation mark).
pub(crate) const SWEEP_SESSIONS: &str = "DELETE FROM sessions WHERE id IN \
    (SELECT id FROM sessions WHERE expires_at < $1 LIMIT $2)";

/// A session lives as long as the longest-lived token issued in it.
pub(crate) const EXTEND_SESSION: &str =
    "UPDATE sessions SET expires_at = $2 WHERE id = $1 AND (expires_at IS NULL OR expires_at < $2)";

pub(crate) const SWEEP_REFRESH: &str = "DELETE FROM refresh_tokens WHERE hash IN \
    (SELECT hash FROM refresh_tokens WHERE expires_at < $1 LIMIT $2)";

/// A token with what decides whether it is still good, from `table`.
fn find_token_in(table: &str, condition: &str) -> String {
    format!(
        "SELECT t.kind, t.issued_at, t.expires_at, t.revoked_at, s.revoked_at AS session_revoked_at, \
         k.revoked_at AS key_revoked_at, k.tokens_revoked_at AS key_tokens_revoked_at, \
         k.expires_at AS key_expires_at, {PRINCIPAL_COLUMNS} FROM {table} t \
         JOIN principals p ON p.id = t.principal_id \
         LEFT JOIN sessions s ON s.id = t.session_id \
         LEFT JOIN api_keys k ON k.id = t.credential_id \
         WHERE {condition}"
    )
}

pub(crate) static FIND_TOKEN: LazyLock<String> = LazyLock::new(|| find_token_in("tokens", "t.hash = $1"));

/// SQLite's token journal, by sequence number (the hash guards against an
/// index entry that outlived its row).
pub(crate) static FIND_JOURNAL_TOKEN: LazyLock<String> =
    LazyLock::new(|| find_token_in("token_journal", "t.seq = $1 AND t.hash = $2"));

pub(crate) static FIND_REFRESH: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT r.session_id, r.issued_at, r.expires_at, r.spent_at, r.successor, \
         s.revoked_at AS session_revoked_at, {PRINCIPAL_COLUMNS} FROM refresh_tokens r \
         JOIN sessions s ON s.id = r.session_id \
         JOIN principals p ON p.id = s.principal_id \
         WHERE r.hash = $1"
    )
});

pub(crate) static PRINCIPAL_BY_NAME: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {PRINCIPAL_COLUMNS}, p.password_hash FROM principals p WHERE p.name = $1")
});

pub(crate) static PRINCIPAL_BY_NAME_KEY: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {PRINCIPAL_COLUMNS}, p.password_hash FROM principals p WHERE p.name_key = $1")
});

pub(crate) static PRINCIPAL_BY_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {PRINCIPAL_COLUMNS}, p.password_hash FROM principals p WHERE p.id = $1")
});

/// By name, from after `$2` (unless null), those starting with `$1` (as
/// characters on both backends: no LIKE pattern to escape).
pub(crate) static SEARCH_PRINCIPALS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PRINCIPAL_COLUMNS}, p.password_hash FROM principals p \
         WHERE substr(p.name, 1, length($1)) = $1 AND ($2 IS NULL OR p.name > $2) \
         ORDER BY p.name LIMIT $3"
    )
});

pub(crate) const UPDATE_PROFILE: &str =
    "UPDATE principals SET roles = $2, realm = $3, attributes = $4 WHERE id = $1";

pub(crate) static LIST_PRINCIPALS: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {PRINCIPAL_COLUMNS}, p.password_hash FROM principals p ORDER BY p.name")
});

pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE hash = $1";

pub(crate) const REVOKE_SESSION_OF_REFRESH: &str = "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) \
    WHERE id IN (SELECT session_id FROM refresh_tokens WHERE hash = $1)";

pub(crate) const REVOKE_SESSION: &str =
    "UPDATE sessions SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";

pub(crate) const REVOKE_PRINCIPAL_TOKENS: &str = "UPDATE principals SET tokens_revoked_at = $2 WHERE id = $1";

/// Disabling also voids every token held so far (`$3`: now), so that
/// enabling again revives none of them: an account disabled because it was
/// compromised does not get the attacker's tokens back.
pub(crate) const SET_ENABLED: &str = "UPDATE principals SET enabled = $2, \
    tokens_revoked_at = CASE WHEN $2 THEN tokens_revoked_at ELSE $3 END WHERE id = $1";

pub(crate) const SET_PASSWORD: &str =
    "UPDATE principals SET password_hash = $2, password_format = $3 WHERE id = $1";

pub(crate) const REMOVE_PRINCIPAL: &str = "DELETE FROM principals WHERE id = $1";

pub(crate) const INSERT_API_KEY: &str = "INSERT INTO api_keys \
    (id, principal_id, key_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
    ON CONFLICT (key_hash) DO NOTHING";

pub(crate) static FIND_API_KEY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT k.id AS key_id, k.expires_at AS key_expires_at, k.revoked_at AS key_revoked_at, \
         {PRINCIPAL_COLUMNS} FROM api_keys k JOIN principals p ON p.id = k.principal_id \
         WHERE k.key_hash = $1"
    )
});

pub(crate) const LIST_API_KEYS: &str = "SELECT k.id, p.name, k.created_at, k.expires_at, k.revoked_at, \
    k.last_used_at FROM api_keys k JOIN principals p ON p.id = k.principal_id \
    WHERE k.principal_id = $1 ORDER BY k.created_at, k.id";

pub(crate) const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1";

pub(crate) const REVOKE_API_KEY_TOKENS: &str = "UPDATE api_keys SET tokens_revoked_at = $2 WHERE id = $1";

pub(crate) const REVOKE_ACCESS_KEY_TOKENS: &str =
    "UPDATE access_keys SET tokens_revoked_at = $2 WHERE id = $1";

pub(crate) const TOUCH_API_KEY: &str = "UPDATE api_keys SET last_used_at = $2 \
    WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

pub(crate) const INSERT_SERVER_SECRET: &str =
    "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";

pub(crate) const SERVER_SECRET: &str = "SELECT value FROM server_secrets WHERE name = $1";

pub(crate) const REPLACE_SERVER_SECRET: &str =
    "INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = $2";

pub(crate) const INSERT_ACCESS_KEY: &str = "INSERT INTO access_keys \
    (id, principal_id, access_key, secret_hash, state, created_at, expires_at, secret_format, secret_legacy) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING";

/// Replaces a legacy password hash with its argon2id successor, unless
/// another login did first (then nothing changes).
pub(crate) const UPGRADE_PASSWORD: &str = "UPDATE principals SET password_hash = $3, password_format = $4 \
    WHERE id = $1 AND password_hash = $2";

/// Replaces a legacy secret hash with the keyed hash, once.
pub(crate) const UPGRADE_ACCESS_SECRET: &str = "UPDATE access_keys \
    SET secret_hash = $3, secret_format = NULL, secret_legacy = NULL WHERE id = $1 AND secret_legacy = $2";

/// Legacy credentials left, by format (both use their partial index).
pub(crate) const LEGACY_PASSWORDS: &str = "SELECT password_format AS format, COUNT(*) AS left_over \
    FROM principals WHERE password_format IS NOT NULL AND password_format <> 'argon2id' \
    GROUP BY password_format";
pub(crate) const LEGACY_SECRETS: &str = "SELECT secret_format AS format, COUNT(*) AS left_over \
    FROM access_keys WHERE secret_format IS NOT NULL GROUP BY secret_format";

fn find_access_key_where(condition: &str) -> String {
    format!(
        "SELECT a.id AS key_id, a.access_key, a.secret_hash, a.secret_format, a.secret_legacy, a.state, a.expires_at AS key_expires_at, \
         a.tokens_revoked_at AS key_tokens_revoked_at, {PRINCIPAL_COLUMNS} \
         FROM access_keys a JOIN principals p ON p.id = a.principal_id WHERE {condition}"
    )
}

pub(crate) static FIND_ACCESS_KEY: LazyLock<String> =
    LazyLock::new(|| find_access_key_where("a.access_key = $1"));

pub(crate) static FIND_ACCESS_KEY_BY_ID: LazyLock<String> =
    LazyLock::new(|| find_access_key_where("a.id = $1"));

const LIST_ACCESS_KEYS_SELECT: &str = "SELECT a.id, p.name, a.access_key, a.state, a.created_at, \
    a.expires_at, a.last_used_at FROM access_keys a JOIN principals p ON p.id = a.principal_id";

pub(crate) static LIST_ACCESS_KEYS: LazyLock<String> =
    LazyLock::new(|| format!("{LIST_ACCESS_KEYS_SELECT} ORDER BY p.name, a.created_at, a.id"));

pub(crate) static LIST_ACCESS_KEYS_OF: LazyLock<String> = LazyLock::new(|| {
    format!("{LIST_ACCESS_KEYS_SELECT} WHERE a.principal_id = $1 ORDER BY a.created_at, a.id")
});

pub(crate) static ACCESS_KEY_INFO: LazyLock<String> =
    LazyLock::new(|| format!("{LIST_ACCESS_KEYS_SELECT} WHERE a.id = $1"));

pub(crate) const SET_ACCESS_KEY_EXPIRY: &str = "UPDATE access_keys SET expires_at = $2 WHERE id = $1";

pub(crate) const SET_ACCESS_KEY_STATE: &str =
    "UPDATE access_keys SET state = $2 WHERE id = $1 AND state <> 'revoked'";

pub(crate) const TOUCH_ACCESS_KEY: &str = "UPDATE access_keys SET last_used_at = $2 \
    WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $2)";

pub(crate) const REVOKE_JWT: &str =
    "INSERT INTO revoked_jwts (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING";

pub(crate) const IS_JWT_REVOKED: &str = "SELECT COUNT(*) FROM revoked_jwts WHERE jti = $1";

pub(crate) const SWEEP_REVOKED_JWTS: &str = "DELETE FROM revoked_jwts WHERE jti IN \
    (SELECT jti FROM revoked_jwts WHERE expires_at < $1 LIMIT $2)";

pub(crate) const INSERT_SIGNING_KEY: &str = "INSERT INTO signing_keys \
    (kid, algorithm, private_der, public_jwk, created_at, signs_from) VALUES ($1, $2, $3, $4, $5, $6) \
    ON CONFLICT DO NOTHING";

pub(crate) const SERVER_SECRETS: &str = "SELECT name, value FROM server_secrets ORDER BY name";

pub(crate) const REPLACE_SIGNING_KEY_PRIVATE: &str =
    "UPDATE signing_keys SET private_der = $2 WHERE kid = $1";

pub(crate) const SIGNING_KEYS: &str = "SELECT kid, algorithm, private_der, public_jwk, created_at, signs_from \
    FROM signing_keys WHERE algorithm = $1 ORDER BY signs_from, kid";

/// Keys created at or after `$1` (NULL: all), for the login service's
/// filters of existing keys.
pub(crate) const API_KEYS_CREATED_SINCE: &str =
    "SELECT key_hash, created_at FROM api_keys WHERE $1 IS NULL OR created_at >= $1";

pub(crate) const ACCESS_KEYS_CREATED_SINCE: &str =
    "SELECT access_key, created_at FROM access_keys WHERE $1 IS NULL OR created_at >= $1";

pub(crate) const SAVE_LOCKOUT: &str = "UPDATE principals SET failed_logins = $2, lockout_level = $3, \
    locked_until = $4, last_failed_at = $5 WHERE id = $1";

pub(crate) static LOCKOUTS: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {PRINCIPAL_COLUMNS} FROM principals p WHERE p.last_failed_at IS NOT NULL \
         AND (p.failed_logins > 0 OR p.locked_until > $1) ORDER BY p.name"
    )
});

pub(crate) const INSERT_AUDIT: &str = "INSERT INTO audit_events (at, actor, action, target, source_ip, details) \
    VALUES ($1, $2, $3, $4, $5, $6)";

/// Newest first; each filter applies when given (`$1` action, `$2` actor,
/// `$3` target, `$4` before this id, `$5` how many).
pub(crate) const LIST_AUDIT: &str = "SELECT id, at, actor, action, target, source_ip, details FROM audit_events \
    WHERE ($1 IS NULL OR action = $1) AND ($2 IS NULL OR actor = $2) AND ($3 IS NULL OR target = $3) \
    AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5";

pub(crate) const SWEEP_AUDIT: &str = "DELETE FROM audit_events WHERE id IN \
    (SELECT id FROM audit_events WHERE at < $1 ORDER BY id LIMIT $2)";

pub(crate) const INSERT_PORTAL_SESSION: &str = "INSERT INTO portal_sessions \
    (id_hash, principal_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)";

/// A portal session and its principal as it is now (`$1`: the id's hash).
pub(crate) static PORTAL_SESSION: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT s.created_at AS session_created_at, s.last_seen_at, {PRINCIPAL_COLUMNS} \
         FROM portal_sessions s JOIN principals p ON p.id = s.principal_id WHERE s.id_hash = $1"
    )
});

pub(crate) const TOUCH_PORTAL_SESSION: &str =
    "UPDATE portal_sessions SET last_seen_at = $2 WHERE id_hash = $1 AND last_seen_at < $2";

/// Only when `$2` is not the form spent last.
pub(crate) const SPEND_PORTAL_FORM: &str = "UPDATE portal_sessions SET spent_form = $2 \
    WHERE id_hash = $1 AND (spent_form IS NULL OR spent_form <> $2)";

pub(crate) const DELETE_PORTAL_SESSION: &str = "DELETE FROM portal_sessions WHERE id_hash = $1";

/// Idle since before `$1`, or started before `$2`; `$3` at a time.
pub(crate) const SWEEP_PORTAL_SESSIONS: &str = "DELETE FROM portal_sessions WHERE id_hash IN \
    (SELECT id_hash FROM portal_sessions WHERE last_seen_at < $1 OR created_at < $2 LIMIT $3)";

/// Principals: all, disabled, and those whose password waits to be
/// rehashed from a legacy format.
pub(crate) const COUNT_PRINCIPALS: &str = "SELECT COUNT(*) AS total, \
    COALESCE(SUM(CASE WHEN enabled THEN 0 ELSE 1 END), 0) AS disabled, \
    COALESCE(SUM(CASE WHEN password_format IS NOT NULL AND password_format <> 'argon2id' \
    THEN 1 ELSE 0 END), 0) AS legacy FROM principals";

/// API keys by their state at `$1` (as `ApiKeyInfo::state_at` judges it).
pub(crate) const COUNT_API_KEYS_BY_STATE: &str = "SELECT CASE WHEN revoked_at IS NOT NULL THEN 'revoked' \
    WHEN expires_at IS NOT NULL AND expires_at <= $1 THEN 'expired' ELSE 'active' END AS state, \
    COUNT(*) AS n FROM api_keys GROUP BY 1";

/// Access keys by their state at `$1` (as `AccessKeyState::effective`
/// judges it).
pub(crate) const COUNT_ACCESS_KEYS_BY_STATE: &str = "SELECT CASE WHEN state = 'active' \
    AND expires_at IS NOT NULL AND expires_at <= $1 THEN 'expired' ELSE state END AS state, \
    COUNT(*) AS n FROM access_keys GROUP BY 1";

/// Keys that work now and stop after `$1`, at or before `$2`.
pub(crate) const COUNT_EXPIRING_KEYS: &str = "SELECT \
    (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NULL AND expires_at > $1 AND expires_at <= $2) + \
    (SELECT COUNT(*) FROM access_keys WHERE state = 'active' AND expires_at > $1 AND expires_at <= $2) AS n";

/// The first `$3` of them, soonest first.
pub(crate) const LIST_EXPIRING_KEYS: &str = "SELECT 'apikey' AS kind, k.id AS id, NULL AS access_key, \
    p.id AS principal_id, p.name AS principal, k.expires_at AS expires_at \
    FROM api_keys k JOIN principals p ON p.id = k.principal_id \
    WHERE k.revoked_at IS NULL AND k.expires_at > $1 AND k.expires_at <= $2 \
    UNION ALL SELECT 'accesskey', k.id, k.access_key, p.id, p.name, k.expires_at \
    FROM access_keys k JOIN principals p ON p.id = k.principal_id \
    WHERE k.state = 'active' AND k.expires_at > $1 AND k.expires_at <= $2 \
    ORDER BY expires_at LIMIT $3";
/// The bulk import's lookups: `WHERE` and the `IN` lists are appended.
pub(crate) static IMPORT_PRINCIPALS: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {PRINCIPAL_COLUMNS}, p.name_key FROM principals p WHERE "));
pub(crate) const IMPORT_API_KEYS: &str =
    "SELECT id, principal_id, key_hash, expires_at, revoked_at FROM api_keys WHERE ";
pub(crate) const IMPORT_ACCESS_KEYS: &str =
    "SELECT id, principal_id, access_key, state, expires_at FROM access_keys WHERE ";

/// The bulk import's inserts: `VALUES` and the conflict clause are appended
/// (a row whose name, id or key is taken is left out, and `RETURNING` tells
/// which went in).
pub(crate) const IMPORT_INSERT_PRINCIPALS: &str = "INSERT INTO principals \
    (id, name, roles, realm, attributes, enabled, password_hash, created_at, name_key, password_format) ";
pub(crate) const IMPORT_INSERT_API_KEYS: &str =
    "INSERT INTO api_keys (id, principal_id, key_hash, created_at, expires_at) ";
pub(crate) const IMPORT_INSERT_ACCESS_KEYS: &str = "INSERT INTO access_keys \
    (id, principal_id, access_key, secret_hash, state, created_at, expires_at, secret_format, secret_legacy) ";
pub(crate) const INSERTED_IDS: &str = " ON CONFLICT DO NOTHING RETURNING id";

/// An imported password, only where none is held: an import never replaces
/// one, even when a password was set between its lookup and its commit.
pub(crate) const IMPORT_SET_PASSWORD: &str = "UPDATE principals SET password_hash = $2, password_format = $3 \
    WHERE id = $1 AND password_hash IS NULL";

pub(crate) const IMPORT_API_KEY_EXPIRY: &str =
    "UPDATE api_keys SET expires_at = $2 WHERE id = $1 AND revoked_at IS NULL";

pub(crate) const IMPORT_ACCESS_KEY_CHANGE: &str =
    "UPDATE access_keys SET state = $2, expires_at = $3 WHERE id = $1 AND state <> 'revoked'";
