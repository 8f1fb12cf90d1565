use automerge::{ObjId, ObjType, ReadDoc, ScalarValue, Value};

use crate::model::{FieldPath, PathSegment};
use crate::{Error, Result};

/// A value of one field, as stored.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Null,
    Bool(bool),
    Int(i64),
    Uint(u64),
    F64(f64),
    Str(String),
    Counter(i64),
    Timestamp(i64),
    Bytes(Vec<u8>),
    /// A text object, read as a string.
    Text(String),
    /// A nested map (a sub-record).
    Map,
    /// A nested list.
    List,
}

/// One of the values two or more devices wrote to the same field concurrently.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictingValue {
    pub value: FieldValue,
    /// The actor (device) that wrote it, in hex.
    pub actor: String,
    /// Whether this is the value every replica shows: Automerge picks the operation with the
    /// highest Lamport timestamp, breaking ties by actor id, so the choice does not depend on
    /// the order in which changes arrived.
    pub winner: bool,
}

/// The values of one field: one when nobody disagreed, several after concurrent writes.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldConflicts {
    pub path: FieldPath,
    pub values: Vec<ConflictingValue>,
}

impl FieldConflicts {
    /// Whether devices wrote different values concurrently.
    pub fn is_conflicted(&self) -> bool {
        self.values.len() > 1
    }

    /// The value shown.
    pub fn winner(&self) -> Option<&FieldValue> {
        self.values
            .iter()
            .find(|value| value.winner)
            .map(|value| &value.value)
    }

    /// The values that lost, still kept by the document.
    pub fn losers(&self) -> impl Iterator<Item = &FieldValue> {
        self.values
            .iter()
            .filter(|value| !value.winner)
            .map(|value| &value.value)
    }
}

/// Reads every value of the field at `path`.
pub(crate) fn field_conflicts<D: ReadDoc>(doc: &D, path: &FieldPath) -> Result<FieldConflicts> {
    let no_field = || Error::NoSuchField(path.clone());
    let (last, parents) = path.segments().split_last().ok_or_else(no_field)?;
    let mut obj = automerge::ROOT;
    for segment in parents {
        let prop = prop_of(doc, &obj, segment).ok_or_else(no_field)?;
        obj = match doc.get(&obj, prop)? {
            Some((Value::Object(_), id)) => id,
            _ => return Err(no_field()),
        };
    }
    let prop = prop_of(doc, &obj, last).ok_or_else(no_field)?;
    let all = doc.get_all(&obj, prop.clone())?;
    if all.is_empty() {
        return Err(no_field());
    }
    let winner_id = doc.get(&obj, prop)?.map(|(_, id)| id);
    let values = all
        .into_iter()
        .map(|(value, id)| {
            let actor = match &id {
                ObjId::Id(_, actor, _) => actor.to_hex_string(),
                ObjId::Root => String::new(),
            };
            Ok(ConflictingValue {
                value: field_value(doc, value, &id)?,
                actor,
                winner: Some(&id) == winner_id.as_ref(),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(FieldConflicts {
        path: path.clone(),
        values,
    })
}

/// The automerge property a segment names in `obj`: keys in maps, indices in lists.
fn prop_of<D: ReadDoc>(doc: &D, obj: &ObjId, segment: &PathSegment) -> Option<automerge::Prop> {
    let in_list = matches!(doc.object_type(obj), Ok(ObjType::List | ObjType::Text));
    match (segment, in_list) {
        (PathSegment::Key(key), false) => Some(automerge::Prop::Map(key.clone())),
        (PathSegment::Key(key), true) => key.parse().ok().map(automerge::Prop::Seq),
        (PathSegment::Index(index), true) => Some(automerge::Prop::Seq(*index)),
        (PathSegment::Index(_), false) => None,
    }
}

fn field_value<D: ReadDoc>(doc: &D, value: Value<'_>, id: &ObjId) -> Result<FieldValue> {
    Ok(match value {
        Value::Object(ObjType::Text) => FieldValue::Text(doc.text(id)?),
        Value::Object(ObjType::List) => FieldValue::List,
        Value::Object(ObjType::Map | ObjType::Table) => FieldValue::Map,
        Value::Scalar(scalar) => match scalar.into_owned() {
            ScalarValue::Null | ScalarValue::Unknown { .. } => FieldValue::Null,
            ScalarValue::Boolean(b) => FieldValue::Bool(b),
            ScalarValue::Int(n) => FieldValue::Int(n),
            ScalarValue::Uint(n) => FieldValue::Uint(n),
            ScalarValue::F64(f) => FieldValue::F64(f),
            ScalarValue::Str(s) => FieldValue::Str(s.to_string()),
            ScalarValue::Counter(c) => FieldValue::Counter(i64::from(&c)),
            ScalarValue::Timestamp(t) => FieldValue::Timestamp(t),
            ScalarValue::Bytes(b) => FieldValue::Bytes(b),
        },
    })
}
