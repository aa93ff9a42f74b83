//! The admin portal's sign-in sessions (DESIGN.md §8): who is signed in,
//! for how long, and the token that proves a form came from the portal.
//!
//! Sessions live in the database (only a SHA-256 of each id), so they hold
//! across restarts and on every node. A session ends when it has been idle
//! too long, when it is too old, when its admin signs out, or — checked at
//! every request — when its principal is disabled, removed or no longer
//! holds the admin role. The password check is contract A's, with its
//! protection (lockouts, the per-address limit).

use std::sync::Arc;
use std::time::Duration;

use time::OffsetDateTime;

use crate::clock::SharedClock;
use crate::context::LoginContext;
use crate::error::{LoginError, StoreError};
use crate::login::LoginService;
use crate::model::Principal;
use crate::secret::{Password, PortalSessionId, TokenHash, constant_time_eq, keyed_hash, random_hex};
use crate::server_keys::ServerKeys;
use crate::store::{PortalSessionRecord, Store};

/// How long sessions last, and who may hold one.
#[derive(Debug, Clone)]
pub struct SessionPolicy {
    /// A session unused this long ends (`[admin] session_idle`).
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not
    /// (`[admin] session_max`).
    pub max: Duration,
    /// The role an administrator holds (`[admin] role`).
    pub admin_role: String,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle: Duration::from_secs(30 * 60),
            max: Duration::from_secs(12 * 3600),
            admin_role: "tollgate-admin".into(),
        }
    }
}

/// How often a session's last use is written: the idle timeout is kept to
/// the minute, and a click costs no database write more than once a minute.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

/// Bytes of randomness in a session id (256 bits).
const SESSION_ID_BYTES: usize = 32;

/// Bytes of a form's one-time id (they only have to differ).
const FORM_ID_BYTES: usize = 16;

/// A session just opened: the id goes into the browser's cookie, and
/// nowhere else.
#[derive(Debug)]
pub struct SignedIn {
    pub session: PortalSessionId,
    pub principal: Principal,
}

/// A request's signed-in administrator.
#[derive(Clone)]
pub struct Operator {
    pub principal: Principal,
    /// The session's form token (see [`PortalSessions::form_token`]).
    pub form_token: String,
}

impl std::fmt::Debug for Operator {
    // The form token stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator").field("principal", &self.principal.name).finish_non_exhaustive()
    }
}

/// Where a stored session stands at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Standing {
    Live { touch: bool },
    IdleTooLong,
    TooOld,
}

fn standing(record: &PortalSessionRecord, now: OffsetDateTime, policy: &SessionPolicy) -> Standing {
    let since = |at: OffsetDateTime| (now - at).try_into().unwrap_or(Duration::ZERO);
    if since(record.created_at) >= policy.max {
        Standing::TooOld
    } else if since(record.last_seen_at) >= policy.idle {
        Standing::IdleTooLong
    } else {
        Standing::Live { touch: since(record.last_seen_at) >= TOUCH_EVERY }
    }
}

/// Opens, checks and ends portal sessions.
pub struct PortalSessions {
    login: Arc<LoginService>,
    store: Arc<dyn Store>,
    policy: SessionPolicy,
    /// Keys the form tokens: derived from the server's pepper, so every
    /// node computes the same token for a session without storing it.
    form_key: [u8; 32],
    clock: SharedClock,
}

impl PortalSessions {
    pub fn new(
        login: Arc<LoginService>,
        store: Arc<dyn Store>,
        keys: &ServerKeys,
        policy: SessionPolicy,
        clock: SharedClock,
    ) -> Self {
        Self { login, store, policy, form_key: keys.derived_key("tollgate portal form tokens v1"), clock }
    }

    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// Checks an administrator's name and password and opens a new session.
    /// A wrong name, a wrong password, a disabled principal, a locked name
    /// and a principal without the admin role all fail alike
    /// (`BadCredentials`). `previous` (the session the browser still held,
    /// if any) ends: a sign-in always starts a session under a new id.
    pub async fn sign_in(
        &self,
        context: &LoginContext,
        name: &str,
        password: &Password,
        previous: Option<&str>,
    ) -> Result<SignedIn, LoginError> {
        let principal =
            self.login.check_portal_password(context, name, password, &self.policy.admin_role).await?;
        // Only now: a failed attempt must not sign the browser out.
        if let Some(previous) = previous {
            self.sign_out(previous).await?;
        }
        let session = PortalSessionId::new(random_hex(SESSION_ID_BYTES));
        let now = self.clock.now();
        let record = PortalSessionRecord {
            id_hash: TokenHash::of(session.expose()),
            principal_id: principal.id,
            created_at: now,
            last_seen_at: now,
        };
        self.store.insert_portal_session(&record).await?;
        tracing::info!(admin = %principal.name, "portal sign-in");
        Ok(SignedIn { session, principal })
    }

