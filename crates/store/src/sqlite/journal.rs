//! SQLite's token journal: new access tokens are appended in issue order
//! and moved into `tokens` later, in bulk.
//!
//! Why: a token's hash is random, so inserting it into `tokens` (keyed by
//! hash) dirties a different 4 KiB page per row, written to the WAL at
//! commit and again at checkpoint, and costs the B-tree several times the
//! work of an append: that capped contract B (bench/sqlite_keys.py). An
//! append fills one page per ~30 tokens. Once rows are `age` old (24 s by
//! default), a merge moves those still alive into `tokens`, sorted by hash so
//! that many land on each page it writes; tokens that expired meanwhile
//! (contract B's live 20 s) are simply deleted.
//!
//! The journal has no index on the hash (that would be the random write
//! again): this process keeps one in memory, hash → sequence number. The
//! database stays the only truth: rows other processes append are picked up
//! by `catch_up` (when a lookup misses, or at start), an index entry is only
//! a pointer that the lookup checks against the row's hash, and a token the
//! index no longer points to is found in `tokens`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use sqlx::sqlite::{SqliteArguments, SqliteConnection, SqlitePool, SqliteRow};
use sqlx::{Row as _, Sqlite};
use tollgate_core::model::TokenRecord;
use tollgate_core::secret::TokenHash;
use tollgate_core::time_util::{now, to_millis};

use super::journal_index::JournalIndex;
use crate::JournalPolicy;
use crate::sql::queries as q;
use crate::sql::{AccessTokens, token_insert};

/// Journal rows per merging INSERT (one short transaction each, so token
/// writes wait for at most one of them).
const MERGE_CHUNK: usize = 512;

/// Journal rows per DELETE once merged (same reason).
const DELETE_STEP: i64 = 4096;

/// Sweep steps before the sweeper is told to wait for its next round: the
/// walk over `tokens` costs the same whether or not a token expired, so it
/// goes on a little each round instead of all at once.
const SWEEP_STEPS_PER_ROUND: u64 = 256;

pub(crate) struct TokenJournal {
    index: Mutex<JournalIndex>,
    policy: JournalPolicy,
    /// One merge at a time (the background one, or `settle`).
    merging: tokio::sync::Mutex<()>,
    /// Where the sweep of `tokens` goes on (a hash; `None`: the start).
    sweep_after: Mutex<Option<Vec<u8>>>,
    sweep_steps: AtomicU64,
}

impl TokenJournal {
    pub(super) fn new(policy: JournalPolicy) -> Self {
        // Eight generations make up a full journal; a merge forgets them whole.
        let generation_rows = usize::try_from(policy.rows / 8).unwrap_or(usize::MAX);
        let index = JournalIndex::new(generation_rows, policy.age / 6);
        Self {
            index: Mutex::new(index),
            policy,
            merging: Default::default(),
            sweep_after: Default::default(),
            sweep_steps: Default::default(),
        }
    }

    fn index(&self) -> MutexGuard<'_, JournalIndex> {
        // The index holds plain data; a panic elsewhere cannot corrupt it.
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Merges the generations the policy says are due, if any.
    async fn merge_due(&self, read: &SqlitePool, write: &SqlitePool) -> Result<(), sqlx::Error> {
        let rows = usize::try_from(self.policy.rows).unwrap_or(usize::MAX);
        let due = self.index().due(Instant::now(), self.policy.age, rows);
        match due {
            Some(through) => self.merge(read, write, through).await,
            None => Ok(()),
        }
    }

