//! Documents as JSON for the REST API, and JSON merge patches applied as Automerge changes.
//!
//! Reading walks the document: maps become objects, lists arrays, text strings, counters
//! numbers. Writing applies an RFC 7396 merge patch field by field, so a REST update changes
//! only the fields it names and merges with phones' concurrent edits like any other change:
//! text fields are diffed (`update_text`), counters refused (stock moves by movements), and new
//! sub-records created from the JSON.

use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use itinera_core::engine::EditError;
use serde_json::{Map, Number, Value as Json};

/// Why a merge patch was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PatchError {
    /// `kind` and `schema` belong to the document, not to the record.
    #[error("{0} cannot be changed")]
    ServerField(String),
    /// Counters move by movements, never by a new value.
    #[error("{0} is a counter; post a movement instead of setting it")]
    Counter(String),
    /// Automerge refused an operation.
    #[error(transparent)]
    Automerge(#[from] AutomergeError),
}

impl From<PatchError> for EditError {
    fn from(error: PatchError) -> Self {
        EditError::Invalid(error.to_string())
    }
}

/// The whole document as JSON.
pub fn document_to_json(doc: &AutoCommit) -> Json {
    object_to_json(doc, &automerge::ROOT)
}

fn object_to_json(doc: &AutoCommit, obj: &ObjId) -> Json {
    match doc.object_type(obj) {
        Ok(ObjType::Map | ObjType::Table) => {
            let mut out = Map::new();
            for item in doc.map_range(obj, ..) {
                let value = match doc.get(obj, item.key.as_ref()) {
                    Ok(Some((value, id))) => value_to_json(doc, value, &id),
                    _ => Json::Null,
                };
                out.insert(item.key.into_owned(), value);
            }
            Json::Object(out)
        }
        Ok(ObjType::List) => Json::Array(
            (0..doc.length(obj))
                .map(|index| match doc.get(obj, index) {
                    Ok(Some((value, id))) => value_to_json(doc, value, &id),
                    _ => Json::Null,
                })
                .collect(),
        ),
        Ok(ObjType::Text) => Json::String(doc.text(obj).unwrap_or_default()),
        Err(_) => Json::Null,
    }
}

fn value_to_json(doc: &AutoCommit, value: Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Object(_) => object_to_json(doc, id),
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => Json::String(text.to_string()),
            ScalarValue::Int(n) => Json::from(*n),
            ScalarValue::Uint(n) => Json::from(*n),
            ScalarValue::F64(f) => Number::from_f64(*f).map_or(Json::Null, Json::Number),
            ScalarValue::Counter(c) => Json::from(i64::from(c)),
            ScalarValue::Timestamp(t) => Json::from(*t),
            ScalarValue::Boolean(b) => Json::Bool(*b),
            ScalarValue::Bytes(bytes) => {
                Json::String(bytes.iter().map(|b| format!("{b:02x}")).collect())
            }
            ScalarValue::Null | ScalarValue::Unknown { .. } => Json::Null,
        },
    }
}

/// Applies a merge patch to the map `obj`. `kind` and `schema` at the root are the server's.
pub fn apply_patch(
    doc: &mut AutoCommit,
    obj: &ObjId,
    patch: &Map<String, Json>,
    at_root: bool,
) -> Result<(), PatchError> {
    for (key, value) in patch {
        if at_root && (key == "kind" || key == "schema") {
            return Err(PatchError::ServerField(key.clone()));
        }
        let existing = doc.get(obj, key.as_str())?;
        match (existing, value) {
            (_, Json::Null)
                if matches!(doc.get(obj, key.as_str()), Ok(Some((Value::Object(_), _)))) =>
            {
                doc.delete(obj, key.as_str())?;
            }
            (Some((Value::Object(ObjType::Map | ObjType::Table), child)), Json::Object(inner)) => {
                apply_patch(doc, &child, inner, false)?;
            }
            (Some((Value::Object(ObjType::Text), child)), Json::String(text)) => {
                doc.update_text(&child, text)?;
            }
            (Some((Value::Scalar(scalar), _)), _)
                if matches!(scalar.as_ref(), ScalarValue::Counter(_)) =>
            {
                return Err(PatchError::Counter(key.clone()));
            }
            (_, value) => put_json(doc, obj, key, value)?,
        }
    }
    Ok(())
}

fn put_json(doc: &mut AutoCommit, obj: &ObjId, key: &str, value: &Json) -> Result<(), PatchError> {
    match value {
        Json::Object(inner) => {
            let child = doc.put_object(obj, key, ObjType::Map)?;
            apply_patch(doc, &child, inner, false)
        }
        Json::Array(items) => {
            let list = doc.put_object(obj, key, ObjType::List)?;
            for (index, item) in items.iter().enumerate() {
                insert_json(doc, &list, index, item)?;
            }
            Ok(())
        }
        scalar => Ok(doc.put(obj, key, json_scalar(scalar))?),
    }
}

fn insert_json(
    doc: &mut AutoCommit,
    list: &ObjId,
    index: usize,
    value: &Json,
) -> Result<(), PatchError> {
    match value {
        Json::Object(inner) => {
            let child = doc.insert_object(list, index, ObjType::Map)?;
            apply_patch(doc, &child, inner, false)
        }
        Json::Array(items) => {
            let child = doc.insert_object(list, index, ObjType::List)?;
            for (i, item) in items.iter().enumerate() {
                insert_json(doc, &child, i, item)?;
            }
            Ok(())
        }
        scalar => Ok(doc.insert(list, index, json_scalar(scalar))?),
    }
}

fn json_scalar(value: &Json) -> ScalarValue {
    match value {
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or(0.0)),
        },
        Json::String(text) => ScalarValue::Str(text.as_str().into()),
        _ => ScalarValue::Null,
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use itinera_core::Document;
    use itinera_core::model::Account;
    use serde_json::json;

    use super::*;

    #[test]
    fn a_patch_changes_only_what_it_names_and_diffs_text() {
        let account = Account {
            name: "Old name".into(),
            notes: "Prefers rail.".into(),
            ..Default::default()
        };
        let mut doc = Document::create(ActorId::from([1u8; 16]), 0, &account)
            .expect("create")
            .into_automerge();
        let patch = json!({ "name": "Lakeside Travel", "notes": "Prefers rail. VIP.", "contacts": { "c-1": { "first_name": "Ilona" } } });
        apply_patch(
            &mut doc,
            &automerge::ROOT,
            patch.as_object().expect("object"),
            true,
        )
        .expect("patch");
        let view = document_to_json(&doc);
        assert_eq!(view["name"], "Lakeside Travel");
        assert_eq!(view["notes"], "Prefers rail. VIP.");
        assert_eq!(view["contacts"]["c-1"]["first_name"], "Ilona");
        assert_eq!(view["kind"], "account");
        let kind = json!({ "kind": "booking" });
        assert!(
            apply_patch(
                &mut doc,
                &automerge::ROOT,
                kind.as_object().expect("object"),
                true
            )
            .is_err()
        );
    }
}
