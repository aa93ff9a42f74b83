//! Which API keys and access keys exist, in bounded memory: a Bloom filter
//! of each, so that a login with a key nobody was ever given is refused
//! without a database lookup (DESIGN.md §7: a flood of forged keys costs no
//! database work, and an unknown access key answers as fast as a known one
//! with a wrong secret).
//!
//! The filters say "maybe" for every key that exists (and for about 1 % of
//! those that do not: those are looked up as before) and "no" only for keys
//! never stored. They learn new keys by catching up with the database:
//! before refusing a key they do not know, at most every
//! [`MIN_CATCH_UP_INTERVAL`] (a key created a moment ago by the CLI or
//! another node logs in at once; a flood of forged keys costs one small
//! query per interval, not one per request), and whenever the database
//! announces a change.

use std::sync::RwLock;
use std::time::{Duration, Instant};

use fastbloom::BloomFilter;
use time::OffsetDateTime;

use crate::error::StoreError;
use crate::store::CredentialStore;

/// Catch-ups happen at most this often.
const MIN_CATCH_UP_INTERVAL: Duration = Duration::from_millis(50);

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

#[derive(Default)]
struct CatchUp {
    /// When a login's miss last made one run (forced ones do not count: a
    /// start-up or a change announced must not delay the next miss's).
    miss_ran_at: Option<Instant>,
    /// The newest creation time read so far; `None`: nothing read yet.
    newest: Option<OffsetDateTime>,
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
        Self { filters: RwLock::new(None), catch_up: tokio::sync::Mutex::new(CatchUp::default()) }
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
    /// time, or when the filters are full); `false` if one ran too recently
    /// to run again (unless `forced`). A request that finds another one
    /// running waits for it instead.
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
        if !forced {
            if state.miss_ran_at.is_some_and(|at| at.elapsed() < MIN_CATCH_UP_INTERVAL) {
                return Ok(false);
            }
            state.miss_ran_at = Some(Instant::now());
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
