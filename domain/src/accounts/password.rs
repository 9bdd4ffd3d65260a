//! Password rules and argon2id hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane).
//! Hashing is CPU-bound for tens of milliseconds, so it runs off the async runtime on
//! a small pool of its own threads, at the lowest CPU priority (SCHED_BATCH, nice 19):
//! a login storm queues for those threads and yields the cores to every request that
//! does not hash, instead of stretching their tail latency.

use std::sync::{Arc, LazyLock, Mutex};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::DomainError;
use crate::limits::PASSWORD;

/// A hash of a password nobody has, verified when an email is unknown so that a
/// failed login takes the same time whether or not the account exists.
static DECOY_HASH: LazyLock<String> = LazyLock::new(|| {
    Argon2::default()
        .hash_password(b"decoy password that matches nothing")
        .expect("argon2 hashes with default parameters")
        .to_string()
});

/// Hashes on the calling thread: for seeding, outside any request path.
pub(crate) fn hash_now(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hashes with default parameters")
        .to_string()
}

/// Refuses passwords of a length outside [`PASSWORD`].
pub(crate) fn check_rules(password: &str) -> Result<(), DomainError> {
    if PASSWORD.allows(password.chars().count()) {
        Ok(())
    } else {
        Err(DomainError::Validation(format!(
            "password must be {} to {} characters long",
            PASSWORD.min, PASSWORD.max
        )))
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Hashes and verifies passwords on its own low-priority threads.
#[derive(Debug, Clone)]
pub(crate) struct Hasher {
    jobs: std::sync::mpsc::Sender<Job>,
}

impl Hasher {
    /// `threads` hashes run at once; the rest wait their turn.
    pub(crate) fn new(threads: usize) -> Self {
        let (jobs, queue) = std::sync::mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        let job = queue.lock().unwrap_or_else(|p| p.into_inner()).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => return, // every Hasher is gone
                        }
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(error = %err, "password hashing thread not started");
            }
        }
        Self { jobs }
    }

    /// The PHC string of `password` with a fresh salt.
    pub(crate) async fn hash(&self, password: String) -> Result<String, DomainError> {
        self.run(move || {
            Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| hash.to_string())
                .map_err(|err| DomainError::Validation(format!("password cannot be hashed: {err}")))
        })
        .await
    }

    /// Whether `password` matches `hash`; with no hash, checks against a decoy and
    /// answers false, taking the same time.
    pub(crate) async fn verify(
        &self,
        password: String,
        hash: Option<String>,
    ) -> Result<bool, DomainError> {
        self.run(move || {
            let matches = Argon2::default()
                .verify_password(password.as_bytes(), hash.as_deref().unwrap_or(&DECOY_HASH))
                .is_ok();
            Ok(matches && hash.is_some())
        })
        .await
    }

    /// Prepares the decoy hash, so the first unknown-email login is not the slow one.
    pub(crate) fn warm_up() {
        LazyLock::force(&DECOY_HASH);
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let (done, result) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move || {
                // The caller may have given up (its request was cancelled): fine.
                let _ = done.send(work());
            }))
            .map_err(|_| DomainError::Unavailable)?;
        result.await.map_err(|_| DomainError::Unavailable)?
    }
}

/// Puts the calling thread at the lowest normal priority; where that is not
/// permitted, hashing still works, only without the protection.
fn lower_priority() {
    use thread_priority::{
        NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
        set_thread_priority_and_policy, thread_native_id,
    };
    let policy = ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch);
    if let Err(err) =
        set_thread_priority_and_policy(thread_native_id(), ThreadPriority::Min, policy)
    {
        tracing::warn!(error = ?err, "password hashing runs at normal priority");
    }
}
