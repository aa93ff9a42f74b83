//! Passwords: argon2id hashing, and verification on a bounded pool of worker
//! threads that each reuse one memory buffer.
//!
//! Why a pool of our own rather than `spawn_blocking`: verification costs
//! ~20 ms of CPU and 19 MiB of memory. Tokio's blocking pool would start up to
//! 512 threads and queue without bound; here at most `workers` verifications
//! run and at most `queue` wait, so excess load is refused at once
//! ([`LoginError::Overloaded`], a 503 upstream) instead of piling up. Reusing
//! each worker's buffer instead of allocating 19 MiB per call is worth ~30 %
//! more verifications per second.

use std::cell::RefCell;
use std::thread;

use argon2::password_hash::{PasswordHash, PasswordHasher as _, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::oneshot;
use zeroize::Zeroizing;

use tollgate_legacy::LegacyHash;

use crate::error::LoginError;
use crate::secret::Password;

/// Hashes a password with argon2id at OWASP's parameters (m=19456 KiB, t=2,
/// p=1). Blocking: call it off the async runtime.
pub fn hash_password(password: &Password) -> Result<String, argon2::password_hash::Error> {
    let mut salt = [0u8; 16];
    crate::secret::fill_random(&mut salt);
    let salt = SaltString::encode_b64(&salt)?;
    let hash = argon2id(Params::default()).hash_password(password.expose().as_bytes(), &salt)?;
    Ok(hash.to_string())
}

fn argon2id(params: Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// What a worker is asked to check.
enum Work {
    /// An argon2id PHC string; `None` verifies against a decoy hash so that
    /// an unknown user costs the same time as a known one.
    Argon2id(Option<String>),
    /// A hash imported from a legacy system (DESIGN.md §10), and whether a
    /// match should come back with its argon2id successor.
    Legacy { hash: Box<LegacyHash>, rehash: bool },
    /// Hash a password (argon2id) for a principal made by lazy migration.
    Hash,
}

struct Job {
    work: Work,
    password: Password,
    reply: oneshot::Sender<Checked>,
}

/// What a worker found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    Wrong,
    Right,
    /// Right, and the password hashed anew with argon2id (legacy hashes).
    Rehashed(String),
}

impl Checked {
    pub fn matches(&self) -> bool {
        !matches!(self, Checked::Wrong)
    }
}

/// A bounded pool of threads verifying argon2id hashes.
#[derive(Clone)]
pub struct PasswordVerifier {
    jobs: Sender<Job>,
}

impl PasswordVerifier {
    /// Starts `workers` threads with room for `queue` waiting verifications.
    pub fn start(workers: usize, queue: usize) -> Self {
        let (jobs, incoming) = crossbeam_channel::bounded::<Job>(queue);
        let decoy =
            Zeroizing::new(hash_password(&Password::new(crate::secret::random_hex(16))).unwrap_or_default());
        for n in 0..workers.max(1) {
            let incoming = incoming.clone();
            let decoy = decoy.clone();
            let spawned = thread::Builder::new().name(format!("argon2-{n}")).spawn(move || {
                for job in incoming {
                    let password = job.password.expose().as_bytes();
                    let checked = match job.work {
                        Work::Argon2id(stored) => {
                            let ok = verify_reusing_buffer(stored.as_deref().unwrap_or(&decoy), password);
                            // A decoy match means nothing: the user does not exist.
                            if ok && stored.is_some() { Checked::Right } else { Checked::Wrong }
                        }
                        Work::Hash => match hash_password(&job.password) {
                            Ok(hashed) => Checked::Rehashed(hashed),
                            Err(_) => Checked::Wrong,
                        },
                        Work::Legacy { hash, rehash } => match (hash.verify(password), rehash) {
                            (false, _) => Checked::Wrong,
                            (true, false) => Checked::Right,
                            // The successor is made here, on the bounded pool,
                            // not on the async runtime.
                            (true, true) => match hash_password(&job.password) {
                                Ok(successor) => Checked::Rehashed(successor),
                                Err(_) => Checked::Right,
                            },
                        },
                    };
                    let _ = job.reply.send(checked);
                }
            });
            if let Err(err) = spawned {
                tracing::error!(%err, "could not start a password verification thread");
            }
        }
        Self { jobs }
    }

    /// Checks `password` against the stored PHC string (or a decoy when
    /// `stored` is `None`). Refuses at once when the queue is full.
    pub async fn verify(&self, stored: Option<String>, password: &Password) -> Result<bool, LoginError> {
        Ok(self.run(Work::Argon2id(stored), password).await?.matches())
    }

    /// Checks `password` against a legacy hash in its own format, on the same
    /// bounded pool; with `rehash`, a match comes back with its argon2id
    /// successor.
    pub async fn verify_legacy(
        &self,
        hash: LegacyHash,
        password: &Password,
        rehash: bool,
    ) -> Result<Checked, LoginError> {
        self.run(Work::Legacy { hash: Box::new(hash), rehash }, password).await
    }

    /// Hashes `password` with argon2id on the pool (`None` if that failed).
    pub async fn hash(&self, password: &Password) -> Result<Option<String>, LoginError> {
        Ok(match self.run(Work::Hash, password).await? {
            Checked::Rehashed(hashed) => Some(hashed),
            _ => None,
        })
    }

    async fn run(&self, work: Work, password: &Password) -> Result<Checked, LoginError> {
        let (reply, answer) = oneshot::channel();
        let job = Job { work, password: password.clone(), reply };
        match self.jobs.try_send(job) {
            // Counted so that work spent (or spared, for a locked name) shows.
            Ok(()) => metrics::counter!("tollgate_password_verifications_total").increment(1),
            Err(TrySendError::Full(_)) => return Err(LoginError::Overloaded),
            Err(TrySendError::Disconnected(_)) => return Err(LoginError::PasswordPool),
        }
        // A worker drops the reply only if it panicked mid-verification.
        answer.await.map_err(|_| LoginError::PasswordPool)
    }
}

thread_local! {
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

fn verify_reusing_buffer(stored: &str, password: &[u8]) -> bool {
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return false;
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    let algorithm = Algorithm::try_from(parsed.algorithm).unwrap_or(Algorithm::Argon2id);
    let version = parsed.version.and_then(|v| Version::try_from(v).ok()).unwrap_or(Version::V0x13);
    let mut salt_bytes = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_bytes) else {
        return false;
    };
    let mut out = Zeroizing::new(vec![0u8; expected.len()]);
    let hasher = Argon2::new(algorithm, version, params.clone());
    MEMORY.with(|memory| {
        let mut memory = memory.borrow_mut();
        if memory.len() < params.block_count() {
            memory.resize(params.block_count(), Block::default());
        }
        let blocks = &mut memory[..params.block_count()];
        hasher.hash_password_into_with_memory(password, salt, &mut out, blocks).is_ok()
            && crate::secret::constant_time_eq(&out, expected.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn verifies_right_and_refuses_wrong_passwords() {
        let hash = hash_password(&"correct horse".into()).expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let pool = PasswordVerifier::start(1, 4);
        assert!(pool.verify(Some(hash.clone()), &"correct horse".into()).await.expect("verify"));
        assert!(!pool.verify(Some(hash), &"wrong".into()).await.expect("verify"));
        assert!(!pool.verify(None, &"anything".into()).await.expect("verify"));
    }

    #[tokio::test]
    async fn a_full_queue_is_refused_instead_of_waiting() {
        let hash = hash_password(&"pw".into()).expect("hash");
        let pool = PasswordVerifier::start(1, 1);
        let mut calls = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let (pool, hash) = (pool.clone(), hash.clone());
            calls.spawn(async move { pool.verify(Some(hash), &"pw".into()).await });
        }
        let results = calls.join_all().await;
        assert!(results.iter().any(|r| matches!(r, Err(LoginError::Overloaded))));
        assert!(results.iter().any(|r| matches!(r, Ok(true))));
    }
}
