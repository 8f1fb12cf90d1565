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
//! Its commits leave out the compaction a store may do after a commit
//! ([`DocumentStore::commit_leaving_housekeeping`]): a compaction reads and writes everything
//! the file holds, half a second for a store of 100 MB under load, and done between two
//! commits of a busy server it held every acknowledgement queued behind it. Instead, once
//! nothing was written for [`IDLE`], the writer asks the store to give back the file's free
//! pages ([`DocumentStore::reclaim_free_pages`]): that costs nothing while nobody writes, and a
//! run of small commits leaves the file whole redb doublings larger than what it holds.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use itinera_core::store::{DocumentStore, Durability, QuietMoment, StoreError, WriteBatch};
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

/// How long the writer waits without a job before it gives back free pages: longer than the
/// gaps between commits of a busy store, short against the pauses of an idle one.
const IDLE: Duration = Duration::from_millis(200);

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
        Self::spawn_waiting(store, durability, max_batch, DETACHED_WAIT, metrics)
    }

    /// [`spawn`](Self::spawn), with writes nobody waits for waiting up to `detached_wait` for
    /// company.
    fn spawn_waiting(
        store: Arc<dyn DocumentStore>,
        durability: Durability,
        max_batch: usize,
        detached_wait: Duration,
        metrics: Arc<Metrics>,
    ) -> std::io::Result<(Self, JoinHandle<()>)> {
        let (jobs, receiver) = mpsc::channel();
        let limits = Limits {
            max_batch: max_batch.max(1),
            detached_wait,
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

/// How many jobs one commit takes, and how long writes nobody waits for wait for company.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_batch: usize,
    detached_wait: Duration,
}

fn run(
    store: &dyn DocumentStore,
    durability: Durability,
    limits: Limits,
    metrics: &Metrics,
    jobs: &Receiver<Job>,
) {
    let mut written = false;
    while let Some(first) = next_job(store, jobs, &mut written) {
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
        written = true;
    }
}

/// The next job, `None` once every handle is gone. After a commit (`written`), a wait of
/// [`IDLE`] without a job gives back the store's free pages, once, before waiting on.
fn next_job(store: &dyn DocumentStore, jobs: &Receiver<Job>, written: &mut bool) -> Option<Job> {
    if std::mem::take(written) {
        match jobs.recv_timeout(IDLE) {
            Ok(job) => return Some(job),
            Err(RecvTimeoutError::Disconnected) => return None,
            Err(RecvTimeoutError::Timeout) => reclaim(store),
        }
    }
    jobs.recv().ok()
}

fn reclaim(store: &dyn DocumentStore) {
    let started = Instant::now();
    match store.reclaim_free_pages(QuietMoment::Idle) {
        Ok(0) => {}
        Ok(bytes) => {
            let took_ms = started.elapsed().as_secs_f64() * 1000.0;
            tracing::debug!(
                bytes,
                took_ms,
                "gave the store file's free pages back while idle"
            );
        }
        Err(err) => tracing::warn!(error = %err, "giving back the store file's free pages failed"),
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

    /// A store that remembers how many writes each commit held.
    #[derive(Debug)]
    struct Counting {
        store: RedbStore,
        commits: Mutex<Vec<usize>>,
        /// Commits through `commit`, which may compact the file afterwards.
        compacting_commits: Mutex<usize>,
        /// How often the writer asked for free pages back.
        reclaims: Mutex<usize>,
    }

    impl Counting {
        fn new() -> Arc<Self> {
            Arc::new(Self {
                store: RedbStore::in_memory().expect("store"),
                commits: Mutex::new(Vec::new()),
                compacting_commits: Mutex::new(0),
                reclaims: Mutex::new(0),
            })
        }

        fn reclaims(&self) -> usize {
            *self.reclaims.lock().expect("lock")
        }

        /// Waits (up to ten seconds) until the writer asked for free pages back `count` times.
        fn await_reclaims(&self, count: usize) {
            let deadline = Instant::now() + Duration::from_secs(10);
            while self.reclaims() < count && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(self.reclaims(), count);
        }

        fn commits(&self) -> Vec<usize> {
            self.commits.lock().expect("lock").clone()
        }
    }

    impl DocumentStore for Counting {
        fn commit(&self, batch: WriteBatch, durability: Durability) -> StoreResult<()> {
            *self.compacting_commits.lock().expect("lock") += 1;
            self.commit_leaving_housekeeping(batch, durability)
        }
        fn commit_leaving_housekeeping(
            &self,
            batch: WriteBatch,
            durability: Durability,
        ) -> StoreResult<()> {
            self.commits.lock().expect("lock").push(batch.len());
            self.store.commit_leaving_housekeeping(batch, durability)
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
        fn reclaim_free_pages(&self, _: QuietMoment) -> StoreResult<u64> {
            *self.reclaims.lock().expect("lock") += 1;
            Ok(0)
        }
    }

    fn value(key: &str) -> WriteBatch {
        let mut batch = WriteBatch::new();
        batch.put_value(key, key.as_bytes());
        batch
    }

    /// A wait no test run comes near: only a waited write or a stop may end it.
    const LONG: Duration = Duration::from_secs(600);

    /// A writer on `store` whose detached writes wait [`LONG`] for a waited one.
    fn waiting_long(store: &Arc<Counting>) -> (StoreWriter, std::thread::JoinHandle<()>) {
        StoreWriter::spawn_waiting(
            store.clone(),
            Durability::Immediate,
            64,
            LONG,
            Arc::new(Metrics::default()),
        )
        .expect("writer")
    }

    #[test]
    fn the_writer_never_compacts_between_two_commits() {
        let store = Counting::new();
        let (writer, thread) = waiting_long(&store);
        for key in ["summary:a", "summary:b", "summary:c"] {
            writer
                .write(value(key))
                .blocking_recv()
                .expect("answered")
                .expect("committed");
        }
        drop(writer);
        thread.join().expect("writer thread");
        assert_eq!(store.commits(), [1, 1, 1]);
        assert_eq!(*store.compacting_commits.lock().expect("lock"), 0);
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

    #[test]
    fn an_idle_writer_asks_for_free_pages_back_once_after_each_run_of_commits() {
        let store = Counting::new();
        let (writer, thread) = waiting_long(&store);
        let write = |key: &str| {
            writer
                .write(value(key))
                .blocking_recv()
                .expect("answered")
                .expect("committed");
        };
        write("summary:a");
        store.await_reclaims(1);
        // Idle on: no second compaction of a file nothing was written to.
        std::thread::sleep(IDLE * 3);
        assert_eq!(store.reclaims(), 1);
        write("summary:b");
        store.await_reclaims(2);
        drop(writer);
        thread.join().expect("writer thread");
        assert_eq!(store.reclaims(), 2);
    }
}
