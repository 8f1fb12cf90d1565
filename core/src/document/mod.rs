//! A typed handle over one Automerge document.
//!
//! [`Document<R>`] keeps an [`automerge::AutoCommit`] whose root is a record of type `R` plus
//! `kind` and `schema`. Changes go through a closure over the hydrated record; autosurgeon
//! writes back only what the closure changed, so edits of different fields on different phones
//! merge instead of overwriting each other. Loading checks the kind, the schema version and
//! every field, and names the first field that does not fit.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::Document;
//! use itinera_core::model::{Account, Stage, Opportunity, LogKey};
//!
//! let mut office = Document::create(ActorId::from([1u8; 16]), 1_000, &Account::default())?;
//! office.change(1_001, |account| {
//!     account.opportunities.insert("o-1".into(), Opportunity::default());
//!     Ok(())
//! })?;
//!
//! // Two reps move the same opportunity offline.
//! let mut rep_a = office.fork(ActorId::from([2u8; 16]));
//! let mut rep_b = office.fork(ActorId::from([3u8; 16]));
//! rep_a.change(2_000, |a| a.move_opportunity("o-1", Stage::Proposal, LogKey::new(2_000, "a"), "ana", 2_000))?;
//! rep_b.change(2_001, |a| a.move_opportunity("o-1", Stage::Lost, LogKey::new(2_001, "b"), "ben", 2_001))?;
//!
//! rep_a.merge(&mut rep_b)?;
//! let stage = rep_a.conflicts(&"/opportunities/o-1/stage".parse()?)?;
//! assert!(stage.is_conflicted());
//! assert_eq!(stage.values.len(), 2);
//! # Ok::<(), itinera_core::Error>(())
//! ```

mod chunks;
mod conflicts;
mod header;
mod part;
mod title;
mod touched;

use std::fmt;
use std::marker::PhantomData;

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, ChangeHash};

pub use chunks::MAX_INFLATED_BYTES;
pub(crate) use chunks::{check_untrusted, leb128};
pub use conflicts::{ConflictingValue, FieldConflicts, FieldValue};
pub use header::{DocumentHeader, validate, validate_written};
pub use part::change_part;
#[cfg(feature = "redb")]
pub(crate) use title::root_text;
pub use title::title_of;
pub use touched::Touched;

use crate::model::{FieldPath, ModelError, Record};
use crate::{Error, Result};
pub(crate) use header::{KIND_KEY, SCHEMA_KEY, validate_written_under};

/// One document whose root is a record of type `R`.
pub struct Document<R: Record> {
    doc: AutoCommit,
    record: PhantomData<fn() -> R>,
}

impl<R: Record> fmt::Debug for Document<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Document")
            .field("kind", &R::KIND)
            .field("actor", &self.doc.get_actor().to_hex_string())
            .finish_non_exhaustive()
    }
}

impl<R: Record> Document<R> {
    /// A new document holding `record`, written by `actor` at `at` (Unix ms).
    pub fn create(actor: ActorId, at: i64, record: &R) -> Result<Self> {
        let mut doc = AutoCommit::new().with_actor(actor);
        doc.put(automerge::ROOT, KIND_KEY, R::KIND.as_str())?;
        // An int, not a uint: JS reads uints as BigInt, which most app code cannot handle.
        let schema = i64::try_from(R::SCHEMA).unwrap_or(i64::MAX);
        doc.put(automerge::ROOT, SCHEMA_KEY, schema)?;
        if let Err(err) = autosurgeon::reconcile(&mut doc, record) {
            return Err(reconcile_error(err));
        }
        doc.commit_with(CommitOptions::default().with_time(at));
        Ok(Self {
            doc,
            record: PhantomData,
        })
    }

    /// Loads a saved document (a snapshot, possibly followed by incremental saves) and checks it.
    pub fn load(bytes: &[u8]) -> Result<Self> {
        let doc = load_bytes(bytes).map_err(|err| match err {
            Error::NotADocument { reason, .. } => Error::NotADocument {
                expected: Some(R::KIND),
                reason,
            },
            other => other,
        })?;
        Self::from_automerge(doc)
    }

