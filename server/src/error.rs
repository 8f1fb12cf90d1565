use itinera_core::store::StoreError;

/// Everything that can go wrong in the server outside a single connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The store refused an operation.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A core operation failed.
    #[error(transparent)]
    Core(#[from] itinera_core::Error),
    /// Binding the listener or another IO operation failed.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// A user or token operation was refused.
    #[error(transparent)]
    Accounts(#[from] crate::accounts::AccountError),
    /// The demo could not be seeded.
    #[error("demo: {0}")]
    Demo(String),
    /// The TLS certificate or key could not be used.
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
    /// The store writer has stopped (the server is shutting down).
    #[error("the store writer has stopped")]
    WriterStopped,
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
