//! The authority's outbox: the need for a decision, written in the same store transaction as the
//! change that calls for it, so that a crash between the change and the decision loses nothing.
//!
//! The engine writes one entry per durable commit of a user's changes to a kind the server
//! decides ([`EngineConfig::decides`](super::EngineConfig::decides)), keyed by the document and
//! the heads of that commit. The decision deletes exactly the keys it decided, in the same
//! transaction as its last write: a newer change of the same document has other heads, hence
//! another key, and stays pending however the two interleave. At start-up the server evaluates
//! every entry left again; evaluations are idempotent, so one evaluated twice changes nothing.
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::engine::OutboxEntry;
//!
//! let document = DocumentId::from_bytes([4; 16]);
//! let entry = OutboxEntry::new(document, &[], 1_700_000_000_000);
//! assert!(entry.key.starts_with("outbox:"));
//! let read = OutboxEntry::parse(&entry.key, &entry.value()).expect("reads back");
//! assert_eq!(read, entry);
//! ```

use automerge::ChangeHash;

use crate::DocumentId;

/// The prefix of every outbox key in the store's key–value table.
pub const OUTBOX_PREFIX: &str = "outbox:";

/// One pending decision: a document whose commit the server has not decided on yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The store key: `outbox:{document}:{heads}`.
    pub key: String,
    /// The document to evaluate.
    pub document: DocumentId,
    /// When the server made the commit durable (its clock, unix ms): the time a decision
    /// stamps as "received", the same however late the decision runs.
    pub at: i64,
}

impl OutboxEntry {
    /// The entry for the commit of `document` that reached `heads` at `at`.
    pub fn new(document: DocumentId, heads: &[ChangeHash], at: i64) -> Self {
        // The heads folded into one hash-sized value: two commits of a document never share
        // their heads, so they never share a key.
        let mut folded = [0u8; 32];
        for head in heads {
            for (byte, head_byte) in folded.iter_mut().zip(head.0) {
                *byte ^= head_byte;
            }
        }
        // Every commit of an account writes one: the hex is written in place, not formatted
        // byte by byte.
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut key = format!("{OUTBOX_PREFIX}{document}:");
        key.reserve(2 * folded.len());
        for byte in folded {
            key.push(char::from(HEX[usize::from(byte >> 4)]));
            key.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
        Self { key, document, at }
    }

    /// The stored value: the commit time, in decimal.
    pub fn value(&self) -> Vec<u8> {
        self.at.to_string().into_bytes()
    }

    /// The entry stored under `key` with `value`; `None` if either is not an outbox entry's.
    pub fn parse(key: &str, value: &[u8]) -> Option<Self> {
        let rest = key.strip_prefix(OUTBOX_PREFIX)?;
        let (document, _) = rest.split_once(':')?;
        let document = DocumentId::parse(document).ok()?;
        let at = std::str::from_utf8(value).ok()?.parse().ok()?;
        Some(Self {
            key: key.to_owned(),
            document,
            at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn different_heads_give_different_keys_and_the_same_heads_the_same() {
        let document = DocumentId::from_bytes([1; 16]);
        let (a, b) = (ChangeHash([1; 32]), ChangeHash([2; 32]));
        let one = OutboxEntry::new(document, &[a], 5);
        assert_eq!(one.key, OutboxEntry::new(document, &[a], 9).key);
        assert_ne!(one.key, OutboxEntry::new(document, &[b], 5).key);
        assert_ne!(one.key, OutboxEntry::new(document, &[a, b], 5).key);
        assert_eq!(
            OutboxEntry::new(document, &[a, b], 5).key,
            OutboxEntry::new(document, &[b, a], 5).key
        );
    }

    /// Entries stored by earlier builds are found by the same key: the folded heads in
    /// lowercase hex, two digits a byte.
    #[test]
    fn the_key_names_the_document_and_the_folded_heads_in_hex() {
        let document = DocumentId::from_bytes([1; 16]);
        let mut head = [0u8; 32];
        head[0] = 0xa7;
        head[31] = 0x0c;
        let key = OutboxEntry::new(document, &[ChangeHash(head)], 5).key;
        let hex = format!("a7{}0c", "00".repeat(30));
        assert_eq!(key, format!("{OUTBOX_PREFIX}{document}:{hex}"));
    }

    /// A user's change to a kind the server decides writes its entry with the change, and the
    /// committed event names it; the server's own edits write none.
    #[test]
    fn the_engine_writes_the_entry_in_the_same_batch_as_a_users_change() {
        use std::sync::Arc;

        use automerge::ActorId;

        use crate::engine::{
            DocumentEngine, EngineConfig, Input, Output, ServerEdit, StoredDocument,
        };
        use crate::model::{Booking, DocumentKind};
        use crate::policy::{Principal, Role};
        use crate::protocol::PeerId;
        use crate::store::{WriteBatch, WriteOp};

        let config = EngineConfig {
            decides: |kind| kind == Some(DocumentKind::Booking),
            ..EngineConfig::new(PeerId::new("server"), ActorId::from([1u8; 16]))
        };
        let id = DocumentId::from_bytes([2; 16]);
        let mut engine = DocumentEngine::load(config, id, StoredDocument::default());
        let olga = Arc::new(Principal::new("olga", Role::Office));
        let mut run = |author: Option<Arc<Principal>>, now: i64| {
            let edit = ServerEdit::record(move |booking: &mut Booking| {
                booking.channel = format!("phone {now}");
                Ok(true)
            })
            .or_create(DocumentKind::Booking);
            engine.handle(
                now,
                Input::Edit {
                    edit_id: 1,
                    author,
                    edit,
                    with: WriteBatch::new(),
                },
            );
            let outputs = engine.take_outputs();
            let Some(Output::Write { write, batch }) = outputs.into_iter().next() else {
                panic!("a write first");
            };
            let entries: Vec<String> = batch
                .operations()
                .iter()
                .filter_map(|op| match op {
                    WriteOp::PutValue { key, .. } if key.starts_with(OUTBOX_PREFIX) => {
                        Some(key.clone())
                    }
                    _ => None,
                })
                .collect();
            engine.handle(
                now + 1,
                Input::WriteFinished {
                    write,
                    result: Ok(()),
                },
            );
            let committed = engine
                .take_outputs()
                .into_iter()
                .find_map(|output| match output {
                    Output::Committed(committed) => Some(committed),
                    _ => None,
                });
            (entries, committed.and_then(|c| c.outbox.clone()))
        };
        let (entries, outbox) = run(Some(olga), 10);
        assert_eq!(entries.len(), 1);
        let outbox = outbox.expect("the event names its entry");
        assert_eq!(
            (outbox.key.as_str(), outbox.document, outbox.at),
            (entries[0].as_str(), id, 10)
        );
        let (entries, outbox) = run(None, 20);
        assert!(
            entries.is_empty() && outbox.is_none(),
            "the server's decisions need none"
        );
    }

    #[test]
    fn foreign_keys_and_values_are_not_entries() {
        assert_eq!(OutboxEntry::parse("summary:x", b"1"), None);
        assert_eq!(OutboxEntry::parse("outbox:not-an-id:00", b"1"), None);
        let entry = OutboxEntry::new(DocumentId::from_bytes([1; 16]), &[], 1);
        assert_eq!(OutboxEntry::parse(&entry.key, b"soon"), None);
    }
}
