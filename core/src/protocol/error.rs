use crate::id::IdError;

/// Why a frame is not a valid protocol message. Every bad frame maps to one of these; none
/// panics.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The frame is larger than the configured maximum.
    #[error("frame of {size} bytes exceeds the limit of {max}")]
    TooLarge { size: usize, max: usize },
    /// The bytes are not well-formed CBOR (or use a feature the protocol does not).
    #[error("malformed CBOR at byte {offset}: {reason}")]
    Cbor { offset: usize, reason: String },
    /// Nested deeper than the configured maximum.
    #[error("nesting deeper than {max} levels")]
    TooDeep { max: usize },
    /// A container with more items than the configured maximum.
    #[error("a container of {count} items exceeds the limit of {max}")]
    TooManyItems { count: usize, max: usize },
    /// The top-level item is not a map.
    #[error("a message must be a CBOR map, found {0}")]
    NotAMap(&'static str),
    /// A map key that is not a text string, or a key given twice.
    #[error("bad map key: {0}")]
    BadKey(String),
    /// No `type` field.
    #[error("the message has no type")]
    MissingType,
    /// A `type` this implementation does not know.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A required field is absent.
    #[error("{message_type} message lacks the field {field}")]
    MissingField {
        message_type: &'static str,
        field: &'static str,
    },
    /// A field holds the wrong kind of value.
    #[error("{message_type} message field {field} should be {expected}, found {found}")]
    WrongFieldType {
        message_type: &'static str,
        field: &'static str,
        expected: &'static str,
        found: &'static str,
    },
    /// `documentId` is not a bs58check document id.
    #[error("bad documentId {value:?}: {reason}")]
    InvalidDocumentId { value: String, reason: IdError },
    /// `data` of a sync or request message is not an Automerge sync message.
    #[error("{message_type} data is not an Automerge sync message: {reason}")]
    NotASyncMessage {
        message_type: &'static str,
        reason: String,
    },
    /// A page of Itinera's changes feed that does not inflate or decode.
    #[error("the changes page {0}")]
    BadChangesPage(String),
}
