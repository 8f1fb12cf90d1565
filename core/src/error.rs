use crate::id::IdError;
use crate::model::{DocumentKind, FieldPath, ModelError};

/// Everything that can go wrong in `itinera-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not an Automerge document (or changes) at all.
    #[error("not an Automerge document{}: {reason}", kind_suffix(*.expected))]
    NotADocument {
        /// The kind the caller expected, if any.
        expected: Option<DocumentKind>,
        reason: String,
    },
    /// The document's root says it is another kind, or says nothing.
    #[error("expected a {expected} document, found {found}")]
    WrongKind {
        expected: DocumentKind,
        found: String,
    },
    /// The root names a kind of record this build does not know.
    #[error("unknown document kind {0:?}")]
    UnknownKind(String),
    /// The document was written by a newer app version.
    #[error("{kind} document has schema {found}; this build reads schema {supported} and older")]
    UnsupportedSchema {
        kind: DocumentKind,
        found: u64,
        supported: u64,
    },
    /// The content does not fit the record type of its kind.
    #[error("{kind} document is malformed at {path}: {reason}")]
    Malformed {
        kind: DocumentKind,
        path: FieldPath,
        reason: String,
    },
    /// The field asked for does not exist.
    #[error("no field at {0}")]
    NoSuchField(FieldPath),
    /// A record operation refused its input.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A malformed document id.
    #[error(transparent)]
    Id(#[from] IdError),
    /// Automerge refused an operation.
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

fn kind_suffix(kind: Option<DocumentKind>) -> String {
    kind.map(|kind| format!(" (expected {kind})"))
        .unwrap_or_default()
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
