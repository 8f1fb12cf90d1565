//! What can go wrong in a [`Replica`](super::Replica) operation.
//!
//! `crate::Error` covers records and documents but not storage, which exists only with the
//! `redb` feature; a replica operation can fail in both, so it reports a [`ReplicaError`] that
//! keeps the two apart. The phone app branches on them: a refused input is shown to the user,
//! a full disk asks them to free space, and neither is retried blindly.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::model::ModelError;
//! use itinera_core::replica::{Replica, ReplicaError};
//! use itinera_core::{DocumentId, Error};
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let missing = DocumentId::from_bytes([9; 16]);
//! let err = replica.archive_account(missing, 1_000).expect_err("refused");
//! assert!(matches!(err, ReplicaError::Record(Error::Model(ModelError::NotFound(_)))));
//! # Ok::<(), ReplicaError>(())
//! ```

use automerge::AutomergeError;

use crate::model::ModelError;
use crate::store::StoreError;

/// Why a replica operation failed. When an operation fails, the replica holds exactly what it
/// held before: nothing of a failed operation stays in memory or on disk.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplicaError {
    /// A record or document refused the operation: a missing record or sub-record
    /// ([`ModelError::NotFound`]), bad input ([`ModelError::Invalid`]), a document of another
    /// kind, or a remote document that does not fit the schema.
    #[error(transparent)]
    Record(#[from] crate::Error),
    /// The device's store failed (a full disk, an I/O error); nothing of the operation was
    /// kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store file was opened for another user. A device keeps one store per user, so that
    /// one user's records never show in another's app.
    #[error("this replica belongs to user {owner:?}, not {requested:?}")]
    OtherUser {
        /// The user the store was created for.
        owner: String,
        /// The user asked for.
        requested: String,
    },
    /// Discarding local changes would delete a document the server never acknowledged, with
    /// everything in it; the app asks the user and calls `delete_unsynced_document`.
    #[error(
        "the server never acknowledged document {document}: discarding its {changes} local \
         change(s) would delete it; delete it explicitly if the user agrees"
    )]
    NeverAcknowledged {
        /// The document.
        document: crate::DocumentId,
        /// How many changes it holds.
        changes: usize,
    },
    /// The replica's file was emptied or replaced since this device last wrote it (a
    /// truncated file, a restored backup of another file), or does not open: what it held may
    /// be lost. `Replica::recover` puts the file aside and starts a fresh replica that the
    /// next sync fills from the server.
    #[error("the replica at {path} is damaged: {reason}")]
    Damaged {
        /// The store file.
        path: String,
        /// What was found.
        reason: String,
    },
    /// A value the replica keeps in the store's key–value table does not decode.
    #[error("the replica's stored value {key:?} is unreadable: {reason}")]
    CorruptValue {
        /// The key.
        key: String,
        /// Why it was refused.
        reason: String,
    },
}

impl From<ModelError> for ReplicaError {
    fn from(err: ModelError) -> Self {
        Self::Record(crate::Error::Model(err))
    }
}

impl From<AutomergeError> for ReplicaError {
    fn from(err: AutomergeError) -> Self {
        Self::Record(crate::Error::Automerge(err))
    }
}

/// `Result` with [`ReplicaError`] as the default error.
pub type ReplicaResult<T, E = ReplicaError> = std::result::Result<T, E>;

/// A refusal of bad input.
pub(super) fn invalid(reason: impl Into<String>) -> ReplicaError {
    ModelError::Invalid(reason.into()).into()
}

/// A refusal naming what is missing.
pub(super) fn not_found(what: impl Into<String>) -> ReplicaError {
    ModelError::NotFound(what.into()).into()
}