    /// The administrator a session id signs in, or `None` when it signs in
    /// nobody (any more): unknown, idle too long, too old, or its principal
    /// disabled, removed or without the admin role. A session found ended
    /// is deleted.
    pub async fn authenticate(&self, session: &str) -> Result<Option<Operator>, StoreError> {
        // Only ids shaped like ours are looked up.
        if session.len() != SESSION_ID_BYTES * 2 || !session.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        let hash = TokenHash::of(session);
        let Some((record, principal)) = self.store.portal_session(&hash).await? else {
            return Ok(None);
        };
        let now = self.clock.now();
        let ended = match standing(&record, now, &self.policy) {
            Standing::Live { .. } if !principal.enabled => Some("principal disabled"),
            Standing::Live { .. } if !principal.roles.contains(&self.policy.admin_role) => {
                Some("admin role taken away")
            }
            Standing::Live { touch } => {
                if touch {
                    self.store.touch_portal_session(&hash, now).await?;
                }
                None
            }
            Standing::IdleTooLong => Some("idle timeout"),
            Standing::TooOld => Some("absolute timeout"),
        };
        if let Some(reason) = ended {
            tracing::info!(admin = %principal.name, reason, "portal session ended");
            self.store.delete_portal_session(&hash).await?;
            return Ok(None);
        }
        Ok(Some(Operator { form_token: self.form_token(session), principal }))
    }

    /// A new one-time id for a form that makes a secret (an API key, an
    /// access key, a roll).
    pub fn new_form_id() -> String {
        random_hex(FORM_ID_BYTES)
    }

    /// Spends a form's one-time id: `false` if this session spent it last,
    /// i.e. the browser sent the same form again (a reload of the page that
    /// showed a secret). The key is then not made twice, and the secret
    /// is not shown again.
    pub async fn spend_form(&self, session: &str, form: &str) -> Result<bool, StoreError> {
        if form.len() != FORM_ID_BYTES * 2 || !form.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(false);
        }
        self.store.spend_portal_form(&TokenHash::of(session), form).await
    }

    /// Ends a session (sign-out); nothing happens for an unknown one.
    pub async fn sign_out(&self, session: &str) -> Result<(), StoreError> {
        self.store.delete_portal_session(&TokenHash::of(session)).await.map(|_| ())
    }

    /// The token every state-changing request of a session must carry (a
    /// hidden form field or a header): an HMAC of the session id, so that a
    /// page of another site, which cannot read the portal's pages, cannot
    /// know it.
    pub fn form_token(&self, session: &str) -> String {
        hex::encode(keyed_hash(&self.form_key, format!("session:{session}").as_bytes()))
    }

    /// The token of the sign-in form, bound to the browser's pre-sign-in
    /// cookie in the same way.
    pub fn sign_in_token(&self, browser: &str) -> String {
        hex::encode(keyed_hash(&self.form_key, format!("sign-in:{browser}").as_bytes()))
    }

    /// Whether `presented` is `expected`, in constant time.
    pub fn tokens_match(expected: &str, presented: &str) -> bool {
        constant_time_eq(expected.as_bytes(), presented.as_bytes())
    }

    /// Deletes ended sessions every `every`, in batches of `batch`, forever
    /// (as expired tokens are swept).
    pub fn spawn_sweeper(self: &Arc<Self>, every: Duration, batch: i64) -> tokio::task::JoinHandle<()> {
        let sessions = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let now = sessions.clock.now();
                let idle_before = crate::time_util::sub(now, sessions.policy.idle);
                let started_before = crate::time_util::sub(now, sessions.policy.max);
                loop {
                    match sessions.store.sweep_portal_sessions(idle_before, started_before, batch).await {
                        Ok(deleted) if deleted >= u64::try_from(batch).unwrap_or(u64::MAX) => continue,
                        Ok(_) => break,
                        Err(err) => {
                            tracing::warn!(error = %crate::error::report(&err), "sweeping ended portal sessions failed");
                            break;
                        }
                    }
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn record(created_at: OffsetDateTime, last_seen_at: OffsetDateTime) -> PortalSessionRecord {
        PortalSessionRecord {
            id_hash: TokenHash::of("x"),
            principal_id: crate::model::PrincipalId::new(),
            created_at,
            last_seen_at,
        }
    }

    #[test]
    fn sessions_end_after_the_idle_and_the_absolute_timeout() {
        let policy = SessionPolicy::default();
        let start = datetime!(2026-03-01 09:00 UTC);
        let fresh = record(start, start);
        assert_eq!(standing(&fresh, start, &policy), Standing::Live { touch: false });
        let minute = time::Duration::minutes(1);
        assert_eq!(standing(&fresh, start + minute, &policy), Standing::Live { touch: true });
        assert_eq!(standing(&fresh, start + minute * 29, &policy), Standing::Live { touch: true });
        assert_eq!(standing(&fresh, start + minute * 30, &policy), Standing::IdleTooLong);
        // Used all along, it still ends 12 hours after sign-in.
        let busy = record(start, start + time::Duration::hours(12) - minute);
        assert_eq!(
            standing(&busy, start + time::Duration::hours(12) - minute, &policy),
            Standing::Live { touch: false }
        );
        assert_eq!(standing(&busy, start + time::Duration::hours(12), &policy), Standing::TooOld);
    }

    #[test]
    fn a_clock_that_went_back_does_not_end_a_session() {
        let start = datetime!(2026-03-01 09:00 UTC);
        let policy = SessionPolicy::default();
        assert_eq!(
            standing(&record(start, start), start - time::Duration::minutes(5), &policy),
            Standing::Live { touch: false }
        );
    }

    #[test]
    fn form_tokens_compare_whole() {
        assert!(PortalSessions::tokens_match("abc", "abc"));
        assert!(!PortalSessions::tokens_match("abc", "abd"));
        assert!(!PortalSessions::tokens_match("abc", "ab"));
        assert!(!PortalSessions::tokens_match("abc", ""));
    }
}
