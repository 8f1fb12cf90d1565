//! Reading every entry of a map in one pass.
//!
//! autosurgeon hydrates a `BTreeMap` by listing the keys and then looking each one up again
//! (`get`), and a look-up by key in automerge 0.12 walks the ops around that key: a set or a log
//! with n entries cost O(n²) to read. The server reads a record several times for every change
//! it checks (scope before and after, summary, rules), so a record with a few hundred tags or
//! log entries made each incoming change cost milliseconds. Here each entry is hydrated from the
//! value `map_range` already yields.
//!
//! ```ignore
//! impl Hydrate for Set {
//!     fn hydrate_map<D: ReadDoc>(doc: &D, obj: &ObjId) -> Result<Self, HydrateError> {
//!         map_entries::hydrate(doc, obj).map(Self)
//!     }
//! }
//! ```

use std::collections::BTreeMap;

use automerge::{ObjId, ObjType, Value};
use autosurgeon::{Hydrate, HydrateError, ReadDoc};

/// Every entry of the map `obj`, each value hydrated as `V`.
pub(crate) fn hydrate<D: ReadDoc, V: Hydrate>(
    doc: &D,
    obj: &ObjId,
) -> Result<BTreeMap<String, V>, HydrateError> {
    match doc.object_type(obj) {
        Some(ObjType::Map | ObjType::Table) => {}
        _ => {
            return Err(HydrateError::unexpected(
                "a map",
                "something else".to_string(),
            ));
        }
    }
    doc.map_range(obj, ..)
        .map(|item| {
            let id = item.id();
            let value = match item.value.into_value() {
                Value::Object(ObjType::Map | ObjType::Table) => V::hydrate_map(doc, &id),
                Value::Object(ObjType::List) => V::hydrate_seq(doc, &id),
                Value::Object(ObjType::Text) => V::hydrate_text(doc, &id),
                Value::Scalar(scalar) => V::hydrate_scalar(scalar),
            }?;
            Ok((item.key.into_owned(), value))
        })
        .collect()
}
