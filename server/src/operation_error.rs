//! What can go wrong in the operator's commands (init, backup, restore, export, import, users
//! over the admin API), each with what to do about it.

use std::path::PathBuf;

use itinera_core::store::StoreError;

use crate::accounts::AccountError;
use crate::admin_client::AdminClientError;

/// An operator command that failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OperationError {
    /// The store refused.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A user or token operation was refused.
    #[error(transparent)]
    Accounts(#[from] AccountError),
    /// The admin API of the running server failed.
    #[error(transparent)]
    Remote(#[from] AdminClientError),
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The command cannot go on as asked; the message says what to do instead.
    #[error("{0}")]
    Refused(String),
}

impl OperationError {
    /// Wraps an I/O error on `path`.
    pub fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::File { path, source }
    }
}
