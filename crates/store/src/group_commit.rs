//! Group commit: many concurrent token writes share one transaction.
//!
//! A login must not answer before its token is durable (a returned token
//! survives `kill -9`), but one commit (one fsync) per request caps the rate
//! far below what the CPU allows. So writes queue here; a single task takes
//! everything waiting, writes it in one transaction, commits once, and only
//! then tells each waiter it is done.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};
use tollgate_core::StoreError;

type Reply = oneshot::Sender<Result<(), StoreError>>;

pub(crate) struct GroupCommit<Op> {
    queue: mpsc::Sender<(Op, Reply)>,
}

impl<Op: Send + 'static> GroupCommit<Op> {
    /// Starts the committing task. `write` gets each batch (at most
    /// `max_batch` operations) and must commit it atomically.
    pub(crate) fn spawn<F, Fut>(max_batch: usize, write: F) -> Self
    where
        F: Fn(Vec<Op>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send,
    {
        let (queue, mut incoming) = mpsc::channel::<(Op, Reply)>(max_batch * 4);
        tokio::spawn(async move {
            let mut ops = Vec::with_capacity(max_batch);
            let mut replies = Vec::with_capacity(max_batch);
            while let Some((op, reply)) = incoming.recv().await {
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
                let result = write(std::mem::take(&mut ops)).await;
                for reply in replies.drain(..) {
                    let _ = reply.send(match &result {
                        Ok(()) => Ok(()),
                        Err(err) => Err(clone_error(err)),
                    });
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
