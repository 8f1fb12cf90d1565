use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};
use std::time::Instant;

use redb::{
    Builder, Database, DatabaseError, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    StorageBackend, Table, WriteTransaction,
};

use crate::DocumentId;
use crate::store::error::During;
use crate::store::free_pages::{
    Occasion, PAUSE_SHARE_DIVISOR, SERVING_GROWTH, checked_length, compact_if_worth_it,
    file_length, grown_enough,
};
use crate::store::layout;
use crate::store::shared_backend::SharedBackend;
use crate::store::tables::{
    CHANGES, CHUNK_KEY_LEN, CHUNKS, METAS, SYNC_STATES, VALUES, chunk_bounds, chunk_key,
    chunk_sequence, meta_row, split_meta_row, sync_state_bounds, sync_state_key,
};
use crate::store::{
    CompactionReport, DocumentChange, DocumentMeta, DocumentStore, Durability, QuietMoment,
    StoreError, StoreOperation, StoreResult, WriteBatch, WriteOp,
};

/// The embedded document store: one redb file (or any redb storage backend).
///
/// Safe to share between threads: reads run concurrently, commits one at a time (redb has a
/// single writer), and a commit never blocks readers.
///
/// After an I/O failure redb refuses every further operation on its handle; the store then
/// drops the handle and opens the same storage again (redb repairs it to its last commit), so
/// that the store recovers by itself once the disk has room again. If that open fails, each
/// later call tries again and reports the open's error until it succeeds.
#[derive(Debug)]
pub struct RedbStore {
    source: Source,
    handle: RwLock<Handle>,
    /// The file's length when its free pages were last counted (see
    /// [`free_pages`](crate::store::free_pages)), so that a commit knows without a read
    /// whether to count again.
    checked_length: AtomicU64,
    /// No compaction while serving (or idle) before this: the pauses stay a small share of the
    /// time.
    next_compaction: Mutex<Option<Instant>>,
}

/// Where the database lives, kept to open it again after a failure.
#[derive(Debug)]
enum Source {
    /// A file, with the most memory redb may keep of its pages (redb's default when `None`).
    File {
        path: PathBuf,
        cache_bytes: Option<usize>,
    },
    Backend(SharedBackend),
}

#[derive(Debug)]
struct Handle {
    /// `None` after a failure whose reopen failed too.
    database: Option<Database>,
    /// Counts opens, so that of several threads that saw the same failure only the first
    /// reopens.
    generation: u64,
}

/// How often [`DocumentStore::compact`] retries when the document was replaced (not merely
/// appended to) while its snapshot was being built.
const COMPACTION_ATTEMPTS: usize = 3;

impl RedbStore {
    /// Opens the store file at `path`, creating it and its parent folders if missing.
    pub fn open(path: impl AsRef<Path>) -> StoreResult<Self> {
        Self::open_file(path.as_ref(), None)
    }

    /// Opens (or creates) the store at `path` keeping at most `cache_bytes` of its pages in
    /// memory: for a phone, where memory is short and the server holds the rest anyway.
    pub fn open_with_cache(path: impl AsRef<Path>, cache_bytes: usize) -> StoreResult<Self> {
        Self::open_file(path.as_ref(), Some(cache_bytes))
    }

    fn open_file(path: &Path, cache_bytes: Option<usize>) -> StoreResult<Self> {
        let path = path.to_path_buf();
        if let Some(folder) = path
            .parent()
            .filter(|folder| !folder.as_os_str().is_empty())
        {
            std::fs::create_dir_all(folder).map_err(|source| StoreError::CreateFolder {
                path: folder.to_path_buf(),
                source,
            })?;
        }
        Self::from_source(Source::File { path, cache_bytes })
    }

    /// A store that lives in memory only, for tests and tools.
    pub fn in_memory() -> StoreResult<Self> {
        Self::with_backend(redb::backends::InMemoryBackend::new())
    }

    /// A store on any redb storage backend, for example one that injects failures in tests.
    ///
    /// The store keeps the backend for its whole life and may open the database on it again
    /// after an I/O failure, so the backend must keep its contents across opens.
    pub fn with_backend(backend: impl StorageBackend) -> StoreResult<Self> {
        Self::from_source(Source::Backend(SharedBackend(Arc::new(backend))))
    }

    /// Closes the store, reporting what dropping it would ignore: a clean close spares the next
    /// open a repair pass and makes relaxed commits durable.
    pub fn close(self) -> StoreResult<()> {
        let handle = self
            .handle
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        match handle.database {
            Some(database) => database
                .close()
                .map_err(|error| StoreError::from_redb(StoreOperation::Close, error)),
            None => Ok(()),
        }
    }

    fn from_source(source: Source) -> StoreResult<Self> {
        let database = open_database(&source)?;
        let checked = checked_length(&database).unwrap_or(0);
        Ok(Self {
            checked_length: AtomicU64::new(checked),
            next_compaction: Mutex::new(None),
            source,
            handle: RwLock::new(Handle {
                database: Some(database),
                generation: 0,
            }),
        })
    }

    /// Runs `work` on an open database; after a failure that leaves redb's handle unusable,
    /// opens the storage again for the next call.
    pub(crate) fn with_database<T>(
        &self,
        work: impl FnOnce(&Database) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let (result, generation) = {
            let handle = self.ready_handle()?;
            let Some(database) = handle.database.as_ref() else {
                // ready_handle only returns a handle with a database.
                return Err(StoreError::from_redb(
                    StoreOperation::Open,
                    redb::Error::DatabaseClosed,
                ));
            };
            (work(database), handle.generation)
        };
        if result.as_ref().is_err_and(StoreError::needs_reopen) {
            self.reopen(generation);
        }
        result
    }

    /// A read guard on a handle that holds a database, opening one if a failed reopen left
    /// none.
    fn ready_handle(&self) -> StoreResult<RwLockReadGuard<'_, Handle>> {
        loop {
            let handle = self.handle.read().unwrap_or_else(PoisonError::into_inner);
            if handle.database.is_some() {
                return Ok(handle);
            }
            drop(handle);
            let mut handle = self.handle.write().unwrap_or_else(PoisonError::into_inner);
            if handle.database.is_none() {
                handle.database = Some(open_database(&self.source)?);
                handle.generation += 1;
            }
        }
    }

    /// Gives back the file's free pages once they are most of it, between two commits: see
    /// [`Occasion::Busy`]. Every reader and the next commit wait meanwhile (redb
    /// compacts only a database nobody uses); the file's length, read after each commit, keeps
    /// the count of free pages itself to one per half again (and [`SERVING_GROWTH`]) the file
    /// grew.
    fn compact_while_serving(&self) {
        let Source::File { path, .. } = &self.source else {
            return;
        };
        let length = file_length(path);
        let checked = self.checked_length.load(Ordering::Relaxed);
        if !grown_enough(length, checked) || length < checked.saturating_add(SERVING_GROWTH) {
            return;
        }
        self.paced_compaction(path, Occasion::Busy);
    }

    /// Compacts for `occasion` unless the last compaction's pause asks to wait (a stopping
    /// store never does); returns the bytes given back.
    fn paced_compaction(&self, path: &Path, occasion: Occasion) -> u64 {
        let mut next = self
            .next_compaction
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let started = Instant::now();
        if occasion != Occasion::Stopping && next.is_some_and(|next| started < next) {
            return 0;
        }
        let before = file_length(path);
        let mut handle = self.handle.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(database) = handle.database.as_mut() {
            let checked = compact_if_worth_it(database, path, occasion);
            self.checked_length.store(checked, Ordering::Relaxed);
        }
        drop(handle);
        let took = started.elapsed();
        *next = Some(started + took + took.saturating_mul(PAUSE_SHARE_DIVISOR));
        before.saturating_sub(file_length(path))
    }

    fn reopen(&self, failed_generation: u64) {
        let mut handle = self.handle.write().unwrap_or_else(PoisonError::into_inner);
        if handle.generation != failed_generation {
            return;
        }
        // Dropping the broken handle closes it (its close error is the failure already
        // reported) and releases the file lock before the new open takes it.
        handle.database = None;
        handle.generation += 1;
        // On failure the handle stays empty and the next call retries and reports the error.
        handle.database = open_database(&self.source).ok();
    }
}

