//! The documents the server keeps for itself, under ids derived from their names: the company's
//! `alerts`, each user's `alerts:{user}` and `index:{user}`, and the ledger's `journal:{yyyy-mm}`.

use itinera_core::DocumentId;

/// The company's alerts document.
pub fn alerts_document_id() -> DocumentId {
    DocumentId::named("alerts")
}

/// A user's copy of the alerts about their records (`alerts:{user}`).
pub fn user_alerts_document_id(user: &str) -> DocumentId {
    DocumentId::named(&format!("alerts:{user}"))
}

/// The journal of one period (`2026-11`).
pub fn journal_document_id(period: &str) -> DocumentId {
    DocumentId::named(&format!("journal:{period}"))
}

/// The id of a user's index document: derived from the name, so the server and the user's
/// devices agree on it without asking.
pub fn index_document_id(user: &str) -> DocumentId {
    DocumentId::index_of(user)
}
