use crate::DocumentId;
use crate::protocol::PeerId;

/// Why the engine refused a peer's message about a document. The caller answers the peer with
/// a protocol `error` naming the document and this reason; nothing was applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// `data` is not an Automerge sync message.
    #[error("document {document}: not an Automerge sync message: {reason}")]
    NotASyncMessage {
        document: DocumentId,
        reason: String,
    },
    /// The peer may not see the document at all, yet sent changes to it.
    #[error("document {document}: you may not write this document; its changes were not applied")]
    Forbidden { document: DocumentId },
    /// The peer may read the document but sent changes.
    #[error("document {document}: read-only for this peer; its changes were not applied")]
    ReadOnly { document: DocumentId },
    /// The caller's check refused the changes (rights, schema).
    #[error("document {document}: changes rejected: {reason}")]
    Rejected {
        document: DocumentId,
        reason: String,
    },
    /// The changes do not apply (corrupt change bytes, say).
    #[error("document {document}: changes could not be applied: {reason}")]
    Malformed {
        document: DocumentId,
        reason: String,
    },
    /// A message from a peer the document was never told about.
    #[error("document {document}: unknown peer {peer}")]
    UnknownPeer { document: DocumentId, peer: PeerId },
}

impl SyncError {
    /// The document the error is about.
    pub fn document(&self) -> &DocumentId {
        match self {
            SyncError::NotASyncMessage { document, .. }
            | SyncError::ReadOnly { document }
            | SyncError::Forbidden { document }
            | SyncError::Rejected { document, .. }
            | SyncError::Malformed { document, .. }
            | SyncError::UnknownPeer { document, .. } => document,
        }
    }
}
