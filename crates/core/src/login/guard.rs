//! What stands in front of every login (DESIGN.md §9): the per-address
//! limit, the lockout state of known principals written to the database in
//! the background, and the security events they raise (metrics, audit).

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

use super::{LoginContext, LoginService};
use crate::audit::AuditEvent;
use crate::error::LoginError;
use crate::model::PrincipalId;
use crate::protection::LockState;
use crate::store::Store;

/// Lockout states of known principals waiting to be written: the login
/// that changed one answers without waiting for the database (an unknown
/// name's failure must not be faster than a known one's). Once written, the
/// database is the one truth for that principal again (so that an operator
/// who clears it from the command line is heard).
#[derive(Default)]
pub(super) struct LockoutWriter {
    /// By principal: its name's folded form and its state.
    pending: Mutex<HashMap<PrincipalId, (String, LockState)>>,
    /// Wakes the writer at once: a lock must reach the other nodes now, not
    /// at the next tick (counts and resets can wait for it).
    urgent: tokio::sync::Notify,
}

impl LockoutWriter {
    pub(super) fn record(&self, id: PrincipalId, key: &str, state: LockState) {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner).insert(id, (key.to_owned(), state));
    }

    /// Asks the writer to write what is pending now.
    pub(super) fn write_now(&self) {
        self.urgent.notify_one();
    }

    async fn flush(&self, store: &dyn Store, protection: &crate::protection::Protection) {
        let pending: Vec<(PrincipalId, (String, LockState))> =
            self.pending.lock().unwrap_or_else(PoisonError::into_inner).drain().collect();
        if pending.is_empty() {
            return;
        }
        let states: Vec<(PrincipalId, LockState)> =
            pending.iter().map(|(id, (_, state))| (*id, *state)).collect();
        match store.save_lockouts(&states).await {
            Ok(()) => {
                for (_, (key, state)) in &pending {
                    protection.settled(key, *state);
                }
            }
            Err(err) => {
                tracing::warn!(error = %crate::error::report(&err), "could not write lockout states; retrying");
                let mut waiting = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
                for (id, entry) in pending {
                    waiting.entry(id).or_insert(entry);
                }
            }
        }
    }
}

impl LoginService {
    /// Runs a login unless its address is limited; counts its failure
    /// against the address if it fails.
    pub(super) async fn guarded<T>(
        &self,
        context: &LoginContext,
        login: impl Future<Output = Result<T, LoginError>>,
    ) -> Result<T, LoginError> {
        let now = self.now();
        if let Err(retry_after) = self.protection.check_address(context.client, now) {
            metrics::counter!("tollgate_rate_limited_total", "contract" => context.contract.name())
                .increment(1);
            return Err(LoginError::RateLimited { retry_after });
        }
        let result = login.await;
        if matches!(
            result,
            Err(LoginError::BadCredentials | LoginError::MalformedKey | LoginError::KeyNotUsable)
        ) {
            self.protection.address_failed(context.client, now);
        }
        result
    }

    /// A name was locked: counted, and audited.
    pub(super) fn lockout_started(&self, name: &str, until: OffsetDateTime) {
        metrics::counter!("tollgate_lockouts_total").increment(1);
        let details = serde_json::json!({ "lockedUntil": crate::time_util::rfc3339_utc(until, 3) });
        self.audit_system_event("lockout.start", name, Some(details));
    }

    /// Records a security event in the background: a login does not wait
    /// for the audit row.
    pub(super) fn audit_system_event(
        &self,
        action: &'static str,
        target: &str,
        details: Option<serde_json::Value>,
    ) {
        let event = AuditEvent {
            at: self.now(),
            actor: "system".to_owned(),
            action,
            target: Some(target.to_owned()),
            source_ip: None,
            details,
        };
        tracing::info!(action, target, "security event");
        let store = Arc::clone(&self.store);
        tokio::spawn(async move {
            if let Err(err) = store.record_audit(&event).await {
                tracing::warn!(error = %crate::error::report(&err), action = event.action, "could not record an audit event");
            }
        });
    }

    /// Writes lockout states of known principals every `every`, forever.
    pub fn spawn_lockout_writer(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let service = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    () = service.lockouts.urgent.notified() => {}
                }
                service.lockouts.flush(service.store.as_ref(), &service.protection).await;
            }
        })
    }

    /// Writes pending lockout states now (on shutdown).
    pub async fn flush_lockouts(&self) {
        self.lockouts.flush(self.store.as_ref(), &self.protection).await;
    }

    /// The names this node counts failures for (unknown ones included),
    /// with their state now.
    pub fn counted_names(&self) -> Vec<(String, LockState)> {
        self.protection.names(self.now())
    }

    /// Forgets this node's count and lock of a name (an operator's clear).
    pub fn forget_name(&self, name: &str) {
        self.protection.clear(&crate::names::collision_key(name));
    }
}
