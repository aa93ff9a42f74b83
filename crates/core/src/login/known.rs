//! Which API keys and access keys exist, in bounded memory: a Bloom filter
//! of each, so that a login with a key nobody was ever given is refused
//! without a database lookup (DESIGN.md §7: a flood of forged keys costs no
//! database work, and an unknown access key answers as fast as a known one
//! with a wrong secret).
//!
//! The filters say "maybe" for every key that exists (and for about 1 % of
//! those that do not: those are looked up as before) and "no" only for keys
//! never stored. They learn new keys by catching up with the database:
//! before refusing a key they do not know, and whenever the database
//! announces a change. Catch-ups that misses ask for are rationed (a bucket
//! of [`CATCH_UP_BURST`], refilled at [`CATCH_UP_RATE`] a second): a key
//! created a moment ago by the CLI or another node logs in at once, while a
//! flood of forged keys costs a few small queries a second, not one per
//! request.

use std::sync::RwLock;
use std::time::Instant;

use fastbloom::BloomFilter;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::store::CredentialStore;

/// Catch-ups that misses may ask for at once, and how many more a second.
const CATCH_UP_BURST: f64 = 10.0;
const CATCH_UP_RATE: f64 = 20.0;

/// Catch-ups read keys created this long before the newest one seen:
/// nodes' clocks differ, and a slow transaction may commit a key created a
/// little earlier than one already seen.
const CLOCK_SLACK: time::Duration = time::Duration::seconds(30);

/// False positives the filters are sized for.
const FALSE_POSITIVES: f64 = 0.01;

pub(super) struct KnownCredentials {
    filters: RwLock<Option<Filters>>,
    catch_up: tokio::sync::Mutex<CatchUp>,
}

struct Filters {
    api_keys: BloomFilter,
    access_keys: BloomFilter,
    /// Keys added, and how many the filters were sized for: past that,
    /// they are rebuilt larger (else false positives would climb).
    items: usize,
    capacity: usize,
}

struct CatchUp {
    /// Catch-ups misses may still ask for, refilled over time (forced ones
    /// do not draw: a start-up or an announced change is not a miss).
    allowance: f64,
    refilled_at: Instant,
    /// The newest creation time read so far; `None`: nothing read yet.
    newest: Option<OffsetDateTime>,
}

impl CatchUp {
    /// Takes one catch-up from the allowance; `false` if none is left.
    fn draw(&mut self) -> bool {
        let now = Instant::now();
        let refill = now.duration_since(self.refilled_at).as_secs_f64() * CATCH_UP_RATE;
        self.allowance = (self.allowance + refill).min(CATCH_UP_BURST);
        self.refilled_at = now;
        if self.allowance < 1.0 {
            return false;
        }
        self.allowance -= 1.0;
        true
    }
}

/// Which filter to ask.
#[derive(Clone, Copy)]
pub(super) enum KeyKind {
    /// By the keyed hash of an API key.
    ApiKey,
    /// By an access key's public `accessKey`.
    AccessKey,
}

impl KnownCredentials {
    pub(super) fn new() -> Self {
        let catch_up = CatchUp { allowance: CATCH_UP_BURST, refilled_at: Instant::now(), newest: None };
        Self { filters: RwLock::new(None), catch_up: tokio::sync::Mutex::new(catch_up) }
    }

    /// `false` only if no key `key` was ever stored (as far as the filter
    /// knows: see [`Self::may_exist`]); `None` before the first load.
    fn lookup(&self, kind: KeyKind, key: &[u8]) -> Option<bool> {
        let filters = self.filters.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        filters.as_ref().map(|filters| match kind {
            KeyKind::ApiKey => filters.api_keys.contains(key),
            KeyKind::AccessKey => filters.access_keys.contains(key),
        })
    }