    /// Wraps an Automerge document after checking that it is a well-formed `R`.
    pub fn from_automerge(doc: AutoCommit) -> Result<Self> {
        check::<R>(&doc)?;
        Ok(Self {
            doc,
            record: PhantomData,
        })
    }

    /// Wraps a document that was checked whole when it was committed (a committed event's
    /// content): only its kind is checked again, not every field.
    pub fn from_checked(doc: AutoCommit) -> Result<Self> {
        kind_is::<R>(DocumentHeader::read(&doc)?)?;
        Ok(Self {
            doc,
            record: PhantomData,
        })
    }

    /// Sets the actor this replica writes as (one per device and document).
    pub fn with_actor(mut self, actor: ActorId) -> Self {
        self.doc.set_actor(actor);
        self
    }

    /// The record as it stands.
    pub fn record(&self) -> Result<R> {
        autosurgeon::hydrate(&self.doc).map_err(|err| match check::<R>(&self.doc) {
            Err(located) => located,
            Ok(()) => Error::Malformed {
                kind: R::KIND,
                path: FieldPath::root(),
                reason: err.to_string(),
            },
        })
    }

    /// Changes the record through `edit` and commits what changed as one change at `at` (Unix
    /// ms). If `edit` fails, nothing is written.
    pub fn change<T>(
        &mut self,
        at: i64,
        edit: impl FnOnce(&mut R) -> Result<T, ModelError>,
    ) -> Result<T> {
        let mut record = self.record()?;
        let out = edit(&mut record)?;
        if let Err(err) = autosurgeon::reconcile(&mut self.doc, &record) {
            self.doc.rollback();
            return Err(reconcile_error(err));
        }
        self.doc.commit_with(CommitOptions::default().with_time(at));
        Ok(out)
    }

    /// A copy that writes as `actor`, for another device or an offline branch.
    pub fn fork(&mut self, actor: ActorId) -> Self {
        Self {
            doc: self.doc.fork().with_actor(actor),
            record: PhantomData,
        }
    }

    /// Takes in every change of `other` (and gives nothing back). Returns the new heads.
    ///
    /// The merged result is checked; if it no longer fits `R` (a peer wrote a malformed field),
    /// this document is left as it was and the error names the field.
    pub fn merge(&mut self, other: &mut Self) -> Result<Vec<ChangeHash>> {
        let mut candidate = self.doc.fork().with_actor(self.doc.get_actor().clone());
        candidate.merge(&mut other.doc)?;
        forget_applied(&mut candidate);
        check::<R>(&candidate)?;
        self.doc = candidate;
        Ok(self.doc.get_heads())
    }

    /// Applies bytes from [`Self::save_incremental`] or [`Self::save`] of another replica, with the
    /// same check as [`Self::merge`].
    pub fn load_incremental(&mut self, bytes: &[u8]) -> Result<usize> {
        let mut candidate = self.doc.fork().with_actor(self.doc.get_actor().clone());
        let applied = candidate
            .load_incremental(bytes)
            .map_err(|err| Error::NotADocument {
                expected: Some(R::KIND),
                reason: err.to_string(),
            })?;
        forget_applied(&mut candidate);
        check::<R>(&candidate)?;
        self.doc = candidate;
        Ok(applied)
    }

    /// The hashes of the latest changes: equal heads mean equal documents.
    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The whole document, compacted.
    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    /// The changes since the last `save` or `save_incremental`.
    pub fn save_incremental(&mut self) -> Vec<u8> {
        self.doc.save_incremental()
    }

    /// The changes outside the history of `heads` (every change, for no heads): what was written
    /// concurrently with or after the moment `heads` name. The authority reads it to find edits
    /// that did not see a record's archiving.
    pub fn changes_since(&mut self, heads: &[ChangeHash]) -> Vec<automerge::Change> {
        self.doc.get_changes(heads)
    }

    /// Every value devices wrote to the field at `path`, and which one wins.
    pub fn conflicts(&self, path: &FieldPath) -> Result<FieldConflicts> {
        conflicts::field_conflicts(&self.doc, path)
    }

