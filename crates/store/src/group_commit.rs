//! Group commit: many concurrent token writes share one transaction.
//!
//! A login must not answer before its token is durable (a returned token
//! survives `kill -9`), but one commit (one fsync) per request caps the rate
//! far below what the CPU allows. So writes queue here; a single task takes
//! everything waiting, writes it in one transaction, commits once, and only
//! then tells each waiter it is done.
//!
//! A database that commits several transactions at once (PostgreSQL flushes
//! its log for all of them together) gets more than one batch in flight: the
//! next batch is written while the last one waits for its flush. SQLite has
//! one writer, so it keeps one.

use std::future::Future;
use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc, oneshot};
use tollgate_core::StoreError;

type Reply = oneshot::Sender<Result<(), StoreError>>;

pub(crate) struct GroupCommit<Op> {
    queue: mpsc::Sender<(Op, Reply)>,
}

impl<Op: Send + 'static> GroupCommit<Op> {
    /// Starts the committing task. `write` gets each batch (at most
    /// `max_batch` operations) and must commit it atomically; at most
    /// `in_flight` batches are being written at once.
    pub(crate) fn spawn<F, Fut>(max_batch: usize, in_flight: usize, write: F) -> Self
    where
        F: Fn(Vec<Op>) -> Fut + Send + Sync + 'static,
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
                    let result = write(ops).await;
                    drop(slot);
                    for reply in replies {
                        let _ = reply.send(match &result {
                            Ok(()) => Ok(()),
                            Err(err) => Err(clone_error(err)),
                        });
                    }
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

    /// Queues `op` and waits until it is committed.
    pub(crate) async fn submit(&self, op: Op) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.queue
            .send((op, reply))
            .await
            .map_err(|_| StoreError::Unavailable("the token writer has stopped".into()))?;
        done.await.map_err(|_| StoreError::Unavailable("the token writer has stopped".into()))?
    }
}

fn clone_error(err: &StoreError) -> StoreError {
    match err {
        StoreError::Unavailable(m) => StoreError::Unavailable(m.clone()),
        StoreError::Conflict(what) => StoreError::Conflict(what),
        StoreError::Corrupt(m) => StoreError::Corrupt(m.clone()),
    }
}