    /// Moves the live journal rows up to `through` into `tokens`, sorted by
    /// hash, and deletes them from the journal.
    async fn merge(&self, read: &SqlitePool, write: &SqlitePool, through: i64) -> Result<(), sqlx::Error> {
        let _one_at_a_time = self.merging.lock().await;
        let started = Instant::now();
        let Some(first) = sqlx::query_scalar::<_, i64>("SELECT seq FROM token_journal ORDER BY seq LIMIT 1")
            .fetch_optional(read)
            .await?
        else {
            return Ok(());
        };
        let rows = sqlx::query("SELECT seq, hash FROM token_journal WHERE seq <= $1 AND expires_at > $2")
            .bind(through)
            .bind(to_millis(now()))
            .fetch_all(read)
            .await?;
        // Sorted here rather than by SQLite: several times faster.
        let mut live = rows.iter().map(seq_and_hash).collect::<Result<Vec<_>, _>>()?;
        live.sort_unstable_by_key(|&(_, hash)| hash);
        for chunk in live.chunks(MERGE_CHUNK) {
            let mut insert = sqlx::QueryBuilder::<Sqlite>::new(
                "INSERT INTO tokens (hash, kind, principal_id, session_id, credential_id, issued_at, expires_at, \
                 revoked_at) SELECT hash, kind, principal_id, session_id, credential_id, issued_at, expires_at, \
                 revoked_at FROM token_journal WHERE seq IN (",
            );
            let mut seqs = insert.separated(", ");
            chunk.iter().for_each(|(seq, _)| {
                seqs.push_bind(*seq);
            });
            // A merge cut short (crash) leaves rows in both; keep the first.
            insert.push(") ON CONFLICT (hash) DO NOTHING");
            execute_without_fsync(write, insert.build()).await?;
        }
        let mut below = first - 1;
        while below < through {
            below = (below + DELETE_STEP).min(through);
            execute_without_fsync(
                write,
                sqlx::query("DELETE FROM token_journal WHERE seq <= $1").bind(below),
            )
            .await?;
        }
        self.index().merged_through(through);
        tracing::debug!(
            journal_rows = through - first + 1,
            merged = live.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "token journal merged"
        );
        Ok(())
    }
}

/// Runs a merge statement on the writer without waiting for the disk: the
/// journal still holds every row it touches until a later statement deletes
/// them, and the next token commit (synchronous FULL) makes the WAL, and so
/// this statement, durable first. Token commits keep their fsync: the
/// writer is set back to FULL before it is released, or closed. (Only the
/// runtime's shutdown could drop this future half-way; nothing writes then.)
async fn execute_without_fsync<'q>(
    write: &SqlitePool,
    statement: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
) -> Result<(), sqlx::Error> {
    let mut conn = write.acquire().await?;
    let result = async {
        sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await?;
        let result = statement.execute(&mut *conn).await;
        sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
        result.map(|_| ())
    }
    .await;
    // A connection on which anything failed may be left mid-transaction
    // or unsynchronized: it is closed, never handed to a token commit.
    if result.is_err() {
        conn.close_on_drop();
    }
    result
}

/// The journal's newest sequence number, if it holds any row.
async fn last_seq(read: &SqlitePool) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(seq) FROM token_journal").fetch_one(read).await
}

fn seq_and_hash(row: &SqliteRow) -> Result<(i64, [u8; 32]), sqlx::Error> {
    let hash: Vec<u8> = row.try_get(1)?;
    let hash = hash.try_into().map_err(|_| sqlx::Error::Decode("token hash is not 32 bytes".into()))?;
    Ok((row.try_get(0)?, hash))
}

impl AccessTokens<Sqlite> for TokenJournal {
    /// (sequence number, hash) of each appended row.
    type Appended = Vec<(i64, [u8; 32])>;

    /// SQLite has one writer: a second batch would only queue behind it.
    const BATCHES_IN_FLIGHT: usize = 1;

