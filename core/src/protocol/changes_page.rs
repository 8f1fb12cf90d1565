//! One page of Itinera's changes feed: the documents a user may read that changed after a
//! checkpoint, each with the heads the server stores and, on a device's first sync, the stored
//! document itself.
//!
//! The feed is an extension of the automerge-repo protocol (see [`Message::ChangesSince`] and
//! [`Message::Changes`]): a device that knows it sends `itinera-changes-since`, a plain
//! automerge-repo peer never does and never receives a page. A page travels as one byte string:
//! the entries as a CBOR array, deflated together, so that the field names and actor ids that
//! every record of a kind repeats are sent once per page rather than once per document.
//!
//! ```
//! use automerge::ChangeHash;
//! use itinera_core::DocumentId;
//! use itinera_core::protocol::{ChangedDocument, ChangesPage, DecodeLimits};
//!
//! let page = ChangesPage {
//!     entries: vec![ChangedDocument {
//!         document: DocumentId::from_bytes([4; 16]),
//!         heads: vec![ChangeHash([9; 32])],
//!         body: None,
//!     }],
//! };
//! let bytes = page.encode();
//! assert_eq!(ChangesPage::decode(&bytes, &DecodeLimits::default())?, page);
//! # Ok::<(), itinera_core::protocol::FrameError>(())
//! ```
//!
//! [`Message::ChangesSince`]: super::Message::ChangesSince
//! [`Message::Changes`]: super::Message::Changes

use std::io::{Read, Write};

use automerge::ChangeHash;
use flate2::Compression;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;

use super::cbor::{self, Value, Writer};
use super::{DecodeLimits, FrameError};
use crate::DocumentId;

/// One changed document of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedDocument {
    /// The document.
    pub document: DocumentId,
    /// The heads the server stores (durably) for it.
    pub heads: Vec<ChangeHash>,
    /// The stored document (what `save()` or the store's chunks hold, loadable by
    /// `AutoCommit::load`), when the device asked for bodies.
    pub body: Option<Vec<u8>>,
}

/// The entries of one page, in the order the server stored their changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangesPage {
    /// The changed documents.
    pub entries: Vec<ChangedDocument>,
}

impl ChangesPage {
    /// The page as sent: its entries as a CBOR array, deflated.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::with_capacity(64 * self.entries.len());
        w.array(self.entries.len());
        for entry in &self.entries {
            w.array(3);
            w.bytes(entry.document.as_bytes());
            let heads: Vec<u8> = entry.heads.iter().flat_map(|head| head.0).collect();
            w.bytes(&heads);
            match &entry.body {
                Some(body) => w.bytes(body),
                None => w.null(),
            }
        }
        let plain = w.finish();
        let mut deflater =
            DeflateEncoder::new(Vec::with_capacity(plain.len() / 2), Compression::fast());
        // Writing into a Vec cannot fail.
        let _ = deflater.write_all(&plain);
        deflater.finish().unwrap_or_default()
    }

    /// Reads a page, inflating at most `limits.max_inflated_bytes`.
    pub fn decode(bytes: &[u8], limits: &DecodeLimits) -> Result<Self, FrameError> {
        let mut plain = Vec::new();
        DeflateDecoder::new(bytes)
            .take(limits.max_inflated_bytes.saturating_add(1))
            .read_to_end(&mut plain)
            .map_err(|err| bad(format!("does not inflate: {err}")))?;
        if plain.len() as u64 > limits.max_inflated_bytes {
            return Err(bad(format!(
                "inflates past {} bytes",
                limits.max_inflated_bytes
            )));
        }
        let Value::Array(items) = cbor::decode(&plain, limits)? else {
            return Err(bad("is not an array".into()));
        };
        let entries = items
            .into_iter()
            .map(entry)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { entries })
    }
}

fn entry(item: Value<'_>) -> Result<ChangedDocument, FrameError> {
    let Value::Array(fields) = item else {
        return Err(bad("has an entry that is not an array".into()));
    };
    let [document, heads, body]: [Value<'_>; 3] = fields
        .try_into()
        .map_err(|_| bad("has an entry without three fields".into()))?;
    let document = match document {
        Value::Bytes(bytes) => <[u8; 16]>::try_from(bytes.as_ref())
            .map(DocumentId::from_bytes)
            .map_err(|_| bad("has a document id that is not 16 bytes".into()))?,
        _ => return Err(bad("has a document id that is not bytes".into())),
    };
    let heads = match heads {
        Value::Bytes(bytes) if bytes.len() % 32 == 0 => bytes
            .chunks_exact(32)
            .filter_map(|chunk| <[u8; 32]>::try_from(chunk).ok().map(ChangeHash))
            .collect(),
        _ => return Err(bad("has heads that are not 32-byte hashes".into())),
    };
    let body = match body {
        Value::Bytes(bytes) => Some(bytes.into_owned()),
        Value::Null | Value::Undefined => None,
        _ => return Err(bad("has a body that is not bytes".into())),
    };
    Ok(ChangedDocument {
        document,
        heads,
        body,
    })
}

fn bad(reason: String) -> FrameError {
    FrameError::BadChangesPage(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_with_bodies_round_trips_and_compresses_what_documents_share() {
        let body = automerge::AutoCommit::new().save();
        let page = ChangesPage {
            entries: (0..200u8)
                .map(|n| ChangedDocument {
                    document: DocumentId::from_bytes([n; 16]),
                    heads: vec![ChangeHash([n; 32]), ChangeHash([n.wrapping_add(1); 32])],
                    body: Some(body.clone()),
                })
                .collect(),
        };
        let bytes = page.encode();
        assert_eq!(
            ChangesPage::decode(&bytes, &DecodeLimits::default()).expect("decodes"),
            page
        );
        assert!(bytes.len() < 200 * body.len(), "{} bytes", bytes.len());
    }

    #[test]
    fn bad_pages_are_refused_not_trusted() {
        let limits = DecodeLimits::default();
        assert!(ChangesPage::decode(b"not deflate at all", &limits).is_err());
        let tiny = DecodeLimits {
            max_inflated_bytes: 10,
            ..DecodeLimits::default()
        };
        let page = ChangesPage {
            entries: vec![ChangedDocument {
                document: DocumentId::from_bytes([1; 16]),
                heads: vec![ChangeHash([2; 32])],
                body: None,
            }],
        };
        assert!(ChangesPage::decode(&page.encode(), &tiny).is_err());
        let mut w = Writer::with_capacity(8);
        w.array(1);
        w.array(3);
        w.bytes(&[1; 15]);
        w.bytes(&[]);
        w.null();
        let mut deflater = DeflateEncoder::new(Vec::new(), Compression::fast());
        deflater.write_all(&w.finish()).expect("deflate");
        let short_id = deflater.finish().expect("deflate");
        assert!(ChangesPage::decode(&short_id, &limits).is_err());
    }
}
