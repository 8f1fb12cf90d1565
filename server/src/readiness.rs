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
use std::sync::{Arc, Mutex, PoisonError};

/// What `/readyz` reads.
#[derive(Debug, Default)]
pub struct Readiness {
    store_failed: AtomicBool,
    probing: AtomicBool,
    startup: Arc<Mutex<Vec<&'static str>>>,
}

/// A piece of start-up work; the server is unready until every one is dropped.
#[derive(Debug)]
pub struct StartupWork {
    name: &'static str,
    pending: Arc<Mutex<Vec<&'static str>>>,
}

impl Drop for StartupWork {
    fn drop(&mut self) {
        let mut pending = self.pending.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = pending.iter().position(|name| *name == self.name) {
            pending.remove(at);
            if pending.is_empty() {
                // The start-up scans are done, and what they read is freed.
                crate::freed_memory::release();
            }
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
        }
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
