//! Contract A's login: name and password in, a session (token + refresh
//! token) out.

use uuid::Uuid;

use super::{LoginContext, LoginService, SessionTokens};
use crate::error::LoginError;
use crate::model::{Principal, RefreshRecord, SessionRecord, TokenKind, TokenRecord};
use crate::password::Checked;
use crate::secret::{Password, TokenHash};
use crate::store::NewSession;
use crate::time_util::add;

impl LoginService {
    /// Contract A: verifies the password and opens a new session.
    pub async fn login_with_password(
        &self,
        context: &LoginContext,
        name: &str,
        password: &Password,
    ) -> Result<SessionTokens, LoginError> {
        self.guarded(context, async {
            let principal = self.check_password_from(Some(context), name, password).await?;
            self.open_session(&principal).await
        })
        .await
    }

    /// The admin portal's sign-in: contract A's password check under the
    /// same protection (the per-address limit, the lockout of the name),
    /// and then the principal must hold `role`. A principal without it is
    /// refused like a wrong password, and counted against the address.
    pub async fn check_portal_password(
        &self,
        context: &LoginContext,
        name: &str,
        password: &Password,
        role: &str,
    ) -> Result<Principal, LoginError> {
        self.guarded(context, async {
            let principal = self.check_password(name, password).await?;
            if !principal.roles.iter().any(|held| held == role) {
                return Err(LoginError::BadCredentials);
            }
            Ok(principal)
        })
        .await
    }

    /// The principal `name` if `password` is its password (contract A, the
    /// portal's sign-in). Unknown, wrong, disabled and locked all fail
    /// alike: an unknown name costs the same argon2id work as a known one
    /// (a decoy hash), a locked one none at all, known or unknown.
    pub async fn check_password(&self, name: &str, password: &Password) -> Result<Principal, LoginError> {
        self.check_password_from(None, name, password).await
    }

    /// [`check_password`](Self::check_password) for a login that came with
    /// `context`: a name unknown here may then be moved in from the legacy
    /// service (lazy migration), if one is configured.
    async fn check_password_from(
        &self,
        context: Option<&LoginContext>,
        name: &str,
        password: &Password,
    ) -> Result<Principal, LoginError> {
        // A name no principal can have (a control character, say) is unknown
        // without asking the database, which might refuse the bytes.
        let name = crate::names::login_name(name);
        let found = match &name {
            Some(name) => self.store.password_of(name).await?,
            None => None,
        };
        let (principal, stored) = match found {
            Some((principal, stored)) => (Some(principal), stored),
            None => (None, None),
        };
        // Names are counted by their folded form: `USER` guesses at `user`.
        let key = crate::names::collision_key(name.as_deref().unwrap_or_default());
        let now = self.now();
        let lock = self.protection.name_state(&key, principal.as_ref().map(|p| p.lockout), now);
        if lock.is_locked(now) {
            return Err(LoginError::BadCredentials);
        }
        if principal.is_none()
            && let (Some(context), Some(login)) = (context, name.as_deref())
            && let Some(migrated) = self.migrate_password_login(login, password, context).await
        {
            if let Err(LoginError::BadCredentials) = &migrated {
                self.count_name_failure(None, name.as_deref().unwrap_or_default(), &key, lock);
            }
            return migrated;
        }
        let checked = self.verify_stored(stored.as_ref(), password).await?;
        match principal {
            Some(principal) if checked.matches() && principal.enabled => {
                if let Some(reset) = self.protection.name_succeeded(&key, lock) {
                    self.lockouts.record(principal.id, &key, reset);
                }
                // An imported hash is replaced on its first successful login.
                if let (Checked::Rehashed(successor), Some(stored)) = (checked, &stored) {
                    self.upgrade_password(&principal, stored, successor).await;
                }
                Ok(principal)
            }
            principal => {
                self.count_name_failure(principal.as_ref(), name.as_deref().unwrap_or_default(), &key, lock);
                Err(LoginError::BadCredentials)
            }
        }
    }

    /// A failed login against `name` (folded: `key`), on the lockout ladder.
    fn count_name_failure(
        &self,
        principal: Option<&Principal>,
        name: &str,
        key: &str,
        lock: crate::protection::LockState,
    ) {
        let (state, outcome) = self.protection.name_failed(key, lock, self.now());
        if let Some(principal) = principal {
            self.lockouts.record(principal.id, key, state);
        }
        if let crate::protection::FailureOutcome::Locked(until) = outcome {
            self.lockouts.write_now();
            self.lockout_started(name, until);
        }
    }

    async fn open_session(&self, principal: &Principal) -> Result<SessionTokens, LoginError> {
        let issued_at = self.now();
        let session = SessionRecord { id: Uuid::new_v4(), principal_id: principal.id, created_at: issued_at };
        let (tokens, token, refresh) = self.mint_pair(principal, session.id, issued_at);
        self.store.insert_session(NewSession { session, token, refresh }).await?;
        Ok(tokens)
    }

    /// A fresh access + refresh pair of one session, and the records to store.
    pub(super) fn mint_pair(
        &self,
        principal: &Principal,
        session_id: Uuid,
        issued_at: time::OffsetDateTime,
    ) -> (SessionTokens, TokenRecord, RefreshRecord) {
        // 32 × [a-z0-9] and 64 hex characters, each with a keyed tag
        // (token_tag.rs).
        let token = self.tags.access_token();
        let refresh_token = self.tags.refresh_token();
        let expires_at = add(issued_at, self.policy.login_check_ttl);
        let token_record = TokenRecord {
            hash: TokenHash::of(token.expose()),
            kind: TokenKind::LoginCheck,
            principal_id: principal.id,
            session_id: Some(session_id),
            credential_id: None,
            issued_at,
            expires_at,
        };
        let refresh_record = RefreshRecord {
            hash: TokenHash::of(refresh_token.expose()),
            session_id,
            issued_at,
            expires_at: add(issued_at, self.policy.refresh_ttl),
        };
        (SessionTokens { token, refresh_token, issued_at, expires_at }, token_record, refresh_record)
    }
}
