//! The raw argon2id rate, the ceiling of password sign-ins: the server's parameters (its
//! configuration: defaults, then `SESAME_CONFIG`, then the `SESAME_HASHING_*` variables),
//! THREADS hashes at once (default: `hashing.hash_concurrency`, as many as the server runs),
//! for SECONDS. Each thread verifies a password against a PHC hash made with those
//! parameters, as a sign-in does (the same work as hashing it), in memory it keeps. Run by `bench/run.sh`:
//! `cargo run --release -p sesame --example argon2_rate [-- THREADS [SECONDS]]` (an empty
//! THREADS: the default).
//! The last line is machine-readable:
//! `argon2_rate threads=N seconds=S verifies=V rate=R cpu_ms_per_verify=C`.

use std::{
    sync::Arc,
    thread,
    time::{Duration, Instant},
};

use argon2::{
    Algorithm, Argon2, Params, Version,
    password_hash::{PasswordHash, PasswordHasher, SaltString, rand_core::OsRng},
};
use sesame::{config::Config, crypto::Argon2Memory};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let config = Config::load()?;
    let hashing = &config.hashing;
    let mut args = std::env::args().skip(1);
    let threads: usize = match args.next().filter(|n| !n.is_empty()) {
        Some(n) => n.parse()?,
        None => hashing.hash_concurrency,
    };
    let seconds: f64 = match args.next() {
        Some(s) => s.parse()?,
        None => 5.0,
    };
    let params = Params::new(
        hashing.hash_memory_kib,
        hashing.hash_iterations,
        hashing.hash_parallelism,
        None,
    )
    .map_err(|e| e.to_string())?;
    let password = "Vélo-rouge;Marmotte-93";
    let salt = SaltString::generate(&mut OsRng);
    let stored = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| e.to_string())?
        .to_string();

    // Each thread verifies into its own memory, kept from one verify to the next and made as
    // the server's hashing threads make theirs: the fastest a process can go. One verify per
    // thread first (page faults of the first m KiB), outside the timing.
    let expected = PasswordHash::new(&stored)
        .map_err(|e| e.to_string())?
        .hash
        .ok_or("no output")?
        .as_bytes()
        .to_vec();
    let mut salt_buffer = [0u8; 64];
    let salt_bytes = salt
        .decode_b64(&mut salt_buffer)
        .map_err(|e| e.to_string())?
        .to_vec();
    let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let verify = move |memory: &mut [argon2::Block]| {
        let mut output = vec![0u8; expected.len()];
        argon2
            .hash_password_into_with_memory(password.as_bytes(), &salt_bytes, &mut output, memory)
            .expect("argon2");
        output == expected
    };
    // Each thread counts the verifies it finished within the window and when its last one
    // finished: its rate is the one over the other, unbiased by the one in flight at the end.
    // It also reads the CPU time it was given (Linux: /proc/thread-self/schedstat), to tell
    // the CPU cost of one verify apart from how much CPU the machine left this process.
    let start_line = Arc::new(std::sync::Barrier::new(threads));
    let window = Duration::from_secs_f64(seconds);
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (verify, start_line) = (verify.clone(), start_line.clone());
            let blocks = params.block_count();
            thread::spawn(move || {
                let mut memory = Argon2Memory::default();
                let memory = memory.blocks(blocks);
                assert!(verify(memory), "the password verifies");
                start_line.wait();
                let cpu_start = thread_cpu_ns();
                let start = Instant::now();
                let (mut count, mut last) = (0u64, Duration::ZERO);
                loop {
                    assert!(verify(memory));
                    let now = start.elapsed();
                    if now > window {
                        break;
                    }
                    count += 1;
                    last = now;
                }
                // The CPU of every verify done, the one past the window included.
                let cpu = thread_cpu_ns()
                    .zip(cpu_start)
                    .map(|(end, start)| (end - start, count + 1));
                (count, last, cpu)
            })
        })
        .collect();
    let mut counted = 0;
    let mut rate = 0.0;
    let (mut cpu_ns, mut cpu_verifies, mut cpu_known) = (0u64, 0u64, true);
    for worker in workers {
        let (count, last, cpu) = worker.join().map_err(|_| "a worker panicked")?;
        counted += count;
        if count > 0 {
            rate += count as f64 / last.as_secs_f64();
        }
        match cpu {
            Some((ns, verifies)) => {
                cpu_ns += ns;
                cpu_verifies += verifies;
            }
            None => cpu_known = false,
        }
    }
    let cpu_ms = (cpu_known && cpu_verifies > 0).then(|| cpu_ns as f64 / 1e6 / cpu_verifies as f64);
    println!(
        "argon2id m={} KiB t={} p={}: {threads} threads, {counted} verifies in {seconds:.1} s: \
         {rate:.1}/s ({:.1} ms each per thread{})",
        hashing.hash_memory_kib,
        hashing.hash_iterations,
        hashing.hash_parallelism,
        1000.0 * threads as f64 / rate.max(f64::MIN_POSITIVE),
        cpu_ms
            .map(|ms| format!(", {ms:.1} ms of CPU each"))
            .unwrap_or_default(),
    );
    println!(
        "argon2_rate threads={threads} seconds={seconds:.2} verifies={counted} rate={rate:.2} \
         cpu_ms_per_verify={}",
        cpu_ms
            .map(|ms| format!("{ms:.3}"))
            .unwrap_or_else(|| "unknown".into()),
    );
    Ok(())
}

/// CPU time this thread has run, in nanoseconds (the first field of its schedstat).
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
