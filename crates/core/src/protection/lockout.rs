//! The lockout ladder of one name, as a pure function of its state and the
//! time (as Kanidm's softlock is): no clock inside, so every rule is tested
//! by moving time by hand.
//!
//! After `threshold` consecutive failures the name is locked for `base`;
//! each further lock (another `threshold` failures after the last one ended)
//! lasts twice as long, up to `max`. A success resets the count (the ladder
//! stays: a guesser who also knows one password gains nothing); `window`
//! without a failure resets both. Attempts while locked are not counted.

use std::time::Duration;

use time::OffsetDateTime;

/// The rules of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LockoutPolicy {
    pub threshold: u32,
    pub base: Duration,
    pub max: Duration,
    pub window: Duration,
}

impl Default for LockoutPolicy {
    fn default() -> Self {
        Self {
            threshold: 10,
            base: Duration::from_secs(60),
            max: Duration::from_secs(3600),
            window: Duration::from_secs(24 * 3600),
        }
    }
}

/// Where one name stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LockState {
    /// Consecutive failures since the last success, lock or reset.
    pub failures: u32,
    /// Locks so far in this window: the next lasts `base × 2^level`.
    pub level: u32,
    pub locked_until: Option<OffsetDateTime>,
    pub last_failure: Option<OffsetDateTime>,
}

/// What a failure did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureOutcome {
    /// Counted; not locked (yet).
    Counted,
    /// This failure locked the name until then.
    Locked(OffsetDateTime),
    /// The name was locked already: not counted.
    WhileLocked,
}

impl LockState {
    pub fn is_locked(&self, now: OffsetDateTime) -> bool {
        self.locked_until.is_some_and(|until| now < until)
    }

    /// The state as it stands at `now`: a quiet window forgets everything.
    pub fn at(self, now: OffsetDateTime, policy: &LockoutPolicy) -> Self {
        let quiet = self.last_failure.is_none_or(|last| crate::time_util::add(last, policy.window) <= now);
        if quiet && !self.is_locked(now) { Self::default() } else { self }
    }

    /// A failed login at `now`.
    pub fn fail(&mut self, now: OffsetDateTime, policy: &LockoutPolicy) -> FailureOutcome {
        *self = self.at(now, policy);
        if self.is_locked(now) {
            return FailureOutcome::WhileLocked;
        }
        self.failures = self.failures.saturating_add(1);
        self.last_failure = Some(now);
        if self.failures < policy.threshold.max(1) {
            return FailureOutcome::Counted;
        }
        let doubled = policy.base.saturating_mul(2u32.saturating_pow(self.level.min(31)));
        let until = crate::time_util::add(now, doubled.min(policy.max));
        self.locked_until = Some(until);
        self.level = self.level.saturating_add(1);
        self.failures = 0;
        FailureOutcome::Locked(until)
    }

    /// A successful login: the count starts over (the ladder does not).
    pub fn succeed(&mut self) {
        self.failures = 0;
    }

    /// Whether anything is worth remembering.
    pub fn is_clear(&self) -> bool {
        *self == Self::default()
    }

    /// Of two views of one name (this node's memory, the database), the one
    /// that saw the latest failure.
    pub fn newest(self, other: Self) -> Self {
        if other.last_failure > self.last_failure { other } else { self }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LockoutPolicy {
        LockoutPolicy {
            threshold: 3,
            base: Duration::from_secs(60),
            max: Duration::from_secs(300),
            window: Duration::from_secs(3600),
        }
    }

    fn start() -> OffsetDateTime {
        time::macros::datetime!(2026-12-07 12:00 UTC)
    }

    fn seconds(n: i64) -> time::Duration {
        time::Duration::seconds(n)
    }

    #[test]
    fn the_threshold_locks_for_base_and_each_further_lock_doubles_up_to_max() {
        let (policy, mut now) = (policy(), start());
        let mut state = LockState::default();
        let mut locks = Vec::new();
        for _ in 0..5 {
            for attempt in 1..=3 {
                let outcome = state.fail(now, &policy);
                if attempt < 3 {
                    assert_eq!(outcome, FailureOutcome::Counted);
                } else {
                    let FailureOutcome::Locked(until) = outcome else { panic!("{outcome:?}") };
                    locks.push((until - now).whole_seconds());
                    // Attempts while locked are not counted.
                    assert_eq!(state.fail(now + seconds(1), &policy), FailureOutcome::WhileLocked);
                    assert_eq!(state.failures, 0);
                    now = until;
                }
            }
        }
        assert_eq!(locks, [60, 120, 240, 300, 300]);
    }

    #[test]
    fn a_success_resets_the_count_but_not_the_ladder() {
        let (policy, now) = (policy(), start());
        let mut state = LockState::default();
        for _ in 0..3 {
            state.fail(now, &policy);
        }
        let after_lock = now + seconds(61);
        state.fail(after_lock, &policy);
        state.fail(after_lock, &policy);
        state.succeed();
        assert_eq!(state.failures, 0);
        state.fail(after_lock, &policy);
        state.fail(after_lock, &policy);
        // Three since the success: the second lock, doubled.
        assert_eq!(state.fail(after_lock, &policy), FailureOutcome::Locked(after_lock + seconds(120)));
    }

    #[test]
    fn a_quiet_window_resets_the_count_and_the_ladder() {
        let (policy, now) = (policy(), start());
        let mut state = LockState::default();
        for _ in 0..3 {
            state.fail(now, &policy);
        }
        state.fail(now + seconds(100), &policy);
        let quiet = now + seconds(100) + seconds(3600);
        assert_eq!(state.at(quiet, &policy), LockState::default());
        for _ in 0..2 {
            assert_eq!(state.fail(quiet, &policy), FailureOutcome::Counted);
        }
        // The ladder started over: base again, not doubled.
        assert_eq!(state.fail(quiet, &policy), FailureOutcome::Locked(quiet + seconds(60)));
    }

    #[test]
    fn the_view_with_the_latest_failure_wins() {
        let older = LockState { failures: 5, last_failure: Some(start()), ..LockState::default() };
        let newer =
            LockState { failures: 1, last_failure: Some(start() + seconds(1)), ..LockState::default() };
        assert_eq!(older.newest(newer), newer);
        assert_eq!(newer.newest(older), newer);
        assert_eq!(LockState::default().newest(older), older);
    }
}
