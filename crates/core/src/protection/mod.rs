//! Abuse protection (DESIGN.md §9): the lockout ladder of names guessed at
//! (`lockout.rs`), and the limit on failed logins per client address.
//!
//! What lives where: every name's count and lock in this node's memory, in
//! bounded caches (a spray of a million names or addresses evicts old
//! entries instead of growing); a known principal's state also in its
//! database row, written in the background, so that every node honours its
//! lock (each login reads the row anyway) and operators see it. Address
//! counts stay per node.

pub mod lockout;

use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

pub use lockout::{FailureOutcome, LockState, LockoutPolicy};

/// What protection does, as configured (`[protection]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtectionPolicy {
    pub enabled: bool,
    pub lockout: LockoutPolicy,
    /// Failed logins from one address within `ip_window` beyond which its
    /// logins are refused (429) until the window ends.
    pub ip_failures: u32,
    pub ip_window: Duration,
}

impl Default for ProtectionPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            lockout: LockoutPolicy::default(),
            ip_failures: 100,
            ip_window: Duration::from_secs(60),
        }
    }
}

/// Entries each cache keeps at most (names; addresses).
const ENTRIES: u64 = 100_000;

/// One address's failures in its current window.
#[derive(Debug, Clone, Copy)]
struct AddressWindow {
    started: OffsetDateTime,
    failures: u32,
}

/// This node's counts.
pub struct Protection {
    policy: ProtectionPolicy,
    /// By the name's folded form (`names::collision_key`).
    names: moka::sync::Cache<String, Arc<Mutex<LockState>>>,
    addresses: moka::sync::Cache<IpAddr, Arc<Mutex<AddressWindow>>>,
}

impl Protection {
    pub fn new(policy: ProtectionPolicy) -> Self {
        Self {
            policy,
            names: moka::sync::Cache::builder()
                .max_capacity(ENTRIES)
                .time_to_idle(policy.lockout.window.max(policy.lockout.max))
                .build(),
            addresses: moka::sync::Cache::builder()
                .max_capacity(ENTRIES)
                .time_to_idle(policy.ip_window)
                .build(),
        }
    }

    pub fn policy(&self) -> &ProtectionPolicy {
        &self.policy
    }

    /// `Err(retry_after)` while `client` has failed too often in its window.
    pub fn check_address(&self, client: Option<IpAddr>, now: OffsetDateTime) -> Result<(), Duration> {
        let (true, Some(client)) = (self.policy.enabled, client) else { return Ok(()) };
        let Some(window) = self.addresses.get(&client) else { return Ok(()) };
        let window = *window.lock().unwrap_or_else(PoisonError::into_inner);
        let ends = crate::time_util::add(window.started, self.policy.ip_window);
        if window.failures > self.policy.ip_failures && now < ends {
            // Whole seconds, rounded up: never tells a client to come back early.
            let left = (ends - now).unsigned_abs();
            return Err(Duration::from_secs(left.as_secs() + u64::from(left.subsec_nanos() > 0)));
        }
        Ok(())
    }

    /// A login from `client` failed (a 401 of any contract).
    pub fn address_failed(&self, client: Option<IpAddr>, now: OffsetDateTime) {
        let (true, Some(client)) = (self.policy.enabled, client) else { return };
        let fresh = || Arc::new(Mutex::new(AddressWindow { started: now, failures: 0 }));
        let window = self.addresses.get_with(client, fresh);
        let mut window = window.lock().unwrap_or_else(PoisonError::into_inner);
        if crate::time_util::add(window.started, self.policy.ip_window) <= now {
            *window = AddressWindow { started: now, failures: 0 };
        }
        window.failures = window.failures.saturating_add(1);
    }

    /// The name's state now: what this node saw, or what the database holds
    /// if that saw a later failure (another node).
    pub fn name_state(&self, key: &str, stored: Option<LockState>, now: OffsetDateTime) -> LockState {
        if !self.policy.enabled {
            return LockState::default();
        }
        let remembered =
            self.names.get(key).map(|state| *state.lock().unwrap_or_else(PoisonError::into_inner));
        let state = match (remembered, stored) {
            (Some(memory), Some(stored)) => memory.newest(stored),
            (memory, stored) => memory.or(stored).unwrap_or_default(),
        };
        state.at(now, &self.policy.lockout)
    }

