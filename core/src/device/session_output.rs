//! What a [`DeviceSession`](super::DeviceSession) asks its driver to do, and what it tells the
//! app.

use crate::DocumentId;

/// One thing for the driver to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionOutput {
    /// Send a binary frame to the server.
    Send(Vec<u8>),
    /// Close the connection.
    Close,
    /// Tell the app.
    Event(SessionEvent),
}

/// What the app hears.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionEvent {
    /// Records changed on this device because of the sync (written to the replica already).
    RecordsChanged(Vec<DocumentId>),
    /// The server refused this device's changes to a document; they stay on the device until
    /// the app discards them.
    Rejected {
        /// The document.
        document: DocumentId,
        /// The server's reason.
        reason: String,
    },
    /// Everything known to have changed is synced: the feed is caught up and every document in
    /// flight was acknowledged, refused or found unavailable.
    Settled,
    /// The server ended this connection's access: a revoked or expired token, a disabled user,
    /// or a replica of another user. Retrying with the same token is pointless.
    AccessEnded(String),
    /// The server reported an error about the connection (not about one document).
    ServerError(String),
}