    const TABLES: &'static [&'static str] = &["tokens", "token_journal"];

    const DELETE_PRINCIPAL_TOKENS: &'static [&'static str] =
        &["DELETE FROM token_journal WHERE principal_id = $1", "DELETE FROM tokens WHERE principal_id = $1"];

    async fn append<'e, E>(&self, executor: E, tokens: &[&TokenRecord]) -> Result<Self::Appended, sqlx::Error>
    where
        E: sqlx::Executor<'e, Database = Sqlite> + 'e,
    {
        // One statement takes its rows' sequence numbers in VALUES order and
        // without gaps (AUTOINCREMENT: each is the largest yet plus one, under
        // the write lock), so the last one tells them all; RETURNING would
        // hand every row back across sqlx's worker thread instead.
        let done = token_insert::<Sqlite>("token_journal", tokens).build().execute(executor).await?;
        let first = done.last_insert_rowid() - tokens.len() as i64 + 1;
        Ok((first..).zip(tokens).map(|(seq, token)| (seq, token.hash.0)).collect())
    }

    fn remember(&self, appended: Self::Appended) {
        let (Some(first), Some(last)) =
            (appended.iter().map(|a| a.0).min(), appended.iter().map(|a| a.0).max())
        else {
            return;
        };
        let now = Instant::now();
        let mut index = self.index();
        // Right after what is indexed, without gaps: nobody else appended in
        // between, so `through` moves on without asking the database.
        if first == index.through + 1 && last - first + 1 == appended.len() as i64 {
            index.through = last;
        }
        for (seq, hash) in &appended {
            index.insert(hash, *seq, now);
        }
    }

    async fn find(&self, read: &SqlitePool, hash: &TokenHash) -> Result<Option<SqliteRow>, sqlx::Error> {
        let Some(seq) = self.index().get(&hash.0) else { return Ok(None) };
        sqlx::query(&q::FIND_JOURNAL_TOKEN).bind(seq).bind(hash.as_bytes()).fetch_optional(read).await
    }

    /// Indexes every journal row after `through`.
    async fn catch_up(&self, read: &SqlitePool) -> Result<(), sqlx::Error> {
        let through = self.index().through;
        let last = last_seq(read).await?;
        if last.is_none_or(|last| last <= through) {
            return Ok(());
        }
        let rows = sqlx::query("SELECT seq, hash FROM token_journal WHERE seq > $1")
            .bind(through)
            .fetch_all(read)
            .await?;
        let found = rows.iter().map(seq_and_hash).collect::<Result<Vec<_>, _>>()?;
        let now = Instant::now();
        let mut index = self.index();
        for (seq, hash) in found {
            index.insert(&hash, seq, now);
            // Sequence numbers are handed out under SQLite's write lock and
            // committed in order: seeing one means seeing all before it.
            index.through = index.through.max(seq);
        }
        Ok(())
    }

    async fn revoke(
        &self,
        conn: &mut SqliteConnection,
        hash: &TokenHash,
        at_ms: i64,
    ) -> Result<u64, sqlx::Error> {
        let Some(seq) = self.index().get(&hash.0) else { return Ok(0) };
        let done = sqlx::query(
            "UPDATE token_journal SET revoked_at = COALESCE(revoked_at, $3) WHERE seq = $1 AND hash = $2",
        )
        .bind(seq)
        .bind(hash.as_bytes())
        .bind(at_ms)
        .execute(conn)
        .await?;
        Ok(done.rows_affected())
    }

    /// `tokens` has no index by expiry (see the migration), so the sweep
    /// walks it in hash order, `batch` rows a step, and starts over at the
    /// end: every expired token is gone within one walk. (Short-lived tokens
    /// rarely get here: the merge drops those that expired in the journal.)
    async fn sweep(
        &self,
        read: &SqlitePool,
        write: &SqlitePool,
        before_ms: i64,
        batch: i64,
    ) -> Result<(u64, bool), sqlx::Error> {
        let after =
            self.sweep_after.lock().unwrap_or_else(PoisonError::into_inner).clone().unwrap_or_default();
        let until: Option<Vec<u8>> =
            sqlx::query_scalar("SELECT hash FROM tokens WHERE hash > $1 ORDER BY hash LIMIT 1 OFFSET $2")
                .bind(&after)
                .bind(batch.max(1) - 1)
                .fetch_optional(read)
                .await?;
        let delete = match &until {
            Some(until) => {
                sqlx::query("DELETE FROM tokens WHERE hash > $1 AND hash <= $2 AND expires_at < $3")
                    .bind(after)
                    .bind(until.clone())
                    .bind(before_ms)
            }
            None => sqlx::query("DELETE FROM tokens WHERE hash > $1 AND expires_at < $2")
                .bind(after)
                .bind(before_ms),
        };
        let deleted = delete.execute(write).await?.rows_affected();
        let steps = self.sweep_steps.fetch_add(1, Ordering::Relaxed) + 1;
        let more = until.is_some() && !steps.is_multiple_of(SWEEP_STEPS_PER_ROUND);
        *self.sweep_after.lock().unwrap_or_else(PoisonError::into_inner) = until;
        Ok((deleted, more))
    }

    async fn settle(&self, read: &SqlitePool, write: &SqlitePool) -> Result<(), sqlx::Error> {
        match last_seq(read).await? {
            Some(last) => self.merge(read, write, last).await,
            None => Ok(()),
        }
    }
}

