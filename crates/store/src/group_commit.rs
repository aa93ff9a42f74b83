//! Group commit: many concurrent token writes share one transaction.
//!
//! A login must not answer before its token is durable (a returned token
//! survives `kill -9`), but one commit (one fsync) per request caps the rate
//! far below what the CPU allows. So writes queue here; a single task takes
//! everything waiting, writes it in one transaction, commits once, and only
//! then tells each waiter it is done.
//!
//! A failed batch is never half-stored: the transaction is rolled back and
//! every waiter gets the error (the contract's 500), except that a batch
//! refused for one row's sake (a constraint: say a principal removed while
//! its login was in flight) is written again one operation at a time, so
//! that only that login fails. The next batch starts afresh, so writes
//! resume by themselves once the cause (a full disk, a lost connection) is
//! gone.
//!
//! A database that commits several transactions at once (PostgreSQL flushes
//! its log for all of them together) gets more than one batch in flight: the
//! next batch is written while the last one waits for its flush. SQLite has
//! one writer, so it keeps one.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tollgate_core::StoreError;
use tollgate_core::error::WriteFailure;

type Reply = oneshot::Sender<Result<(), StoreError>>;

pub(crate) struct GroupCommit<Op> {
    queue: mpsc::Sender<(Op, Reply)>,
}

/// Whether a batch failed because of one of its rows rather than the
/// database: then each operation is worth trying alone.
fn refused_for_a_row(err: &StoreError) -> bool {
    matches!(err, StoreError::Conflict(_) | StoreError::WriteFailed { class: WriteFailure::Constraint, .. })
}

