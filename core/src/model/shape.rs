//! Where a document fails to hydrate into its record type.
//!
//! autosurgeon says *what* did not hydrate ("unexpected string") but not *where*. [`Shape`]
//! walks a document alongside a record type and names the first field that does not fit, so a
//! rejected document can be reported as `account /contacts/c-1/emails: found int, expected map`.
//! Leaf types check themselves by hydrating; records and collections descend.

use std::collections::BTreeMap;

use automerge::{ObjId, ObjType, ScalarValue, Value};
use autosurgeon::{Counter, Hydrate, Prop, ReadDoc, Text};

use super::{FieldPath, PathSegment};

/// The longest plain string a record holds (a name, an e-mail, a subject, a log entry's body),
/// in bytes: a longer one is refused, so no user can grow a document (or the ones the server
/// derives from it: indexes, manifests, alerts) without bound.
pub const MAX_STRING_BYTES: usize = 16 * 1024;

/// The longest collaborative text (notes), in characters.
pub const MAX_TEXT_CHARS: usize = 256 * 1024;

/// The most entries of one map, set, log or list of a record.
pub const MAX_ENTRIES: usize = 100_000;

/// The longest key of a map, set or log, in bytes.
pub const MAX_KEY_BYTES: usize = 256;

/// The first place a document does not fit a record type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShapeError {
    /// The offending field.
    pub path: FieldPath,
    /// What was found and what was expected.
    pub reason: String,
}

/// A type whose place in a document can be checked field by field.
pub trait Shape: Hydrate {
    /// Checks the value at `prop` of `obj`; `path` names `prop` already.
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        Self::hydrate(doc, obj, prop)
            .map(drop)
            .map_err(|err| ShapeError {
                path: path.clone(),
                reason: err.to_string(),
            })
    }
}

/// A record: a map whose fields can be checked one by one (also at the document root).
pub trait Fields: Shape {
    /// Checks the fields of the map `obj` that `written` names against this record's shape, and
    /// that the map holds no field the record does not declare.
    fn check_written_fields<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        path: &mut FieldPath,
        written: &dyn Fn(&str) -> bool,
    ) -> Result<(), ShapeError>;

    /// Reads again the fields of the map `obj` that `written` names, each alone, leaving the
    /// others as they are: what hydrating the whole map gives when only those fields changed
    /// since `self` was read (an account whose address changed, not its years of activities).
    fn hydrate_written_fields<D: ReadDoc>(
        &mut self,
        doc: &D,
        obj: &ObjId,
        written: &dyn Fn(&str) -> bool,
    ) -> Result<(), autosurgeon::HydrateError>;

    /// Checks every field of the map `obj` against this record's shape.
    fn check_fields<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        Self::check_written_fields(doc, obj, path, &|_| true)
    }
}

impl Shape for String {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        // A plain string, the usual case, is measured where it lies: every change checks the
        // strings it wrote, and each read seeks the key through the document's operations.
        let len = match doc.get(obj, &prop) {
            Ok(Some((Value::Object(ObjType::Text), _))) => {
                return Err(ShapeError {
                    path: path.clone(),
                    reason: "found collaborative text where a plain string belongs (a \
                             register; from JS, write it as an ImmutableString)"
                        .into(),
                });
            }
            Ok(Some((Value::Scalar(scalar), _))) => match scalar.as_ref() {
                ScalarValue::Str(text) => Some(text.len()),
                _ => None,
            },
            _ => None,
        };
        // Anything else is what hydrating it says (missing, another type).
        let len = match len {
            Some(len) => len,
            None => <String as Hydrate>::hydrate(doc, obj, prop)
                .map_err(|err| ShapeError {
                    path: path.clone(),
                    reason: err.to_string(),
                })?
                .len(),
        };
        if len > MAX_STRING_BYTES {
            return Err(ShapeError {
                path: path.clone(),
                reason: format!(
                    "{len} bytes of text, more than the {MAX_STRING_BYTES} this field holds"
                ),
            });
        }
        Ok(())
    }
}
impl Shape for i64 {}
impl Shape for u64 {}
impl Shape for f64 {}
impl Shape for bool {}
impl Shape for Counter {}