/// Merges the journal whenever its policy says so, for as long as the store
/// is open. A failed merge is retried at the next tick; until then the
/// journal simply grows.
pub(super) fn spawn_merger(journal: Arc<TokenJournal>, read: SqlitePool, write: SqlitePool) {
    tokio::spawn(async move {
        // Tokens a previous run left in the journal, so that they are merged
        // in time. In the background: a CLI command opening the database
        // should not read the journal. (A lookup that misses catches up by
        // itself meanwhile.)
        if let Err(err) = journal.catch_up(&read).await {
            tracing::warn!(%err, "reading the token journal failed");
        }
        let every = (journal.policy.age / 6).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        while !read.is_closed() {
            tick.tick().await;
            if let Err(err) = journal.merge_due(&read, &write).await {
                tracing::warn!(%err, "merging the token journal failed; retrying");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use sqlx::sqlite::SqlitePoolOptions;
    use tollgate_core::model::{PrincipalId, TokenKind};
    use tollgate_core::time_util::add;

    use super::*;

    fn record(n: u8) -> TokenRecord {
        let issued_at = now();
        TokenRecord {
            hash: TokenHash([n; 32]),
            kind: TokenKind::ApiKey,
            principal_id: PrincipalId::new(),
            session_id: None,
            credential_id: None,
            issued_at,
            expires_at: add(issued_at, Duration::from_secs(60)),
        }
    }

    #[tokio::test]
    async fn an_append_reports_each_rows_own_sequence_number() {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("j.db").display());
        let pool = SqlitePoolOptions::new().max_connections(1).connect(&url).await.expect("open");
        sqlx::migrate!("migrations/sqlite").run(&pool).await.expect("migrate");
        let journal = TokenJournal::new(JournalPolicy::default());
        let mut reported = Vec::new();
        // Batches of different sizes, with a row deleted in between (the
        // sequence never reuses it) and rows another writer appended.
        for (batch, other_writer) in [(0..3, false), (3..4, true), (4..9, false)] {
            let records: Vec<_> = batch.map(record).collect();
            let refs: Vec<_> = records.iter().collect();
            if other_writer {
                let foreign = record(200);
                journal.append(&pool, &[&foreign]).await.expect("foreign append");
                sqlx::query("DELETE FROM token_journal WHERE hash = $1")
                    .bind(foreign.hash.as_bytes())
                    .execute(&pool)
                    .await
                    .expect("delete");
            }
            reported.extend(journal.append(&pool, &refs).await.expect("append"));
        }
        let rows = sqlx::query("SELECT seq, hash FROM token_journal ORDER BY seq")
            .fetch_all(&pool)
            .await
            .expect("read");
        let stored: Vec<_> = rows.iter().map(seq_and_hash).collect::<Result<_, _>>().expect("rows");
        assert_eq!(reported, stored);
    }
}
