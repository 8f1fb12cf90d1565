//! References between documents, in one spelling.
//!
//! Records point at other documents with plain strings (`booking.departure`, `invoice.bookings`),
//! usually the bare bs58 id but sometimes an `automerge:` URL. Summaries store every reference
//! as the bare id, the way [`DocumentId`]'s `Display` prints it, so reports join summaries by
//! plain string equality. A string that is not a document id (a catalog tour key such as `db3`)
//! is kept as written.
//!
//! ```text
//! reference("automerge:1Bhh3pU9gLXZiNDL6PEa1Gs9fh") == "1Bhh3pU9gLXZiNDL6PEa1Gs9fh"
//! reference("db3") == "db3"
//! ```

use crate::DocumentId;

/// `text` as the bare id it names, or unchanged when it names no document.
pub(crate) fn reference(text: &str) -> String {
    match DocumentId::parse(text) {
        Ok(id) => id.to_string(),
        Err(_) => text.to_owned(),
    }
}

/// The document `text` names (a bare id or an `automerge:` URL), if any.
pub(crate) fn id_of(text: &str) -> Option<DocumentId> {
    DocumentId::parse(text).ok()
}

/// The key under which reports find the summary of `id`.
pub(crate) fn key(id: &DocumentId) -> String {
    id.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_bare_ids_are_one_reference() {
        let id = DocumentId::from_bytes([9; 16]);
        assert_eq!(reference(&id.to_url()), key(&id));
        assert_eq!(reference(&id.to_string()), key(&id));
        assert_eq!(reference("db3"), "db3");
        assert_eq!(reference(""), "");
    }
}
