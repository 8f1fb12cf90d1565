//! Whether the server can take traffic, for `/readyz`: start-up work is done and the store
//! commits.
//!
//! Liveness (`/healthz`) only says the process answers; readiness says it is worth sending
//! work to. The store writer reports every commit here: after a failed one (a full disk, a
//! failing device) the server is unready until a commit succeeds again, either a device's
//! retry or the small probe write `/readyz` makes, so readiness comes back by itself once the
//! cause is gone.
//!
//! ```
//! use itinera_server::readiness::Readiness;
//!
//! let readiness = Readiness::default();
//! let scan = readiness.begin_startup("index scan");
//! assert_eq!(readiness.unfinished_startup(), vec!["index scan"]);
//! drop(scan);
//! assert!(readiness.unfinished_startup().is_empty());
//! readiness.commit_finished(false);
//! assert!(!readiness.store_writable());
//! ```

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

/// What `/readyz` reads.
#[derive(Debug, Default)]
pub struct Readiness {
    store_failed: AtomicBool,
    probing: AtomicBool,
    startup: Arc<Mutex<Vec<&'static str>>>,
    listening: Arc<Listening>,
}

/// Whether the server listens yet: the start-up reads of the lists, the indexes and the read
/// model begin once it does (see [`StartupWork::run_behind_devices`]). Open unless the server
/// says it will listen later, so that work started without a server runs at once.
#[derive(Debug, Default)]
struct Listening {
    later: Mutex<bool>,
    opened: Condvar,
}

/// A piece of start-up work; the server is unready until every one is dropped.
#[derive(Debug)]
pub struct StartupWork {
    name: &'static str,
    pending: Arc<Mutex<Vec<&'static str>>>,
    listening: Arc<Listening>,
}

impl StartupWork {
    /// Puts the calling thread behind the devices: it waits until the server listens, and then
    /// runs at the lowest priority (nice 19), so that a device connecting while the scans run is
    /// served first (on two cores, the scans took both and the first account a restarted
    /// server served waited for them). Call it on a thread of the work's own, which ends with
    /// the work: a thread's priority cannot be raised again without privileges.
    pub fn run_behind_devices(&self) {
        let mut later = self
            .listening
            .later
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *later {
            later = self
                .listening
                .opened
                .wait(later)
                .unwrap_or_else(PoisonError::into_inner);
        }
        drop(later);
        let this_thread = rustix::thread::gettid();
        if let Err(err) = rustix::process::setpriority_process(Some(this_thread), 19) {
            tracing::debug!(work = self.name, error = %err, "start-up work at normal priority");
        }
    }

    /// Runs `read` behind the devices (see [`Self::run_behind_devices`]) on a thread that ends
    /// with it, and returns what it read, so that the caller's thread keeps its priority: for
    /// work whose reading may wait, and whose taking in may not (a commit waits for the lock
    /// it takes), or whose thread goes on serving.
    pub fn read_behind_devices<T: Send>(&self, read: impl FnOnce() -> T + Send) -> T {
        let read = std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    self.run_behind_devices();
                    read()
                })
                .join()
        });
        read.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    }
}

impl Drop for StartupWork {
    fn drop(&mut self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(at) = pending.iter().position(|name| *name == self.name) else {
            return;
        };
        pending.remove(at);
        let all_done = pending.is_empty();
        drop(pending);
        if all_done {
            // The start-up scans are done, and what they read is freed.
            crate::freed_memory::release();
        }
    }
}

impl Readiness {
    /// Marks start-up work as running until the returned value is dropped.
    pub fn begin_startup(&self, name: &'static str) -> StartupWork {
        self.startup
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(name);
        StartupWork {
            name,
            pending: self.startup.clone(),
            listening: self.listening.clone(),
        }
    }

    /// The server will listen later: start-up work put behind the devices waits until
    /// [`Self::now_listening`].
    pub fn listening_later(&self) {
        *self
            .listening
            .later
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = true;
    }

    /// The server listens: start-up work put behind the devices begins.
    pub fn now_listening(&self) {
        *self
            .listening
            .later
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = false;
        self.listening.opened.notify_all();
    }

    /// The start-up work still running.
    pub fn unfinished_startup(&self) -> Vec<&'static str> {
        self.startup
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Called after every store commit.
    pub fn commit_finished(&self, ok: bool) {
        self.store_failed.store(!ok, Ordering::Relaxed);
    }

    /// False after a failed commit, until a commit succeeds.
    pub fn store_writable(&self) -> bool {
        !self.store_failed.load(Ordering::Relaxed)
    }

    /// Claims the right to run the one probe write at a time; `None` while another runs.
    pub fn start_probe(&self) -> Option<ProbeClaim<'_>> {
        self.probing
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| ProbeClaim(self))
    }
}

/// Held while a probe write runs.
#[derive(Debug)]
pub struct ProbeClaim<'a>(&'a Readiness);

impl Drop for ProbeClaim<'_> {
    fn drop(&mut self) {
        self.0.probing.store(false, Ordering::Release);
    }
}

/// The bytes an unprivileged process may still write on the file system holding `folder`.
pub fn free_bytes(folder: &Path) -> Option<u64> {
    let stats = rustix::fs::statvfs(folder).ok()?;
    Some(stats.f_bavail.saturating_mul(stats.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_successful_commit_makes_the_store_writable_again() {
        let readiness = Readiness::default();
        assert!(readiness.store_writable());
        readiness.commit_finished(false);
        assert!(!readiness.store_writable());
        readiness.commit_finished(true);
        assert!(readiness.store_writable());
    }

    #[test]
    fn one_probe_at_a_time() {
        let readiness = Readiness::default();
        let first = readiness.start_probe();
        assert!(first.is_some());
        assert!(readiness.start_probe().is_none());
        drop(first);
        assert!(readiness.start_probe().is_some());
    }

    #[test]
    fn the_free_space_of_a_real_folder_is_known() {
        assert!(free_bytes(&std::env::temp_dir()).is_some());
        assert_eq!(free_bytes(Path::new("/no/such/folder")), None);
    }
}
