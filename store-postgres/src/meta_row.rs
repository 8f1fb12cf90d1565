//! A document's metadata as the columns of its row in `documents`, both ways.

use automerge::ChangeHash;
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, MetaDecodeError, StoreError, StoreOperation, StoreResult};
use tokio_postgres::Row;

use crate::error::PgError;

const HASH_LEN: usize = 32;

/// Reads the metadata columns at the start of `row` (see `sql::meta_columns`).
///
/// Names every field, without `..Default::default()`: a field added to `DocumentMeta` fails
/// this build until it has a column (and a migration).
pub(crate) fn meta_from_row(
    doc: DocumentId,
    row: &Row,
    operation: StoreOperation,
) -> StoreResult<DocumentMeta> {
    let column = |error: tokio_postgres::Error| PgError::Postgres(error).during(operation);
    let heads: &[u8] = row.try_get(3).map_err(column)?;
    let kind: Option<String> = row.try_get(0).map_err(column)?;
    let access: Option<&[u8]> = row.try_get(2).map_err(column)?;
    let scope = access
        .map(|bytes| DocumentMeta::decode_scope(bytes, kind.as_deref()))
        .transpose()
        .map_err(|source| StoreError::CorruptMeta { doc, source })?;
    Ok(DocumentMeta {
        kind,
        creator: row.try_get(1).map_err(column)?,
        scope,
        title: row.try_get(8).map_err(column)?,
        heads: heads_from_bytes(heads).ok_or(StoreError::CorruptMeta {
            doc,
            source: MetaDecodeError::Truncated("heads"),
        })?,
        snapshot_bytes: size(doc, row.try_get(4).map_err(column)?, "snapshot_bytes")?,
        incremental_bytes: size(doc, row.try_get(5).map_err(column)?, "incremental_bytes")?,
        incremental_chunks: size(doc, row.try_get(6).map_err(column)?, "incremental_chunks")?,
        last_change_at: row.try_get(7).map_err(column)?,
    })
}

/// The document id of a row's column `index`.
pub(crate) fn document_id(row: &Row, index: usize) -> Result<DocumentId, PgError> {
    let bytes: &[u8] = row.try_get(index)?;
    let bytes: [u8; 16] = bytes
        .try_into()
        .map_err(|_| PgError::DocumentId(bytes.len()))?;
    Ok(DocumentId::from_bytes(bytes))
}

/// The heads as the `heads` column holds them.
pub(crate) fn heads_to_bytes(heads: &[ChangeHash]) -> Vec<u8> {
    heads.iter().flat_map(|head| head.0).collect()
}

/// A length as a `bigint` column holds it. Lengths of bytes in memory fit.
pub(crate) fn column_size(len: usize) -> i64 {
    i64::try_from(len).unwrap_or(i64::MAX)
}

fn heads_from_bytes(bytes: &[u8]) -> Option<Vec<ChangeHash>> {
    if bytes.len() % HASH_LEN != 0 {
        return None;
    }
    let heads = bytes.chunks_exact(HASH_LEN).map(|hash| {
        let mut head = [0u8; HASH_LEN];
        head.copy_from_slice(hash);
        ChangeHash(head)
    });
    Some(heads.collect())
}

fn size(doc: DocumentId, value: i64, field: &'static str) -> StoreResult<u64> {
    u64::try_from(value).map_err(|_| StoreError::CorruptMeta {
        doc,
        source: MetaDecodeError::BadNumber(field),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heads_round_trip_and_a_partial_hash_is_refused() {
        let heads = vec![ChangeHash([1; 32]), ChangeHash([200; 32])];
        let bytes = heads_to_bytes(&heads);
        assert_eq!(bytes.len(), 64);
        assert_eq!(heads_from_bytes(&bytes), Some(heads));
        assert_eq!(heads_from_bytes(&[]), Some(vec![]));
        assert_eq!(heads_from_bytes(&bytes[..40]), None);
    }
}