/// Makes the store file readable by its owner only (it holds password and token hashes and
/// every customer's records): created so, and an older file's mode tightened.
#[cfg(unix)]
fn keep_private(path: &std::path::Path) -> StoreResult<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |error: std::io::Error| StoreError::backend(StoreOperation::Open, Box::new(error));
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    let mode = file.metadata().map_err(io)?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn keep_private(_: &std::path::Path) -> StoreResult<()> {
    Ok(())
}

fn open_database(source: &Source) -> StoreResult<Database> {
    if let Source::File { path, .. } = source {
        keep_private(path)?;
    }
    let opened = match source {
        Source::File { path, cache_bytes } => {
            let mut builder = Builder::new();
            if let Some(bytes) = cache_bytes {
                builder.set_cache_size(*bytes);
            }
            builder.create(path).map_err(|error| match error {
                DatabaseError::DatabaseAlreadyOpen => {
                    StoreError::AlreadyOpen { path: path.clone() }
                }
                error => StoreError::from_redb(StoreOperation::Open, error),
            })
        }
        Source::Backend(backend) => Builder::new()
            .create_with_backend(backend.clone())
            .map_err(|error| StoreError::from_redb(StoreOperation::Open, error)),
    };
    let mut database = opened?;
    layout::prepare(&database)?;
    if let Source::File { path, .. } = source {
        compact_if_worth_it(&mut database, path, Occasion::Busy);
    }
    Ok(database)
}

impl DocumentStore for RedbStore {
    fn backup(&self, out: &mut dyn std::io::Write) -> StoreResult<crate::store::BackupReport> {
        RedbStore::backup(self, out)
    }

    fn close_cleanly(&self) -> StoreResult<()> {
        // Taken out under the write lock: no call is using it meanwhile, and the next call
        // opens the file again (see `ready_handle`).
        let database = self
            .handle
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .database
            .take();
        match database {
            Some(database) => database
                .close()
                .map_err(|error| StoreError::from_redb(StoreOperation::Close, error)),
            None => Ok(()),
        }
    }

    /// See [`Occasion::Idle`]; a store that is not a file (or did not grow since its last
    /// count) gives back nothing.
    fn reclaim_free_pages(&self, moment: QuietMoment) -> StoreResult<u64> {
        let Source::File { path, .. } = &self.source else {
            return Ok(0);
        };
        let occasion = match moment {
            QuietMoment::Idle => Occasion::Idle,
            QuietMoment::Stopping => Occasion::Stopping,
        };
        // Without the lock first: a file that did not grow since its last count is left alone.
        let checked = self.checked_length.load(Ordering::Relaxed);
        if !occasion.counts(file_length(path), checked) {
            return Ok(0);
        }
        Ok(self.paced_compaction(path, occasion))
    }

    fn commit(&self, batch: WriteBatch, durability: Durability) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.commit_leaving_housekeeping(batch, durability)?;
        self.compact_while_serving();
        Ok(())
    }

    fn commit_leaving_housekeeping(
        &self,
        batch: WriteBatch,
        durability: Durability,
    ) -> StoreResult<()> {
        if batch.is_empty() {
            return Ok(());
        }
        self.with_database(|database| {
            let mut transaction = database.begin_write().during(StoreOperation::Commit)?;
            transaction
                .set_durability(match durability {
                    Durability::Immediate => redb::Durability::Immediate,
                    Durability::Relaxed => redb::Durability::None,
                })
                .during(StoreOperation::Commit)?;
            {
                let mut tables = WriteTables::open(&transaction, StoreOperation::Commit)?;
                for operation in batch.into_operations() {
                    tables.apply(operation)?;
                }
            }
            // An error above drops the transaction, which rolls it back.
            transaction.commit().during(StoreOperation::Commit)
        })
    }

    fn load(&self, doc: DocumentId) -> StoreResult<Option<Vec<u8>>> {
        self.with_database(|database| {
            let read = database.begin_read().during(StoreOperation::Load)?;
            let chunks = read.open_table(CHUNKS).during(StoreOperation::Load)?;
            let mut bytes = Vec::new();
            let mut found = false;
            let (start, end) = chunk_bounds(doc, 0, u64::MAX);
            for entry in chunks
                .range::<&[u8; CHUNK_KEY_LEN]>(&start..=&end)
                .during(StoreOperation::Load)?
            {
                let (_, chunk) = entry.during(StoreOperation::Load)?;
                bytes.extend_from_slice(chunk.value());
                found = true;
            }
            Ok(found.then_some(bytes))
        })
    }

    fn meta(&self, doc: DocumentId) -> StoreResult<Option<DocumentMeta>> {
        self.with_database(|database| {
            let read = database.begin_read().during(StoreOperation::ReadMeta)?;
            let metas = read.open_table(METAS).during(StoreOperation::ReadMeta)?;
            read_meta(&metas, doc, StoreOperation::ReadMeta)
        })
    }

    fn documents(&self) -> StoreResult<Vec<(DocumentId, DocumentMeta)>> {
        self.with_database(|database| {
            let read = database
                .begin_read()
                .during(StoreOperation::ListDocuments)?;
            let metas = read
                .open_table(METAS)
                .during(StoreOperation::ListDocuments)?;
            let mut documents = Vec::with_capacity(
                usize::try_from(metas.len().during(StoreOperation::ListDocuments)?).unwrap_or(0),
            );
            for entry in metas.iter().during(StoreOperation::ListDocuments)? {
                let (key, bytes) = entry.during(StoreOperation::ListDocuments)?;
                let doc = DocumentId::from_bytes(*key.value());
                let (_, meta) = decode_meta_row(doc, bytes.value())?;
                documents.push((doc, meta));
            }
            Ok(documents)
        })
    }

    fn compact(&self, doc: DocumentId) -> StoreResult<CompactionReport> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = self.with_database(|database| compact_once(database, doc))?;
            match outcome {
                Compaction::Done(report) => return Ok(report),
                Compaction::Replaced if attempts < COMPACTION_ATTEMPTS => continue,
                Compaction::Replaced => return Err(StoreError::CompactionConflict { doc }),
            }
        }
    }

    fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<DocumentChange>> {
        let during = StoreOperation::ListChanges;
        self.with_database(|database| {
            let read = database.begin_read().during(during)?;
            let changes = read.open_table(CHANGES).during(during)?;
            let metas = read.open_table(METAS).during(during)?;
            let mut found = Vec::new();
            for entry in changes
                .range(after.saturating_add(1)..)
                .during(during)?
                .take(limit)
            {
                let (sequence, document) = entry.during(during)?;
                let document = DocumentId::from_bytes(*document.value());
                // Written in the same transaction as the entry: always there.
                if let Some(meta) = read_meta(&metas, document, during)? {
                    found.push(DocumentChange {
                        sequence: sequence.value(),
                        document,
                        meta,
                    });
                }
            }
            Ok(found)
        })
    }

    fn sync_state(&self, doc: DocumentId, storage_id: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with_database(|database| {
            let read = database
                .begin_read()
                .during(StoreOperation::ReadSyncState)?;
            let states = read
                .open_table(SYNC_STATES)
                .during(StoreOperation::ReadSyncState)?;
            let state = states
                .get(sync_state_key(doc, storage_id).as_slice())
                .during(StoreOperation::ReadSyncState)?;
            Ok(state.map(|state| state.value().to_vec()))
        })
    }

    fn value(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.with_database(|database| {
            let read = database.begin_read().during(StoreOperation::ReadValue)?;
            let values = read.open_table(VALUES).during(StoreOperation::ReadValue)?;
            let value = values.get(key).during(StoreOperation::ReadValue)?;
            Ok(value.map(|value| value.value().to_vec()))
        })
    }

    fn values_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, Vec<u8>)>> {
        self.with_database(|database| {
            let read = database.begin_read().during(StoreOperation::ListValues)?;
            let values = read.open_table(VALUES).during(StoreOperation::ListValues)?;
            let mut found = Vec::new();
            // Keys order as their bytes, so the keys with the prefix follow it contiguously.
            for entry in values.range(prefix..).during(StoreOperation::ListValues)? {
                let (key, value) = entry.during(StoreOperation::ListValues)?;
                if !key.value().starts_with(prefix) {
                    break;
                }
                found.push((key.value().to_owned(), value.value().to_vec()));
            }
            Ok(found)
        })
    }
}

