//! The list rows kept in the store, so that a restart reads no document that did not change:
//! each row's cells are stored under `list-row:{id}` with the heads of the document they were
//! read from, and at start-up a row whose heads equal the stored document's heads is taken as it
//! is, with the scope and title the store's metadata keeps beside the document.
//!
//! The rows are a cache: they are written after the document (not in its transaction), and a row
//! whose heads differ, or that does not decode, is read again from the document.
//!
//! A row is JSON, deflated behind a [`DEFLATED`] mark: an account's row repeats its tags and
//! names in the cells and in the search text (4 KB, nearly a store page, for an account with a
//! few hundred tags), and deflate (flate2, already the server's gzip) takes both to a fraction
//! in microseconds. Rows written bare by earlier builds (JSON, which starts with `{`) still
//! read.

use std::io::Read;

use automerge::ChangeHash;
use itinera_core::DocumentId;
use itinera_core::policy::DocumentScope;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

use super::cell::Cell;
use super::list_entry::ListEntry;

/// The first byte of a deflated row.
const DEFLATED: u8 = 1;

/// The most bytes a stored row inflates to: a row larger than this is damaged (or hostile), and
/// is read again from the document instead.
const MAX_INFLATED: u64 = 16 * 1024 * 1024;

/// The prefix of the stored rows' keys.
pub const PREFIX: &str = "list-row:";

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
    cells: Vec<Json>,
    haystack: String,
}

/// The bytes stored for `entry`, read from a document at `heads`.
pub fn encode(entry: &ListEntry, heads: &[String]) -> Option<Vec<u8>> {
    let stored = Stored {
        heads: heads.to_vec(),
        cells: entry
            .cells
            .iter()
            .map(|cell| serde_json::to_value(cell).unwrap_or(Json::Null))
            .collect(),
        haystack: entry.haystack().to_owned(),
    };
    let json = serde_json::to_vec(&stored).ok()?;
    deflate(&json)
}

thread_local! {
    /// The deflater of this thread's rows: a row takes microseconds to deflate, while a fresh
    /// deflater allocates and clears a quarter of a megabyte of state (every commit of a listed
    /// record stores a row).
    static DEFLATER: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new(flate2::Compression::fast(), false));
}

/// `json` deflated (raw deflate, fast level) behind the [`DEFLATED`] mark.
fn deflate(json: &[u8]) -> Option<Vec<u8>> {
    DEFLATER.with_borrow_mut(|deflater| {
        deflater.reset();
        let mut out = Vec::with_capacity(1 + json.len() / 2 + 64);
        out.push(DEFLATED);
        loop {
            let read = usize::try_from(deflater.total_in()).ok()?;
            out.reserve(json.len().saturating_sub(read) / 2 + 64);
            let status = deflater
                .compress_vec(&json[read..], &mut out, flate2::FlushCompress::Finish)
                .ok()?;
            if status == flate2::Status::StreamEnd {
                return Some(out);
            }
        }
    })
}

/// The JSON of a stored row: inflated, or as it is for a row written bare.
fn json_of(bytes: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    match bytes.split_first() {
        Some((&DEFLATED, deflated)) => {
            let mut json = Vec::new();
            flate2::read::DeflateDecoder::new(deflated)
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut json)
                .ok()?;
            (json.len() as u64 <= MAX_INFLATED).then_some(json.into())
        }
        _ => Some(bytes.into()),
    }
}

/// The entry stored for `id`, with the scope and title the metadata holds, and the heads it was
/// read at; `None` if the bytes do not decode.
pub fn decode(
    id: DocumentId,
    scope: DocumentScope,
    title: String,
    bytes: &[u8],
) -> Option<(ListEntry, Vec<String>)> {
    let stored: Stored = serde_json::from_slice(&json_of(bytes)?).ok()?;
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
    let entry = ListEntry::from_parts(id, scope, title, cells, stored.haystack);
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
        let back = decode(id, entry.scope.clone(), entry.title.clone(), &bytes);
        assert_eq!(back, Some((entry, heads)));
        let scope = DocumentScope::default();
        assert_eq!(decode(id, scope, String::new(), b"{\"heads\": 1}"), None);
    }

    fn account_with_tags(tags: usize) -> (DocumentId, ListEntry) {
        let account = itinera_core::model::Account {
            name: "Atlas Tours".into(),
            owner: "sam".into(),
            tags: (0..tags).map(|n| format!("w0-{n}")).collect(),
            ..Default::default()
        };
        let doc = Document::create(ActorId::from([1u8; 16]), 0, &account).expect("create");
        let id = DocumentId::from_bytes([9; 16]);
        let entry = ListEntry::describe(id, doc.automerge(), Some("sam")).expect("describe");
        (id, entry)
    }

    #[test]
    fn a_row_is_stored_deflated_and_a_bare_row_of_an_earlier_build_still_reads() {
        let (id, entry) = account_with_tags(250);
        let heads = vec!["ab".to_owned()];
        let bytes = encode(&entry, &heads).expect("encodes");
        let bare = serde_json::to_vec(&Stored {
            heads: heads.clone(),
            cells: entry
                .cells
                .iter()
                .map(|cell| serde_json::to_value(cell).expect("cell"))
                .collect(),
            haystack: entry.haystack().to_owned(),
        })
        .expect("json");
        assert_eq!(bytes.first(), Some(&DEFLATED));
        assert!(
            bytes.len() * 2 < bare.len(),
            "{} bytes deflated, {} bare",
            bytes.len(),
            bare.len()
        );
        let read = |bytes: &[u8]| decode(id, entry.scope.clone(), entry.title.clone(), bytes);
        assert_eq!(read(&bytes), Some((entry.clone(), heads.clone())));
        assert_eq!(read(&bare), Some((entry.clone(), heads)));
        // A damaged deflated row is read again from the document, not trusted.
        assert_eq!(read(&bytes[..bytes.len() / 2]), None);
    }

    /// The thread's deflater starts every row afresh: rows deflated one after another, the
    /// small after the large and text that does not shrink, each inflate to what was given.
    #[test]
    fn rows_deflated_one_after_another_each_inflate_to_their_own_text() {
        let mut noise = Vec::new();
        let mut seed = 0x9e37_79b9_u32;
        for _ in 0..100_000 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            noise.push(seed.to_le_bytes()[0]);
        }
        let texts = [
            b"{\"heads\":[]}".to_vec(),
            b"Atlas Tours ".repeat(5_000),
            noise,
            b"{}".to_vec(),
            Vec::new(),
        ];
        for text in &texts {
            let deflated = deflate(text).expect("deflates");
            assert_eq!(json_of(&deflated).as_deref(), Some(text.as_slice()));
        }
    }
}
