use automerge::{ScalarValue, Value};
use autosurgeon::ReadDoc;

use super::Touched;
use crate::model::{DocumentKind, FieldPath, check_root_fields};
use crate::{Error, Result};

/// The root key naming a document's kind.
pub(crate) const KIND_KEY: &str = "kind";
/// The root key naming a document's schema version.
pub(crate) const SCHEMA_KEY: &str = "schema";

/// What a document's root says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentHeader {
    /// An Itinera record of this kind and schema version.
    Record { kind: DocumentKind, schema: u64 },
    /// A document with no Itinera `kind`: an ordinary automerge-repo application's document.
    Generic,
}

impl DocumentHeader {
    /// Reads the header of `doc`. A `kind` that is a string but not an Itinera kind is an error:
    /// the writer meant a record this build does not know.
    pub fn read<D: ReadDoc>(doc: &D) -> Result<Self> {
        let kind = match doc.get(&automerge::ROOT, KIND_KEY)? {
            None => return Ok(Self::Generic),
            Some((Value::Scalar(scalar), _)) => match scalar.as_ref() {
                ScalarValue::Str(text) => {
                    DocumentKind::parse(text).ok_or_else(|| Error::UnknownKind(text.to_string()))?
                }
                _ => return Ok(Self::Generic),
            },
            Some(_) => return Ok(Self::Generic),
        };
        let schema = match doc.get(&automerge::ROOT, SCHEMA_KEY)? {
            Some((Value::Scalar(scalar), _)) => match scalar.as_ref() {
                ScalarValue::Uint(n) => Some(*n),
                ScalarValue::Int(n) => u64::try_from(*n).ok(),
                ScalarValue::F64(f) if f.fract() == 0.0 && *f >= 0.0 => Some(*f as u64),
                _ => None,
            },
            _ => None,
        };
        let schema = schema.ok_or_else(|| Error::Malformed {
            kind,
            path: FieldPath::root().key(SCHEMA_KEY),
            reason: "missing or not a version number".into(),
        })?;
        Ok(Self::Record { kind, schema })
    }

    /// The kind, for an Itinera record.
    pub fn kind(&self) -> Option<DocumentKind> {
        match self {
            Self::Record { kind, .. } => Some(*kind),
            Self::Generic => None,
        }
    }

    /// The kind of a record this build reads (`None` for a generic document); an error for a
    /// record of a newer schema.
    pub fn readable_kind(&self) -> Result<Option<DocumentKind>> {
        let Self::Record { kind, schema } = *self else {
            return Ok(None);
        };
        let supported = crate::model::supported_schema(kind);
        if schema > supported {
            return Err(Error::UnsupportedSchema {
                kind,
                found: schema,
                supported,
            });
        }
        Ok(Some(kind))
    }
}

/// Checks that `doc` is either a generic document or a well-formed Itinera record of a schema
/// this build reads, and says which.
///
/// This is what the server runs on a fork before it accepts a peer's changes.
pub fn validate<D: ReadDoc>(doc: &D) -> Result<DocumentHeader> {
    validate_written(doc, &Touched::Everything)
}

/// [`validate`] for the root fields a change wrote: those it did not write read as they did
/// before it, when they were checked. The header is always read: it says which record to check.
pub fn validate_written<D: ReadDoc>(doc: &D, written: &Touched) -> Result<DocumentHeader> {
    validate_written_under(doc, DocumentHeader::read(doc)?, written)
}

/// [`validate_written`] of a document whose header was read already.
pub(crate) fn validate_written_under<D: ReadDoc>(
    doc: &D,
    header: DocumentHeader,
    written: &Touched,
) -> Result<DocumentHeader> {
    if let Some(kind) = header.readable_kind()? {
        check_root_fields(kind, doc, &|field| written.field(field)).map_err(|err| {
            Error::Malformed {
                kind,
                path: err.path,
                reason: err.reason,
            }
        })?;
    }
    Ok(header)
}