    /// The underlying Automerge document.
    pub fn automerge(&self) -> &AutoCommit {
        &self.doc
    }

    /// Gives up the typed view.
    pub fn into_automerge(self) -> AutoCommit {
        self.doc
    }
}

/// Forgets what automerge recorded of the operations a merge, a sync message or an incremental
/// load just applied to `doc`. automerge 0.12 appends an event per applied operation (its key
/// and value) to the document's patch log even when nobody asked for patches, and never empties
/// it: a document that lives on (a server's open document, a phone's loaded record) kept
/// everything it ever received a second time, and a clone of a 2,000-field document cost 87 µs
/// instead of 5 µs. Itinera never reads that log. Call right after each such application; it
/// commits nothing (they leave no transaction open).
pub fn forget_applied(doc: &mut AutoCommit) {
    doc.reset_diff_cursor();
}

/// Loads saved Automerge bytes (a snapshot and incremental saves), turning every failure into
/// [`Error::NotADocument`], including the inputs automerge panics on instead of refusing (a
/// fuzzer found chunks whose columns make it unwrap a failed decode), and refusing bundle
/// chunks, which Itinera never writes and automerge can spend minutes decoding. Itinera loads
/// every document through here: a corrupt store entry or a hostile chunk costs that document,
/// not the process.
pub fn load_bytes(bytes: &[u8]) -> Result<AutoCommit> {
    chunks::refuse_bundles(bytes).map_err(|reason| Error::NotADocument {
        expected: None,
        reason,
    })?;
    match std::panic::catch_unwind(|| AutoCommit::load(bytes)) {
        Ok(Ok(doc)) => Ok(doc),
        Ok(Err(err)) => Err(Error::NotADocument {
            expected: None,
            reason: err.to_string(),
        }),
        Err(_) => Err(Error::NotADocument {
            expected: None,
            reason: "automerge could not read these bytes (it panicked)".into(),
        }),
    }
}

/// A new document holding the default record of `kind`, as [`Document::create`] makes it: the
/// starting point of a record created from outside Rust (the REST API).
///
/// The same kind, actor and time make the same document, so the last one made on each thread is
/// kept and copied: an import makes thousands of records in the same moment, and writing a
/// default record field by field cost more than the rest of each record's making.
pub fn new_record(kind: crate::DocumentKind, actor: ActorId, at: i64) -> Result<AutoCommit> {
    type Made = (crate::DocumentKind, ActorId, i64, AutoCommit);
    thread_local! {
        static LAST_MADE: std::cell::RefCell<Option<Made>> = const { std::cell::RefCell::new(None) };
    }
    let kept = LAST_MADE.with_borrow(|last| {
        last.as_ref()
            .filter(|(k, a, t, _)| *k == kind && *a == actor && *t == at)
            .map(|(.., doc)| doc.clone())
    });
    if let Some(doc) = kept {
        return Ok(doc);
    }
    let doc = crate::model::with_record_type!(kind, R => {
        Document::<R>::create(actor.clone(), at, &R::default())?.into_automerge()
    });
    LAST_MADE.set(Some((kind, actor, at, doc.clone())));
    Ok(doc)
}

/// Checks kind, schema and every field of `doc` against `R`.
fn check<R: Record>(doc: &AutoCommit) -> Result<()> {
    kind_is::<R>(validate(doc)?)
}

/// Whether `header` is that of an `R`.
fn kind_is<R: Record>(header: DocumentHeader) -> Result<()> {
    match header {
        DocumentHeader::Record { kind, .. } if kind == R::KIND => Ok(()),
        DocumentHeader::Record { kind, .. } => Err(Error::WrongKind {
            expected: R::KIND,
            found: kind.to_string(),
        }),
        DocumentHeader::Generic => Err(Error::WrongKind {
            expected: R::KIND,
            found: "a document with no Itinera kind".into(),
        }),
    }
}

fn reconcile_error(err: autosurgeon::ReconcileError) -> Error {
    match err {
        autosurgeon::ReconcileError::Automerge(err) => Error::Automerge(err),
        other => Error::Model(ModelError::Invalid(other.to_string())),
    }
}