impl Shape for Text {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        let text = object_at(doc, obj, prop, path, ObjType::Text)?;
        let chars = doc.length(&text);
        if chars > MAX_TEXT_CHARS {
            return Err(ShapeError {
                path: path.clone(),
                reason: format!("{chars} characters of notes, more than {MAX_TEXT_CHARS}"),
            });
        }
        Ok(())
    }
}

/// Refuses a map, set, log or list of more than [`MAX_ENTRIES`] entries.
pub(crate) fn check_entries(count: usize, path: &FieldPath) -> Result<(), ShapeError> {
    if count > MAX_ENTRIES {
        return Err(ShapeError {
            path: path.clone(),
            reason: format!("{count} entries, more than the {MAX_ENTRIES} a record holds"),
        });
    }
    Ok(())
}

/// Refuses a key longer than [`MAX_KEY_BYTES`].
pub(crate) fn check_key(key: &str, path: &FieldPath) -> Result<(), ShapeError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(ShapeError {
            path: path.clone(),
            reason: format!("a key of {} bytes, more than {MAX_KEY_BYTES}", key.len()),
        });
    }
    Ok(())
}

/// Refuses a field of the map `obj` that the record does not declare (`declared`); the root
/// also holds the document's `kind` and `schema`.
pub fn check_declared<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    declared: &[&str],
    path: &FieldPath,
) -> Result<(), ShapeError> {
    let at_root = path.segments().is_empty();
    for item in doc.map_range(obj, ..) {
        let key = item.key.as_ref();
        if declared.contains(&key) || (at_root && (key == "kind" || key == "schema")) {
            continue;
        }
        let mut at = path.clone();
        at.push(PathSegment::Key(key.to_owned()));
        return Err(ShapeError {
            path: at,
            reason: "not a field of this record".into(),
        });
    }
    Ok(())
}

impl<T: Shape> Shape for Option<T> {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        match doc.get(obj, &prop) {
            Ok(Some((Value::Scalar(scalar), _))) if scalar.is_null() => Ok(()),
            Ok(Some(_)) => T::check(doc, obj, prop, path),
            Ok(None) => Err(ShapeError {
                path: path.clone(),
                reason: "missing, expected a value or null".into(),
            }),
            Err(err) => Err(ShapeError {
                path: path.clone(),
                reason: err.to_string(),
            }),
        }
    }
}

impl<V: Shape> Shape for BTreeMap<String, V> {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        let map = object_at(doc, obj, prop, path, ObjType::Map)?;
        check_entries(doc.length(&map), path)?;
        let keys: Vec<String> = doc
            .map_range(&map, ..)
            .map(|item| item.key.into_owned())
            .collect();
        for key in keys {
            check_key(&key, path)?;
            path.push(PathSegment::Key(key.clone()));
            V::check(doc, &map, Prop::Key(key.into()), path)?;
            path.pop();
        }
        Ok(())
    }
}

impl<V: Shape> Shape for Vec<V> {
    fn check<D: ReadDoc>(
        doc: &D,
        obj: &ObjId,
        prop: Prop<'_>,
        path: &mut FieldPath,
    ) -> Result<(), ShapeError> {
        let list = object_at(doc, obj, prop, path, ObjType::List)?;
        check_entries(doc.length(&list), path)?;
        for index in 0..doc.length(&list) {
            path.push(PathSegment::Index(index));
            V::check(doc, &list, index.into(), path)?;
            path.pop();
        }
        Ok(())
    }
}