    /// A failed login for the name whose state is `state` (as read by
    /// [`Self::name_state`]): the new state, and what the failure did.
    pub fn name_failed(
        &self,
        key: &str,
        mut state: LockState,
        now: OffsetDateTime,
    ) -> (LockState, FailureOutcome) {
        if !self.policy.enabled {
            return (state, FailureOutcome::Counted);
        }
        let outcome = state.fail(now, &self.policy.lockout);
        self.remember(key, state);
        (state, outcome)
    }

    /// A successful login: the count starts over. `Some` if there was one
    /// to forget (the database's copy needs the same).
    pub fn name_succeeded(&self, key: &str, mut state: LockState) -> Option<LockState> {
        if state.failures == 0 {
            return None;
        }
        state.succeed();
        self.remember(key, state);
        Some(state)
    }

    /// A known principal's `state` is in the database now: this node's copy
    /// is dropped unless a later failure changed it meanwhile.
    pub fn settled(&self, key: &str, state: LockState) {
        if let Some(entry) = self.names.get(key)
            && *entry.lock().unwrap_or_else(PoisonError::into_inner) == state
        {
            self.names.invalidate(key);
        }
    }

    /// Forgets a name's count and lock (an operator's clear).
    pub fn clear(&self, key: &str) {
        self.names.invalidate(key);
    }

    /// The names this node counts failures for, with their state now.
    pub fn names(&self, now: OffsetDateTime) -> Vec<(String, LockState)> {
        let mut names: Vec<(String, LockState)> = self
            .names
            .iter()
            .map(|(key, state)| {
                let state = *state.lock().unwrap_or_else(PoisonError::into_inner);
                (key.as_ref().clone(), state.at(now, &self.policy.lockout))
            })
            .filter(|(_, state)| !state.is_clear())
            .collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        names
    }

    fn remember(&self, key: &str, state: LockState) {
        let entry = self.names.get_with(key.to_owned(), || Arc::new(Mutex::new(state)));
        *entry.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-12-07 12:00 UTC)
    }

    #[test]
    fn an_address_is_limited_beyond_its_failures_until_its_window_ends() {
        let policy =
            ProtectionPolicy { ip_failures: 3, ip_window: Duration::from_secs(60), ..Default::default() };
        let protection = Protection::new(policy);
        let client = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            assert!(protection.check_address(client, now()).is_ok());
            protection.address_failed(client, now());
        }
        assert!(protection.check_address(client, now()).is_ok(), "three failures are allowed");
        protection.address_failed(client, now());
        assert_eq!(
            protection.check_address(client, now() + time::Duration::seconds(20)),
            Err(Duration::from_secs(40))
        );
        // Another address is not affected; the window's end frees this one.
        assert!(protection.check_address(Some(IpAddr::from([10, 0, 0, 2])), now()).is_ok());
        assert!(protection.check_address(client, now() + time::Duration::seconds(60)).is_ok());
    }

    #[test]
    fn disabled_protection_counts_nothing() {
        let protection =
            Protection::new(ProtectionPolicy { enabled: false, ip_failures: 0, ..Default::default() });
        let client = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..10 {
            protection.address_failed(client, now());
            let (state, _) = protection.name_failed("user", LockState::default(), now());
            assert!(!state.is_locked(now()));
        }
        assert!(protection.check_address(client, now()).is_ok());
    }

    #[test]
    fn memory_is_bounded_whatever_is_sprayed() {
        let protection = Protection::new(ProtectionPolicy::default());
        for n in 0..(ENTRIES + 50_000) {
            protection.name_failed(&format!("name-{n}"), LockState::default(), now());
        }
        protection.names.run_pending_tasks();
        assert!(protection.names.entry_count() <= ENTRIES, "{}", protection.names.entry_count());
    }
}
