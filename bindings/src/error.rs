/// What can go wrong, as the app sees it: one variant per thing the app can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
pub enum ItineraError {
    /// The record (or sub-record) does not exist on this device.
    #[error("not found: {what}")]
    NotFound { what: String },
    /// The input breaks a rule of the record; show the reason and let the user correct it.
    #[error("invalid: {reason}")]
    Invalid { reason: String },
    /// The server is out of reach; the change is kept and synced later.
    #[error("offline: {reason}")]
    Offline { reason: String },
    /// The token is missing, expired or revoked: sign in again.
    #[error("not signed in: {reason}")]
    Unauthorized { reason: String },
    /// The device's storage failed (full disk, say).
    #[error("storage: {reason}")]
    Storage { reason: String },
    /// The replica's file was emptied, replaced or damaged: `Replica.recover` sets it aside
    /// and starts again from what the server has.
    #[error("damaged: {reason}")]
    Damaged { reason: String },
    /// The replica belongs to another user than the one asked for, or than the token's: open
    /// the signed-in user's own replica.
    #[error("wrong user: {reason}")]
    WrongUser { reason: String },
    /// Discarding would delete a document the server never received: ask the user, then call
    /// `delete_unsynced_document`.
    #[error("never synced: {reason}")]
    NeverSynced { reason: String },
    /// Anything else.
    #[error("{reason}")]
    Other { reason: String },
}

impl From<itinera_core::Error> for ItineraError {
    fn from(error: itinera_core::Error) -> Self {
        use itinera_core::Error as E;
        use itinera_core::model::ModelError;
        match error {
            E::Model(ModelError::NotFound(what)) => Self::NotFound { what },
            E::Model(other) => Self::Invalid {
                reason: other.to_string(),
            },
            E::NoSuchField(path) => Self::NotFound {
                what: path.to_string(),
            },
            E::Malformed { .. } | E::WrongKind { .. } | E::Id(_) => Self::Invalid {
                reason: error.to_string(),
            },
            other => Self::Other {
                reason: other.to_string(),
            },
        }
    }
}