    /// Learns a key this process created (it holds at once, with no
    /// catch-up).
    pub(super) fn learn(&self, kind: KeyKind, key: &[u8]) {
        let mut filters = self.filters.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(filters) = filters.as_mut() {
            match kind {
                KeyKind::ApiKey => filters.api_keys.insert(key),
                KeyKind::AccessKey => filters.access_keys.insert(key),
            };
            filters.items += 1;
        }
    }

    /// Whether a key may exist: the filter says so, or a catch-up with the
    /// database (if one is due) finds it.
    pub(super) async fn may_exist(
        &self,
        store: &dyn CredentialStore,
        kind: KeyKind,
        key: &[u8],
    ) -> Result<bool, StoreError> {
        if self.lookup(kind, key) == Some(true) {
            return Ok(true);
        }
        self.catch_up(store, false).await?;
        Ok(self.lookup(kind, key).unwrap_or(true))
    }

    /// Reads the keys created since the last catch-up (all of them the first
    /// time, or when the filters are full); `false` if the allowance of
    /// catch-ups is spent (unless `forced`). A request that finds another
    /// one running waits for it instead.
    pub(super) async fn catch_up(
        &self,
        store: &dyn CredentialStore,
        forced: bool,
    ) -> Result<bool, StoreError> {
        let mut state = match self.catch_up.try_lock() {
            Ok(state) => state,
            Err(_) => {
                // Somebody else is reading: their result is as fresh as ours.
                drop(self.catch_up.lock().await);
                return Ok(true);
            }
        };
        if !forced && !state.draw() {
            return Ok(false);
        }
        let full = {
            let filters = self.filters.read().unwrap_or_else(std::sync::PoisonError::into_inner);
            filters.as_ref().is_none_or(|filters| filters.items > filters.capacity)
        };
        let since = if full { None } else { state.newest.map(|newest| newest - CLOCK_SLACK) };
        let found = store.credentials_created_since(since).await?;
        let mut filters = self.filters.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if full {
            let count = found.api_key_hashes.len() + found.access_keys.len();
            // Twice what exists, so that keys created later fit.
            let capacity = (count * 2).max(1024);
            *filters = Some(Filters {
                api_keys: BloomFilter::with_false_pos(FALSE_POSITIVES).expected_items(capacity),
                access_keys: BloomFilter::with_false_pos(FALSE_POSITIVES).expected_items(capacity),
                items: 0,
                capacity,
            });
        }
        if let Some(filters) = filters.as_mut() {
            for hash in &found.api_key_hashes {
                filters.api_keys.insert(&hash[..]);
            }
            for key in &found.access_keys {
                filters.access_keys.insert(key.as_bytes());
            }
            filters.items += found.api_key_hashes.len() + found.access_keys.len();
        }
        state.newest = state.newest.max(found.newest);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catch_ups_for_misses_are_rationed_and_the_ration_refills() {
        let mut state = CatchUp { allowance: CATCH_UP_BURST, refilled_at: Instant::now(), newest: None };
        let burst = (0..100).take_while(|_| state.draw()).count();
        assert_eq!(burst, 10, "a burst of misses gets its catch-ups");
        assert!(!state.draw(), "a flood does not");
        state.refilled_at -= std::time::Duration::from_millis(100);
        assert!(state.draw(), "two more after 100 ms");
    }

    #[test]
    fn a_filter_never_says_no_to_a_key_it_was_given() {
        let mut filter = BloomFilter::with_false_pos(FALSE_POSITIVES).expected_items(1024);
        let keys: Vec<[u8; 32]> =
            (0..1024u32).map(|n| crate::secret::keyed_hash(b"k", &n.to_be_bytes())).collect();
        for key in &keys {
            filter.insert(&key[..]);
        }
        assert!(keys.iter().all(|key| filter.contains(&key[..])));
        let strangers = (5000..15_000u32)
            .filter(|n| filter.contains(&crate::secret::keyed_hash(b"k", &n.to_be_bytes())[..]))
            .count();
        assert!(strangers < 300, "{strangers} of 10 000 unknown keys passed (sized for 1 %)");
    }
}
