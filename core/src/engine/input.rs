//! What goes into a document's engine.

use std::sync::Arc;

use super::{EnginePeer, ServerEdit, SessionId};
use crate::policy::Principal;
use crate::protocol::{Message, PeerId};
use crate::store::WriteBatch;

/// Names one write the engine asked for, so that its outcome can be handed back.
pub type WriteId = u64;

/// Names one server edit or share, so that its answer can be matched to the caller.
pub type EditId = u64;

/// Why the store did not make a write durable (a full disk, say); nothing of it was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct WriteFailed(pub String);

/// One input to a [`DocumentEngine`](super::DocumentEngine).
#[derive(Debug)]
pub enum Input {
    /// A peer starts syncing the document, resuming from the sync state last stored for its
    /// storage id (encoded), if any. Sent before its first message.
    PeerJoined {
        /// The peer.
        peer: EnginePeer,
        /// The sync state kept from its last visit.
        stored_state: Option<Vec<u8>>,
    },
    /// A peer's message about the document (`request`, `sync`, `doc-unavailable`,
    /// `ephemeral`), with its sync data decoded once by the frame decoder.
    Message {
        /// Who sent it.
        from: EnginePeer,
        /// The message.
        message: Message,
    },
    /// A peer's user has other rights now (another role, other grants): what it may see and
    /// write is decided again; a document it may no longer read is announced unavailable and
    /// stops flowing to it.
    PeerUpdated {
        /// The peer, with its user's new rights.
        peer: EnginePeer,
    },
    /// A peer's session ended.
    PeerLeft {
        /// The peer.
        peer: PeerId,
        /// The session that ended (a newer session of the same peer stays).
        session: SessionId,
    },
    /// A change the server makes: for a user (`author`, whose rights are checked) through the
    /// REST API, or its own (`author` `None`: the authority, the indexes). `with` holds other
    /// writes that must be durable in the same transaction (an invoice number's sequence).
    Edit {
        /// Names the answer.
        edit_id: EditId,
        /// Whose change it is.
        author: Option<Arc<Principal>>,
        /// The change.
        edit: ServerEdit,
        /// Writes committed together with it.
        with: WriteBatch,
    },
    /// Shares a generic document with `user`, or stops sharing it; allowed to its creator and
    /// admins.
    Share {
        /// Names the answer.
        edit_id: EditId,
        /// Who shares.
        by: Arc<Principal>,
        /// With whom.
        user: String,
        /// `true` to share, `false` to stop.
        share: bool,
    },
    /// Changes another server process committed to the store they share: `bytes` holds them
    /// (the document as stored), `heads` are the heads that process stored. They are durable
    /// already: the engine merges them, writes nothing of them again, and syncs them to its
    /// peers as if one of them had sent them.
    StoredElsewhere {
        /// The stored document (or any chunks holding the new changes).
        bytes: Vec<u8>,
        /// The heads the other process's commit stored.
        heads: Vec<automerge::ChangeHash>,
        /// The document's creator, as the store's metadata says.
        creator: Option<String>,
    },
    /// The store finished a write the engine asked for.
    WriteFinished {
        /// The write.
        write: WriteId,
        /// Durable, or why not.
        result: Result<(), WriteFailed>,
    },
    /// Time passed (the engine asked to be woken with [`Output::WakeAt`](super::Output::WakeAt)).
    Tick,
}
