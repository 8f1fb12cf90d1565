use std::collections::BTreeMap;

use automerge::{ObjId, ObjType, ScalarValue, Value};
use autosurgeon::{Hydrate, HydrateError, Prop, ReadDoc, Reconcile};

use super::{FieldPath, PathSegment, Shape, ShapeError};

/// An add-wins set of strings (tags, roles, languages, e-mail addresses).
///
/// Stored as a map from member to `true`. Adding and removing different members on two phones
/// merges member by member; adding a member on one phone while another removes it keeps it,
/// because a removal only deletes the entries it has seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile)]
pub struct Set(BTreeMap<String, bool>);

/// In one pass over the map (see `map_entries`), not a look-up per member.
impl Hydrate for Set {
    fn hydrate_map<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
        super::map_entries::hydrate(doc, obj).map(Self)
    }
}

impl Set {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `member`; returns whether it was new.
    pub fn insert(&mut self, member: impl Into<String>) -> bool {
        self.0.insert(member.into(), true).is_none()
    }

    /// Removes `member`; returns whether it was there.
    pub fn remove(&mut self, member: &str) -> bool {
        self.0.remove(member).is_some()
    }

    /// Whether `member` is in the set.
    pub fn contains(&self, member: &str) -> bool {
        self.0.contains_key(member)
    }

    /// The members in sorted order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    /// How many members.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set has no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<S: Into<String>> FromIterator<S> for Set {
    fn from_iter<I: IntoIterator<Item = S>>(members: I) -> Self {
        Self(members.into_iter().map(|m| (m.into(), true)).collect())
    }
}

impl Shape for Set {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        // Members read in one pass over the map: a look-up per member is quadratic in the
        // size of the set (see `map_entries`).
        let map = super::shape::object_at(doc, obj, prop, path, ObjType::Map)?;
        super::shape::check_entries(doc.length(&map), path)?;
        for item in doc.map_range(&map, ..) {
            super::shape::check_key(&item.key, path)?;
            let member = matches!(
                item.value.into_value(),
                Value::Scalar(scalar) if matches!(*scalar, ScalarValue::Boolean(_))
            );
            if !member {
                path.push(PathSegment::Key(item.key.into_owned()));
                let error = ShapeError {
                    path: path.clone(),
                    reason: "expected a boolean (a set member maps to true)".into(),
                };
                path.pop();
                return Err(error);
            }
        }
        Ok(())
    }
}
