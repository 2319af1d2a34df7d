//! Secrets: password hashing (argon2id, bounded), random tokens and keyed hashes, the
//! slow hashes of short attributes (PIN, SIN digits), secrets sealed at rest, and the
//! authenticator app's codes.

mod argon2_workers;
pub mod attributes;
pub mod passwords;
pub mod sealed;
pub mod tokens;
pub mod totp;

/// Argon2's working memory as the server's hashing threads keep it (for the benchmark).
pub use argon2_workers::Memory as Argon2Memory;

/// A secret in memory (a PIN from an HR file, a provisional password): never shown by
/// `Debug`, never serialized.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// Runs CPU-bound `work` (hashing) over `items` on one thread per core and returns the
/// results in order. For operators' batch jobs, which own the machine for a while; the
/// web server's hashing goes through [`passwords::PasswordHasher`]'s bounded queue instead.
/// Blocks: call it from a blocking thread, not from async code.
pub fn map_on_all_cores<T: Sync, R: Send>(items: &[T], work: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = num_cpus::get().clamp(1, 64);
    if items.len() < 2 || threads == 1 {
        return items.iter().map(&work).collect();
    }
    let chunk_size = items.len().div_ceil(threads);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(chunk_size)
            .map(|chunk| scope.spawn(move || chunk.iter().map(work).collect::<Vec<R>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| match handle.join() {
                Ok(results) => results,
                // A panic in `work` is a bug: surface it as such.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn results_come_back_in_order() {
        let items: Vec<u32> = (0..1001).collect();
        let doubled = super::map_on_all_cores(&items, |n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert!(super::map_on_all_cores(&[] as &[u32], |n| *n).is_empty());
    }
}
