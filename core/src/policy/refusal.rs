//! Why the server refuses a user's change to a document.

use crate::model::{DocumentKind, FieldPath, InvoiceStatus};

/// Why [`crate::policy::check_change`] refused a change; its text is shown to the user whose
/// device sent it, so it says what they tried in their own terms and names the field.
///
/// ```
/// use itinera_core::FieldPath;
/// use itinera_core::model::DocumentKind;
/// use itinera_core::policy::Refusal;
///
/// let refusal = Refusal::ServerOnly { kind: DocumentKind::Booking, path: FieldPath::parse("/status") };
/// assert_eq!(refusal.to_string(), "booking /status is written by the server only");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The document after the change does not fit its record type (or its header is broken);
    /// the text is the core error naming the field.
    #[error("{0}")]
    Schema(String),
    /// The change turns the document into another kind, or a generic document into a record
    /// or back: its scope, and so who may see it, would change under everyone's feet.
    #[error(
        "a document's kind cannot change (from {} to {})",
        kind_name(*.before),
        kind_name(*.after)
    )]
    KindChanged {
        /// The kind before the change; `None` for a generic document.
        before: Option<DocumentKind>,
        /// The kind the change would give it.
        after: Option<DocumentKind>,
    },
    /// The user may not write the document as it was, or as the change would leave it.
    #[error("{reason}")]
    Forbidden {
        /// A sentence saying what the user may not do.
        reason: String,
    },
    /// The change writes a field only the server writes.
    #[error("{kind} {path} is written by the server only")]
    ServerOnly {
        /// The kind of the document.
        kind: DocumentKind,
        /// The field written; the root for documents only the server changes at all.
        path: FieldPath,
    },
    /// The change rewrites a field that is set once, when the record is created.
    #[error("{kind} {path} is set once and cannot change")]
    SetOnce {
        /// The kind of the document.
        kind: DocumentKind,
        /// The field rewritten.
        path: FieldPath,
    },
    /// The change edits a posted or credited invoice; corrections are credit notes.
    #[error(
        "invoice {path} cannot change: the invoice is {status} and frozen \
         (only posted → credited is allowed; correct it with a credit note)"
    )]
    Frozen {
        /// The invoice's status before the change.
        status: InvoiceStatus,
        /// The field changed.
        path: FieldPath,
    },
    /// The change breaks a business rule of the field (a seat priority only office sets, a
    /// stock movement rewritten, a date that is not a date); `reason` says which.
    #[error("{kind} {path}: {reason}")]
    Rule {
        /// The kind of the document.
        kind: DocumentKind,
        /// The field.
        path: FieldPath,
        /// The rule, in the user's terms.
        reason: String,
    },
}

fn kind_name(kind: Option<DocumentKind>) -> &'static str {
    kind.map_or("generic", DocumentKind::as_str)
}
