use std::sync::Arc;

use actix::prelude::*;
use actix_web::web::Bytes;
use automerge::{AutoCommit, ChangeHash};
use itinera_core::DocumentId;
use itinera_core::policy::Principal;
use itinera_core::protocol::{Message as ProtocolMessage, PeerId, StorageId};
use itinera_core::store::WriteBatch;

/// Identifies one WebSocket session for the life of the process.
pub type SessionId = u64;

/// A connected peer, as doc actors see it.
#[derive(Clone)]
pub struct PeerHandle {
    pub session: SessionId,
    pub peer_id: PeerId,
    pub principal: Arc<Principal>,
    /// The peer's storage id, under which its sync states are kept between visits.
    pub storage_id: Option<StorageId>,
    /// Where frames for the peer go.
    pub outbox: Recipient<Deliver>,
}

impl std::fmt::Debug for PeerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerHandle")
            .field("session", &self.session)
            .field("peer_id", &self.peer_id)
            .field("user", &self.principal.user)
            .finish()
    }
}

/// Frames for one session's peer, in order.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Deliver {
    pub frames: Vec<Bytes>,
}

/// A protocol message about one document, from a session to the hub and on to the doc actor.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Route {
    pub document: DocumentId,
    pub from: PeerHandle,
    pub message: ProtocolMessage,
}

/// A session ended: its peer leaves every document it touched.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SessionClosed {
    pub session: SessionId,
    pub peer_id: Option<PeerId>,
}

/// From the hub to a doc actor: a peer left.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PeerLeft {
    pub session: SessionId,
    pub peer_id: PeerId,
}

/// From the hub to a doc actor: nobody used the document for a while; stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Unload;

/// An edit of a document by the server, applied to a copy and checked before it is kept.
pub type Edit = Box<dyn FnOnce(&mut AutoCommit) -> Result<(), String> + Send>;

/// A change the server itself makes (REST writes, the authority, index documents); answered
/// once it is durable and sent to the document's peers.
#[derive(Message)]
#[rtype(result = "Result<Vec<ChangeHash>, LocalChangeError>")]
pub struct LocalChange {
    pub document: DocumentId,
    /// Whose change it is, for the access check; `None` for the server's own changes.
    pub author: Option<Arc<Principal>>,
    pub edit: Edit,
    /// Other writes that must be durable together with this change (the invoice number
    /// sequence with the invoice that got the number).
    pub with: Option<WriteBatch>,
}

impl std::fmt::Debug for LocalChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalChange")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// Why a local change did not happen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalChangeError {
    #[error("{0}")]
    Refused(String),
    #[error("not found")]
    NotFound,
    #[error("the store could not save the change: {0}")]
    Store(String),
    #[error("the server is shutting down")]
    Unavailable,
}

/// Reads a document as the server holds it (for REST reads): its saved bytes and who may see
/// it, checked against `reader`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<u8>, LocalChangeError>")]
pub struct ReadDocument {
    pub document: DocumentId,
    pub reader: Arc<Principal>,
}

/// Shares a generic document with another user (or stops sharing).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), LocalChangeError>")]
pub struct ShareDocument {
    pub document: DocumentId,
    pub by: Arc<Principal>,
    pub user: String,
    pub share: bool,
}

/// A document changed durably: for the authority, which checks the rules a merge cannot keep.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct Changed {
    pub document: DocumentId,
    pub kind: itinera_core::DocumentKind,
    /// Whether the change came from the server itself (the authority's own decisions).
    pub by_server: bool,
}

/// What the server knows of one device, for the sync-health report.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeviceSeen {
    pub user: String,
    pub peer_id: String,
    pub storage_id: Option<String>,
    pub last_seen: i64,
    /// Documents whose changes from this device the server has not taken in (refused, or
    /// still arriving).
    pub pending: std::collections::BTreeSet<String>,
}

/// From a doc actor to the hub: whether a device still holds changes of a document that the
/// server does not.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct DevicePending {
    pub peer_id: PeerId,
    pub document: DocumentId,
    pub pending: bool,
}

/// The devices the hub has seen.
#[derive(Debug, Message)]
#[rtype(result = "Vec<DeviceSeen>")]
pub struct Devices;
