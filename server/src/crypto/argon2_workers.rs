//! The threads that hash passwords for the web server, each with its own argon2 memory,
//! reused from one hash to the next and handed back to the system after `IDLE_RELEASE`
//! without work.
//!
//! Why not `Argon2::hash_password` on a blocking task: it allocates its m KiB (19 MiB by
//! default) for every hash, and the allocator maps such a block afresh each time (see
//! `mallopt` in main.rs, which keeps the memory of a flood bounded). The page faults and
//! zeroing of a new map added about half the CPU time of the hash itself to each sign-in.

use std::{
    panic::{AssertUnwindSafe, catch_unwind},
    thread,
    time::Duration,
};

use argon2::{
    Algorithm, Argon2, Block, Params, Version,
    password_hash::{Output, ParamsString, PasswordHash, Salt, SaltString, rand_core::OsRng},
};

use crate::error::{Error, Result};

/// A worker's memory is freed after this long without a hash: a server at rest holds none.
const IDLE_RELEASE: Duration = Duration::from_secs(30);

/// Argon2's working memory, kept between hashes on one thread.
#[derive(Default)]
pub struct Memory(Vec<Block>);

impl Memory {
    /// The first `count` blocks, zeroed when first made.
    pub fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.0.len() < count {
            // Replaced rather than grown: the old blocks need not be copied (nor kept while
            // the new ones are made).
            self.0 = Vec::new();
            let mut blocks = Vec::with_capacity(count);
            huge_pages::advise(blocks.spare_capacity_mut());
            blocks.resize(count, Block::default());
            self.0 = blocks;
        }
        &mut self.0[..count]
    }

    fn release(&mut self) {
        self.0 = Vec::new();
    }
}

/// Hashes `password` with argon2id and `params` under a new random salt: a PHC string.
pub fn hash(memory: &mut Memory, params: &Params, password: &[u8]) -> Result<String> {
    let salt = SaltString::generate(&mut OsRng);
    let output = compute(
        memory,
        Algorithm::Argon2id,
        Version::V0x13,
        params,
        password,
        salt.as_salt(),
        params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN),
    )?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(hashing)?,
        salt: Some(salt.as_salt()),
        hash: Some(output),
    };
    Ok(phc.to_string())
}

/// Whether `password` is the one hashed in `stored` (a PHC string of argon2, with its own
/// parameters). The comparison takes constant time.
pub fn verify(memory: &mut Memory, stored: &str, password: &[u8]) -> Result<bool> {
    let parsed = PasswordHash::new(stored).map_err(hashing)?;
    let algorithm = Algorithm::try_from(parsed.algorithm).map_err(hashing)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()
        .map_err(hashing)?
        .unwrap_or_default();
    let params = Params::try_from(&parsed).map_err(hashing)?;
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Err(Error::Hashing(
            "a stored hash without salt or output".into(),
        ));
    };
    let output = compute(
        memory,
        algorithm,
        version,
        &params,
        password,
        salt,
        expected.len(),
    )?;
    // `Output`'s equality is the constant-time one.
    Ok(output == expected)
}

/// Argon2's output of `output_len` bytes for `password` and `salt`, computed in `memory`.
fn compute(
    memory: &mut Memory,
    algorithm: Algorithm,
    version: Version,
    params: &Params,
    password: &[u8],
    salt: Salt<'_>,
    output_len: usize,
) -> Result<Output> {
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_buffer).map_err(hashing)?;
    let mut output = vec![0u8; output_len];
    Argon2::new(algorithm, version, params.clone())
        .hash_password_into_with_memory(
            password,
            salt_bytes,
            &mut output,
            memory.blocks(params.block_count()),
        )
        .map_err(hashing)?;
    Output::new(&output).map_err(hashing)
}

/// Argon2 reads its blocks at random across all of its memory (19 MiB by default): with
/// 4 KiB pages most of those reads miss the TLB, and every switch to another thread or
/// process leaves it to be filled again. Backed by 2 MiB pages, the whole memory fits in
/// a few TLB entries (about 6 % more hashes per second here).
#[cfg(target_os = "linux")]
mod huge_pages {
    use std::mem::{MaybeUninit, size_of_val};

