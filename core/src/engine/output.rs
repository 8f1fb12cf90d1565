//! What comes out of a document's engine: the IO its shell carries out.

use std::sync::Arc;

use automerge::ChangeHash;

use super::{Committed, EditError, EditId, SessionId, WriteId};
use crate::protocol::{Message, PeerId};
use crate::store::WriteBatch;
use crate::sync::SyncError;

/// One thing for the shell to do, in order.
#[derive(Debug)]
pub enum Output {
    /// Make `batch` durable in one transaction and answer with
    /// [`Input::WriteFinished`](super::Input::WriteFinished). Until then the engine sends
    /// nothing that reveals the batch's changes.
    Write {
        /// Names the write.
        write: WriteId,
        /// What to commit.
        batch: WriteBatch,
    },
    /// Commit `batch` without answering: a peer's sync state, or a snapshot of what is already
    /// durable. Losing it in a crash loses nothing acknowledged.
    WriteDetached {
        /// What to commit.
        batch: WriteBatch,
    },
    /// Send `message` to a peer on its session.
    Send {
        /// The peer.
        to: PeerId,
        /// Its session.
        session: SessionId,
        /// The message.
        message: Message,
    },
    /// A write became durable: tell the subscribers.
    Committed(Arc<Committed>),
    /// The answer to an [`Input::Edit`](super::Input::Edit) or
    /// [`Input::Share`](super::Input::Share): the durable heads, or why not.
    EditDone {
        /// The edit.
        edit_id: EditId,
        /// The outcome.
        result: Result<Vec<ChangeHash>, EditError>,
    },
    /// A peer's message was refused (it was sent an `error` saying why): for logs and metrics.
    Rejected {
        /// Who sent it.
        peer: PeerId,
        /// The user behind the peer.
        user: String,
        /// Why.
        error: SyncError,
    },
    /// Whether a peer holds changes of the document the server does not have (refused, or still
    /// arriving), for the sync-health report.
    PeerPending {
        /// The peer.
        peer: PeerId,
        /// Whether it does.
        pending: bool,
    },
    /// Hand the engine an [`Input::Tick`](super::Input::Tick) at this time (unix ms).
    WakeAt(i64),
}
