//! Last-use times of credentials, recorded in memory on the hot path and
//! written to the database in the background, in batches: a login or a
//! token check never waits for this write.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;

use crate::model::CredentialId;
use crate::store::CredentialStore;

/// Kept beside a cached credential: the second of its last use handed to
/// the recorder. Last use is kept to the second, so the uses after the first
/// in a second skip the recorder's lock (every login and check of the
/// credential would take it otherwise).
pub struct UseNote(AtomicI64);

impl Default for UseNote {
    fn default() -> Self {
        Self(AtomicI64::new(i64::MIN))
    }
}

impl UseNote {
    pub fn note(&self, usage: &UsageRecorder, id: CredentialId, at: OffsetDateTime) {
        let second = at.unix_timestamp();
        if self.0.swap(second, Ordering::Relaxed) != second {
            usage.record(id, at);
        }
    }
}

#[derive(Default)]
pub struct UsageRecorder {
    pending: Mutex<HashMap<CredentialId, OffsetDateTime>>,
}

impl UsageRecorder {
    pub fn record(&self, id: CredentialId, at: OffsetDateTime) {
        if let Ok(mut pending) = self.pending.lock() {
            let entry = pending.entry(id).or_insert(at);
            if *entry < at {
                *entry = at;
            }
        }
    }

    fn take(&self) -> Vec<(CredentialId, OffsetDateTime)> {
        self.pending.lock().map(|mut pending| pending.drain().collect()).unwrap_or_default()
    }

    /// Writes what was recorded every `every`, forever.
    pub fn spawn_flusher(
        self: &Arc<Self>,
        store: Arc<dyn CredentialStore>,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let recorder = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                recorder.flush(store.as_ref()).await;
            }
        })
    }

    pub async fn flush(&self, store: &dyn CredentialStore) {
        let used = self.take();
        if used.is_empty() {
            return;
        }
        if let Err(err) = store.touch_credentials(&used).await {
            // Losing a last-use time is harmless; keep them for the next try.
            tracing::debug!(error = %crate::error::report(&err), "could not record last-use times");
            for (id, at) in used {
                self.record(id, at);
            }
        }
    }
}
