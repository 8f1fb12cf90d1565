use std::collections::BTreeMap;

use automerge::ObjId;
use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconcile};

use super::{FieldPath, Shape, ShapeError};

/// An append-only log: entries keyed by a time-ordered [`LogKey`], never edited once written.
///
/// Entries written offline on several phones merge as a union, and the keys order them by the
/// time the device recorded them. A map, not a list: concurrent appends to a list would still
/// merge, but keyed entries can be referenced (a stage change, a consent event) and deduplicated.
#[derive(Debug, Clone, PartialEq, Reconcile)]
pub struct Log<T: Reconcile + Hydrate>(BTreeMap<String, T>);

/// In one pass over the map (see `map_entries`), not a look-up per entry.
impl<T: Reconcile + Hydrate> Hydrate for Log<T> {
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        super::map_entries::hydrate(doc, obj).map(Self)
    }
}

impl<T: Reconcile + Hydrate> Default for Log<T> {
    fn default() -> Self {
        Self(BTreeMap::new())
    }
}

/// The key of a log entry: the time it was recorded, then something unique to the writer.
///
/// `000001936b7d2c00-3f2a…`: sixteen hex digits of Unix milliseconds sort in time order; the
/// suffix (a device's actor id and a sequence number, or random hex) keeps entries made in the
/// same millisecond on different phones apart.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LogKey(String);

impl LogKey {
    /// A key for an entry recorded at `unix_ms` by a writer that chose `unique`.
    pub fn new(unix_ms: i64, unique: &str) -> Self {
        Self(format!("{:016x}-{unique}", unix_ms.max(0)))
    }

    /// A key as stored: read back from a document, or derived by the server so that re-running
    /// a decision never appends the same entry twice.
    pub fn from_stored(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key as stored.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Appending under a key that is already taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("log entry {0} already exists; entries are never rewritten")]
pub struct DuplicateEntry(pub String);

impl<T: Reconcile + Hydrate> Log<T> {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `entry` under `key`; an existing entry is never replaced.
    pub fn append(&mut self, key: LogKey, entry: T) -> Result<(), DuplicateEntry> {
        match self.0.entry(key.0) {
            std::collections::btree_map::Entry::Occupied(taken) => {
                Err(DuplicateEntry(taken.key().clone()))
            }
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(entry);
                Ok(())
            }
        }
    }

    /// The entry under `key`.
    pub fn get(&self, key: &str) -> Option<&T> {
        self.0.get(key)
    }

    /// The entry under `key`, to change a register that the record allows to change (a task's
    /// `done`, say); log entries themselves are never removed.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut T> {
        self.0.get_mut(key)
    }

    /// Entries in time order, with their keys.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&str, &T)> {
        self.0.iter().map(|(key, entry)| (key.as_str(), entry))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the log is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<T: Reconcile + Hydrate + Shape> Shape for Log<T> {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        <BTreeMap<String, T> as Shape>::check(doc, obj, prop, path)
    }
}
