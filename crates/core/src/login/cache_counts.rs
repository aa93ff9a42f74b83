//! How often the login service's caches answered without the database:
//! plain atomics on the hot path, read into `/metrics` by its upkeep (going
//! through the metrics registry per lookup would cost more than the lookup).

use std::sync::atomic::{AtomicU64, Ordering};

/// The caches counted, as `/metrics` labels them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheName {
    /// Opaque tokens checked (`/auth/verify`, introspection, the admin API).
    Tokens,
    /// JWTs whose signature was checked.
    Jwts,
    /// API keys by keyed hash (contract B).
    ApiKeys,
    /// Access keys by `accessKey` (contract C, OAuth 2.0) and by id (JWT checks).
    AccessKeys,
}

impl CacheName {
    pub const ALL: [CacheName; 4] =
        [CacheName::Tokens, CacheName::Jwts, CacheName::ApiKeys, CacheName::AccessKeys];

    pub fn label(self) -> &'static str {
        match self {
            CacheName::Tokens => "tokens",
            CacheName::Jwts => "jwts",
            CacheName::ApiKeys => "api_keys",
            CacheName::AccessKeys => "access_keys",
        }
    }
}

#[derive(Debug, Default)]
pub(super) struct CacheCounts {
    counts: [(AtomicU64, AtomicU64); 4],
}

impl CacheCounts {
    /// Counts one lookup of `cache`: answered from memory or not.
    pub(super) fn record(&self, cache: CacheName, hit: bool) {
        let (hits, misses) = &self.counts[cache as usize];
        if hit { hits } else { misses }.fetch_add(1, Ordering::Relaxed);
    }

    /// `(cache, hits, misses)` so far.
    pub(super) fn read(&self) -> Vec<(CacheName, u64, u64)> {
        CacheName::ALL
            .into_iter()
            .map(|cache| {
                let (hits, misses) = &self.counts[cache as usize];
                (cache, hits.load(Ordering::Relaxed), misses.load(Ordering::Relaxed))
            })
            .collect()
    }
}
