//! Operators see and clear lockouts (DESIGN.md §9).

use time::OffsetDateTime;

use super::{AdminError, AdminService};
use crate::context::AdminContext;
use crate::protection::LockState;

/// A name with failed logins counted or a lock running.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    /// The principal's name; for a name nobody holds, its folded form as
    /// this node counts it.
    pub name: String,
    pub failures: u32,
    pub locked_until: Option<OffsetDateTime>,
}

impl Lockout {
    fn of(name: String, state: LockState, now: OffsetDateTime) -> Self {
        Self { name, failures: state.failures, locked_until: state.locked_until.filter(|until| now < *until) }
    }
}

impl AdminService {
    /// Known principals' lockouts (shared by every node, from the
    /// database), and, where a login service runs in this process, the
    /// names nobody holds that it counts.
    pub async fn list_lockouts(&self) -> Result<Vec<Lockout>, AdminError> {
        let now = self.now();
        let mut lockouts: Vec<Lockout> = self
            .store
            .lockouts(now)
            .await?
            .into_iter()
            .map(|principal| Lockout::of(principal.name, principal.lockout, now))
            .collect();
        if let Some(caches) = &self.caches {
            for (key, state) in caches.counted_names() {
                let known = lockouts.iter().any(|known| crate::names::collision_key(&known.name) == key);
                if !known && (state.failures > 0 || state.is_locked(now)) {
                    lockouts.push(Lockout::of(key, state, now));
                }
            }
        }
        lockouts.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(lockouts)
    }

    /// Clears a name's count and lock: `true` if there was one. In the
    /// database for a principal (every node), in this node's memory for
    /// any name.
    pub async fn clear_lockout(&self, context: &AdminContext, name: &str) -> Result<bool, AdminError> {
        let principal = match crate::names::login_name(name) {
            Some(name) => self.store.principal_by_name(&name).await?,
            None => None,
        };
        let key = crate::names::collision_key(name);
        let mut had = false;
        if let Some(principal) = &principal {
            had |= !principal.lockout.is_clear();
            self.store.save_lockouts(&[(principal.id, LockState::default())]).await?;
        }
        if let Some(caches) = &self.caches {
            had |= caches.counted_names().iter().any(|(counted, _)| *counted == key);
            caches.forget_name(name);
        }
        if had {
            let target = principal.as_ref().map_or(name, |principal| principal.name.as_str());
            self.audit(context, "lockout.clear", target, None).await;
        }
        Ok(had)
    }
}
