use automerge::ChangeHash;

/// What the store knows about a document without loading it: enough to list, route and
/// authorise documents, and to decide which ones to compact.
///
/// `kind`, `owner`, `scope`, `heads` and `last_change_at` are the caller's; the three sizes are
/// kept by the store itself (see [`WriteBatch`](crate::store::WriteBatch)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentMeta {
    /// The document's kind (`account`, `invoice`, …), as the root's `kind` field says.
    pub kind: Option<String>,
    /// The user who owns the document, for access checks without loading it.
    pub owner: Option<String>,
    /// The grant that gives access to it (a territory, a departure, a stock location).
    pub scope: Option<String>,
    /// The document's heads after the last write.
    pub heads: Vec<ChangeHash>,
    /// Size of the stored snapshot, 0 if there is none.
    pub snapshot_bytes: u64,
    /// Total size of the incremental chunks stored after the snapshot.
    pub incremental_bytes: u64,
    /// Number of incremental chunks stored after the snapshot.
    pub incremental_chunks: u64,
    /// When the document last changed, in unix milliseconds, as the caller's clock says.
    pub last_change_at: i64,
}

/// Why stored metadata bytes were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MetaDecodeError {
    /// No bytes at all.
    #[error("empty record")]
    Empty,
    /// The record starts with a format version this build does not know.
    #[error("format version {0} is unknown to this build")]
    UnknownVersion(u8),
    /// The record ends inside a field.
    #[error("record ends inside field {0}")]
    Truncated(&'static str),
    /// A number is longer than 64 bits.
    #[error("field {0} is not a valid number")]
    BadNumber(&'static str),
    /// A text field is not UTF-8.
    #[error("field {0} is not UTF-8")]
    NotUtf8(&'static str),
    /// An optional field's presence flag is neither 0 nor 1.
    #[error("field {field} has presence flag {flag}, expected 0 or 1")]
    BadFlag {
        /// The field.
        field: &'static str,
        /// The flag found.
        flag: u8,
    },
    /// Bytes are left after the last field.
    #[error("{0} bytes after the last field")]
    TrailingBytes(usize),
}

/// The first byte of every encoded record. A new field means a new version, so that an old
/// build refuses a newer record instead of misreading it.
const FORMAT_V1: u8 = 1;
const HASH_LEN: usize = 32;

impl DocumentMeta {
    /// Encodes the metadata as a compact binary record.
    ///
    /// Layout (version 1): the version byte, then `kind`, `owner` and `scope` each as a presence
    /// byte and, if present, a LEB128 length and UTF-8 bytes; the number of heads (LEB128) and
    /// 32 bytes per head; `snapshot_bytes`, `incremental_bytes` and `incremental_chunks` as LEB128;
    /// `last_change_at` zigzag-encoded LEB128. A typical record is 60–100 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let text_len = [&self.kind, &self.owner, &self.scope]
            .iter()
            .map(|field| field.as_ref().map_or(1, |text| text.len() + 3))
            .sum::<usize>();
        let mut out = Vec::with_capacity(1 + text_len + 2 + self.heads.len() * HASH_LEN + 30);
        out.push(FORMAT_V1);
        for field in [&self.kind, &self.owner, &self.scope] {
            match field {
                None => out.push(0),
                Some(text) => {
                    out.push(1);
                    put_varint(&mut out, text.len() as u64);
                    out.extend_from_slice(text.as_bytes());
                }
            }
        }
        put_varint(&mut out, self.heads.len() as u64);
        for head in &self.heads {
            out.extend_from_slice(&head.0);
        }
        put_varint(&mut out, self.snapshot_bytes);
        put_varint(&mut out, self.incremental_bytes);
        put_varint(&mut out, self.incremental_chunks);
        put_varint(&mut out, zigzag(self.last_change_at));
        out
    }

    /// Decodes a record made by [`DocumentMeta::encode`].
    ///
    /// Never panics and never allocates more than the input's length, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, MetaDecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(MetaDecodeError::Empty)?;
        if version != FORMAT_V1 {
            return Err(MetaDecodeError::UnknownVersion(version));
        }
        let mut reader = Reader { rest };
        let kind = reader.optional_text("kind")?;
        let owner = reader.optional_text("owner")?;
        let scope = reader.optional_text("scope")?;
        let head_count = reader.varint("heads")?;
        // Checked against what is left before allocating, so a corrupt count cannot ask for
        // gigabytes.
        let head_count = usize::try_from(head_count)
            .ok()
            .filter(|count| {
                count
                    .checked_mul(HASH_LEN)
                    .is_some_and(|len| len <= reader.rest.len())
            })
            .ok_or(MetaDecodeError::Truncated("heads"))?;
        let mut heads = Vec::with_capacity(head_count);
        for _ in 0..head_count {
            let mut hash = [0u8; HASH_LEN];
            hash.copy_from_slice(reader.take(HASH_LEN, "heads")?);
            heads.push(ChangeHash(hash));
        }
        let snapshot_bytes = reader.varint("snapshot_bytes")?;
        let incremental_bytes = reader.varint("incremental_bytes")?;
        let incremental_chunks = reader.varint("incremental_chunks")?;
        let last_change_at = unzigzag(reader.varint("last_change_at")?);
        if !reader.rest.is_empty() {
            return Err(MetaDecodeError::TrailingBytes(reader.rest.len()));
        }
        Ok(Self {
            kind,
            owner,
            scope,
            heads,
            snapshot_bytes,
            incremental_bytes,
            incremental_chunks,
            last_change_at,
        })
    }

    /// Bytes the document occupies in the store, snapshot and increments together.
    pub fn stored_bytes(&self) -> u64 {
        self.snapshot_bytes.saturating_add(self.incremental_bytes)
    }
}

struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize, field: &'static str) -> Result<&'a [u8], MetaDecodeError> {
        if len > self.rest.len() {
            return Err(MetaDecodeError::Truncated(field));
        }
        let (taken, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(taken)
    }

    fn byte(&mut self, field: &'static str) -> Result<u8, MetaDecodeError> {
        let (&byte, rest) = self
            .rest
            .split_first()
            .ok_or(MetaDecodeError::Truncated(field))?;
        self.rest = rest;
        Ok(byte)
    }

    fn varint(&mut self, field: &'static str) -> Result<u64, MetaDecodeError> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = self.byte(field)?;
            let bits = u64::from(byte & 0x7f);
            // The tenth byte may carry only the top bit of a u64.
            if shift == 63 && bits > 1 {
                return Err(MetaDecodeError::BadNumber(field));
            }
            value |= bits << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(MetaDecodeError::BadNumber(field))
    }

    fn optional_text(&mut self, field: &'static str) -> Result<Option<String>, MetaDecodeError> {
        match self.byte(field)? {
            0 => Ok(None),
            1 => {
                let len = usize::try_from(self.varint(field)?)
                    .map_err(|_| MetaDecodeError::Truncated(field))?;
                let bytes = self.take(len, field)?;
                let text =
                    std::str::from_utf8(bytes).map_err(|_| MetaDecodeError::NotUtf8(field))?;
                Ok(Some(text.to_owned()))
            }
            flag => Err(MetaDecodeError::BadFlag { field, flag }),
        }
    }
}

fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8 & 0x7f) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn zigzag(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

fn unzigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> DocumentMeta {
        DocumentMeta {
            kind: Some("account".into()),
            owner: Some("rep-7".into()),
            scope: None,
            heads: vec![ChangeHash([3; 32]), ChangeHash([250; 32])],
            snapshot_bytes: 1_234,
            incremental_bytes: 300,
            incremental_chunks: 4,
            last_change_at: 1_767_225_600_000,
        }
    }

    #[test]
    fn a_record_round_trips_and_is_compact() {
        let meta = sample();
        let bytes = meta.encode();
        assert_eq!(DocumentMeta::decode(&bytes), Ok(meta));
        // version + kind(9) + owner(7) + scope(1) + count(1) + 64 + 2 + 2 + 1 + 6
        assert_eq!(bytes.len(), 94);
        assert_eq!(
            DocumentMeta::decode(&DocumentMeta::default().encode()),
            Ok(DocumentMeta::default())
        );
    }

    #[test]
    fn extreme_numbers_round_trip() {
        for at in [i64::MIN, -1, 0, 1, i64::MAX] {
            let meta = DocumentMeta {
                snapshot_bytes: u64::MAX,
                incremental_bytes: 0,
                incremental_chunks: 1 << 63,
                last_change_at: at,
                ..DocumentMeta::default()
            };
            assert_eq!(DocumentMeta::decode(&meta.encode()), Ok(meta));
        }
    }

    #[test]
    fn corrupt_records_are_refused_with_the_reason() {
        let good = sample().encode();
        assert_eq!(DocumentMeta::decode(&[]), Err(MetaDecodeError::Empty));

        let mut newer = good.clone();
        newer[0] = 2;
        assert_eq!(
            DocumentMeta::decode(&newer),
            Err(MetaDecodeError::UnknownVersion(2))
        );

        assert_eq!(
            DocumentMeta::decode(&good[..good.len() - 1]),
            Err(MetaDecodeError::Truncated("last_change_at"))
        );
        assert_eq!(
            DocumentMeta::decode(&good[..20]),
            Err(MetaDecodeError::Truncated("heads"))
        );

        let mut trailing = good.clone();
        trailing.push(0);
        assert_eq!(
            DocumentMeta::decode(&trailing),
            Err(MetaDecodeError::TrailingBytes(1))
        );

        let mut flag = good.clone();
        flag[1] = 7;
        assert_eq!(
            DocumentMeta::decode(&flag),
            Err(MetaDecodeError::BadFlag {
                field: "kind",
                flag: 7
            })
        );

        let mut not_utf8 = good.clone();
        not_utf8[3] = 0xff; // first byte of "account"
        assert_eq!(
            DocumentMeta::decode(&not_utf8),
            Err(MetaDecodeError::NotUtf8("kind"))
        );

        // A head count of 2^56: refused before allocating.
        let huge_count = [
            1, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ];
        assert_eq!(
            DocumentMeta::decode(&huge_count),
            Err(MetaDecodeError::Truncated("heads"))
        );

        // An eleven-byte varint.
        let mut overlong = vec![1, 0, 0, 0, 0];
        overlong.extend([0xff; 10]);
        overlong.push(0);
        assert_eq!(
            DocumentMeta::decode(&overlong),
            Err(MetaDecodeError::BadNumber("snapshot_bytes"))
        );
    }

    proptest! {
        #[test]
        fn any_meta_round_trips(
            kind in proptest::option::of(".{0,20}"),
            owner in proptest::option::of(".{0,20}"),
            scope in proptest::option::of(".{0,20}"),
            heads in proptest::collection::vec(any::<[u8; 32]>(), 0..4),
            sizes in any::<(u64, u64, u64)>(),
            last_change_at in any::<i64>(),
        ) {
            let meta = DocumentMeta {
                kind, owner, scope,
                heads: heads.into_iter().map(ChangeHash).collect(),
                snapshot_bytes: sizes.0,
                incremental_bytes: sizes.1,
                incremental_chunks: sizes.2,
                last_change_at,
            };
            prop_assert_eq!(DocumentMeta::decode(&meta.encode()), Ok(meta));
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = DocumentMeta::decode(&bytes);
        }

        #[test]
        fn every_truncation_of_a_record_is_refused(cut in 0usize..94) {
            let good = sample().encode();
            prop_assert!(DocumentMeta::decode(&good[..cut]).is_err());
        }
    }
}
