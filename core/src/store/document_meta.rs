use std::collections::BTreeSet;

use automerge::ChangeHash;

use crate::DocumentId;
use crate::model::DocumentKind;
use crate::policy::DocumentScope;

/// What the store knows about a document without loading it: enough to list, route and
/// authorise documents, index them for their users, and decide which ones to compact.
///
/// `kind`, `creator`, `scope`, `title`, `heads` and `last_change_at` are the caller's; the three
/// sizes are kept by the store itself (see [`WriteBatch`](crate::store::WriteBatch)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentMeta {
    /// The document's kind (`account`, `invoice`, …), as the root's `kind` field says.
    pub kind: Option<String>,
    /// The user who created the document: the owner of records that name none (invoices,
    /// generic documents).
    pub creator: Option<String>,
    /// Who may see the document, as the server last described it (shares included), so that
    /// access is decided without loading it. `None` in stores written before it was kept.
    pub scope: Option<DocumentScope>,
    /// The document's short title (see `document::title_of`), for index entries and lists.
    pub title: String,
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
/// build refuses a newer record instead of misreading it. Version 1 had no scope (an unused
/// text in its place) and no title; it is still read.
const FORMAT_V1: u8 = 1;
const FORMAT_V2: u8 = 2;
const HASH_LEN: usize = 32;
const ID_LEN: usize = 16;

impl DocumentMeta {
    /// Encodes the metadata as a compact binary record.
    ///
    /// Layout (version 2): the version byte; `kind` and `creator` each as a presence byte and,
    /// if present, a LEB128 length and UTF-8 bytes; the scope's presence byte and, if present,
    /// its owner, territory (texts as above), departure (presence byte, 16 bytes), locations and
    /// shares (LEB128 counts; 16 bytes or a text each) and subject (text); the title (LEB128
    /// length and UTF-8); the number of heads (LEB128) and 32 bytes per head;
    /// `snapshot_bytes`, `incremental_bytes` and `incremental_chunks` as LEB128;
    /// `last_change_at` zigzag-encoded LEB128. A typical record is 80–150 bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.title.len() + self.heads.len() * HASH_LEN);
        out.push(FORMAT_V2);
        put_optional_text(&mut out, self.kind.as_deref());
        put_optional_text(&mut out, self.creator.as_deref());
        match &self.scope {
            None => out.push(0),
            Some(scope) => {
                out.push(1);
                put_scope(&mut out, scope);
            }
        }
        put_text(&mut out, &self.title);
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

    /// Decodes a record made by [`DocumentMeta::encode`] (or by a build that wrote version 1).
    ///
    /// Never panics and never allocates more than the input's length, whatever the bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, MetaDecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(MetaDecodeError::Empty)?;
        if version != FORMAT_V1 && version != FORMAT_V2 {
            return Err(MetaDecodeError::UnknownVersion(version));
        }
        let mut reader = Reader { rest };
        let kind = reader.optional_text("kind")?;
        let creator = reader.optional_text("creator")?;
        let (scope, title) = if version == FORMAT_V1 {
            // The unused text of version 1.
            reader.optional_text("scope")?;
            (None, String::new())
        } else {
            let scope = reader.scope(kind.as_deref())?;
            (scope, reader.text("title")?)
        };
        let head_count = reader.count("heads", HASH_LEN)?;
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
            creator,
            scope,
            title,
            heads,
            snapshot_bytes,
            incremental_bytes,
            incremental_chunks,
            last_change_at,
        })
    }

    /// The metadata the server keeps for `doc` (document `id`, created by `creator`): its kind,
    /// creator, scope (no shares: they are the server's to add), title and heads, changed at
    /// `at`. A document whose scope cannot be read (it does not fit its kind) gets none.
    pub fn describe(
        id: &DocumentId,
        doc: &mut automerge::AutoCommit,
        creator: Option<&str>,
        at: i64,
    ) -> Self {
        let scope = DocumentScope::describe(id, doc, creator).ok();
        Self {
            kind: scope
                .as_ref()
                .and_then(|scope| scope.kind)
                .map(|kind| kind.as_str().to_owned()),
            creator: creator.map(str::to_owned),
            scope,
            title: crate::document::title_of(doc),
            heads: doc.get_heads(),
            last_change_at: at,
            ..Self::default()
        }
    }

    /// A scope alone, as [`DocumentMeta::encode`] lays it out (for a store that keeps the scope
    /// in a column of its own).
    pub fn encode_scope(scope: &DocumentScope) -> Vec<u8> {
        let mut out = Vec::with_capacity(32);
        put_scope(&mut out, scope);
        out
    }

    /// Decodes what [`DocumentMeta::encode_scope`] made; `kind` is the document's kind.
    pub fn decode_scope(
        bytes: &[u8],
        kind: Option<&str>,
    ) -> Result<DocumentScope, MetaDecodeError> {
        let mut reader = Reader { rest: bytes };
        let scope = reader.scope_fields(kind)?;
        if !reader.rest.is_empty() {
            return Err(MetaDecodeError::TrailingBytes(reader.rest.len()));
        }
        Ok(scope)
    }

    /// Bytes the document occupies in the store, snapshot and increments together.
    pub fn stored_bytes(&self) -> u64 {
        self.snapshot_bytes.saturating_add(self.incremental_bytes)
    }
}

