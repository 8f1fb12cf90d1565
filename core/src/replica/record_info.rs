//! What the app shows about any document: its kind, a title, and the values devices wrote to
//! one of its fields concurrently.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::model::DocumentKind;
//! use itinera_core::replica::Replica;
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! replica.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! assert_eq!(replica.record_kind(account), Some(DocumentKind::Account));
//! assert_eq!(replica.title(account)?.as_deref(), Some("Alpine Schools"));
//! assert!(!replica.conflicts(account, "/name")?.is_conflicted());
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

use super::Replica;
use super::error::{ReplicaResult, not_found};
use crate::document::{FieldConflicts, root_text, title_of};
use crate::model::{DocumentKind, FieldPath};
use crate::{DocumentId, Error};

impl Replica {
    /// Every value devices wrote concurrently to the field at `path` (`/opportunities/o-1/stage`)
    /// of the document `id`, and which one wins.
    ///
    /// A generic automerge-repo document has no Itinera fields: [`Error::NoSuchField`].
    pub fn conflicts(&mut self, id: DocumentId, path: &str) -> ReplicaResult<FieldConflicts> {
        let path = FieldPath::parse(path);
        let kind = self
            .slots
            .get(&id)
            .ok_or_else(|| not_found(format!("document {id}")))?
            .kind;
        match kind {
            Some(kind) => crate::model::with_record_type!(kind, R => {
                self.with_document::<R, _>(id, |doc| doc.conflicts(&path))
            }),
            None => Err(Error::NoSuchField(path).into()),
        }
    }

    /// A short title for the document `id`: its name, subject, code or number (an invoice's
    /// legal number once it has one); empty if it has none. `None` if the replica does not
    /// hold it.
    pub fn title(&mut self, id: DocumentId) -> ReplicaResult<Option<String>> {
        let kind = self.record_kind(id);
        let Some(doc) = self.loaded(id)? else {
            return Ok(None);
        };
        let legal = (kind == Some(DocumentKind::Invoice))
            .then(|| root_text(doc, "legal_number"))
            .flatten();
        let title = legal.unwrap_or_else(|| title_of(doc));
        Ok(Some(title))
    }
}