/// The tables a commit writes, opened once per transaction.
struct WriteTables<'txn> {
    operation: StoreOperation,
    chunks: Table<'txn, &'static [u8; CHUNK_KEY_LEN], &'static [u8]>,
    metas: Table<'txn, &'static [u8; 16], &'static [u8]>,
    sync_states: Table<'txn, &'static [u8], &'static [u8]>,
    values: Table<'txn, &'static str, &'static [u8]>,
    changes: Table<'txn, u64, &'static [u8; 16]>,
}

impl<'txn> WriteTables<'txn> {
    fn open(transaction: &'txn WriteTransaction, operation: StoreOperation) -> StoreResult<Self> {
        Ok(Self {
            operation,
            chunks: transaction.open_table(CHUNKS).during(operation)?,
            metas: transaction.open_table(METAS).during(operation)?,
            sync_states: transaction.open_table(SYNC_STATES).during(operation)?,
            values: transaction.open_table(VALUES).during(operation)?,
            changes: transaction.open_table(CHANGES).during(operation)?,
        })
    }

    fn apply(&mut self, operation: WriteOp) -> StoreResult<()> {
        let during = self.operation;
        match operation {
            WriteOp::AppendChanges { doc, changes, meta } => {
                let previous = read_meta(&self.metas, doc, self.operation)?.unwrap_or_default();
                let (start, end) = chunk_bounds(doc, 0, u64::MAX);
                let next = match self
                    .chunks
                    .range::<&[u8; CHUNK_KEY_LEN]>(&start..=&end)
                    .during(during)?
                    .next_back()
                {
                    // 2^64 appends without a snapshot or a compaction cannot happen.
                    Some(last) => chunk_sequence(last.during(during)?.0.value()).saturating_add(1),
                    None => 0,
                };
                self.chunks
                    .insert(&chunk_key(doc, next), changes.as_slice())
                    .during(during)?;
                let meta = DocumentMeta {
                    snapshot_bytes: previous.snapshot_bytes,
                    incremental_bytes: previous
                        .incremental_bytes
                        .saturating_add(changes.len() as u64),
                    incremental_chunks: previous.incremental_chunks.saturating_add(1),
                    ..meta
                };
                self.put_meta(doc, &meta)
            }
            WriteOp::PutSnapshot {
                doc,
                snapshot,
                meta,
            } => {
                self.delete_chunks(doc)?;
                self.chunks
                    .insert(&chunk_key(doc, 0), snapshot.as_slice())
                    .during(during)?;
                let meta = DocumentMeta {
                    snapshot_bytes: snapshot.len() as u64,
                    incremental_bytes: 0,
                    incremental_chunks: 0,
                    ..meta
                };
                self.put_meta(doc, &meta)
            }
            WriteOp::UpdateMeta { doc, meta } => {
                // Only the caller's fields change; a document the store does not hold gets no
                // metadata (it would list a document without a body).
                let Some(previous) = read_meta(&self.metas, doc, self.operation)? else {
                    return Ok(());
                };
                let meta = DocumentMeta {
                    snapshot_bytes: previous.snapshot_bytes,
                    incremental_bytes: previous.incremental_bytes,
                    incremental_chunks: previous.incremental_chunks,
                    ..meta
                };
                self.put_meta(doc, &meta)
            }
            WriteOp::PutSyncState {
                doc,
                storage_id,
                state,
            } => {
                self.sync_states
                    .insert(
                        sync_state_key(doc, &storage_id).as_slice(),
                        state.as_slice(),
                    )
                    .during(during)?;
                Ok(())
            }
            WriteOp::DeleteDocument { doc } => {
                self.delete_chunks(doc)?;
                self.unstamp(doc)?;
                self.metas.remove(doc.as_bytes()).during(during)?;
                let (start, next) = sync_state_bounds(doc);
                let bounds: (Bound<&[u8]>, Bound<&[u8]>) = (
                    Bound::Included(start.as_slice()),
                    next.as_ref()
                        .map_or(Bound::Unbounded, |next| Bound::Excluded(next.as_slice())),
                );
                self.sync_states
                    .retain_in::<&[u8], _>(bounds, |_, _| false)
                    .during(during)?;
                Ok(())
            }
            WriteOp::PutValue { key, value } => self.put_value(&key, &value),
            WriteOp::DeleteValue { key } => {
                self.values.remove(key.as_str()).during(during)?;
                Ok(())
            }
            WriteOp::ReplaceValue {
                key,
                expected,
                value,
            } => {
                let found = self
                    .values
                    .get(key.as_str())
                    .during(during)?
                    .map(|stored| stored.value().to_vec());
                if found != expected {
                    return Err(StoreError::ValueChanged { key });
                }
                if found.is_some_and(|found| found == value) {
                    return Ok(());
                }
                self.values
                    .insert(key.as_str(), value.as_slice())
                    .during(during)?;
                Ok(())
            }
        }
    }

