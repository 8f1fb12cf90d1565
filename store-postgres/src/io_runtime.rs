//! The store's own tokio runtime, and how a synchronous caller waits for work done on it.
//!
//! `DocumentStore` is synchronous, and its callers include threads that drive a runtime of
//! their own (actix's workers): blocking on a runtime from there panics. So the store never
//! enters a runtime on the caller's thread: the work is spawned here and the caller waits on a
//! plain channel, which blocks only its own thread, as reading the redb file would.

use std::future::Future;
use std::sync::mpsc;

use tokio::runtime::{Builder, Handle, Runtime};

use crate::error::PgError;

/// Threads that drive the connections; the work on them is waiting on sockets, so two keep
/// up with any number of callers.
const WORKER_THREADS: usize = 2;

#[derive(Debug)]
pub(crate) struct IoRuntime {
    /// Taken when dropped (see `Drop`).
    runtime: Option<Runtime>,
    handle: Handle,
}

impl IoRuntime {
    pub(crate) fn new() -> Result<Self, PgError> {
        let runtime = Builder::new_multi_thread()
            .worker_threads(WORKER_THREADS)
            .thread_name("itinera-postgres")
            .enable_io()
            .enable_time()
            .build()
            .map_err(PgError::Runtime)?;
        let handle = runtime.handle().clone();
        Ok(Self {
            runtime: Some(runtime),
            handle,
        })
    }

    /// Runs `work` on the store's runtime and waits for its outcome on the calling thread.
    pub(crate) fn run<T: Send + 'static>(
        &self,
        work: impl Future<Output = Result<T, PgError>> + Send + 'static,
    ) -> Result<T, PgError> {
        let (done, outcome) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            // The caller may be gone; nobody else wants the outcome.
            let _ = done.send(work.await);
        });
        // The sender is dropped unanswered if the runtime shuts down or the work panics.
        outcome.recv().map_err(|_| PgError::Stopped)?
    }
}

impl IoRuntime {
    /// Runs `work` in the background on the store's runtime, until it ends or the store is
    /// dropped.
    pub(crate) fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(work);
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        // The last handle on the store may be dropped inside an async context (the server's
        // shutdown), where a runtime's blocking drop panics.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
