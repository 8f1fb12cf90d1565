//! A record of any kind, read from its document once and shared by everyone who needs it.
//!
//! When the server commits a change, the summary for the reports, the row of the head-office
//! lists and the authority's decision all read the same record. Hydrating it from Automerge is
//! the expensive part (every field of an account, its contacts and its logs); a `RecordValue`
//! is hydrated once and handed to all three, each taking it typed with [`RecordValue::get`].

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use automerge::AutoCommit;

use super::{DocumentKind, FieldPath, Fields, Record};
use crate::document::{DocumentHeader, validate};
use crate::{Error, Result};

/// One hydrated record and its kind; cloning shares it.
#[derive(Clone)]
pub struct RecordValue {
    kind: DocumentKind,
    record: Arc<dyn Any + Send + Sync>,
}

impl fmt::Debug for RecordValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordValue")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl RecordValue {
    /// The record `doc` holds: `None` for a generic document, an error naming the field at
    /// fault for a record that does not hydrate, or one of a schema newer than this build.
    pub fn read(doc: &AutoCommit) -> Result<Option<Self>> {
        match DocumentHeader::read(doc)?.readable_kind()? {
            Some(kind) => Self::of_kind(doc, kind).map(Some),
            None => Ok(None),
        }
    }

    /// The record `doc` holds, read as one of `kind` (whose header was read already).
    pub fn of_kind(doc: &AutoCommit, kind: DocumentKind) -> Result<Self> {
        let record: Arc<dyn Any + Send + Sync> =
            super::with_record_type!(kind, R => Arc::new(hydrate_record::<R>(doc)?));
        Ok(Self { kind, record })
    }

    pub fn kind(&self) -> DocumentKind {
        self.kind
    }

    /// The record as `R`, if it is one.
    pub fn get<R: Record + 'static>(&self) -> Option<&R> {
        self.record.downcast_ref()
    }

    /// This record with the root fields `written` names read again from `doc`, the others kept:
    /// the record of `doc` when `self` was read from it before changes that wrote only those
    /// fields. Fails like [`RecordValue::of_kind`] when a written field does not hydrate.
    pub fn with_written(&self, doc: &AutoCommit, written: &dyn Fn(&str) -> bool) -> Result<Self> {
        let kind = self.kind;
        let record: Arc<dyn Any + Send + Sync> = super::with_record_type!(kind, R => {
            let malformed = |reason: String| Error::Malformed {
                kind,
                path: FieldPath::root(),
                reason,
            };
            let mut record = self
                .get::<R>()
                .ok_or_else(|| malformed("not a record of its kind".into()))?
                .clone();
            record
                .hydrate_written_fields(doc, &automerge::ROOT, written)
                .map_err(|err| malformed(err.to_string()))?;
            Arc::new(record)
        });
        Ok(Self { kind, record })
    }

    /// Whether both hold the same record.
    pub fn same_as(&self, other: &Self) -> bool {
        self.kind == other.kind
            && super::with_record_type!(self.kind, R => self.get::<R>() == other.get::<R>())
    }
}

/// The record in `doc`; when it does not hydrate, the error names the field at fault (the one
/// way Itinera hydrates a whole record).
pub(crate) fn hydrate_record<R: Record>(doc: &AutoCommit) -> Result<R> {
    autosurgeon::hydrate(doc).map_err(|err| match validate(doc) {
        Err(located) => located,
        Ok(_) => Error::Malformed {
            kind: R::KIND,
            path: FieldPath::root(),
            reason: err.to_string(),
        },
    })
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::{Account, Lead};

    #[test]
    fn a_record_is_read_once_and_taken_typed() {
        let account = Account {
            name: "Alpine Schools".into(),
            ..Default::default()
        };
        let doc = Document::create(ActorId::from([1u8; 16]), 0, &account).expect("create");
        let value = RecordValue::read(doc.automerge())
            .expect("readable")
            .expect("a record");
        assert_eq!(value.kind(), DocumentKind::Account);
        assert_eq!(
            value.get::<Account>().map(|a| a.name.as_str()),
            Some("Alpine Schools")
        );
        assert!(value.get::<Lead>().is_none());
        assert!(
            RecordValue::read(&AutoCommit::new())
                .expect("generic")
                .is_none()
        );
    }
}