    /// Stores a value unless the table already holds exactly it: a rewrite that changes nothing
    /// (a summary an edit left as it was) would still copy the table's page path, and those
    /// copies are what makes a small store's file grow between compactions.
    fn put_value(&mut self, key: &str, value: &[u8]) -> StoreResult<()> {
        let during = self.operation;
        let unchanged = self
            .values
            .get(key)
            .during(during)?
            .is_some_and(|stored| stored.value() == value);
        if !unchanged {
            self.values.insert(key, value).during(during)?;
        }
        Ok(())
    }

    /// Writes the document's metadata and moves it to the end of the change sequence: every
    /// write of a document's chunks or metadata goes through here.
    fn put_meta(&mut self, doc: DocumentId, meta: &DocumentMeta) -> StoreResult<()> {
        self.unstamp(doc)?;
        let next = match self.changes.last().during(self.operation)? {
            Some((last, _)) => last.value().saturating_add(1),
            None => 1,
        };
        self.changes
            .insert(next, doc.as_bytes())
            .during(self.operation)?;
        self.write_row(doc, next, meta)
    }

    /// Writes the document's metadata at its place in the change sequence: for a compaction,
    /// which changes how the document is stored, not what it holds.
    fn write_meta(&mut self, doc: DocumentId, meta: &DocumentMeta) -> StoreResult<()> {
        match self.stored_sequence(doc)? {
            Some(sequence) => self.write_row(doc, sequence, meta),
            None => self.put_meta(doc, meta),
        }
    }

    fn write_row(
        &mut self,
        doc: DocumentId,
        sequence: u64,
        meta: &DocumentMeta,
    ) -> StoreResult<()> {
        self.metas
            .insert(
                doc.as_bytes(),
                meta_row(sequence, &meta.encode()).as_slice(),
            )
            .during(self.operation)?;
        Ok(())
    }

    /// The document's number in the change sequence, `None` if the store does not hold it.
    fn stored_sequence(&self, doc: DocumentId) -> StoreResult<Option<u64>> {
        let Some(row) = self.metas.get(doc.as_bytes()).during(self.operation)? else {
            return Ok(None);
        };
        let (sequence, _) = split_meta_row(row.value())
            .map_err(|source| StoreError::CorruptMeta { doc, source })?;
        Ok(Some(sequence))
    }

    /// Takes the document out of the change sequence (its row keeps the old number until it
    /// is written again or removed).
    fn unstamp(&mut self, doc: DocumentId) -> StoreResult<()> {
        if let Some(previous) = self.stored_sequence(doc)? {
            self.changes.remove(previous).during(self.operation)?;
        }
        Ok(())
    }

    fn delete_chunks(&mut self, doc: DocumentId) -> StoreResult<()> {
        let (start, end) = chunk_bounds(doc, 0, u64::MAX);
        self.chunks
            .retain_in::<&[u8; CHUNK_KEY_LEN], _>(&start..=&end, |_, _| false)
            .during(self.operation)
    }
}

fn read_meta(
    metas: &impl ReadableTable<&'static [u8; 16], &'static [u8]>,
    doc: DocumentId,
    operation: StoreOperation,
) -> StoreResult<Option<DocumentMeta>> {
    let Some(bytes) = metas
        .get(doc.as_bytes())
        .map_err(|error| StoreError::from_redb(operation, error))?
    else {
        return Ok(None);
    };
    decode_meta_row(doc, bytes.value()).map(|(_, meta)| Some(meta))
}

/// The change-sequence number and the metadata of the document's row.
fn decode_meta_row(doc: DocumentId, row: &[u8]) -> StoreResult<(u64, DocumentMeta)> {
    let corrupt = |source| StoreError::CorruptMeta { doc, source };
    let (sequence, meta) = split_meta_row(row).map_err(corrupt)?;
    Ok((sequence, DocumentMeta::decode(meta).map_err(corrupt)?))
}

/// The chunks of a document as read for compaction.
struct FoldedChunks {
    bytes: Vec<u8>,
    /// Sequence number and end offset in `bytes` of each chunk.
    chunks: Vec<(u64, usize)>,
}

/// A snapshot built from a document's chunks, not yet stored.
struct PendingCompaction {
    folded: FoldedChunks,
    snapshot: Vec<u8>,
    increments_folded: u64,
}

/// What [`build_snapshot`] found.
enum SnapshotBuild {
    Built(PendingCompaction),
    /// The document is a single snapshot already; nothing to write.
    AlreadyCompact(CompactionReport),
}

enum Compaction {
    Done(CompactionReport),
    /// The folded chunks were replaced or deleted while the snapshot was being built.
    Replaced,
}

/// Compaction in two steps: the snapshot is built from a read transaction, then swapped in by
/// a write transaction that first checks that the folded chunks are still the stored ones.
/// Building the snapshot of a large document takes long, and doing it inside the write
/// transaction would hold up every commit of the server meanwhile. Increments appended in
/// between stay after the snapshot.
fn compact_once(database: &Database, doc: DocumentId) -> StoreResult<Compaction> {
    match build_snapshot(database, doc)? {
        SnapshotBuild::Built(pending) => swap_in_snapshot(database, doc, pending),
        SnapshotBuild::AlreadyCompact(report) => Ok(Compaction::Done(report)),
    }
}

/// The snapshot of the document's stored chunks, or the report of a document that is already
/// a single snapshot.
fn build_snapshot(database: &Database, doc: DocumentId) -> StoreResult<SnapshotBuild> {
    let (folded, before) = {
        let read = database.begin_read().during(StoreOperation::Compact)?;
        let metas = read.open_table(METAS).during(StoreOperation::Compact)?;
        let chunks = read.open_table(CHUNKS).during(StoreOperation::Compact)?;
        let before = read_meta(&metas, doc, StoreOperation::Compact)?
            .ok_or(StoreError::DocumentNotFound(doc))?;
        let mut folded = FoldedChunks {
            bytes: Vec::new(),
            chunks: Vec::new(),
        };
        let (start, end) = chunk_bounds(doc, 0, u64::MAX);
        for entry in chunks
            .range::<&[u8; CHUNK_KEY_LEN]>(&start..=&end)
            .during(StoreOperation::Compact)?
        {
            let (key, chunk) = entry.during(StoreOperation::Compact)?;
            folded.bytes.extend_from_slice(chunk.value());
            folded
                .chunks
                .push((chunk_sequence(key.value()), folded.bytes.len()));
        }
        (folded, before)
    };
    if folded.chunks.is_empty() {
        return Err(StoreError::DocumentNotFound(doc));
    }
    if folded.chunks.len() == 1 && before.incremental_chunks == 0 {
        let bytes = folded.bytes.len() as u64;
        return Ok(SnapshotBuild::AlreadyCompact(CompactionReport {
            bytes_before: bytes,
            bytes_after: bytes,
            chunks_folded: 0,
        }));
    }
    // Through `load_bytes`, which refuses bundles and turns automerge's panics into errors: a
    // hostile or damaged document is refused here, never a crash of the caller's thread.
    let mut loaded =
        crate::document::load_bytes(&folded.bytes).map_err(|source| StoreError::Unloadable {
            doc,
            source: Box::new(source),
        })?;
    let snapshot = loaded.save();
    let heads = loaded.get_heads();
    let reproduces_heads = crate::document::load_bytes(&snapshot)
        .is_ok_and(|mut reloaded| reloaded.get_heads() == heads);
    if !reproduces_heads {
        return Err(StoreError::CompactionMismatch { doc });
    }
    Ok(SnapshotBuild::Built(PendingCompaction {
        folded,
        snapshot,
        increments_folded: before.incremental_chunks,
    }))
}

