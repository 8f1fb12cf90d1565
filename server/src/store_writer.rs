//! The one thread that writes to the store, folding the writes of many documents into one
//! transaction (group commit) so that durable writes do not cost one fsync each.
//!
//! Doc actors hand it a [`WriteBatch`] and wait for the answer before they acknowledge a change
//! to anyone. While one commit runs, new batches queue; the next commit takes all of them (up to
//! `max_batch`), so under load many documents share each fsync.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::thread::JoinHandle;
use std::time::Instant;

use itinera_core::store::{DocumentStore, Durability, StoreError, WriteBatch};
use tokio::sync::oneshot;

use crate::metrics::Metrics;

/// Why a write did not become durable.
#[derive(Debug, Clone, thiserror::Error)]
pub enum WriteError {
    /// The commit failed (a full disk, say); nothing of it was written.
    #[error(transparent)]
    Store(Arc<StoreError>),
    /// The writer has stopped: the server is shutting down.
    #[error("the store writer has stopped")]
    Stopped,
}

/// The outcome of a write, shared by every batch folded into the same commit.
pub type WriteResult = Result<(), WriteError>;

struct Job {
    batch: WriteBatch,
    done: Done,
    /// Commit this one durably whatever the configured durability (the shutdown flush, users
    /// and tokens).
    durable: bool,
}

/// Who waits for a job's outcome.
enum Done {
    Nobody,
    /// An actor or a future.
    Async(oneshot::Sender<WriteResult>),
    /// A thread that blocks until the commit (the command-line tools, blocking HTTP work).
    Blocking(mpsc::SyncSender<WriteResult>),
}

impl Done {
    fn send(self, result: WriteResult) {
        match self {
            Done::Nobody => {}
            Done::Async(done) => {
                let _ = done.send(result);
            }
            Done::Blocking(done) => {
                let _ = done.send(result);
            }
        }
    }
}

/// Makes a batch durable and returns once it is: the store writer of a running server, or the
/// store itself where no server runs (the command-line tools). Users and tokens are written
/// through one, so that every write of a running server goes through its writer.
pub trait DurableWrites: Send + Sync {
    /// Commits `batch` with fsync and returns once it is durable (or failed).
    fn write_and_wait(&self, batch: WriteBatch) -> WriteResult;
}

/// The store itself, for tools that run without a server.
#[derive(Clone)]
pub struct DirectWrites(pub Arc<dyn DocumentStore>);

impl std::fmt::Debug for DirectWrites {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DirectWrites")
    }
}

impl DurableWrites for DirectWrites {
    fn write_and_wait(&self, batch: WriteBatch) -> WriteResult {
        self.0
            .commit(batch, Durability::Immediate)
            .map_err(|err| WriteError::Store(Arc::new(err)))
    }
}

impl DurableWrites for StoreWriter {
    /// Blocks the calling thread until the writer has committed: call it off the async workers
    /// (`web::block`), never from an actor.
    fn write_and_wait(&self, batch: WriteBatch) -> WriteResult {
        let (done, answer) = mpsc::sync_channel(1);
        self.send(Job {
            batch,
            done: Done::Blocking(done),
            durable: true,
        });
        answer.recv().unwrap_or(Err(WriteError::Stopped))
    }
}

/// A handle to the store writer thread. Cloning it is cheap; the thread stops when every handle
/// is dropped, after committing what it was given.
#[derive(Debug, Clone)]
pub struct StoreWriter {
    jobs: Sender<Job>,
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("writes", &self.batch.len())
            .finish()
    }
}

impl StoreWriter {
    /// Starts the writer thread.
    pub fn spawn(
        store: Arc<dyn DocumentStore>,
        durability: Durability,
        max_batch: usize,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (jobs, receiver) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("itinera-store-writer".into())
            .spawn(move || run(&*store, durability, max_batch.max(1), &metrics, &receiver))?;
        Ok((Self { jobs }, thread))
    }

    /// Writes `batch`; the answer comes once it is committed with the configured durability.
    pub fn write(&self, batch: WriteBatch) -> oneshot::Receiver<WriteResult> {
        let (done, answer) = oneshot::channel();
        self.send(Job {
            batch,
            done: Done::Async(done),
            durable: false,
        });
        answer
    }

    /// Writes `batch` without waiting for it (sync states, which a crash may lose; snapshots of
    /// what is already durable).
    pub fn write_detached(&self, batch: WriteBatch) {
        self.send(Job {
            batch,
            done: Done::Nobody,
            durable: false,
        });
    }

    /// Writes `batch` with fsync even when the server runs with relaxed durability, which also
    /// makes every earlier relaxed commit durable: the flush at shutdown.
    pub fn write_durably(&self, batch: WriteBatch) -> oneshot::Receiver<WriteResult> {
        let (done, answer) = oneshot::channel();
        self.send(Job {
            batch,
            done: Done::Async(done),
            durable: true,
        });
        answer
    }

    fn send(&self, job: Job) {
        if let Err(mpsc::SendError(job)) = self.jobs.send(job) {
            job.done.send(Err(WriteError::Stopped));
        }
    }
}

fn run(
    store: &dyn DocumentStore,
    durability: Durability,
    max_batch: usize,
    metrics: &Metrics,
    jobs: &Receiver<Job>,
) {
    while let Ok(first) = jobs.recv() {
        let mut taken = vec![first];
        while taken.len() < max_batch {
            match jobs.try_recv() {
                Ok(job) => taken.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        let durability = if taken.iter().any(|job| job.durable) {
            Durability::Immediate
        } else {
            durability
        };
        let mut combined = WriteBatch::new();
        for job in &mut taken {
            combined.extend(std::mem::take(&mut job.batch));
        }
        let writes = combined.len();
        let started = Instant::now();
        let result = if combined.is_empty() {
            Ok(())
        } else {
            store.commit(combined, durability)
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        metrics.commit(writes, micros, result.is_ok());
        if let Err(err) = &result {
            tracing::error!(error = %err, writes, "store commit failed; the changes stay in memory and are retried");
        }
        let result = result.map_err(|err| WriteError::Store(Arc::new(err)));
        for job in taken {
            job.done.send(result.clone());
        }
    }
}
