//! The one thread that writes to the store, folding the writes of many documents into one
//! transaction (group commit) so that durable writes do not cost one fsync each.
//!
//! Doc actors hand it a [`WriteBatch`] and wait for the answer before they acknowledge a change
//! to anyone. While one commit runs, new batches queue; the next commit takes all of them (up to
//! `max_batch`), so under load many documents share each fsync.
//!
//! Writes nobody waits for (list rows, sync states) wait up to [`DETACHED_WAIT`] for a write
//! somebody waits for and share its commit: alone, each would cost a commit of its own (an
//! fsync, and a copy of every page it touches, which the file gives back only a commit later).
//!
//! The store's housekeeping that holds it for long (redb giving back its free pages: a read
//! and a write of everything it holds, half a second for a store of 50 MB under load) waits
//! until nothing was written for [`HOUSEKEEPING_QUIET`]: done between two commits of a busy
//! server, it made every acknowledgement queued behind it wait that long.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

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

/// How long writes nobody waits for wait for company before they are committed alone: a
/// commit's worth of time, short against how long such a write may be lost to a crash anyway.
const DETACHED_WAIT: Duration = Duration::from_millis(20);

/// How long the writer must have had nothing to write before the store's housekeeping runs.
const HOUSEKEEPING_QUIET: Duration = Duration::from_millis(200);

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
        let waits = (DETACHED_WAIT, HOUSEKEEPING_QUIET);
        Self::spawn_waiting(store, durability, max_batch, waits, metrics)
    }

    /// [`spawn`](Self::spawn), with writes nobody waits for waiting up to `waits.0` for
    /// company, and the store's housekeeping after `waits.1` without a write.
    fn spawn_waiting(
        store: Arc<dyn DocumentStore>,
        durability: Durability,
        max_batch: usize,
        (detached_wait, housekeeping_quiet): (Duration, Duration),
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (jobs, receiver) = mpsc::channel();
        let limits = Limits {
            max_batch: max_batch.max(1),
            detached_wait,
            housekeeping_quiet,
        };
        let thread = std::thread::Builder::new()
            .name("itinera-store-writer".into())
            .spawn(move || run(&*store, durability, limits, &metrics, &receiver))?;
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

/// How many jobs one commit takes, how long writes nobody waits for wait for company, and how
/// long a quiet spell must last before the store's housekeeping.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_batch: usize,
    detached_wait: Duration,
    housekeeping_quiet: Duration,
}

