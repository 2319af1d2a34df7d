use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    give_large_buffers_back();
    sesame::cli::main().await
}

/// Each password hash takes a buffer of `hashing.hash_memory_kib` (19 MiB). glibc raises its
/// mmap threshold once the first such buffer is freed, so later ones came from the heap,
/// which fragmented and was never given back: a flood of sign-ins left the server at 800 MiB.
/// With a fixed threshold every large buffer is mapped for its hash and unmapped after.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_large_buffers_back() {
    const MMAP_THRESHOLD_BYTES: libc::c_int = 128 * 1024;
    // SAFETY: mallopt only sets an allocator parameter; it is called before any thread
    // other than this one exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_large_buffers_back() {}
