//! [`DocumentChange`]: one entry of the store's change sequence.

use crate::DocumentId;
use crate::store::DocumentMeta;

/// A document whose content or scope was written, at its place in the store's change
/// sequence ([`DocumentStore::changes_since`](crate::store::DocumentStore::changes_since)).
///
/// Every write of a document (new changes, a snapshot, new metadata) gives it the next number
/// of the sequence, in the same transaction as the write, and takes it out of its older place:
/// a device that remembers the last number it saw asks for what came after it and hears of
/// each changed document once, however often it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentChange {
    /// The document's place in the sequence.
    pub sequence: u64,
    /// The document.
    pub document: DocumentId,
    /// Its metadata as of that write (heads, scope).
    pub meta: DocumentMeta,
}