    /// Asks Linux to back the whole pages of `memory`, not yet touched, with transparent
    /// huge pages (where they are enabled; nothing happens where they are not).
    pub fn advise<T>(memory: &mut [MaybeUninit<T>]) {
        const PAGE: usize = 4096;
        let start = memory.as_mut_ptr() as usize;
        let first = start.next_multiple_of(PAGE);
        let end = (start + size_of_val(memory)) / PAGE * PAGE;
        if end > first {
            // SAFETY: the range lies within `memory`, borrowed mutably here; the advice
            // changes how its pages are backed, not what they hold (zero until written).
            unsafe {
                libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_HUGEPAGE);
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod huge_pages {
    pub fn advise<T>(_memory: &mut [std::mem::MaybeUninit<T>]) {}
}

fn hashing(error: impl std::fmt::Display) -> Error {
    Error::Hashing(error.to_string())
}

type Job = Box<dyn FnOnce(&mut Memory) + Send>;

/// A fixed set of hashing threads. They stop when the last clone of their `Workers` is
/// dropped.
#[derive(Clone)]
pub struct Workers {
    jobs: flume::Sender<Job>,
}

impl Workers {
    pub fn start(threads: usize) -> Result<Workers> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for number in 0..threads.max(1) {
            let queue = queue.clone();
            thread::Builder::new()
                .name(format!("argon2-{number}"))
                .spawn(move || serve(queue))
                .map_err(|e| Error::Hashing(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Workers { jobs })
    }

    /// Runs `job` on a worker with that worker's memory. The caller bounds how many jobs
    /// are queued (a semaphore whose permit `job` holds until it ends).
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Memory) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.jobs
            .send(Box::new(move |memory: &mut Memory| {
                let _ = reply.send(job(memory));
            }))
            .map_err(|_| Error::Hashing("the hashing threads have stopped".into()))?;
        answer
            .await
            .map_err(|_| Error::Hashing("a hashing job panicked".into()))?
    }
}

fn serve(queue: flume::Receiver<Job>) {
    let mut memory = Memory::default();
    loop {
        match queue.recv_timeout(IDLE_RELEASE) {
            Ok(job) => {
                // A panicking job drops its reply (its caller gets an error); the thread
                // and its memory stay for the next one.
                if catch_unwind(AssertUnwindSafe(|| job(&mut memory))).is_err() {
                    memory.release();
                }
            }
            Err(flume::RecvTimeoutError::Timeout) => memory.release(),
            Err(flume::RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};

    use super::*;

    fn params() -> Params {
        Params::new(1024, 2, 1, None).expect("params")
    }

    #[test]
    fn hashes_agree_with_the_argon2_crate_both_ways() {
        let mut memory = Memory::default();
        let ours = hash(&mut memory, &params(), "Vélo-rouge;42".as_bytes()).expect("hash");
        assert!(ours.starts_with("$argon2id$v=19$m=1024,t=2,p=1$"), "{ours}");
        let parsed = PasswordHash::new(&ours).expect("a PHC string");
        assert!(
            Argon2::default()
                .verify_password("Vélo-rouge;42".as_bytes(), &parsed)
                .is_ok()
        );

        let salt = SaltString::generate(&mut OsRng);
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password("Vélo-rouge;42".as_bytes(), &salt)
            .expect("hash")
            .to_string();
        assert!(verify(&mut memory, &theirs, "Vélo-rouge;42".as_bytes()).expect("verify"));
        assert!(!verify(&mut memory, &theirs, b"Velo-rouge;42").expect("verify"));
    }

    #[test]
    fn reused_memory_of_another_size_gives_the_same_answers() {
        let mut memory = Memory::default();
        let big = Params::new(4096, 1, 1, None).expect("params");
        let small_hash = hash(&mut memory, &params(), b"first").expect("hash");
        let big_hash = hash(&mut memory, &big, b"second").expect("hash");
        // The memory now holds 4096 blocks of the second hash: the first still verifies.
        assert!(verify(&mut memory, &small_hash, b"first").expect("verify"));
        assert!(verify(&mut memory, &big_hash, b"second").expect("verify"));
        assert!(!verify(&mut memory, &small_hash, b"second").expect("verify"));
    }

    #[test]
    fn a_malformed_stored_hash_is_an_error_not_a_match() {
        let mut memory = Memory::default();
        assert!(verify(&mut memory, "$argon2id$v=19$m=1024,t=2,p=1$", b"x").is_err());
        assert!(verify(&mut memory, "not a hash", b"x").is_err());
    }

    #[tokio::test]
    async fn workers_run_jobs_and_survive_a_panicking_one() {
        let workers = Workers::start(1).expect("workers");
        let panicked = workers.run::<()>(|_| panic!("a job that panics")).await;
        assert!(matches!(panicked, Err(Error::Hashing(_))));
        let hashed = workers
            .run(|memory| hash(memory, &params(), b"after"))
            .await
            .expect("the thread still works");
        assert!(verify(&mut Memory::default(), &hashed, b"after").expect("verify"));
    }
}
