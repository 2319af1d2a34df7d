//! Password hashing with argon2id (DESIGN §4), off the async threads and bounded: at most
//! `concurrency` hashes run at once, on as many threads that keep their m KiB between hashes
//! ([`super::argon2_workers`]); the rest wait in their queue up to `queue_timeout` and then
//! get `Error::HashingBusy` (HTTP 503 with Retry-After).

use std::{sync::Arc, time::Duration};

use argon2::Params;

use super::argon2_workers::{self, Memory, Workers};
use crate::{
    config::HashingConfig,
    error::{Error, Result},
};

#[derive(Clone)]
pub struct PasswordHasher {
    params: Params,
    workers: Workers,
    queue_timeout: Duration,
    /// A hash of a random password, verified when an account does not exist so that
    /// unknown accounts take as long as known ones.
    dummy_hash: Arc<String>,
}

impl std::fmt::Debug for PasswordHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordHasher")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl PasswordHasher {
    pub fn new(config: &HashingConfig) -> Result<PasswordHasher> {
        let params = Params::new(
            config.hash_memory_kib,
            config.hash_iterations,
            config.hash_parallelism,
            None,
        )
        .map_err(|e| Error::Hashing(e.to_string()))?;
        let dummy_hash = argon2_workers::hash(
            &mut Memory::default(),
            &params,
            crate::crypto::tokens::random_token().as_bytes(),
        )?;
        Ok(PasswordHasher {
            params,
            workers: Workers::start(config.hash_concurrency)?,
            queue_timeout: Duration::from_millis(config.hash_queue_timeout_ms),
            dummy_hash: Arc::new(dummy_hash),
        })
    }

    /// Hashes a password (PHC string with salt and parameters).
    pub async fn hash(&self, password: &str) -> Result<String> {
        let password = app::policy::password::normalize(password);
        let params = self.params.clone();
        self.run(move |memory| argon2_workers::hash(memory, &params, password.as_bytes()))
            .await
    }

    /// Hashes on the calling thread, outside the queue and its timeout: for operators'
    /// batch jobs (letters), which bound their own parallelism with
    /// [`crate::crypto::map_on_all_cores`]. Blocks: never call it from async code.
    pub fn hash_blocking(&self, password: &str) -> Result<String> {
        argon2_workers::hash(
            &mut Memory::default(),
            &self.params,
            app::policy::password::normalize(password).as_bytes(),
        )
    }

    /// Whether `password` matches `stored` (a PHC string). Runs the same work whether or
    /// not `stored` is present, so a missing account cannot be told by timing.
    pub async fn verify(&self, stored: Option<&str>, password: &str) -> Result<bool> {
        let known = stored.is_some();
        let stored = stored.unwrap_or(&self.dummy_hash).to_owned();
        let password = app::policy::password::normalize(password);
        let matches = self
            .run(move |memory| argon2_workers::verify(memory, &stored, password.as_bytes()))
            .await?;
        Ok(known && matches)
    }

    /// Requests waiting for a hashing slot right now (for metrics).
    pub fn queue_depth(&self) -> usize {
        self.workers.waiting()
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Memory) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let result = self.workers.run(self.queue_timeout, work).await;
        if matches!(result, Err(Error::HashingBusy)) {
            crate::metrics::password_hash_busy();
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> HashingConfig {
        HashingConfig {
            hash_memory_kib: 1024,
            hash_iterations: 1,
            hash_concurrency: 1,
            hash_queue_timeout_ms: 50,
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn hashes_verify_and_carry_argon2id_parameters() {
        let hasher = PasswordHasher::new(&HashingConfig::default()).expect("hasher");
        let hash = hasher.hash("Correct horse 9 Battery").await.expect("hash");
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            hasher
                .verify(Some(&hash), "Correct horse 9 Battery")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(Some(&hash), "correct horse 9 battery")
                .await
                .expect("verify")
        );
        assert!(
            !hasher
                .verify(None, "Correct horse 9 Battery")
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn unicode_forms_of_one_password_match() {
        let hasher = PasswordHasher::new(&small()).expect("hasher");
        let hash = hasher.hash("Crème-brûlée-42X").await.expect("hash");
        assert!(
            hasher
                .verify(Some(&hash), "Cre\u{300}me-bru\u{302}le\u{301}e-42X")
                .await
                .expect("verify")
        );
    }

    #[tokio::test]
    async fn a_flood_waits_then_is_refused_instead_of_piling_up() {
        let config = HashingConfig {
            hash_memory_kib: 8 * 1024,
            hash_iterations: 3,
            ..small()
        };
        let hasher = PasswordHasher::new(&config).expect("hasher");
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let hasher = hasher.clone();
                tokio::spawn(async move { hasher.hash("Some password 1!").await })
            })
            .collect();
        let mut busy = 0;
        let mut done = 0;
        for task in tasks {
            match task.await.expect("join") {
                Ok(_) => done += 1,
                Err(Error::HashingBusy) => busy += 1,
                Err(other) => panic!("unexpected {other}"),
            }
        }
        assert!(done >= 1, "at least the first hash runs");
        assert!(
            busy >= 1,
            "with one slot and a 50 ms queue, some of 8 must be refused"
        );
    }
}
