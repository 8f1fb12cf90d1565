//! What can go wrong between the store and PostgreSQL. It reaches the store's callers once, at
//! the trait's edge, as a [`StoreError::Database`] naming the operation.

use deadpool_postgres::PoolError;
use itinera_core::store::{StoreError, StoreOperation};
use tokio_postgres::error::SqlState;

/// A failure of the PostgreSQL store, carried as the source of [`StoreError::Database`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PgError {
    /// PostgreSQL refused a statement, or the connection failed.
    #[error("{}", describe(.0))]
    Postgres(tokio_postgres::Error),
    /// No connection could be had: the server is unreachable, refused the login, or every
    /// connection of the pool stayed busy too long.
    #[error("no database connection: {}", describe_pool(.0))]
    Pool(PoolError),
    /// The connection pool could not be built.
    #[error("could not build the connection pool: {0}")]
    BuildPool(deadpool_postgres::BuildError),
    /// The store's runtime could not start.
    #[error("could not start the store's runtime: {0}")]
    Runtime(std::io::Error),
    /// The store's runtime stopped before the work finished.
    #[error("the store's runtime stopped before the work finished")]
    Stopped,
    /// A schema name the store does not accept.
    #[error(
        "{0:?} is not a schema name the store accepts: 1 to 63 lower-case ASCII letters, \
         digits or _, starting with a letter or _"
    )]
    SchemaName(String),
    /// The database does not store text as UTF-8.
    #[error("the database's encoding is {0}; the store needs UTF8")]
    Encoding(String),
    /// A row holds a document id that is not 16 bytes (the table's check forbids it).
    #[error("a stored document id has {0} bytes instead of 16")]
    DocumentId(usize),
}

impl From<tokio_postgres::Error> for PgError {
    fn from(error: tokio_postgres::Error) -> Self {
        Self::Postgres(error)
    }
}

impl From<PoolError> for PgError {
    fn from(error: PoolError) -> Self {
        Self::Pool(error)
    }
}

impl PgError {
    /// The error as the store's callers see it.
    pub(crate) fn during(self, operation: StoreOperation) -> StoreError {
        if let Some(key) = self.changed_value() {
            return StoreError::ValueChanged { key };
        }
        StoreError::Database {
            operation,
            storage_full: self.is_storage_full(),
            source: Box::new(self),
        }
    }

    /// The key whose compare-and-set failed, if that is what failed.
    fn changed_value(&self) -> Option<String> {
        let Self::Postgres(error) = self else {
            return None;
        };
        let database = error.as_db_error()?;
        (database.code().code() == crate::sql::VALUE_CHANGED).then(|| database.message().to_owned())
    }

    /// Whether PostgreSQL said its disk is full.
    fn is_storage_full(&self) -> bool {
        let postgres = match self {
            Self::Postgres(error) | Self::Pool(PoolError::Backend(error)) => error,
            _ => return false,
        };
        postgres.code() == Some(&SqlState::DISK_FULL)
    }
}

/// The driver's error with its cause: the driver's own text is only "db error" for everything
/// the server said.
fn describe(error: &tokio_postgres::Error) -> String {
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

fn describe_pool(error: &PoolError) -> String {
    match error {
        PoolError::Backend(error) => describe(error),
        other => other.to_string(),
    }
}
