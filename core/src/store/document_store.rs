use crate::DocumentId;
use crate::store::{
    BackupReport, CompactionReport, DocumentChange, DocumentMeta, Durability, QuietMoment,
    SharedStore, StoreError, StoreResult, WriteBatch,
};

/// Durable storage of Automerge documents, their metadata, sync states and a key–value table.
///
/// [`RedbStore`](crate::store::RedbStore) is the embedded implementation; the trait exists so that
/// a shared backend (PostgreSQL) can be added for several server nodes. Implementations must
/// keep these promises:
///
/// - a [`commit`](Self::commit) is atomic: after a crash or an error, either every write of the
///   batch is stored or none is;
/// - [`load`](Self::load) returns bytes that `AutoCommit::load` accepts whenever the chunks
///   written were valid Automerge data;
/// - listing documents never reads document bodies.
pub trait DocumentStore: Send + Sync {
    /// Applies every write of `batch` in one transaction.
    ///
    /// With [`Durability::Immediate`] the batch is on disk when this returns `Ok`.
    ///
    /// On `Err` nothing of the batch is stored, with one exception no storage engine can avoid:
    /// when the I/O fails at the very end of the commit (the final fsync), the batch may have
    /// reached the disk anyway. It is then stored whole, never in part. A caller for whom the
    /// difference matters (an invoice number) reads the value back before retrying; appending
    /// the same Automerge changes twice is harmless.
    fn commit(&self, batch: WriteBatch, durability: Durability) -> StoreResult<()>;

    /// [`commit`](Self::commit) without the housekeeping a commit may do that makes later
    /// commits wait (redb gives back its free pages between two commits once its file grew a
    /// lot, which holds the file for a read and a write of all it holds): for a writer that
    /// has more writes queued, each waiting to be acknowledged, and that calls
    /// [`reclaim_free_pages`](Self::reclaim_free_pages) once it has nothing to write. Stores
    /// without such housekeeping commit as usual.
    fn commit_leaving_housekeeping(
        &self,
        batch: WriteBatch,
        durability: Durability,
    ) -> StoreResult<()> {
        self.commit(batch, durability)
    }

    /// The document's stored snapshot followed by its increments in the order they were
    /// appended, ready for `AutoCommit::load`; `None` if the store does not hold it.
    fn load(&self, doc: DocumentId) -> StoreResult<Option<Vec<u8>>>;

    /// The document's metadata, without reading its body.
    fn meta(&self, doc: DocumentId) -> StoreResult<Option<DocumentMeta>>;

    /// Closes the store for a process about to end that cannot drop it (other threads still
    /// hold it): a store that keeps a "closed cleanly" mark (redb) sets it, which spares the
    /// next open a repair pass over the whole file. A later call on the store opens it again.
    /// Stores without such a mark have nothing to do.
    fn close_cleanly(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Gives the file's free pages back to the file system when enough of it is free, for a
    /// caller that saw no write for a while (the server's store writer) or is stopping: the
    /// compaction pauses every read and commit meanwhile, which an idle store does not notice.
    /// Returns the bytes given back. Stores without free pages of their own to give back have
    /// nothing to do.
    fn reclaim_free_pages(&self, moment: QuietMoment) -> StoreResult<u64> {
        let _ = moment;
        Ok(0)
    }

    /// Every document with its metadata, in id order, without reading any body.
    fn documents(&self) -> StoreResult<Vec<(DocumentId, DocumentMeta)>>;

    /// Folds the document's increments into one snapshot, durably.
    ///
    /// Refuses with [`StoreError::Unloadable`], changing nothing, if the stored bytes do not
    /// load, and with [`StoreError::DocumentNotFound`] if there is no such document.
    ///
    /// [`StoreError::Unloadable`]: crate::store::StoreError::Unloadable
    /// [`StoreError::DocumentNotFound`]: crate::store::StoreError::DocumentNotFound
    fn compact(&self, doc: DocumentId) -> StoreResult<CompactionReport>;

    /// The documents written after `after` in the store's change sequence, oldest first, at
    /// most `limit` of them, each once (at its last write), with its metadata.
    ///
    /// Every write of a document's chunks or metadata gives it the next sequence number in the
    /// same transaction, so a reader that saw number `n` committed has seen every number
    /// before it: what a changes feed needs to resume from a checkpoint.
    fn changes_since(&self, after: u64, limit: usize) -> StoreResult<Vec<DocumentChange>>;

    /// The sync state last stored for the document and the remote `storage_id`.
    fn sync_state(&self, doc: DocumentId, storage_id: &str) -> StoreResult<Option<Vec<u8>>>;

    /// The value stored under `key`.
    fn value(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Every key starting with `prefix` and its value, in key order.
    fn values_with_prefix(&self, prefix: &str) -> StoreResult<Vec<(String, Vec<u8>)>>;

    /// Writes a consistent copy of the whole store (as of one commit) to `out`, while commits
    /// go on. A backend that cannot refuses with [`StoreError::BackupUnsupported`]; a portable
    /// export of its documents and values works on every backend.
    fn backup(&self, out: &mut dyn std::io::Write) -> StoreResult<BackupReport> {
        let _ = out;
        Err(StoreError::BackupUnsupported)
    }

    /// What the store offers the processes that share it (hearing each other's commits, one
    /// leader), or `None` for a store only this process opens: it then needs neither.
    fn shared(&self) -> Option<&dyn SharedStore> {
        None
    }
}
