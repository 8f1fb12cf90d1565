//! A connected peer as a document's engine sees it.

use std::sync::Arc;

use crate::policy::Principal;
use crate::protocol::{PeerId, StorageId};

/// Identifies one connection (a WebSocket session) for the life of the process; a peer that
/// reconnects comes back on a new session.
pub type SessionId = u64;

/// A peer syncing a document: its peer id, the session it speaks on, the user behind it (whose
/// access the engine decides from the document's scope) and the storage id under which its sync
/// state is kept between visits.
#[derive(Debug, Clone)]
pub struct EnginePeer {
    /// The automerge-repo peer id the peer joined with.
    pub peer_id: PeerId,
    /// The session (connection) it speaks on.
    pub session: SessionId,
    /// The signed-in user.
    pub principal: Arc<Principal>,
    /// The peer's automerge-repo storage id, if it stores documents.
    pub storage_id: Option<StorageId>,
}