/// Replaces the folded chunks by the snapshot, durably, unless they changed meanwhile.
fn swap_in_snapshot(
    database: &Database,
    doc: DocumentId,
    pending: PendingCompaction,
) -> StoreResult<Compaction> {
    let PendingCompaction {
        folded,
        snapshot,
        increments_folded,
    } = pending;
    let (Some(&(first, _)), Some(&(last, _))) = (folded.chunks.first(), folded.chunks.last())
    else {
        return Ok(Compaction::Replaced);
    };
    let mut write = database.begin_write().during(StoreOperation::Compact)?;
    write
        .set_durability(redb::Durability::Immediate)
        .during(StoreOperation::Compact)?;
    let report = {
        let mut tables = WriteTables::open(&write, StoreOperation::Compact)?;
        // Returning early drops the transaction, which rolls it back.
        if !still_stored(&tables, doc, &folded)? {
            return Ok(Compaction::Replaced);
        }
        let Some(current) = read_meta(&tables.metas, doc, StoreOperation::Compact)? else {
            return Ok(Compaction::Replaced);
        };
        let (mut later_bytes, mut later_chunks) = (0u64, 0u64);
        if let Some(later) = last.checked_add(1) {
            let (start, end) = chunk_bounds(doc, later, u64::MAX);
            for entry in tables
                .chunks
                .range::<&[u8; CHUNK_KEY_LEN]>(&start..=&end)
                .during(StoreOperation::Compact)?
            {
                let (_, chunk) = entry.during(StoreOperation::Compact)?;
                later_bytes += chunk.value().len() as u64;
                later_chunks += 1;
            }
        }
        let (start, end) = chunk_bounds(doc, first, last);
        tables
            .chunks
            .retain_in::<&[u8; CHUNK_KEY_LEN], _>(&start..=&end, |_, _| false)
            .during(StoreOperation::Compact)?;
        // At the first folded position, so it sorts before the later increments.
        tables
            .chunks
            .insert(&chunk_key(doc, first), snapshot.as_slice())
            .during(StoreOperation::Compact)?;
        let meta = DocumentMeta {
            snapshot_bytes: snapshot.len() as u64,
            incremental_bytes: later_bytes,
            incremental_chunks: later_chunks,
            ..current
        };
        tables.write_meta(doc, &meta)?;
        CompactionReport {
            bytes_before: folded.bytes.len() as u64,
            bytes_after: snapshot.len() as u64,
            chunks_folded: increments_folded,
        }
    };
    write.commit().during(StoreOperation::Compact)?;
    Ok(Compaction::Done(report))
}

