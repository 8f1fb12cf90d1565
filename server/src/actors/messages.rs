//! The messages between sessions, the hub and the doc actors, and what the HTTP handlers and the
//! server's own subscribers send them.

use std::sync::Arc;

use actix::prelude::*;
use actix_web::web::Bytes;
use automerge::ChangeHash;
use itinera_core::DocumentId;
pub use itinera_core::engine::SessionId;
use itinera_core::engine::{EditError, EnginePeer, ServerEdit};
use itinera_core::policy::Principal;
use itinera_core::protocol::{Message as ProtocolMessage, PeerId, StorageId};
use itinera_core::store::WriteBatch;

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

impl PeerHandle {
    /// The peer as a document's engine sees it.
    pub fn engine_peer(&self) -> EnginePeer {
        EnginePeer {
            peer_id: self.peer_id.clone(),
            session: self.session,
            principal: self.principal.clone(),
            storage_id: self.storage_id.clone(),
        }
    }
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

/// From a session to the hub: its user's rights changed (another role, other grants).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PrincipalChanged {
    pub session: SessionId,
    pub peer_id: PeerId,
    pub principal: Arc<Principal>,
}

/// From the hub to a doc actor: a peer's user has other rights now.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PeerUpdated {
    pub peer: EnginePeer,
}

/// From the hub to a doc actor: a peer left.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct PeerLeft {
    pub session: SessionId,
    pub peer_id: PeerId,
}

/// From the hub to a doc actor: nobody used the document for a while; answers whether it can
/// stop (nothing in flight, everything stored).
#[derive(Debug, Message)]
#[rtype(result = "bool")]
pub struct Unload;

/// From the hub to a doc actor that said it can stop: the hub forgot it; stop.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Stop;

/// A change the server makes (REST writes, the authority, index documents); answered with the
/// durable heads once it is durable, and sent to the document's peers like any other change.
#[derive(Message)]
#[rtype(result = "Result<Vec<ChangeHash>, EditError>")]
pub struct EditDocument {
    pub document: DocumentId,
    /// Whose change it is, for the access check; `None` for the server's own changes.
    pub author: Option<Arc<Principal>>,
    pub edit: ServerEdit,
    /// Other writes that must be durable together with this change (the invoice number
    /// sequence with the invoice that got the number).
    pub with: WriteBatch,
}

impl EditDocument {
    /// The server's own change of `document`.
    pub fn by_server(document: DocumentId, edit: ServerEdit) -> Self {
        Self {
            document,
            author: None,
            edit,
            with: WriteBatch::new(),
        }
    }

    /// A user's change of `document`, checked against their rights.
    pub fn by(author: Arc<Principal>, document: DocumentId, edit: ServerEdit) -> Self {
        Self {
            document,
            author: Some(author),
            edit,
            with: WriteBatch::new(),
        }
    }
}

impl std::fmt::Debug for EditDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EditDocument")
            .field("document", &self.document)
            .finish_non_exhaustive()
    }
}

/// Reads a document as the store holds it (for REST reads), checked against `reader`.
#[derive(Debug, Message)]
#[rtype(result = "Result<Vec<u8>, EditError>")]
pub struct ReadDocument {
    pub document: DocumentId,
    pub reader: Arc<Principal>,
}

/// Shares a generic document with another user (or stops sharing).
#[derive(Debug, Message)]
#[rtype(result = "Result<(), EditError>")]
pub struct ShareDocument {
    pub document: DocumentId,
    pub by: Arc<Principal>,
    pub user: String,
    pub share: bool,
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

/// Another node committed changes to a document of the store this node shares with it. The
/// hub hands it to the document's actor if the document is open here (which merges the stored
/// changes and syncs them to its peers), and publishes it on the bus either way, after the
/// merge: the lists, the read model and the devices' changes feeds hear of it as of a local
/// commit.
#[derive(Debug, Clone, Message)]
#[rtype(result = "()")]
pub struct StoredElsewhere {
    /// What the other node committed, as the store describes it (no authors, no content).
    pub committed: Arc<itinera_core::engine::Committed>,
    /// The document's creator, as stored.
    pub creator: Option<String>,
}
