//! Successful logins per contract on this node today (UTC), for the admin
//! portal's overview. A login pays one relaxed atomic add; the day's
//! starting point is taken by a background tick (and before every read), so
//! nothing on the login path looks at a clock.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use time::{Date, OffsetDateTime};

use crate::context::Contract;

const CONTRACTS: usize = Contract::ALL.len();

/// Counts since this process started, and where they stood when today began.
#[derive(Debug, Default)]
pub struct LoginTally {
    counts: [AtomicU64; CONTRACTS],
    day: Mutex<DayStart>,
}

#[derive(Debug, Default)]
struct DayStart {
    /// The day (UTC) `at_start` belongs to; `None` before the first tick.
    date: Option<Date>,
    at_start: [u64; CONTRACTS],
}

impl LoginTally {
    /// One successful login of `contract`.
    pub fn record(&self, contract: Contract) {
        self.counts[contract.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Starts a new day when `now` lies in one. The first call starts the
    /// process's first day from zero: every login counted so far happened
    /// since start-up, today as far as this node knows. Logins between
    /// midnight and the next tick count for the day before.
    pub fn roll(&self, now: OffsetDateTime) {
        let today = now.to_offset(time::UtcOffset::UTC).date();
        let mut day = self.day.lock().unwrap_or_else(PoisonError::into_inner);
        match day.date {
            Some(date) if date == today => {}
            Some(_) => {
                day.date = Some(today);
                day.at_start = self.now_counts();
            }
            None => day.date = Some(today),
        }
    }

    /// Successful logins of each contract today (UTC) on this node.
    pub fn today(&self, now: OffsetDateTime) -> Vec<(Contract, u64)> {
        self.roll(now);
        let day = self.day.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = self.now_counts();
        Contract::ALL
            .iter()
            .map(|contract| {
                let i = contract.index();
                (*contract, counts[i].saturating_sub(day.at_start[i]))
            })
            .collect()
    }

    fn now_counts(&self) -> [u64; CONTRACTS] {
        std::array::from_fn(|i| self.counts[i].load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn of(today: &[(Contract, u64)], contract: Contract) -> u64 {
        today.iter().find(|(c, _)| *c == contract).map_or(0, |(_, n)| *n)
    }

    #[test]
    fn counts_start_over_when_a_new_day_begins() {
        let tally = LoginTally::default();
        let morning = datetime!(2026-03-01 09:00 UTC);
        tally.roll(morning);
        tally.record(Contract::AccessKey);
        tally.record(Contract::AccessKey);
        tally.record(Contract::Portal);
        let today = tally.today(morning);
        assert_eq!(of(&today, Contract::AccessKey), 2);
        assert_eq!(of(&today, Contract::Portal), 1);
        assert_eq!(of(&today, Contract::LoginCheck), 0);
        let tomorrow = datetime!(2026-03-02 00:01 UTC);
        tally.roll(tomorrow);
        tally.record(Contract::AccessKey);
        assert_eq!(of(&tally.today(tomorrow), Contract::AccessKey), 1);
        assert_eq!(tally.today(tomorrow).len(), Contract::ALL.len());
    }

    #[test]
    fn the_day_is_the_utc_day() {
        let tally = LoginTally::default();
        tally.roll(datetime!(2026-03-01 23:30 UTC));
        tally.record(Contract::LoginCheck);
        // 00:30 the next day in UTC, though still the 1st at UTC-5.
        let later = datetime!(2026-03-01 19:30 -5);
        assert_eq!(of(&tally.today(later), Contract::LoginCheck), 0);
    }
}