/// Whether the chunks read for compaction are still stored, unchanged, under the same keys.
fn still_stored(
    tables: &WriteTables<'_>,
    doc: DocumentId,
    folded: &FoldedChunks,
) -> StoreResult<bool> {
    let during = tables.operation;
    let (Some(&(first, _)), Some(&(last, _))) = (folded.chunks.first(), folded.chunks.last())
    else {
        return Ok(false);
    };
    let (start_key, end_key) = chunk_bounds(doc, first, last);
    let mut expected = folded.chunks.iter();
    let mut start = 0;
    for entry in tables
        .chunks
        .range::<&[u8; CHUNK_KEY_LEN]>(&start_key..=&end_key)
        .during(during)?
    {
        let (key, chunk) = entry.during(during)?;
        let Some(&(sequence, end)) = expected.next() else {
            return Ok(false);
        };
        if chunk_sequence(key.value()) != sequence
            || folded.bytes.get(start..end) != Some(chunk.value())
        {
            return Ok(false);
        }
        start = end;
    }
    Ok(expected.next().is_none())
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT, ReadDoc};
    use redb::backends::InMemoryBackend;

    use super::*;
    use crate::store::layout::{LAYOUT, LAYOUT_KEY};

    fn id(byte: u8) -> DocumentId {
        DocumentId::from_bytes([byte; 16])
    }

    fn meta(kind: &str, heads: Vec<automerge::ChangeHash>) -> DocumentMeta {
        DocumentMeta {
            kind: Some(kind.into()),
            heads,
            // Nonsense sizes: the store must ignore them.
            snapshot_bytes: 999,
            incremental_bytes: 999,
            incremental_chunks: 999,
            ..DocumentMeta::default()
        }
    }

    fn commit(store: &RedbStore, build: impl FnOnce(&mut WriteBatch)) {
        let mut batch = WriteBatch::new();
        build(&mut batch);
        store
            .commit(batch, Durability::Immediate)
            .expect("commit succeeds");
    }

    fn set(doc: &mut AutoCommit, key: &str, value: i64) -> Vec<u8> {
        doc.put(ROOT, key, value).expect("put");
        doc.save_incremental()
    }

    fn loaded(store: &RedbStore, doc: DocumentId) -> AutoCommit {
        let bytes = store.load(doc).expect("load").expect("stored");
        AutoCommit::load(&bytes).expect("loads")
    }

    fn raw<T>(store: &RedbStore, work: impl FnOnce(&Database) -> T) -> T {
        store
            .with_database(|database| Ok(work(database)))
            .expect("open")
    }

    /// Pages the write transaction holds after `operations` are applied, less those before.
    fn pages_dirtied(store: &RedbStore, operations: WriteBatch) -> u64 {
        raw(store, |database| {
            let transaction = database.begin_write().expect("write");
            let before = transaction.stats().expect("stats").allocated_pages();
            {
                let mut tables =
                    WriteTables::open(&transaction, StoreOperation::Commit).expect("tables");
                for operation in operations.into_operations() {
                    tables.apply(operation).expect("apply");
                }
            }
            let after = transaction.stats().expect("stats").allocated_pages();
            transaction.abort().expect("abort");
            after.saturating_sub(before)
        })
    }

    #[test]
    fn a_value_rewritten_unchanged_copies_no_page() {
        let store = RedbStore::in_memory().expect("store");
        commit(&store, |batch| {
            batch.put_value("summary:a", b"same".as_slice());
            batch.put_value("sequence", 1u64.to_be_bytes());
        });
        let mut same = WriteBatch::new();
        same.put_value("summary:a", b"same".as_slice())
            .replace_value(
                "sequence",
                Some(1u64.to_be_bytes().to_vec()),
                1u64.to_be_bytes(),
            );
        assert_eq!(pages_dirtied(&store, same), 0);
        let mut changed = WriteBatch::new();
        changed.put_value("summary:a", b"new".as_slice());
        assert!(pages_dirtied(&store, changed) > 0);
        commit(&store, |batch| {
            batch.put_value("summary:a", b"same".as_slice());
        });
        assert_eq!(
            store.value("summary:a").expect("read"),
            Some(b"same".to_vec())
        );
    }

    /// A folder of the test's own (`name` and the process), and the store file's path in it;
    /// the test removes the folder at its end.
    fn store_folder(name: &str) -> (std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("itinera-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("folder");
        let path = dir.join("store.redb");
        (dir, path)
    }

    #[test]
    fn a_file_that_fills_with_free_pages_is_compacted_while_serving() {
        let (dir, path) = store_folder("serving-compaction");
        let store = RedbStore::open(&path).expect("store");
        let mut longest = 0;
        // Each commit frees the pages of the values it replaces; the store holds 16 values of
        // 16 KiB throughout.
        for n in 0..400u32 {
            commit(&store, |batch| {
                for k in 0..16 {
                    batch.put_value(&format!("k{k}"), vec![(n % 251) as u8; 16 * 1024]);
                }
            });
            longest = longest.max(std::fs::metadata(&path).expect("file").len());
        }
        assert!(longest < 1300 * 1024, "the file reached {longest} bytes");
        assert_eq!(
            store.value("k3").expect("value"),
            Some(vec![(399 % 251) as u8; 16 * 1024])
        );
        drop(store);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn commits_leaving_housekeeping_never_compact_and_a_quiet_moment_does() {
        let (dir, path) = store_folder("housekeeping-compaction");
        let store = RedbStore::open(&path).expect("store");
        let length = || std::fs::metadata(&path).expect("file").len();
        // As in the test above: 16 values of 16 KiB throughout, each commit replacing them.
        for n in 0..400u32 {
            let mut batch = WriteBatch::new();
            for k in 0..16 {
                batch.put_value(&format!("k{k}"), vec![(n % 251) as u8; 16 * 1024]);
            }
            store
                .commit_leaving_housekeeping(batch, Durability::Immediate)
                .expect("commit");
        }
        // Four times the 256 KiB it holds: no commit gave back its free pages.
        let grown = length();
        assert!(grown > 1024 * 1024, "the file grew to {grown} bytes only");
        store
            .reclaim_free_pages(QuietMoment::Idle)
            .expect("free pages given back");
        let kept = length();
        assert!(kept * 4 < grown * 3, "{grown} bytes before, {kept} after");
        assert_eq!(
            store.value("k3").expect("value"),
            Some(vec![(399 % 251) as u8; 16 * 1024])
        );
        drop(store);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    /// 200 small commits, each replacing the same four values of 3 KiB: the file grows by
    /// redb's doublings, far below what a compaction between commits waits for.
    fn small_commits(store: &RedbStore) {
        for n in 0..200u32 {
            commit(store, |batch| {
                for k in 0..4 {
                    batch.put_value(&format!("k{k}"), vec![(n % 251) as u8; 3 * 1024]);
                }
            });
        }
    }

    #[test]
    fn an_idle_store_gives_back_what_small_commits_left_free() {
        let (dir, path) = store_folder("idle-compaction");
        let length = || std::fs::metadata(&path).expect("file").len();
        let store = RedbStore::open(&path).expect("store");
        small_commits(&store);
        let grown = length();
        let given_back = store
            .reclaim_free_pages(QuietMoment::Idle)
            .expect("idle compaction");
        let compacted = length();
        assert!(
            given_back > 0 && compacted + given_back == grown,
            "{grown} bytes before, {compacted} after, {given_back} said given back"
        );
        assert_eq!(
            store.value("k2").expect("value"),
            Some(vec![199u8; 3 * 1024])
        );
        // Nothing grew since: nothing is counted or given back again.
        assert_eq!(
            store
                .reclaim_free_pages(QuietMoment::Idle)
                .expect("idle again"),
            0
        );
        // Within the pause a long compaction asks for, an idle store waits; a stopping one
        // does not.
        *store.next_compaction.lock().expect("lock") =
            Some(Instant::now() + std::time::Duration::from_secs(600));
        small_commits(&store);
        assert_eq!(
            store.reclaim_free_pages(QuietMoment::Idle).expect("paced"),
            0
        );
        assert!(
            store
                .reclaim_free_pages(QuietMoment::Stopping)
                .expect("stopping")
                > 0
        );
        drop(store);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_file_given_back_its_free_pages_does_not_grow_at_the_next_open() {
        let (dir, path) = store_folder("idle-reopen");
        let length = || std::fs::metadata(&path).expect("file").len();
        let store = RedbStore::open(&path).expect("store");
        small_commits(&store);
        // Idle, then the server's last flush and its stop, as a server's store sees them.
        store
            .reclaim_free_pages(QuietMoment::Idle)
            .expect("idle compaction");
        commit(&store, |batch| {
            batch.put_value("server:stopped-at", b"1".to_vec());
        });
        store
            .reclaim_free_pages(QuietMoment::Stopping)
            .expect("compaction at the stop");
        store.close().expect("close");
        let closed = length();
        let store = RedbStore::open(&path).expect("store opens again");
        let opened = length();
        assert!(
            opened <= closed,
            "{closed} bytes closed, {opened} once open"
        );
        drop(store);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn a_file_grown_with_free_pages_is_compacted_at_the_next_open() {
        let (dir, path) = store_folder("open-compaction");
        let length = || std::fs::metadata(&path).expect("file").len();
        {
            // Grown by commits of redb's own, as a build that did not compact would.
            let store = RedbStore::open(&path).expect("store");
            raw(&store, |database| {
                for n in 0..400u32 {
                    let write = database.begin_write().expect("write");
                    write
                        .open_table(VALUES)
                        .expect("values")
                        .insert("k", vec![(n % 251) as u8; 16 * 1024].as_slice())
                        .expect("insert");
                    write.commit().expect("commit");
                }
            });
        }
        let grown = length();
        let store = RedbStore::open(&path).expect("store opens again");
        let compacted = length();
        assert!(
            compacted * 4 < grown * 3,
            "{grown} bytes before the open, {compacted} after"
        );
        assert_eq!(
            store.value("k").expect("value"),
            Some(vec![(399 % 251) as u8; 16 * 1024])
        );
        drop(store);
        std::fs::remove_dir_all(&dir).expect("clean up");
    }

    #[test]
    fn appends_follow_each_other_and_the_store_keeps_the_sizes() {
        let store = RedbStore::in_memory().expect("store");
        let mut doc = AutoCommit::new();
        let first = set(&mut doc, "a", 1);
        let second = set(&mut doc, "b", 2);
        commit(&store, |batch| {
            batch.append_changes(id(1), first.clone(), meta("x", vec![]));
        });
        commit(&store, |batch| {
            batch.append_changes(id(1), second.clone(), meta("account", doc.get_heads()));
        });

        assert_eq!(
            store.load(id(1)).expect("load"),
            Some([first.clone(), second.clone()].concat())
        );
        let stored = store.meta(id(1)).expect("meta").expect("stored");
        assert_eq!(stored.kind.as_deref(), Some("account"));
        assert_eq!(stored.heads, doc.get_heads());
        assert_eq!(stored.snapshot_bytes, 0);
        assert_eq!(
            stored.incremental_bytes,
            (first.len() + second.len()) as u64
        );
        assert_eq!(stored.incremental_chunks, 2);
        assert_eq!(loaded(&store, id(1)).get_heads(), doc.get_heads());
        assert_eq!(store.load(id(2)).expect("load"), None);
        assert_eq!(store.meta(id(2)).expect("meta"), None);
    }

    #[test]
    fn a_snapshot_replaces_every_chunk_and_later_appends_follow_it() {
        let store = RedbStore::in_memory().expect("store");
        let mut doc = AutoCommit::new();
        let early = set(&mut doc, "a", 1);
        commit(&store, |batch| {
            batch.append_changes(id(1), early.clone(), meta("x", vec![]));
            batch.append_changes(id(1), early, meta("x", vec![]));
        });
        let snapshot = doc.save();
        let late = set(&mut doc, "b", 2);
        commit(&store, |batch| {
            batch.put_snapshot(id(1), snapshot.clone(), meta("x", vec![]));
            batch.append_changes(id(1), late.clone(), meta("x", doc.get_heads()));
        });

        assert_eq!(
            store.load(id(1)).expect("load"),
            Some([snapshot.clone(), late.clone()].concat())
        );
        let stored = store.meta(id(1)).expect("meta").expect("stored");
        assert_eq!(stored.snapshot_bytes, snapshot.len() as u64);
        assert_eq!(stored.incremental_bytes, late.len() as u64);
        assert_eq!(stored.incremental_chunks, 1);
        assert_eq!(loaded(&store, id(1)).get_heads(), doc.get_heads());
    }

    #[test]
    fn delete_removes_the_document_and_nothing_of_its_neighbours() {
        let store = RedbStore::in_memory().expect("store");
        // Ids that differ by one in the last byte: any off-by-one in a range shows.
        let ids = [
            DocumentId::from_bytes([4; 16]),
            DocumentId::from_bytes({
                let mut bytes = [4; 16];
                bytes[15] = 5;
                bytes
            }),
            DocumentId::from_bytes({
                let mut bytes = [4; 16];
                bytes[15] = 3;
                bytes
            }),
        ];
        commit(&store, |batch| {
            for doc in ids {
                batch.append_changes(doc, AutoCommit::new().save(), DocumentMeta::default());
                batch.put_sync_state(doc, "", [1]);
                batch.put_sync_state(doc, "phone", [2]);
            }
        });
        commit(&store, |batch| {
            batch.delete_document(ids[0]);
        });

        assert_eq!(store.load(ids[0]).expect("load"), None);
        assert_eq!(store.meta(ids[0]).expect("meta"), None);
        assert_eq!(store.sync_state(ids[0], "").expect("state"), None);
        assert_eq!(store.sync_state(ids[0], "phone").expect("state"), None);
        for doc in &ids[1..] {
            assert!(store.load(*doc).expect("load").is_some());
            assert_eq!(store.sync_state(*doc, "").expect("state"), Some(vec![1]));
            assert_eq!(
                store.sync_state(*doc, "phone").expect("state"),
                Some(vec![2])
            );
        }
        let listed: Vec<DocumentId> = store
            .documents()
            .expect("list")
            .into_iter()
            .map(|(doc, _)| doc)
            .collect();
        assert_eq!(listed, [ids[2], ids[1]]);
    }

    #[test]
    fn writes_apply_in_batch_order() {
        let store = RedbStore::in_memory().expect("store");
        commit(&store, |batch| {
            batch
                .put_value("gone", [1])
                .delete_value("gone")
                .delete_value("kept")
                .put_value("kept", [2])
                .put_value("twice", [3])
                .put_value("twice", [4]);
        });
        assert_eq!(store.value("gone").expect("value"), None);
        assert_eq!(store.value("kept").expect("value"), Some(vec![2]));
        assert_eq!(store.value("twice").expect("value"), Some(vec![4]));
        store
            .commit(WriteBatch::new(), Durability::Immediate)
            .expect("an empty batch is fine");
    }

    #[test]
    fn values_with_prefix_returns_exactly_the_prefixed_keys() {
        let store = RedbStore::in_memory().expect("store");
        commit(&store, |batch| {
            for key in ["use", "user:", "user:b", "user:a", "user;", "users", "v"] {
                batch.put_value(key, key.as_bytes());
            }
        });
        let keys = |prefix| -> Vec<String> {
            store
                .values_with_prefix(prefix)
                .expect("list")
                .into_iter()
                .map(|(key, value)| {
                    assert_eq!(key.as_bytes(), value);
                    key
                })
                .collect()
        };
        assert_eq!(keys("user:"), ["user:", "user:a", "user:b"]);
        assert_eq!(
            keys("user"),
            ["user:", "user:a", "user:b", "user;", "users"]
        );
        assert_eq!(keys("zzz"), Vec::<String>::new());
        assert_eq!(keys("").len(), 7);
    }

    #[test]
    fn a_failing_write_rolls_back_the_whole_batch() {
        let store = RedbStore::in_memory().expect("store");
        raw(&store, |database| {
            let write = database.begin_write().expect("write");
            write
                .open_table(METAS)
                .expect("table")
                .insert(id(9).as_bytes(), meta_row(1, &[7, 7, 7]).as_slice())
                .expect("insert");
            write.commit().expect("commit");
        });
        let mut batch = WriteBatch::new();
        batch
            .put_value("before", [1])
            .append_changes(id(1), [1, 2], DocumentMeta::default())
            .append_changes(id(9), [1, 2], DocumentMeta::default())
            .put_value("after", [1]);
        let error = store
            .commit(batch, Durability::Immediate)
            .expect_err("the corrupt metadata is refused");
        assert!(
            matches!(error, StoreError::CorruptMeta { doc, source: crate::store::MetaDecodeError::UnknownVersion(7) } if doc == id(9)),
            "{error:?}"
        );
        assert_eq!(store.value("before").expect("value"), None);
        assert_eq!(store.load(id(1)).expect("load"), None);
        assert_eq!(store.value("after").expect("value"), None);
        // And the store goes on working.
        commit(&store, |batch| {
            batch.put_value("later", [2]);
        });
        assert_eq!(store.value("later").expect("value"), Some(vec![2]));
    }

    #[test]
    fn compaction_keeps_increments_appended_while_the_snapshot_was_built() {
        let store = RedbStore::in_memory().expect("store");
        let mut doc = AutoCommit::new();
        for round in 0..5 {
            let change = set(&mut doc, "round", round);
            commit(&store, |batch| {
                batch.append_changes(id(1), change, meta("x", vec![]));
            });
        }
        let SnapshotBuild::Built(pending) =
            raw(&store, |database| build_snapshot(database, id(1))).expect("built")
        else {
            panic!("the document has increments to fold");
        };
        let late = set(&mut doc, "late", 1);
        commit(&store, |batch| {
            batch.append_changes(id(1), late.clone(), meta("account", doc.get_heads()));
        });
        let outcome = raw(&store, |database| {
            swap_in_snapshot(database, id(1), pending)
        })
        .expect("swapped");
        let Compaction::Done(report) = outcome else {
            panic!("an append does not undo the compaction");
        };
        assert_eq!(report.chunks_folded, 5);

        let stored = store.meta(id(1)).expect("meta").expect("stored");
        assert_eq!(stored.kind.as_deref(), Some("account"));
        assert_eq!(stored.snapshot_bytes, report.bytes_after);
        assert_eq!(stored.incremental_chunks, 1);
        assert_eq!(stored.incremental_bytes, late.len() as u64);
        let bytes = store.load(id(1)).expect("load").expect("stored");
        assert!(bytes.ends_with(&late));
        let mut reloaded = AutoCommit::load(&bytes).expect("loads");
        assert_eq!(reloaded.get_heads(), doc.get_heads());
        assert_eq!(
            reloaded
                .get(ROOT, "late")
                .expect("get")
                .map(|(value, _)| value.as_i64()),
            Some(Some(1))
        );
    }

    #[test]
    fn compaction_gives_way_to_a_snapshot_put_meanwhile() {
        let store = RedbStore::in_memory().expect("store");
        let mut doc = AutoCommit::new();
        for round in 0..3 {
            let change = set(&mut doc, "round", round);
            commit(&store, |batch| {
                batch.append_changes(id(1), change, DocumentMeta::default());
            });
        }
        let SnapshotBuild::Built(pending) =
            raw(&store, |database| build_snapshot(database, id(1))).expect("built")
        else {
            panic!("the document has increments to fold");
        };
        set(&mut doc, "newer", 1);
        let newer = doc.save();
        commit(&store, |batch| {
            batch.put_snapshot(id(1), newer.clone(), DocumentMeta::default());
        });
        let outcome = raw(&store, |database| {
            swap_in_snapshot(database, id(1), pending)
        })
        .expect("checked");
        assert!(matches!(outcome, Compaction::Replaced));
        assert_eq!(store.load(id(1)).expect("load"), Some(newer));

        // Through the public call, the retry then finds a single snapshot: nothing to do.
        let report = store.compact(id(1)).expect("compact");
        assert_eq!(report.chunks_folded, 0);
        assert_eq!(report.bytes_before, report.bytes_after);
    }

    #[test]
    fn compaction_refuses_bytes_that_do_not_load_and_changes_nothing() {
        let store = RedbStore::in_memory().expect("store");
        let mut doc = AutoCommit::new();
        let good = set(&mut doc, "a", 1);
        commit(&store, |batch| {
            batch.append_changes(id(1), good.clone(), DocumentMeta::default());
            batch.append_changes(
                id(1),
                [0x85, 0x6f, 0x4a, 0x83, 1, 2, 3],
                DocumentMeta::default(),
            );
        });
        let before = store.load(id(1)).expect("load");
        let error = store.compact(id(1)).expect_err("refused");
        assert!(
            matches!(error, StoreError::Unloadable { doc, .. } if doc == id(1)),
            "{error:?}"
        );
        assert_eq!(store.load(id(1)).expect("load"), before);
        assert_eq!(
            store
                .meta(id(1))
                .expect("meta")
                .expect("stored")
                .incremental_chunks,
            2
        );

        let error = store.compact(id(2)).expect_err("no such document");
        assert!(
            matches!(error, StoreError::DocumentNotFound(doc) if doc == id(2)),
            "{error:?}"
        );
    }

    /// Bytes that make automerge 0.12 panic when it loads them (a fuzzer found them): the store
    /// refuses to fold them, and the thread that asked carries on.
    #[test]
    fn compaction_refuses_a_document_automerge_panics_on_without_panicking() {
        let store = RedbStore::in_memory().expect("store");
        for (n, crasher) in [
            &include_bytes!(
                "../../../tests/fuzz/crashers/document/bundle-chunk-with-bad-delta-column"
            )[..],
            &include_bytes!("../../../tests/fuzz/crashers/document/rle-column-past-its-end")[..],
        ]
        .into_iter()
        .enumerate()
        {
            let doc = id(10 + n as u8);
            commit(&store, |batch| {
                batch.append_changes(doc, crasher.to_vec(), DocumentMeta::default());
                batch.append_changes(doc, crasher.to_vec(), DocumentMeta::default());
            });
            let error = store.compact(doc).expect_err("refused");
            assert!(matches!(error, StoreError::Unloadable { .. }), "{error:?}");
        }
        // The store still takes writes.
        let mut good = AutoCommit::new();
        let bytes = set(&mut good, "a", 1);
        commit(&store, |batch| {
            batch.append_changes(id(30), bytes, DocumentMeta::default());
        });
        assert!(store.load(id(30)).expect("load").is_some());
    }

    #[test]
    fn a_store_closed_cleanly_while_shared_opens_without_a_repair() {
        let folder = std::env::temp_dir().join(format!(
            "itinera-close-cleanly-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let path = folder.join("store.redb");
        let store = Arc::new(RedbStore::open(&path).expect("store"));
        commit(&store, |batch| {
            batch.put_value("k", b"v".to_vec());
        });
        // Another thread of the process still holds the store when it is closed.
        let still_held = store.clone();
        still_held.close_cleanly().expect("closed");
        drop(store);
        std::mem::forget(still_held);

        let repaired = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = repaired.clone();
        let database = Builder::new()
            .set_repair_callback(move |_| seen.store(true, std::sync::atomic::Ordering::SeqCst))
            .create(&path)
            .expect("opens");
        assert!(
            !repaired.load(std::sync::atomic::Ordering::SeqCst),
            "a store closed cleanly needs no repair"
        );
        drop(database);
        let _ = std::fs::remove_dir_all(folder);
    }

    #[test]
    fn a_file_with_a_newer_layout_is_refused() {
        let backend = SharedBackend(Arc::new(InMemoryBackend::new()));
        let store = RedbStore::with_backend(backend.clone()).expect("store");
        raw(&store, |database| {
            let write = database.begin_write().expect("write");
            write
                .open_table(crate::store::tables::STORE_INFO)
                .expect("table")
                .insert(LAYOUT_KEY, LAYOUT + 1)
                .expect("insert");
            write.commit().expect("commit");
        });
        store.close().expect("close");
        let error = RedbStore::with_backend(backend).expect_err("refused");
        assert!(
            matches!(error, StoreError::UnsupportedLayout { found, supported: LAYOUT } if found == LAYOUT + 1),
            "{error:?}"
        );
    }
}
