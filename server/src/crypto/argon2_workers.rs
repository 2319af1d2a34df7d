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
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::{Duration, Instant},
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

/// A queued job: run with the worker's memory, or told it waited too long (`None`).
type Job = Box<dyn FnOnce(Option<&mut Memory>) + Send>;

struct Queued {
    job: Job,
    queued_at: Instant,
    /// How long the job may wait for a thread to be free before it is refused.
    wait_at_most: Duration,
}

/// A fixed set of hashing threads fed by one queue. They stop when the last clone of their
/// `Workers` is dropped.
///
/// Jobs wait in the queue itself, not in front of it: a thread that finishes a hash takes
/// the next one at once, without sleeping until a waiting request is woken to hand it
/// over. A job that waited for a thread longer than its caller allows is refused when its
/// turn comes (quickly, so a flood past the limit drains fast), and one whose caller is
/// gone is skipped.
#[derive(Clone)]
pub struct Workers {
    jobs: flume::Sender<Queued>,
    waiting: Arc<AtomicUsize>,
}

impl Workers {
    pub fn start(threads: usize) -> Result<Workers> {
        let (jobs, queue) = flume::unbounded::<Queued>();
        let waiting = Arc::new(AtomicUsize::new(0));
        for number in 0..threads.max(1) {
            let queue = queue.clone();
            let waiting = waiting.clone();
            thread::Builder::new()
                .name(format!("argon2-{number}"))
                .spawn(move || serve(queue, waiting))
                .map_err(|e| Error::Hashing(format!("cannot start a hashing thread: {e}")))?;
        }
        Ok(Workers { jobs, waiting })
    }

    /// Runs `job` on a worker with that worker's memory, if one takes it within
    /// `wait_at_most`; otherwise `Error::HashingBusy`.
    pub async fn run<T: Send + 'static>(
        &self,
        wait_at_most: Duration,
        job: impl FnOnce(&mut Memory) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory: Option<&mut Memory>| {
            if reply.is_closed() {
                return; // nobody waits for this hash any more
            }
            let _ = reply.send(match memory {
                Some(memory) => job(memory),
                None => Err(Error::HashingBusy),
            });
        });
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let queued = Queued {
            job,
            queued_at: Instant::now(),
            wait_at_most,
        };
        if self.jobs.send(queued).is_err() {
            self.waiting.fetch_sub(1, Ordering::Relaxed);
            return Err(Error::Hashing("the hashing threads have stopped".into()));
        }
        answer
            .await
            .map_err(|_| Error::Hashing("a hashing job panicked".into()))?
    }

    /// Jobs queued and not yet taken by a thread.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Relaxed)
    }
}

fn serve(queue: flume::Receiver<Queued>, waiting: Arc<AtomicUsize>) {
    let mut memory = Memory::default();
    loop {
        let free_since = Instant::now();
        match queue.recv_timeout(IDLE_RELEASE) {
            Ok(Queued {
                job,
                queued_at,
                wait_at_most,
            }) => {
                waiting.fetch_sub(1, Ordering::Relaxed);
                // A job queued while this thread was free waited for no thread (only for
                // the thread to wake up): it runs whatever the clock says.
                let waited_for_a_thread = queued_at < free_since;
                if waited_for_a_thread && queued_at.elapsed() > wait_at_most {
                    job(None);
                } else if catch_unwind(AssertUnwindSafe(|| job(Some(&mut memory)))).is_err() {
                    // A panicking job drops its reply (its caller gets an error); the
                    // thread and its memory stay for the next one.
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
        let panicked = workers
            .run::<()>(WAIT, |_| panic!("a job that panics"))
            .await;
        assert!(matches!(panicked, Err(Error::Hashing(_))));
        let hashed = workers
            .run(WAIT, |memory| hash(memory, &params(), b"after"))
            .await
            .expect("the thread still works");
        assert!(verify(&mut Memory::default(), &hashed, b"after").expect("verify"));
    }

    /// Long enough for any job of these tests to start.
    const WAIT: Duration = Duration::from_secs(30);

    /// A job that holds the only thread until `release` is sent.
    async fn occupy(
        workers: &Workers,
    ) -> (
        std::sync::mpsc::Sender<()>,
        tokio::task::JoinHandle<Result<()>>,
    ) {
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel();
        let busy = workers.clone();
        let job = tokio::spawn(async move {
            busy.run(WAIT, move |_| {
                let _ = started.send(());
                let _ = held.recv();
                Ok(())
            })
            .await
        });
        running.await.expect("the first job starts");
        (release, job)
    }

    #[tokio::test]
    async fn a_job_that_waited_too_long_is_refused_and_one_nobody_waits_for_is_skipped() {
        let workers = Workers::start(1).expect("workers");
        let (release, first) = occupy(&workers).await;

        let ran = Arc::new(AtomicUsize::new(0));
        let count = |ran: &Arc<AtomicUsize>| {
            let ran = ran.clone();
            move |_: &mut Memory| {
                ran.fetch_add(1, Ordering::SeqCst);
                Ok(())
            }
        };
        // Queued behind the first job: one allowed to wait 10 ms, one whose caller leaves.
        let impatient = tokio::spawn({
            let workers = workers.clone();
            let job = count(&ran);
            async move { workers.run(Duration::from_millis(10), job).await }
        });
        let abandoned = tokio::spawn({
            let workers = workers.clone();
            let job = count(&ran);
            async move { workers.run(WAIT, job).await }
        });
        while workers.waiting() < 2 {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        abandoned.abort();
        assert!(abandoned.await.is_err(), "the caller left");
        tokio::time::sleep(Duration::from_millis(20)).await;
        release.send(()).expect("release the first job");
        first.await.expect("join").expect("the first job ran");

        let refused = impatient.await.expect("join");
        assert!(matches!(refused, Err(Error::HashingBusy)), "{refused:?}");
        workers
            .run(WAIT, count(&ran))
            .await
            .expect("a later job runs");
        assert_eq!(ran.load(Ordering::SeqCst), 1, "only the later job ran");
        assert_eq!(workers.waiting(), 0);
    }

    #[tokio::test]
    async fn a_free_thread_runs_a_job_that_may_not_wait_at_all() {
        let workers = Workers::start(1).expect("workers");
        for _ in 0..5 {
            // However long the free thread takes to wake up, the job waited for no thread.
            tokio::time::sleep(Duration::from_millis(5)).await;
            workers
                .run(Duration::ZERO, |_| Ok(()))
                .await
                .expect("a free thread takes it");
        }
    }
}
