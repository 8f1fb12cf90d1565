//! Changes the server makes to a document: the REST API's writes, the authority's decisions, the
//! per-user indexes. One shape for all of them: create the document if it is missing (when the
//! edit says of which kind), change it, commit, and let the engine check the result.

use automerge::{ActorId, AutoCommit};

use crate::model::DocumentKind;
use crate::policy::Refusal;
use crate::{Error, Record};

/// Why a server-side edit did not happen. Callers branch on the variant, never on the text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EditError {
    /// The document does not exist (or the author may not see it, which looks the same).
    #[error("no such document")]
    NotFound,
    /// The author may not make this change.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The change would leave the document malformed; the text names the field.
    #[error("{0}")]
    Invalid(String),
    /// The change no longer applies to the document as it is now (an invoice that got its legal
    /// number meanwhile): nothing was written, and there is nothing to retry.
    #[error("{0}")]
    Superseded(String),
    /// The store could not make the change durable; nothing of it was kept.
    #[error("the store could not save the change: {0}")]
    Store(String),
    /// The stored document does not load; it is not written until an operator repairs it.
    #[error("the document cannot be changed: {0}")]
    Broken(String),
    /// The document's engine stopped before the change was durable (the server is stopping).
    #[error("the server is shutting down")]
    Unavailable,
}

impl From<Error> for EditError {
    fn from(error: Error) -> Self {
        Self::Invalid(error.to_string())
    }
}

impl From<autosurgeon::HydrateError> for EditError {
    fn from(error: autosurgeon::HydrateError) -> Self {
        Self::Invalid(error.to_string())
    }
}

impl From<autosurgeon::ReconcileError> for EditError {
    fn from(error: autosurgeon::ReconcileError) -> Self {
        Self::Invalid(error.to_string())
    }
}

impl From<automerge::AutomergeError> for EditError {
    fn from(error: automerge::AutomergeError) -> Self {
        Self::Invalid(error.to_string())
    }
}

type Change = Box<dyn FnOnce(&mut AutoCommit) -> Result<(), EditError> + Send>;

/// A change the server makes to one document.
///
/// ```
/// use itinera_core::engine::{EditError, ServerEdit};
/// use itinera_core::model::{Booking, BookingStatus, DocumentKind};
///
/// // Confirm a booking, unless it already is.
/// let confirm = ServerEdit::record(|booking: &mut Booking| {
///     let changed = booking.status != BookingStatus::Confirmed;
///     booking.status = BookingStatus::Confirmed;
///     Ok::<_, EditError>(changed)
/// });
/// assert_eq!(confirm.creates(), None);
/// let alerts = ServerEdit::new(|_doc| Ok(())).or_create(DocumentKind::Alerts);
/// assert_eq!(alerts.creates(), Some(DocumentKind::Alerts));
/// ```
pub struct ServerEdit {
    create: Option<DocumentKind>,
    change: Change,
}

impl std::fmt::Debug for ServerEdit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerEdit")
            .field("create", &self.create)
            .finish_non_exhaustive()
    }
}

impl ServerEdit {
    /// An edit of the document through `change`; a document that does not exist yet is
    /// [`EditError::NotFound`] unless [`Self::or_create`] says of which kind to create it.
    pub fn new(
        change: impl FnOnce(&mut AutoCommit) -> Result<(), EditError> + Send + 'static,
    ) -> Self {
        Self {
            create: None,
            change: Box::new(change),
        }
    }

    /// An edit of the typed record: `change` edits it and says whether it changed anything;
    /// only then is it written back (and then only the fields that differ).
    pub fn record<R: Record + 'static>(
        change: impl FnOnce(&mut R) -> Result<bool, EditError> + Send + 'static,
    ) -> Self {
        Self::new(move |doc| {
            let mut record: R = autosurgeon::hydrate(doc)?;
            if change(&mut record)? {
                autosurgeon::reconcile(doc, &record)?;
            }
            Ok(())
        })
    }

    /// Creates the document as the default record of `kind` first, if it does not exist yet.
    pub fn or_create(mut self, kind: DocumentKind) -> Self {
        self.create = Some(kind);
        self
    }

    /// The kind the edit creates a missing document as, if it does.
    pub fn creates(&self) -> Option<DocumentKind> {
        self.create
    }

    /// Applies the edit to `doc` (the engine hands it a copy) with the server's `actor` at
    /// `now`, and commits.
    pub(crate) fn apply(
        self,
        doc: &mut AutoCommit,
        actor: &ActorId,
        now: i64,
    ) -> Result<(), EditError> {
        if doc.get_heads().is_empty() {
            let Some(kind) = self.create else {
                return Err(EditError::NotFound);
            };
            // The document is empty: taking the template whole is its merge, without
            // applying every operation again.
            let template = crate::document::new_record(kind, actor.clone(), now)?;
            *doc = template.with_actor(doc.get_actor().clone());
        }
        (self.change)(doc)?;
        doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now));
        Ok(())
    }
}
