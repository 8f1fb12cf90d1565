//! What the replica keeps in memory for one document.

use automerge::{AutoCommit, ChangeHash};

use crate::model::DocumentKind;

/// One document of the replica.
///
/// Invariant: `doc`, when loaded, is exactly what the store holds, because every operation
/// writes its change durably before it returns and drops the document from memory when the
/// write fails. `written` is therefore both the store's heads and the loaded document's.
#[derive(Debug)]
pub(super) struct Slot {
    /// The record kind; `None` for a generic automerge-repo document.
    pub(super) kind: Option<DocumentKind>,
    /// The document, once loaded; read from the store on first use. Boxed: an `AutoCommit`
    /// is kilobytes inline, and a replica holds a slot for each of its thousands of records,
    /// few of them loaded.
    pub(super) doc: Option<Box<AutoCommit>>,
    /// The heads of what the store holds; empty for a document not stored yet.
    pub(super) written: Vec<ChangeHash>,
    /// When the document last changed, as kept in the store's metadata.
    pub(super) last_change_at: i64,
}

impl Slot {
    /// A document created or received in this session, not stored yet.
    pub(super) fn new(kind: Option<DocumentKind>, doc: AutoCommit) -> Self {
        Self {
            kind,
            doc: Some(Box::new(doc)),
            written: Vec::new(),
            last_change_at: 0,
        }
    }

    /// Whether the store holds nothing of the document yet.
    pub(super) fn is_unstored(&self) -> bool {
        self.written.is_empty()
    }
}

/// Whether two lists of heads name the same changes, in any order.
pub(super) fn same_heads(a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let mut a = a.to_vec();
    let mut b = b.to_vec();
    a.sort_unstable();
    a.dedup();
    b.sort_unstable();
    b.dedup();
    a == b
}