/// The object of type `expected` at `prop`, or an error naming `path`.
pub(crate) fn object_at<D: ReadDoc>(
    doc: &D,
    obj: &ObjId,
    prop: Prop<'_>,
    path: &FieldPath,
    expected: ObjType,
) -> Result<ObjId, ShapeError> {
    let found = match doc.get(obj, &prop) {
        Ok(Some((Value::Object(kind), id))) if kind == expected => return Ok(id),
        Ok(Some((Value::Object(kind), _))) => format!("{kind:?}").to_lowercase(),
        Ok(Some((Value::Scalar(scalar), _))) => describe_scalar(&scalar),
        Ok(None) => "nothing".into(),
        Err(err) => err.to_string(),
    };
    Err(ShapeError {
        path: path.clone(),
        reason: format!(
            "found {found}, expected {}",
            format!("{expected:?}").to_lowercase()
        ),
    })
}

fn describe_scalar(scalar: &automerge::ScalarValue) -> String {
    use automerge::ScalarValue as S;
    match scalar {
        S::Bytes(_) => "bytes",
        S::Str(_) => "a string",
        S::Int(_) => "an int",
        S::Uint(_) => "a uint",
        S::F64(_) => "a float",
        S::Counter(_) => "a counter",
        S::Timestamp(_) => "a timestamp",
        S::Boolean(_) => "a boolean",
        S::Unknown { .. } => "an unknown scalar",
        S::Null => "null",
    }
    .into()
}

/// Declares a record struct and its [`Shape`], so the field list is written once.
///
/// Derives are written by the caller (records holding counters cannot be `PartialEq`).
macro_rules! record {
    (
        @fields
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$($field_attr:tt)*])*
                pub $field:ident : $ty:ty
            ),* $(,)?
        }
    ) => {
        impl $crate::model::Fields for $name {
            #[allow(unused_variables)]
            fn check_written_fields<D: ::autosurgeon::ReadDoc>(
                doc: &D,
                obj: &::automerge::ObjId,
                path: &mut $crate::model::FieldPath,
                written: &dyn Fn(&str) -> bool,
            ) -> Result<(), $crate::model::ShapeError> {
                $(
                    // A field added after documents were stored says what it reads as when
                    // missing (`#[autosurgeon(missing = "…")]`); old documents lack it.
                    let defaulted = false $(|| $crate::model::shape::has_missing_default!($($field_attr)*))*;
                    let absent = || matches!(doc.get(obj, stringify!($field)), Ok(None));
                    if written(stringify!($field)) && !(defaulted && absent()) {
                        path.push($crate::model::PathSegment::Key(stringify!($field).into()));
                        <$ty as $crate::model::Shape>::check(doc, obj, stringify!($field).into(), path)?;
                        path.pop();
                    }
                )*
                $crate::model::shape::check_declared(doc, obj, &[$(stringify!($field)),*], path)
            }

            #[allow(unused_variables)]
            fn hydrate_written_fields<D: ::autosurgeon::ReadDoc>(
                &mut self,
                doc: &D,
                obj: &::automerge::ObjId,
                written: &dyn Fn(&str) -> bool,
            ) -> Result<(), ::autosurgeon::HydrateError> {
                $(
                    if written(stringify!($field)) {
                        // As the derived `Hydrate` reads it: a missing field with a default
                        // reads as it.
                        let missing: Option<fn() -> $ty> = None
                            $(.or($crate::model::shape::missing_default!($ty; $($field_attr)*)))*;
                        self.$field = match missing {
                            Some(default) if matches!(doc.get(obj, stringify!($field)), Ok(None)) => default(),
                            _ => ::autosurgeon::hydrate_prop(doc, obj, stringify!($field))?,
                        };
                    }
                )*
                Ok(())
            }
        }

        impl $crate::model::Shape for $name {
            fn check<D: ::autosurgeon::ReadDoc>(
                doc: &D,
                obj: &::automerge::ObjId,
                prop: ::autosurgeon::Prop<'_>,
                path: &mut $crate::model::FieldPath,
            ) -> Result<(), $crate::model::ShapeError> {
                let map = $crate::model::shape::object_at(doc, obj, prop, path, ::automerge::ObjType::Map)?;
                <Self as $crate::model::Fields>::check_fields(doc, &map, path)
            }
        }
    };
    // The struct is emitted exactly as written (derive macros need the caller's spans); a copy
    // of its tokens is parsed for the field list.
    ($($item:tt)*) => {
        $($item)*
        $crate::model::shape::record!(@fields $($item)*);
    };
}

