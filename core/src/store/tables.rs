//! The redb tables of the store and the layout of their keys.

use redb::TableDefinition;

use crate::DocumentId;
use crate::store::MetaDecodeError;

/// Facts about the file itself: its layout (see [`layout`](crate::store::layout)).
pub(crate) const STORE_INFO: TableDefinition<'static, &'static str, u64> =
    TableDefinition::new("store_info");

/// Document chunks keyed by [`chunk_key`]: a document's chunks are one contiguous range, in the
/// order they were written, the snapshot (if any) first.
pub(crate) const CHUNKS: TableDefinition<'static, &'static [u8; CHUNK_KEY_LEN], &'static [u8]> =
    TableDefinition::new("document_chunks");

/// Each document's row by document id, made by [`meta_row`]: its number in [`CHANGES`], then
/// its encoded [`DocumentMeta`](crate::store::DocumentMeta). Small, so that listing documents
/// reads no body; one row, so that a write of the document touches one table for both.
pub(crate) const METAS: TableDefinition<'static, &'static [u8; 16], &'static [u8]> =
    TableDefinition::new("document_meta");

/// Sync states keyed by the document id followed by the remote storage id's UTF-8 bytes, so
/// that a document's states are one range.
pub(crate) const SYNC_STATES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("sync_states");

/// The server's key–value table.
pub(crate) const VALUES: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("values");

/// The store's change sequence: each document at the sequence number of its last write
/// (content or scope), so that "what changed after N" is one range and each document appears
/// once. Numbers only grow; a document written again moves to the end.
pub(crate) const CHANGES: TableDefinition<'static, u64, &'static [u8; 16]> =
    TableDefinition::new("document_changes");

/// Layout 4 only: each document's number in [`CHANGES`], which layout 5 keeps in the
/// document's [`METAS`] row instead (a write then copies the pages of one table fewer). Named
/// here to migrate and restore layout-4 files.
pub(crate) const CHANGE_OF_DOCUMENT: TableDefinition<'static, &'static [u8; 16], u64> =
    TableDefinition::new("change_of_document");

const SEQUENCE_LEN: usize = 8;

/// A document's [`METAS`] row: its number in the change sequence, big-endian, then its encoded
/// metadata.
pub(crate) fn meta_row(sequence: u64, meta: &[u8]) -> Vec<u8> {
    let mut row = Vec::with_capacity(SEQUENCE_LEN + meta.len());
    row.extend_from_slice(&sequence.to_be_bytes());
    row.extend_from_slice(meta);
    row
}

/// The change-sequence number and the encoded metadata of a row made by [`meta_row`].
pub(crate) fn split_meta_row(row: &[u8]) -> Result<(u64, &[u8]), MetaDecodeError> {
    let Some((sequence, meta)) = row.split_first_chunk::<SEQUENCE_LEN>() else {
        return Err(MetaDecodeError::Truncated("change sequence"));
    };
    Ok((u64::from_be_bytes(*sequence), meta))
}

pub(crate) const CHUNK_KEY_LEN: usize = 24;

/// The document id, then the chunk's sequence number big-endian: byte order is write order.
pub(crate) fn chunk_key(doc: DocumentId, sequence: u64) -> [u8; CHUNK_KEY_LEN] {
    let mut key = [0u8; CHUNK_KEY_LEN];
    key[..16].copy_from_slice(doc.as_bytes());
    key[16..].copy_from_slice(&sequence.to_be_bytes());
    key
}

/// The sequence number of a key made by [`chunk_key`].
pub(crate) fn chunk_sequence(key: &[u8; CHUNK_KEY_LEN]) -> u64 {
    let mut sequence = [0u8; 8];
    sequence.copy_from_slice(&key[16..]);
    u64::from_be_bytes(sequence)
}

/// The first and last possible keys of `doc`'s chunks with sequence numbers in
/// `first..=last`; pass them as `&start..=&end` (redb ranges borrow their bounds).
pub(crate) fn chunk_bounds(
    doc: DocumentId,
    first: u64,
    last: u64,
) -> ([u8; CHUNK_KEY_LEN], [u8; CHUNK_KEY_LEN]) {
    (chunk_key(doc, first), chunk_key(doc, last))
}

/// The bounds of `doc`'s sync-state keys: from the bare id up to, excluding, the next id
/// (none after the largest id).
pub(crate) fn sync_state_bounds(doc: DocumentId) -> ([u8; 16], Option<[u8; 16]>) {
    let start = *doc.as_bytes();
    let next = u128::from_be_bytes(start)
        .checked_add(1)
        .map(u128::to_be_bytes);
    (start, next)
}

pub(crate) fn sync_state_key(doc: DocumentId, storage_id: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(16 + storage_id.len());
    key.extend_from_slice(doc.as_bytes());
    key.extend_from_slice(storage_id.as_bytes());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunk_keys_sort_by_document_then_sequence() {
        let a = DocumentId::from_bytes([1; 16]);
        let b = DocumentId::from_bytes([2; 16]);
        let keys = [
            chunk_key(a, 0),
            chunk_key(a, 1),
            chunk_key(a, 255),
            chunk_key(a, 256),
            chunk_key(a, u64::MAX),
            chunk_key(b, 0),
        ];
        assert!(keys.windows(2).all(|pair| pair[0] < pair[1]));
        assert_eq!(chunk_sequence(&chunk_key(a, 256)), 256);
        let (start, end) = chunk_bounds(a, 0, u64::MAX);
        assert!((start..=end).contains(&chunk_key(a, 7)));
        assert!(!(start..=end).contains(&chunk_key(b, 0)));
        let (start, end) = chunk_bounds(a, 8, 9);
        assert!(!(start..=end).contains(&chunk_key(a, 7)));
    }

    #[test]
    fn a_meta_row_holds_its_sequence_then_the_metadata() {
        let row = meta_row(258, &[7, 8]);
        assert_eq!(row, [0, 0, 0, 0, 0, 0, 1, 2, 7, 8]);
        assert_eq!(split_meta_row(&row), Ok((258, [7u8, 8].as_slice())));
        assert_eq!(
            split_meta_row(&row[..7]),
            Err(MetaDecodeError::Truncated("change sequence"))
        );
    }

    #[test]
    fn sync_state_bounds_hold_exactly_the_document_states() {
        let mut bytes = [0u8; 16];
        bytes[15] = 0xff;
        let doc = DocumentId::from_bytes(bytes);
        let (start, end) = sync_state_bounds(doc);
        let mut next = [0u8; 16];
        next[14] = 1;
        assert_eq!(end, Some(next));
        let inside = sync_state_key(doc, "\u{10ffff}\u{10ffff}");
        assert!(start.as_slice() <= inside.as_slice());
        assert!(end.is_some_and(|end| inside.as_slice() < end.as_slice()));
        assert_eq!(
            sync_state_bounds(DocumentId::from_bytes([0xff; 16])).1,
            None
        );
    }
}
