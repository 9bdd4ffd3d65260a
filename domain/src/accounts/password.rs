//! Password rules and argon2id hashing (OWASP parameters: 19 MiB, 2 passes, 1 lane).
//! Hashing is CPU-bound for tens of milliseconds, so it runs on the blocking pool,
//! behind a semaphore: a login storm queues for hashing instead of taking every core
//! from the requests that do not hash.

use std::sync::{Arc, LazyLock};

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

use crate::DomainError;

const MIN_CHARS: usize = 10;
const MAX_CHARS: usize = 128;

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

/// Refuses passwords outside 10..=128 characters.
pub(crate) fn check_rules(password: &str) -> Result<(), DomainError> {
    let chars = password.chars().count();
    if (MIN_CHARS..=MAX_CHARS).contains(&chars) {
        Ok(())
    } else {
        Err(DomainError::Validation(format!(
            "password must be {MIN_CHARS} to {MAX_CHARS} characters long"
        )))
    }
}

/// Hashes and verifies passwords with bounded concurrency.
#[derive(Debug, Clone)]
pub(crate) struct Hasher {
    permits: Arc<Semaphore>,
}

impl Hasher {
    /// At most `concurrency` hashes run at once.
    pub(crate) fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
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
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| DomainError::Unavailable)?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|_| DomainError::Unavailable)?
    }
}
