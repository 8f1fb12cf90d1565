//! The read model's rows kept in the store, so that a restart reads no document that did not
//! change: each row is stored under `read-model:{id}` with the heads of the document it was read
//! from, and at start-up a row whose heads equal the stored document's heads is taken as it is.
//!
//! The rows are a cache: they are written after the document (not in its transaction), and a row
//! whose heads differ, or that does not decode, is read again from the document.

use automerge::ChangeHash;
use itinera_core::policy::DocumentScope;
use itinera_core::{DocumentId, DocumentKind};
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::cell::Cell;
use super::list_entry::ListEntry;

/// The prefix of the stored rows' keys.
pub const PREFIX: &str = "read-model:";

pub fn key(id: &DocumentId) -> String {
    format!("{PREFIX}{id}")
}

/// A document's heads as the stored row and the store's metadata compare them.
pub fn heads_text(heads: &[ChangeHash]) -> Vec<String> {
    let mut text: Vec<String> = heads.iter().map(ToString::to_string).collect();
    text.sort_unstable();
    text
}

#[derive(Serialize, Deserialize)]
struct Stored {
    heads: Vec<String>,
    kind: String,
    title: String,
    owner: Option<String>,
    territory: Option<String>,
    departure: Option<String>,
    locations: Vec<String>,
    subject: Option<String>,
    cells: Vec<Json>,
    haystack: String,
}

/// The bytes stored for `entry`, read from a document at `heads`.
pub fn encode(entry: &ListEntry, heads: &[String]) -> Option<Vec<u8>> {
    let scope = &entry.scope;
    let stored = Stored {
        heads: heads.to_vec(),
        kind: entry.kind?.as_str().to_owned(),
        title: entry.title.clone(),
        owner: scope.owner.clone(),
        territory: scope.territory.clone(),
        departure: scope.departure.map(|id| id.to_string()),
        locations: scope.locations.iter().map(ToString::to_string).collect(),
        subject: scope.subject.clone(),
        cells: entry
            .cells
            .iter()
            .map(|cell| serde_json::to_value(cell).unwrap_or(Json::Null))
            .collect(),
        haystack: entry.haystack().to_owned(),
    };
    serde_json::to_vec(&stored).ok()
}

/// The entry stored for `id` and the heads it was read at; `None` if the bytes do not decode.
pub fn decode(id: DocumentId, bytes: &[u8]) -> Option<(ListEntry, Vec<String>)> {
    let stored: Stored = serde_json::from_slice(bytes).ok()?;
    let kind = DocumentKind::parse(&stored.kind)?;
    let scope = DocumentScope {
        kind: Some(kind),
        owner: stored.owner,
        territory: stored.territory,
        departure: match stored.departure {
            Some(text) => Some(DocumentId::parse(&text).ok()?),
            None => None,
        },
        locations: stored
            .locations
            .iter()
            .map(|text| DocumentId::parse(text).ok())
            .collect::<Option<_>>()?,
        subject: stored.subject,
        shared_with: Default::default(),
    };
    let cells = stored
        .cells
        .into_iter()
        .map(|value| match value {
            Json::Null => Some(Cell::Empty),
            Json::Number(n) => n.as_i64().map(Cell::Int),
            Json::String(text) => Some(Cell::Text(text)),
            _ => None,
        })
        .collect::<Option<_>>()?;
    let entry = ListEntry::from_parts(id, scope, stored.title, cells, stored.haystack);
    Some((entry, stored.heads))
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use itinera_core::Document;
    use itinera_core::model::Booking;

    use super::*;

    #[test]
    fn a_stored_row_reads_back_as_it_was() {
        let departure = DocumentId::from_bytes([3; 16]);
        let booking = Booking {
            departure: departure.to_string(),
            rep: "sam".into(),
            amount_minor: 78_000,
            currency: "EUR".into(),
            ..Default::default()
        };
        let doc = Document::create(ActorId::from([1u8; 16]), 0, &booking).expect("create");
        let id = DocumentId::from_bytes([8; 16]);
        let entry = ListEntry::describe(id, doc.automerge(), Some("sam")).expect("describe");
        let heads = vec!["ab".to_owned()];
        let bytes = encode(&entry, &heads).expect("encodes");
        assert_eq!(decode(id, &bytes), Some((entry, heads)));
        assert_eq!(decode(id, b"{\"heads\": 1}"), None);
    }
}