impl<Op: Clone + Send + Sync + 'static> GroupCommit<Op> {
    /// Starts the committing task. `write` gets each batch (at most
    /// `max_batch` operations) and must commit it atomically or not at all;
    /// at most `in_flight` batches are being written at once.
    pub(crate) fn spawn<F, Fut>(max_batch: usize, in_flight: usize, write: F) -> Self
    where
        F: Fn(Arc<[Op]>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send + 'static,
    {
        let (queue, mut incoming) = mpsc::channel::<(Op, Reply)>(max_batch * 4);
        let slots = Arc::new(Semaphore::new(in_flight.max(1)));
        let write = Arc::new(write);
        tokio::spawn(async move {
            while let Some(first) = incoming.recv().await {
                // Wait for a free slot before taking the rest, so that a
                // batch holds everything that queued meanwhile.
                let Ok(slot) = slots.clone().acquire_owned().await else { return };
                let mut ops = Vec::with_capacity(max_batch);
                let mut replies = Vec::with_capacity(max_batch);
                let (op, reply) = first;
                ops.push(op);
                replies.push(reply);
                while ops.len() < max_batch {
                    match incoming.try_recv() {
                        Ok((op, reply)) => {
                            ops.push(op);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                let write = write.clone();
                let batch = async move {
                    let ops: Arc<[Op]> = ops.into();
                    // Per batch, not per request: the registry's cost is shared.
                    metrics::histogram!("tollgate_store_batch_ops").record(ops.len() as f64);
                    let result = write(Arc::clone(&ops)).await;
                    let outcome = if result.is_ok() { "ok" } else { "error" };
                    metrics::counter!("tollgate_store_commits_total", "result" => outcome).increment(1);
                    match result {
                        Err(err) if refused_for_a_row(&err) && ops.len() > 1 => {
                            for (op, reply) in ops.iter().zip(replies) {
                                let alone: Arc<[Op]> = Arc::from([op.clone()]);
                                let _ = reply.send(write(alone).await);
                            }
                        }
                        result => {
                            for reply in replies {
                                let _ = reply.send(result.clone());
                            }
                        }
                    }
                    drop(slot);
                };
                if in_flight <= 1 {
                    batch.await;
                } else {
                    tokio::spawn(batch);
                }
            }
        });
        Self { queue }
    }

    /// Queues `op` and waits until it is committed (or refused).
    pub(crate) async fn submit(&self, op: Op) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        let stopped = || StoreError::unavailable("the token writer has stopped");
        self.queue.send((op, reply)).await.map_err(|_| stopped())?;
        done.await.map_err(|_| stopped())?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// An operation: its number, and whether the database refuses its row.
    #[derive(Clone, Debug, PartialEq)]
    struct Op(u32, bool);

    fn failure(class: WriteFailure) -> StoreError {
        StoreError::WriteFailed { class, source: Arc::new(std::io::Error::other(class.as_str())) }
    }

    /// A writer that fails with `class` while `failing` holds, refuses any
    /// batch holding a bad row with a constraint error, and records what it
    /// committed.
    struct FaultyWriter {
        failing: Mutex<Option<WriteFailure>>,
        committed: Mutex<Vec<u32>>,
    }

    impl FaultyWriter {
        fn write(&self, ops: &[Op]) -> Result<(), StoreError> {
            if let Some(class) = *self.failing.lock().expect("lock") {
                return Err(failure(class));
            }
            if ops.iter().any(|op| op.1) {
                return Err(failure(WriteFailure::Constraint));
            }
            self.committed.lock().expect("lock").extend(ops.iter().map(|op| op.0));
            Ok(())
        }
    }

    fn commit_with(writer: &Arc<FaultyWriter>) -> GroupCommit<Op> {
        let writer = Arc::clone(writer);
        GroupCommit::spawn(64, 1, move |ops: Arc<[Op]>| {
            let writer = Arc::clone(&writer);
            async move {
                // Let concurrent submissions gather into one batch.
                tokio::task::yield_now().await;
                writer.write(&ops)
            }
        })
    }

    async fn submit_many(commit: &Arc<GroupCommit<Op>>, ops: Vec<Op>) -> Vec<Result<(), StoreError>> {
        let mut calls = tokio::task::JoinSet::new();
        for op in ops {
            let commit = Arc::clone(commit);
            calls.spawn(async move { (op.0, commit.submit(op).await) });
        }
        let mut results = calls.join_all().await;
        results.sort_by_key(|(n, _)| *n);
        results.into_iter().map(|(_, result)| result).collect()
    }

    #[tokio::test]
    async fn every_error_class_fails_the_whole_batch_and_the_next_batch_succeeds() {
        for class in [
            WriteFailure::Full,
            WriteFailure::Io,
            WriteFailure::Busy,
            WriteFailure::ConnectionLost,
            WriteFailure::FileLost,
            WriteFailure::Other,
        ] {
            let writer =
                Arc::new(FaultyWriter { failing: Mutex::new(Some(class)), committed: Mutex::default() });
            let commit = Arc::new(commit_with(&writer));
            let failed = submit_many(&commit, (0..20).map(|n| Op(n, false)).collect()).await;
            for result in &failed {
                assert!(
                    matches!(result, Err(StoreError::WriteFailed { class: c, .. }) if *c == class),
                    "{class:?}: {result:?}"
                );
            }
            assert!(writer.committed.lock().expect("lock").is_empty(), "{class:?}: nothing half-stored");
            // The cause goes away: writes resume without anything restarted.
            *writer.failing.lock().expect("lock") = None;
            let resumed = submit_many(&commit, (20..40).map(|n| Op(n, false)).collect()).await;
            assert!(resumed.iter().all(Result::is_ok), "{class:?}: {resumed:?}");
            assert_eq!(writer.committed.lock().expect("lock").len(), 20);
        }
    }

    #[tokio::test]
    async fn a_constraint_fails_only_the_operation_whose_row_broke_it() {
        let writer = Arc::new(FaultyWriter { failing: Mutex::new(None), committed: Mutex::default() });
        let commit = Arc::new(commit_with(&writer));
        let results = submit_many(&commit, (0..16).map(|n| Op(n, n == 7)).collect()).await;
        for (n, result) in results.iter().enumerate() {
            if n == 7 {
                assert!(matches!(
                    result,
                    Err(StoreError::WriteFailed { class: WriteFailure::Constraint, .. })
                ));
            } else {
                assert!(result.is_ok(), "{n}: {result:?}");
            }
        }
        let mut committed = writer.committed.lock().expect("lock").clone();
        committed.sort_unstable();
        assert_eq!(committed, (0..16).filter(|n| *n != 7).collect::<Vec<_>>());
    }
}
