use std::fmt;
use std::path::PathBuf;

use crate::DocumentId;
use crate::store::MetaDecodeError;

/// What the store was doing when it failed.
///
/// Carried by every storage error so that a log line, or an alert on a full disk, names the
/// operation to look at without a backtrace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreOperation {
    /// Opening or creating the store, or reopening it after a storage failure.
    Open,
    /// Committing a [`WriteBatch`](crate::store::WriteBatch).
    Commit,
    /// Reading a document's chunks.
    Load,
    /// Reading one document's metadata.
    ReadMeta,
    /// Listing the documents and their metadata.
    ListDocuments,
    /// Folding a document's increments into a snapshot.
    Compact,
    /// Reading a persisted sync state.
    ReadSyncState,
    /// Reading one value of the key–value table.
    ReadValue,
    /// Listing values by key prefix.
    ListValues,
    /// Listing the documents written after a point of the change sequence.
    ListChanges,
    /// Closing the store.
    Close,
    /// Bringing an older file to this build's layout.
    Migrate,
    /// Writing a backup of the store.
    Backup,
    /// Rebuilding a store from a backup.
    Restore,
}

impl fmt::Display for StoreOperation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Open => "open the store",
            Self::Commit => "commit a write batch",
            Self::Load => "load a document",
            Self::ReadMeta => "read document metadata",
            Self::ListDocuments => "list documents",
            Self::Compact => "compact a document",
            Self::ReadSyncState => "read a sync state",
            Self::ReadValue => "read a value",
            Self::ListValues => "list values",
            Self::ListChanges => "list changed documents",
            Self::Close => "close the store",
            Self::Migrate => "upgrade the store's layout",
            Self::Backup => "back up the store",
            Self::Restore => "restore the store from a backup",
        })
    }
}

/// Everything that can go wrong in the document store.
///
/// A failed [`commit`](crate::store::DocumentStore::commit) or
/// [`compact`](crate::store::DocumentStore::compact) has changed nothing: the store holds what it
/// held before the call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The disk (or storage backend) has no room left. The store recovers by itself once space
    /// is freed, without a restart; until then reads may fail with this error too, because
    /// reopening the database after a failed write has to write.
    #[error("could not {operation}: the disk is full ({source})")]
    StorageFull {
        /// What the store was doing.
        operation: StoreOperation,
        /// The error the storage engine reported.
        #[source]
        source: BackendError,
    },
    /// Another process (or another store in this process) has the file open.
    #[error("could not open the store at {}: another process has it open", path.display())]
    AlreadyOpen {
        /// The store file.
        path: PathBuf,
    },
    /// The storage engine failed.
    #[error("could not {operation}: {source}")]
    Storage {
        /// What the store was doing.
        operation: StoreOperation,
        /// The error the storage engine reported.
        #[source]
        source: BackendError,
    },
    /// The database server behind the store (PostgreSQL) failed, refused the operation or
    /// could not be reached.
    #[error("could not {operation}: {source}")]
    Database {
        /// What the store was doing.
        operation: StoreOperation,
        /// Whether the server said it has no room left, for which freeing disk space on the
        /// database server is the remedy.
        storage_full: bool,
        /// What the database or its driver reported.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The folder that should hold the store file could not be created.
    #[error("could not create the folder {}: {source}", path.display())]
    CreateFolder {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store (a file, or a database's schema) was written by a newer build with a layout
    /// this build does not know.
    #[error(
        "the store has layout {found}, written by a newer Itinera; this build reads layouts up \
         to {supported}: run the newer build, or restore a backup taken before the upgrade"
    )]
    UnsupportedLayout {
        /// The layout recorded in the file.
        found: u64,
        /// The newest layout this build reads.
        supported: u64,
    },
    /// A document's stored metadata does not decode.
    #[error("the metadata of document {doc} is unreadable: {source}")]
    CorruptMeta {
        /// The document.
        doc: DocumentId,
        /// Why the bytes were refused.
        #[source]
        source: MetaDecodeError,
    },
    /// Reading or writing a backup stream failed.
    #[error("could not {operation}: {source}")]
    BackupIo {
        /// Backing up or restoring.
        operation: StoreOperation,
        /// The error of the stream.
        #[source]
        source: std::io::Error,
    },
    /// This store backend has no consistent backup of its own.
    #[error("this store backend cannot back itself up; export its documents instead")]
    BackupUnsupported,
    /// The backup stream is not a complete Itinera backup this build can restore.
    #[error("the backup cannot be restored: {0}")]
    BadBackup(String),
    /// The operation needs a document the store does not hold.
    #[error("document {0} is not in the store")]
    DocumentNotFound(DocumentId),
    /// Compaction refused: the stored chunks do not load as an Automerge document, so folding
    /// them could lose changes. The chunks are left as they were.
    #[error("document {doc} was not compacted: its stored bytes do not load: {source}")]
    Unloadable {
        /// The document.
        doc: DocumentId,
        /// Why the bytes do not load, as `document::load_bytes` said (boxed: it is large, and
        /// rare).
        #[source]
        source: BackendError,
    },
    /// Compaction refused: the new snapshot does not load back to the same heads. The chunks
    /// are left as they were.
    #[error("document {doc} was not compacted: the new snapshot does not reproduce its heads")]
    CompactionMismatch {
        /// The document.
        doc: DocumentId,
    },
    /// Compaction gave up: the document was replaced or deleted each time while its snapshot
    /// was being built. Nothing was changed; compacting later will do.
    #[error("document {doc} was not compacted: it kept being replaced meanwhile")]
    CompactionConflict {
        /// The document.
        doc: DocumentId,
    },
    /// A batch's compare-and-set found another value than it expected (another process wrote
    /// it meanwhile): nothing of the batch was written.
    #[error("the value of {key} changed meanwhile; nothing was written")]
    ValueChanged {
        /// The key.
        key: String,
    },
}

