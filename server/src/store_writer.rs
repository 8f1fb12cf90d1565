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

use itinera_core::DocumentId;
use itinera_core::store::{DocumentStore, Durability, StoreError, WriteBatch, WriteOp};
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
    done: Option<oneshot::Sender<WriteResult>>,
    /// Commit this one durably whatever the configured durability (the shutdown flush).
    durable: bool,
    /// A document to fold into one snapshot after the commit.
    compact: Option<DocumentId>,
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
        if let Err(mpsc::SendError(job)) = self.jobs.send(Job {
            batch,
            done: Some(done),
            durable: false,
            compact: None,
        }) {
            if let Some(done) = job.done {
                let _ = done.send(Err(WriteError::Stopped));
            }
        }
        answer
    }

    /// Writes `batch` without waiting for it (sync states, which a crash may lose).
    pub fn write_detached(&self, batch: WriteBatch) {
        let _ = self.jobs.send(Job {
            batch,
            done: None,
            durable: false,
            compact: None,
        });
    }

    /// Folds a document's stored changes into one snapshot, after whatever is queued before it.
    /// Loading a document then reads one chunk instead of one per change.
    pub fn compact(&self, document: DocumentId) {
        let _ = self.jobs.send(Job {
            batch: WriteBatch::new(),
            done: None,
            durable: false,
            compact: Some(document),
        });
    }

    /// Writes `batch` with fsync even when the server runs with relaxed durability, which also
    /// makes every earlier relaxed commit durable: the flush at shutdown.
    pub fn write_durably(&self, batch: WriteBatch) -> oneshot::Receiver<WriteResult> {
        let (done, answer) = oneshot::channel();
        if let Err(mpsc::SendError(job)) = self.jobs.send(Job {
            batch,
            done: Some(done),
            durable: true,
            compact: None,
        }) {
            if let Some(done) = job.done {
                let _ = done.send(Err(WriteError::Stopped));
            }
        }
        answer
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
            append(&mut combined, std::mem::take(&mut job.batch));
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
            if let Some(done) = job.done {
                let _ = done.send(result.clone());
            }
            if let Some(document) = job.compact {
                if let Err(err) = store.compact(document) {
                    tracing::warn!(%document, error = %err, "compaction skipped");
                }
            }
        }
    }
}

/// Moves the writes of `from` to the end of `into`.
fn append(into: &mut WriteBatch, from: WriteBatch) {
    for op in from.into_operations() {
        push(into, op);
    }
}

/// Adds one write to the end of `into`.
pub fn push(into: &mut WriteBatch, op: WriteOp) {
    match op {
        WriteOp::AppendChanges { doc, changes, meta } => into.append_changes(doc, changes, meta),
        WriteOp::PutSnapshot {
            doc,
            snapshot,
            meta,
        } => into.put_snapshot(doc, snapshot, meta),
        WriteOp::PutSyncState {
            doc,
            storage_id,
            state,
        } => into.put_sync_state(doc, &storage_id, state),
        WriteOp::DeleteDocument { doc } => into.delete_document(doc),
        WriteOp::PutValue { key, value } => into.put_value(&key, value),
        WriteOp::DeleteValue { key } => into.delete_value(&key),
    };
}
