//! A digest of the entries of one user's index document, kept in the store beside it, so that
//! a restart rewrites only the indexes that differ from what the store's metadata says they
//! should list.
//!
//! Rewriting an index means loading its document, and an admin's lists every document of the
//! company: before the digest, every start loaded all of them (most of the memory of a freshly
//! started server with 100,000 documents, and work that competed with the first devices). The
//! digest is the wrapping sum of one SHA-256-derived number per entry, so an entry can be
//! added or taken out again in constant time as the indexer writes changes, and the order of
//! the entries does not matter.

use itinera_core::DocumentId;
use itinera_core::model::{AccessLevel, IndexEntry};
use itinera_core::store::{DocumentStore, WriteBatch};
use sha2::{Digest, Sha256};

/// The digest of a set of index entries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IndexDigest(u128);

impl IndexDigest {
    /// Counts `entry` of document `id` in (`None`, a document the user may not see, counts as
    /// nothing).
    pub fn add(&mut self, id: &DocumentId, entry: Option<&IndexEntry>) {
        self.0 = self.0.wrapping_add(entry_number(id, entry));
    }

    /// Takes `entry` of document `id` out again.
    pub fn remove(&mut self, id: &DocumentId, entry: Option<&IndexEntry>) {
        self.0 = self.0.wrapping_sub(entry_number(id, entry));
    }

    /// The store key of `user`'s digest.
    pub fn key(user: &str) -> String {
        format!("index-digest:{user}")
    }

    /// The digest stored for `user`'s index, if one is (and reads).
    pub fn stored(store: &dyn DocumentStore, user: &str) -> Option<Self> {
        let bytes = store.value(&Self::key(user)).ok()??;
        let bytes: [u8; 16] = bytes.try_into().ok()?;
        Some(Self(u128::from_be_bytes(bytes)))
    }

    /// Adds to `batch` the write of this digest as `user`'s.
    pub fn store_in(self, batch: &mut WriteBatch, user: &str) {
        batch.put_value(&Self::key(user), self.0.to_be_bytes().to_vec());
    }
}

/// One entry's number: the first 16 bytes of the SHA-256 of its document and fields.
fn entry_number(id: &DocumentId, entry: Option<&IndexEntry>) -> u128 {
    let Some(entry) = entry else {
        return 0;
    };
    let mut hash = Sha256::new();
    hash.update(id.as_bytes());
    for field in [entry.kind.as_bytes(), entry.title.as_bytes()] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field);
    }
    hash.update([match entry.access {
        AccessLevel::Read => 1,
        AccessLevel::Write => 2,
    }]);
    let hash = hash.finalize();
    let mut first = [0u8; 16];
    first.copy_from_slice(&hash[..16]);
    u128::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(title: &str, access: AccessLevel) -> IndexEntry {
        IndexEntry {
            kind: "account".into(),
            title: title.into(),
            access,
        }
    }

    #[test]
    fn the_digest_depends_on_the_entries_not_their_order() {
        let (a, b) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        let (ea, eb) = (
            entry("Alpine", AccessLevel::Write),
            entry("Baltic", AccessLevel::Read),
        );
        let mut forward = IndexDigest::default();
        forward.add(&a, Some(&ea));
        forward.add(&b, Some(&eb));
        let mut backward = IndexDigest::default();
        backward.add(&b, Some(&eb));
        backward.add(&a, Some(&ea));
        assert_eq!(forward, backward);

        let mut retitled = forward;
        retitled.remove(&a, Some(&ea));
        retitled.add(&a, Some(&entry("Alpine Tours", AccessLevel::Write)));
        assert_ne!(retitled, forward);
        let mut read_only = forward;
        read_only.remove(&a, Some(&ea));
        read_only.add(&a, Some(&entry("Alpine", AccessLevel::Read)));
        assert_ne!(read_only, forward);

        let mut removed = forward;
        removed.remove(&b, Some(&eb));
        let mut only_a = IndexDigest::default();
        only_a.add(&a, Some(&ea));
        assert_eq!(removed, only_a);
        only_a.add(&b, None);
        assert_eq!(removed, only_a);
    }
}