/// The error a storage engine reported (redb's, or another backend's), kept whole for the log.
pub type BackendError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`StoreError`] as the default error.
pub type StoreResult<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// Whether the failure is a lack of space, for which freeing disk space is the remedy.
    pub fn is_storage_full(&self) -> bool {
        matches!(
            self,
            Self::StorageFull { .. }
                | Self::Database {
                    storage_full: true,
                    ..
                }
        )
    }

    /// Wraps a storage engine's error for `operation`; an I/O error that says the disk is full
    /// becomes [`StoreError::StorageFull`].
    pub fn backend(operation: StoreOperation, source: BackendError) -> Self {
        let full = source
            .downcast_ref::<std::io::Error>()
            .is_some_and(is_full_io);
        if full {
            Self::StorageFull { operation, source }
        } else {
            Self::Storage { operation, source }
        }
    }

    /// Wraps a redb error, telling a full disk apart from other failures.
    #[cfg(feature = "redb")]
    pub(crate) fn from_redb(operation: StoreOperation, source: impl Into<redb::Error>) -> Self {
        let source = source.into();
        if is_full(&source) {
            Self::StorageFull {
                operation,
                source: Box::new(source),
            }
        } else {
            Self::Storage {
                operation,
                source: Box::new(source),
            }
        }
    }

    /// Whether redb has latched an I/O failure, after which its handle refuses every operation
    /// until the database is closed and opened again.
    #[cfg(feature = "redb")]
    pub(crate) fn needs_reopen(&self) -> bool {
        match self {
            Self::StorageFull { .. } => true,
            Self::Storage { source, .. } => matches!(
                source.downcast_ref::<redb::Error>(),
                Some(
                    redb::Error::Io(_)
                        | redb::Error::Backend(_)
                        | redb::Error::PreviousIo
                        | redb::Error::DatabaseClosed
                )
            ),
            _ => false,
        }
    }
}

/// Names the operation a redb call served, on any of redb's error types.
#[cfg(feature = "redb")]
pub(crate) trait During<T> {
    /// Converts the error into a [`StoreError`] for `operation`.
    fn during(self, operation: StoreOperation) -> StoreResult<T>;
}

#[cfg(feature = "redb")]
impl<T, E: Into<redb::Error>> During<T> for Result<T, E> {
    fn during(self, operation: StoreOperation) -> StoreResult<T> {
        self.map_err(|error| StoreError::from_redb(operation, error))
    }
}

#[cfg(feature = "redb")]
fn is_full(error: &redb::Error) -> bool {
    let io = match error {
        redb::Error::Io(io) => Some(io),
        redb::Error::Backend(inner) => inner.downcast_ref::<std::io::Error>(),
        _ => None,
    };
    io.is_some_and(is_full_io)
}

/// Whether an I/O error says there is no room left.
fn is_full_io(io: &std::io::Error) -> bool {
    use std::io::ErrorKind;
    matches!(
        io.kind(),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded | ErrorKind::FileTooLarge
    )
}

#[cfg(all(test, feature = "redb"))]
mod tests {
    use super::*;

    #[test]
    fn a_full_disk_is_told_apart_and_names_the_operation() {
        let full = std::io::Error::from(std::io::ErrorKind::StorageFull);
        let error = StoreError::from_redb(StoreOperation::Commit, redb::StorageError::Io(full));
        assert!(error.is_storage_full());
        assert!(error.needs_reopen());
        assert!(
            error
                .to_string()
                .starts_with("could not commit a write batch: the disk is full"),
            "{error}"
        );

        let other = std::io::Error::other("cable unplugged");
        let error = StoreError::from_redb(StoreOperation::Load, redb::StorageError::Io(other));
        assert!(!error.is_storage_full());
        assert!(error.needs_reopen());
        assert!(
            error.to_string().starts_with("could not load a document"),
            "{error}"
        );

        let error =
            StoreError::from_redb(StoreOperation::Commit, redb::StorageError::ValueTooLarge(1));
        assert!(!error.needs_reopen());
    }
}