/// Whether a field attribute gives the value a missing field reads as.
macro_rules! has_missing_default {
    (autosurgeon(missing = $default:literal)) => {
        true
    };
    ($($other:tt)*) => {
        false
    };
}

/// The value a field attribute says a missing field reads as, if it says one. Only
/// `Default::default` is known: another compiles to an error here, rather than a record
/// re-read field by field (`Fields::hydrate_written_fields`) that differs from the whole.
macro_rules! missing_default {
    ($ty:ty; autosurgeon(missing = "Default::default")) => {
        Some(<$ty as Default>::default as fn() -> $ty)
    };
    ($ty:ty; autosurgeon(missing = $default:literal)) => {
        compile_error!("only Default::default is known as the value of a missing field")
    };
    ($ty:ty; $($other:tt)*) => {
        None
    };
}

/// Declares an enum stored as one of a fixed set of lowercase strings.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$variant_meta:meta])* $variant:ident = $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $( $(#[$variant_meta])* $variant ),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The string stored in the document.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// The value stored as `text`, if it is one.
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::autosurgeon::Reconcile for $name {
            type Key<'a> = ::autosurgeon::reconcile::NoKey;

            fn reconcile<R: ::autosurgeon::Reconciler>(&self, mut reconciler: R) -> Result<(), R::Error> {
                reconciler.str(self.as_str())
            }
        }

        impl ::autosurgeon::Hydrate for $name {
            fn hydrate_string(text: &str) -> Result<Self, ::autosurgeon::HydrateError> {
                Self::parse(text).ok_or_else(|| ::autosurgeon::HydrateError::unexpected(
                    concat!("one of ", $($text, " "),+),
                    format!("{text:?}"),
                ))
            }
        }

        impl $crate::model::Shape for $name {}
    };
}

pub(crate) use {has_missing_default, missing_default, record, string_enum};

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{AutoCommit, ROOT};

    use super::*;

    fn check_name(doc: &AutoCommit) -> Result<(), String> {
        let mut path = FieldPath::root().key("name");
        <String as Shape>::check(doc, &ROOT, "name".into(), &mut path).map_err(|e| e.reason)
    }

    /// A plain string is measured without hydrating it; everything else is named as
    /// hydrating it names it.
    #[test]
    fn a_string_field_is_a_plain_string_of_at_most_the_limit() {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "name", "x".repeat(MAX_STRING_BYTES))
            .expect("put");
        assert_eq!(check_name(&doc), Ok(()));
        doc.put(ROOT, "name", "é".repeat(MAX_STRING_BYTES / 2 + 1))
            .expect("put");
        assert_eq!(
            check_name(&doc),
            Err(format!(
                "{} bytes of text, more than the {MAX_STRING_BYTES} this field holds",
                MAX_STRING_BYTES + 2
            ))
        );
        doc.put_object(ROOT, "name", ObjType::Text).expect("put");
        assert!(check_name(&doc).is_err_and(|e| e.starts_with("found collaborative text")));
        for wrong in [
            |doc: &mut AutoCommit| doc.put(ROOT, "name", 7_i64),
            |doc: &mut AutoCommit| doc.delete(ROOT, "name"),
        ] {
            wrong(&mut doc).expect("written");
            let hydrated = <String as Hydrate>::hydrate(&doc, &ROOT, "name".into());
            let expected = hydrated.map(drop).map_err(|e| e.to_string());
            assert!(expected.is_err());
            assert_eq!(check_name(&doc), expected);
        }
    }
}
