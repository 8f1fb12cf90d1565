//! [`change_part`]: an edit of one part of a record that reads and writes that part only.
//!
//! [`Document::change`](super::Document::change) hydrates the whole record and reconciles it
//! back, which costs what the record holds: on an account with thousands of contacts and
//! activities, every rename would read them all. A part (the root's own fields, one contact,
//! one opportunity, one log entry) is hydrated from where it lives and reconciled into the
//! same place, so an edit costs what that part holds.
//!
//! ```
//! use automerge::ActorId;
//! use autosurgeon::{Hydrate, Reconcile};
//! use itinera_core::Document;
//! use itinera_core::document::change_part;
//! use itinera_core::model::{Account, Contact, DocumentKind};
//!
//! let mut doc = Document::create(ActorId::from([1u8; 16]), 1_000, &Account::default())?
//!     .into_automerge();
//! // A new entry: the edit gets `None` and leaves what is to be written.
//! change_part::<Contact, _>(&mut doc, DocumentKind::Account, 1_001, &["contacts", "c-1"], |contact| {
//!     *contact = Some(Contact { first_name: "Mira".into(), ..Contact::default() });
//!     Ok(())
//! })?;
//! // The root's own fields, through a struct naming only those it reads.
//! #[derive(Hydrate, Reconcile)]
//! struct Name { name: String }
//! change_part::<Name, _>(&mut doc, DocumentKind::Account, 1_002, &[], |fields| {
//!     fields.as_mut().expect("the root is there").name = "Alpine Schools".into();
//!     Ok(())
//! })?;
//! let account = Document::<Account>::from_automerge(doc)?.record()?;
//! assert_eq!(account.name, "Alpine Schools");
//! assert_eq!(account.contacts["c-1"].first_name, "Mira");
//! # Ok::<(), itinera_core::Error>(())
//! ```

use automerge::transaction::CommitOptions;
use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, Value};
use autosurgeon::{Hydrate, Reconcile};

use super::reconcile_error;
use crate::Error;
use crate::model::{DocumentKind, FieldPath, ModelError};

/// Changes the part of the record at `path` (map keys from the root; none for the root's own
/// fields, read through a struct that names only those) through `edit`, and commits what
/// changed as one change at `at` (Unix ms).
///
/// `edit` gets the part as stored, `None` for a map entry that does not exist yet, and leaves
/// `None` to write nothing. Nothing but the part is read or written; if `edit` fails,
/// nothing is written. The record's `kind` is not checked here (the caller knows it): it
/// names the record in errors.
pub fn change_part<P, T>(
    doc: &mut AutoCommit,
    kind: DocumentKind,
    at: i64,
    path: &[&str],
    edit: impl FnOnce(&mut Option<P>) -> Result<T, ModelError>,
) -> crate::Result<T>
where
    P: Hydrate + Reconcile,
{
    let Some((key, parents)) = path.split_last() else {
        let mut part = Some(hydrate(
            kind,
            autosurgeon::hydrate(doc),
            &FieldPath::root(),
        )?);
        let out = edit(&mut part)?;
        if let Some(part) = part {
            reconcile(doc, |doc| autosurgeon::reconcile(doc, &part))?;
        }
        return Ok(commit(doc, at, out));
    };
    let parent = map_at(doc, kind, parents)?;
    let at_path = parents
        .iter()
        .fold(FieldPath::root(), |path, key| path.key(*key))
        .key(*key);
    // autosurgeon reads a missing key as an error, not as `None`.
    let mut part: Option<P> = match doc.get(&parent, *key)? {
        None => None,
        Some(_) => Some(hydrate(
            kind,
            autosurgeon::hydrate_prop(doc, &parent, *key),
            &at_path,
        )?),
    };
    let out = edit(&mut part)?;
    if let Some(part) = part {
        reconcile(doc, |doc| {
            autosurgeon::reconcile_prop(doc, &parent, *key, &part)
        })?;
    }
    Ok(commit(doc, at, out))
}

/// The map at `path` from the root.
fn map_at(doc: &AutoCommit, kind: DocumentKind, path: &[&str]) -> crate::Result<ObjId> {
    let mut obj = ROOT;
    let mut at = FieldPath::root();
    for key in path {
        at = at.key(*key);
        obj = match doc.get(&obj, *key)? {
            Some((Value::Object(ObjType::Map), inner)) => inner,
            _ => return Err(malformed(kind, at, "not a map")),
        };
    }
    Ok(obj)
}

fn hydrate<P>(
    kind: DocumentKind,
    read: Result<P, autosurgeon::HydrateError>,
    path: &FieldPath,
) -> crate::Result<P> {
    read.map_err(|err| malformed(kind, path.clone(), &err.to_string()))
}

fn reconcile(
    doc: &mut AutoCommit,
    write: impl FnOnce(&mut AutoCommit) -> Result<(), autosurgeon::ReconcileError>,
) -> crate::Result<()> {
    write(doc).map_err(|err| {
        doc.rollback();
        reconcile_error(err)
    })
}

fn commit<T>(doc: &mut AutoCommit, at: i64, out: T) -> T {
    doc.commit_with(CommitOptions::default().with_time(at));
    out
}

fn malformed(kind: DocumentKind, path: FieldPath, reason: &str) -> Error {
    Error::Malformed {
        kind,
        path,
        reason: reason.to_owned(),
    }
}