fn run(
    store: &dyn DocumentStore,
    durability: Durability,
    limits: Limits,
    metrics: &Metrics,
    jobs: &Receiver<Job>,
) {
    while let Some(first) = next_job(store, jobs, limits) {
        let mut taken = gather(first, jobs, limits);
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
            store.commit_leaving_housekeeping(combined, durability)
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

/// The next job; if none comes for [`Limits::housekeeping_quiet`], the store does its
/// housekeeping first. `None` once every handle is gone.
fn next_job(store: &dyn DocumentStore, jobs: &Receiver<Job>, limits: Limits) -> Option<Job> {
    match jobs.recv_timeout(limits.housekeeping_quiet) {
        Ok(job) => Some(job),
        Err(mpsc::RecvTimeoutError::Disconnected) => None,
        Err(mpsc::RecvTimeoutError::Timeout) => {
            store.housekeep();
            jobs.recv().ok()
        }
    }
}

/// The jobs of the next commit: `first`, then whatever is queued, up to `max_batch`. While
/// nobody waits for any of them, it waits up to `detached_wait` for a job somebody waits for;
/// a writer that is being stopped (every handle dropped) ends the wait at once.
fn gather(first: Job, jobs: &Receiver<Job>, limits: Limits) -> Vec<Job> {
    let deadline = Instant::now() + limits.detached_wait;
    let mut all_detached = first.detached();
    let mut taken = vec![first];
    while taken.len() < limits.max_batch {
        // Either error (nothing came, or every handle is gone) ends the gathering.
        let next = if all_detached {
            jobs.recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .ok()
        } else {
            jobs.try_recv().ok()
        };
        let Some(job) = next else {
            break;
        };
        all_detached &= job.detached();
        taken.push(job);
    }
    taken
}

impl Job {
    /// Nobody waits for it, and it asks for no more durability than the configured one.
    fn detached(&self) -> bool {
        matches!(self.done, Done::Nobody) && !self.durable
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use itinera_core::DocumentId;
    use itinera_core::store::{
        CompactionReport, DocumentChange, DocumentMeta, RedbStore, StoreResult,
    };

    use super::*;

    /// A store that remembers how many writes each commit held, and what else it was asked.
    #[derive(Debug)]
    struct Counting {
        store: RedbStore,
        commits: Mutex<Vec<usize>>,
        /// `commit`, `commit_leaving_housekeeping` and `housekeep`, in the order called.
        calls: Mutex<Vec<&'static str>>,
    }

    impl Counting {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                store: RedbStore::in_memory().expect("store"),
                commits: Mutex::new(Vec::new()),
                calls: Mutex::new(Vec::new()),
            })
        }

        fn commits(&self) -> Vec<usize> {
            self.commits.lock().expect("lock").clone()
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().expect("lock").clone()
        }

        fn called(&self, call: &'static str) {
            self.calls.lock().expect("lock").push(call);
        }
    }

    impl DocumentStore for Counting {
        fn commit(&self, batch: WriteBatch, durability: Durability) -> StoreResult<()> {
            self.called("commit");
            self.commits.lock().expect("lock").push(batch.len());
            self.store.commit(batch, durability)
        }
        fn commit_leaving_housekeeping(
            &self,
            batch: WriteBatch,
            durability: Durability,
        ) -> StoreResult<()> {
            self.called("commit_leaving_housekeeping");
            self.commits.lock().expect("lock").push(batch.len());
            self.store.commit_leaving_housekeeping(batch, durability)
        }
        fn housekeep(&self) {
            self.called("housekeep");
            self.store.housekeep();
        }
        fn load(&self, doc: DocumentId) -> StoreResult<Option<Vec<u8>>> {
            self.store.load(doc)
        }
        fn meta(&self, doc: DocumentId) -> StoreResult<Option<DocumentMeta>> {
            self.store.meta(doc)
        }
        fn documents(&self) -> StoreResult<Vec<(DocumentId, DocumentMeta)>> {
            self.store.documents()
        }
        fn compact(&self, doc: DocumentId) -> StoreResult<CompactionReport> {
            self.store.compact(doc)
        }
        fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<DocumentChange>> {
            self.store.changes_since(after, limit)
        }
        fn sync_state(&self, doc: DocumentId, storage_id: &str) -> StoreResult<Option<Vec<u8>>> {
            self.store.sync_state(doc, storage_id)
        }
        fn value(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
            self.store.value(key)
        }
        fn values_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
            self.store.values_with_prefix(prefix)
        }
    }

    fn value(key: &str) -> WriteBatch {
        let mut batch = WriteBatch::new();
        batch.put_value(key, key.as_bytes());
        batch
    }

    /// A wait no test run comes near: only a waited write or a stop may end it.
    const LONG: Duration = Duration::from_secs(600);

    /// A writer on `store` whose detached writes wait [`LONG`] for a waited one, and whose
    /// store's housekeeping waits for `quiet` without a write.
    fn writer(
        store: &Arc<Counting>,
        quiet: Duration,
    ) -> (StoreWriter, std::thread::JoinHandle<()>) {
        StoreWriter::spawn_waiting(
            store.clone(),
            Durability::Immediate,
            64,
            (LONG, quiet),
            Arc::new(Metrics::default()),
        )
        .expect("writer")
    }

    /// A writer whose detached writes wait [`LONG`] for a waited one (and no housekeeping).
    fn waiting_long(store: &Arc<Counting>) -> (StoreWriter, std::thread::JoinHandle<()>) {
        writer(store, LONG)
    }

    fn write_and_wait(writer: &StoreWriter, key: &str) {
        writer
            .write(value(key))
            .blocking_recv()
            .expect("answered")
            .expect("committed");
    }

    #[test]
    fn commits_leave_the_housekeeping_for_a_quiet_spell() {
        let store = Counting::new();
        let (writer, thread) = waiting_long(&store);
        for key in ["a", "b", "c"] {
            write_and_wait(&writer, key);
        }
        drop(writer);
        thread.join().expect("writer thread");
        // A commit that compacted could hold every write queued behind it for as long as a
        // read and a write of the whole store.
        assert_eq!(store.calls(), ["commit_leaving_housekeeping"; 3]);
    }

    #[test]
    fn the_store_keeps_house_once_nothing_was_written_for_a_while() {
        let store = Counting::new();
        let (writer, thread) = writer(&store, Duration::from_millis(1));
        write_and_wait(&writer, "a");
        let deadline = Instant::now() + Duration::from_secs(60);
        while !store.calls().contains(&"housekeep") && Instant::now() < deadline {
            std::thread::yield_now();
        }
        write_and_wait(&writer, "b");
        drop(writer);
        thread.join().expect("writer thread");
        let calls = store.calls();
        let housekept = calls.iter().position(|call| *call == "housekeep");
        let second = calls
            .iter()
            .rposition(|call| *call == "commit_leaving_housekeeping");
        assert!(
            housekept.is_some() && housekept < second,
            "the quiet spell after the first write brings housekeeping: {calls:?}"
        );
    }

    #[test]
    fn a_write_nobody_waits_for_shares_the_next_waited_commit() {
        let store = Counting::new();
        let (writer, thread) = waiting_long(&store);
        writer.write_detached(value("list-row:a"));
        writer
            .write(value("summary:a"))
            .blocking_recv()
            .expect("answered")
            .expect("committed");
        assert_eq!(store.commits(), [2]);
        drop(writer);
        thread.join().expect("writer thread");
        assert_eq!(
            store.value("list-row:a").expect("read"),
            Some(b"list-row:a".to_vec())
        );
    }

    #[test]
    fn a_write_nobody_waits_for_is_committed_when_the_writer_stops() {
        let store = Counting::new();
        let (writer, thread) = waiting_long(&store);
        writer.write_detached(value("sync:a"));
        drop(writer);
        thread.join().expect("writer thread");
        assert_eq!(store.commits(), [1]);
        assert_eq!(
            store.value("sync:a").expect("read"),
            Some(b"sync:a".to_vec())
        );
    }
}
