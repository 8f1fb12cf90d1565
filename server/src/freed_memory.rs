//! Handing the memory the start-up work freed back to the system.
//!
//! At start-up the lists, the read model and the index scan each read every document's
//! metadata at once, on threads of their own, and build their maps from it; then the reads are
//! freed. glibc's allocator keeps what a thread freed in that thread's arena, for that thread to
//! use again, and those threads are done: at 100,000 accounts about 125 MB stayed resident
//! that nothing used. [`release`] asks glibc for it back once the last start-up work is done
//! (see [`crate::readiness`]).
//!
//! This is the one place the server calls C directly: `malloc_trim` takes no pointer and
//! touches only the allocator's own free lists, which it locks while it runs.

/// Returns the allocator's free memory to the system, on a thread of its own (glibc locks
/// each arena in turn meanwhile, so whoever allocates waits a moment, not the caller).
/// Elsewhere than glibc it does nothing: those allocators give large blocks back themselves.
pub fn release() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let spawned = std::thread::Builder::new()
            .name("itinera-trim".into())
            .spawn(|| {
                let started = std::time::Instant::now();
                let released = trim();
                tracing::debug!(
                    released,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "the start-up work's freed memory handed back"
                );
            });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "no thread to hand freed memory back");
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn trim() -> bool {
    // SAFETY: `malloc_trim` takes no pointer and has no precondition; glibc serialises it with
    // every other call into the allocator.
    unsafe { libc::malloc_trim(0) == 1 }
}
