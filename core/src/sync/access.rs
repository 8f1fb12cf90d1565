use crate::DocumentId;
use crate::protocol::PeerId;

/// What a peer may do with one document, decided by the caller before anything is sent or
/// applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Access {
    /// The document does not exist as far as this peer can tell: it is answered
    /// `doc-unavailable`, exactly like a missing one.
    None,
    /// The peer receives the document but its changes are refused.
    Read,
    /// The peer's changes are applied (after the caller's check).
    Write,
}

/// Decides access per peer and document.
pub trait AccessPolicy {
    /// The access `peer` has to `document`.
    fn access(&self, peer: &PeerId, document: &DocumentId) -> Access;
}

/// Every peer may write every document: automerge-repo's own behaviour, for tests and for a
/// device talking to its server.
#[derive(Debug, Clone, Copy, Default)]
pub struct AllowAll;

impl AccessPolicy for AllowAll {
    fn access(&self, _peer: &PeerId, _document: &DocumentId) -> Access {
        Access::Write
    }
}

impl<F: Fn(&PeerId, &DocumentId) -> Access> AccessPolicy for F {
    fn access(&self, peer: &PeerId, document: &DocumentId) -> Access {
        self(peer, document)
    }
}