fn put_scope(out: &mut Vec<u8>, scope: &DocumentScope) {
    put_optional_text(out, scope.owner.as_deref());
    put_optional_text(out, scope.territory.as_deref());
    match &scope.departure {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
    put_varint(out, scope.locations.len() as u64);
    for location in &scope.locations {
        out.extend_from_slice(location.as_bytes());
    }
    put_optional_text(out, scope.subject.as_deref());
    put_varint(out, scope.shared_with.len() as u64);
    for user in &scope.shared_with {
        put_text(out, user);
    }
}

fn put_optional_text(out: &mut Vec<u8>, text: Option<&str>) {
    match text {
        None => out.push(0),
        Some(text) => {
            out.push(1);
            put_text(out, text);
        }
    }
}

fn put_text(out: &mut Vec<u8>, text: &str) {
    put_varint(out, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
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

    fn flag(&mut self, field: &'static str) -> Result<bool, MetaDecodeError> {
        match self.byte(field)? {
            0 => Ok(false),
            1 => Ok(true),
            flag => Err(MetaDecodeError::BadFlag { field, flag }),
        }
    }

    fn text(&mut self, field: &'static str) -> Result<String, MetaDecodeError> {
        let len =
            usize::try_from(self.varint(field)?).map_err(|_| MetaDecodeError::Truncated(field))?;
        let bytes = self.take(len, field)?;
        let text = std::str::from_utf8(bytes).map_err(|_| MetaDecodeError::NotUtf8(field))?;
        Ok(text.to_owned())
    }

    fn optional_text(&mut self, field: &'static str) -> Result<Option<String>, MetaDecodeError> {
        if self.flag(field)? {
            self.text(field).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A count of items at least `min_item_len` bytes each, checked against what is left before
    /// anything is allocated, so a corrupt count cannot ask for gigabytes.
    fn count(
        &mut self,
        field: &'static str,
        min_item_len: usize,
    ) -> Result<usize, MetaDecodeError> {
        let count = self.varint(field)?;
        usize::try_from(count)
            .ok()
            .filter(|count| {
                count
                    .checked_mul(min_item_len)
                    .is_some_and(|len| len <= self.rest.len())
            })
            .ok_or(MetaDecodeError::Truncated(field))
    }

    fn id(&mut self, field: &'static str) -> Result<DocumentId, MetaDecodeError> {
        let mut bytes = [0u8; ID_LEN];
        bytes.copy_from_slice(self.take(ID_LEN, field)?);
        Ok(DocumentId::from_bytes(bytes))
    }

    fn scope(&mut self, kind: Option<&str>) -> Result<Option<DocumentScope>, MetaDecodeError> {
        if !self.flag("scope")? {
            return Ok(None);
        }
        self.scope_fields(kind).map(Some)
    }

    fn scope_fields(&mut self, kind: Option<&str>) -> Result<DocumentScope, MetaDecodeError> {
        let owner = self.optional_text("scope.owner")?;
        let territory = self.optional_text("scope.territory")?;
        let departure = if self.flag("scope.departure")? {
            Some(self.id("scope.departure")?)
        } else {
            None
        };
        let location_count = self.count("scope.locations", ID_LEN)?;
        let locations = (0..location_count)
            .map(|_| self.id("scope.locations"))
            .collect::<Result<_, _>>()?;
        let subject = self.optional_text("scope.subject")?;
        let share_count = self.count("scope.shared_with", 1)?;
        let shared_with = (0..share_count)
            .map(|_| self.text("scope.shared_with"))
            .collect::<Result<BTreeSet<_>, _>>()?;
        Ok(DocumentScope {
            kind: kind.and_then(DocumentKind::parse),
            owner,
            territory,
            departure,
            locations,
            subject,
            shared_with,
        })
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
            creator: Some("rep-7".into()),
            scope: None,
            title: String::new(),
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
        // version + kind(9) + creator(7) + scope(1) + title(1) + count(1) + 64 + 2 + 2 + 1 + 6
        assert_eq!(bytes.len(), 95);
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
        newer[0] = 3;
        assert_eq!(
            DocumentMeta::decode(&newer),
            Err(MetaDecodeError::UnknownVersion(3))
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
            2, 0, 0, 0, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01,
        ];
        assert_eq!(
            DocumentMeta::decode(&huge_count),
            Err(MetaDecodeError::Truncated("heads"))
        );

        // An eleven-byte varint.
        let mut overlong = vec![2, 0, 0, 0, 0, 0];
        overlong.extend([0xff; 10]);
        overlong.push(0);
        assert_eq!(
            DocumentMeta::decode(&overlong),
            Err(MetaDecodeError::BadNumber("snapshot_bytes"))
        );
    }

    #[test]
    fn a_version_one_record_is_still_read() {
        // Written by a build before scopes and titles were kept: kind "deal", owner "ana", an
        // unused scope text "x", no heads, sizes 1, 2, 3, last change 2 (zigzag 4).
        let v1 = [
            1, 1, 4, b'd', b'e', b'a', b'l', 1, 3, b'a', b'n', b'a', 1, 1, b'x', 0, 1, 2, 3, 4,
        ];
        let meta = DocumentMeta::decode(&v1).expect("version 1 reads");
        assert_eq!(meta.kind.as_deref(), Some("deal"));
        assert_eq!(meta.creator.as_deref(), Some("ana"));
        assert_eq!(meta.scope, None);
        assert_eq!(meta.title, "");
        assert_eq!(
            (
                meta.snapshot_bytes,
                meta.incremental_bytes,
                meta.incremental_chunks,
                meta.last_change_at
            ),
            (1, 2, 3, 2)
        );
    }

    #[test]
    fn a_scope_round_trips() {
        let meta = DocumentMeta {
            kind: Some("stock".into()),
            scope: Some(DocumentScope {
                kind: Some(DocumentKind::Stock),
                owner: Some("gus".into()),
                territory: Some("north".into()),
                departure: Some(DocumentId::from_bytes([4; 16])),
                locations: vec![
                    DocumentId::from_bytes([5; 16]),
                    DocumentId::from_bytes([6; 16]),
                ],
                subject: Some("ana".into()),
                shared_with: ["ben".to_owned(), "olga".to_owned()].into(),
            }),
            title: "Tour kit 3".into(),
            ..sample()
        };
        assert_eq!(DocumentMeta::decode(&meta.encode()), Ok(meta));
    }

    proptest! {
        #[test]
        fn any_meta_round_trips(
            kind in proptest::option::of(".{0,20}"),
            creator in proptest::option::of(".{0,20}"),
            owner in proptest::option::of(".{0,20}"),
            shared in proptest::collection::btree_set(".{0,8}", 0..3),
            has_scope in any::<bool>(),
            title in ".{0,30}",
            heads in proptest::collection::vec(any::<[u8; 32]>(), 0..4),
            sizes in any::<(u64, u64, u64)>(),
            last_change_at in any::<i64>(),
        ) {
            let scope = has_scope.then(|| DocumentScope {
                kind: kind.as_deref().and_then(DocumentKind::parse),
                owner,
                shared_with: shared,
                ..DocumentScope::default()
            });
            let meta = DocumentMeta {
                kind, creator, scope, title,
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
        fn every_truncation_of_a_record_is_refused(cut in 0usize..95) {
            let good = sample().encode();
            prop_assert!(DocumentMeta::decode(&good[..cut]).is_err());
        }
    }
}
