//! Where the core gets the time: the system clock in production, a clock
//! that tests move by hand, so that expiry, lockout windows and key lifetimes
//! can be tested without sleeping.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use time::OffsetDateTime;

/// The current instant, as the core sees it.
pub trait Clock: Send + Sync + 'static {
    /// Now, truncated to whole milliseconds (what storage keeps).
    fn now(&self) -> OffsetDateTime;
}

/// A clock every service of a process shares.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        crate::time_util::now()
    }
}

/// The system clock, shared.
pub fn system() -> SharedClock {
    Arc::new(SystemClock)
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    /// Stopped at `at` (truncated to whole milliseconds).
    pub fn at(at: OffsetDateTime) -> Arc<Self> {
        Arc::new(Self(Mutex::new(truncate_to_millis(at))))
    }

    /// Stopped at the system clock's now.
    pub fn starting_now() -> Arc<Self> {
        Self::at(crate::time_util::now())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now = truncate_to_millis(crate::time_util::add(*now, by));
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn truncate_to_millis(at: OffsetDateTime) -> OffsetDateTime {
    crate::time_util::from_millis(crate::time_util::to_millis(at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = ManualClock::starting_now();
        let start = clock.now();
        assert_eq!(clock.now(), start);
        clock.advance(Duration::from_millis(1500));
        assert_eq!(clock.now() - start, time::Duration::milliseconds(1500));
    }
}
