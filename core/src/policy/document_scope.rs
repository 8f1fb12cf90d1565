//! What the policy needs to know about one document: its kind and who or what it belongs to.

use std::collections::BTreeSet;

use automerge::{AutoCommit, ReadDoc};

use crate::document::DocumentHeader;
use crate::id::DocumentId;
use crate::model::{DocumentKind, FieldPath, Record, Set};
use crate::{Error, Result};

/// The facts about one document that access depends on.
///
/// Read from the document itself by [`DocumentScope::describe`], except `shared_with`, which
/// the server keeps in its own sharing table: a user could otherwise share a document with
/// themselves by writing to it. The server may store a scope with the document's metadata so
/// that deciding access does not load the document.
///
/// Empty strings in the document (a record not yet filled in) are read as absent, so that an
/// unassigned account is nobody's rather than the account of a user called "".
///
/// ```
/// use automerge::ActorId;
/// use itinera_core::{Document, DocumentId, model::{Account, DocumentKind}};
/// use itinera_core::policy::DocumentScope;
///
/// let account = Account { owner: "ana".into(), territory: "north".into(), ..Default::default() };
/// let doc = Document::create(ActorId::from([1u8; 16]), 0, &account)?;
/// let id = DocumentId::from_bytes([9; 16]);
/// let scope = DocumentScope::describe(&id, doc.automerge(), Some("office-1"))?;
/// assert_eq!(scope.kind, Some(DocumentKind::Account));
/// assert_eq!(scope.owner.as_deref(), Some("ana"));
/// assert_eq!(scope.territory.as_deref(), Some("north"));
/// # Ok::<(), itinera_core::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentScope {
    /// The record kind; `None` for a generic automerge-repo document.
    pub kind: Option<DocumentKind>,
    /// The user the document belongs to: an account's or lead's owner, a booking's rep, a stock
    /// location's custodian, an employee's user, a ticket's assignee, else its creator.
    pub owner: Option<String>,
    /// An account's sales territory.
    pub territory: Option<String>,
    /// The departure a departure, field log or booking is about.
    pub departure: Option<DocumentId>,
    /// The stock locations a stock document or transfer touches.
    pub locations: Vec<DocumentId>,
    /// The user an `index` document is for.
    pub subject: Option<String>,
    /// Users the document was shared with (generic documents), filled in by the server.
    pub shared_with: BTreeSet<String>,
    /// The users of the guides assigned to a departure, for the departure and its field log:
    /// an assignment gives its guide access without a hand-made grant. Written into both
    /// documents by the server only.
    pub guides: BTreeSet<String>,
}

impl DocumentScope {
    /// This scope with `shares` as the users it is shared with, which the server keeps beside
    /// the document rather than in it.
    pub fn with_shares(mut self, shares: &BTreeSet<String>) -> Self {
        self.shared_with.clone_from(shares);
        self
    }

    /// Reads the scope of the document `id` from its content.
    ///
    /// `creator` is the user who created the document, as the server recorded it; it owns the
    /// documents whose records name no owner (invoices, generic documents, unassigned tickets).
    /// Fails if the header is unreadable or the record does not hydrate.
    pub fn describe(id: &DocumentId, doc: &AutoCommit, creator: Option<&str>) -> Result<Self> {
        Self::describe_as(id, doc, DocumentHeader::read(doc)?.kind(), creator)
    }

    /// [`DocumentScope::describe`] of a document whose header was read already: a record of
    /// `kind`, or a generic document.
    pub(crate) fn describe_as(
        id: &DocumentId,
        doc: &AutoCommit,
        kind: Option<DocumentKind>,
        creator: Option<&str>,
    ) -> Result<Self> {
        let creator = present(creator);
        let mut scope = Self {
            kind,
            ..Self::default()
        };
        let Some(kind) = kind else {
            scope.owner = creator;
            return Ok(scope);
        };
        // Only the fields that decide who sees the document are read, each alone: hydrating the
        // whole record cost every commit time in proportion to all it holds (an account's
        // thousands of log entries, the company's alerts).
        let read = |key: &'static str| Field { doc, kind, key };
        match kind {
            DocumentKind::Account => {
                scope.owner = present(Some(&read("owner").get::<String>()?));
                scope.territory = present(Some(&read("territory").get::<String>()?));
            }
            DocumentKind::Lead => {
                scope.owner = present(Some(&read("owner").get::<String>()?));
            }
            DocumentKind::Booking => {
                scope.owner = present(Some(&read("rep").get::<String>()?));
                scope.departure = DocumentId::parse(&read("departure").get::<String>()?).ok();
            }
            DocumentKind::Ticket => {
                let assignee = read("assignee").get::<Option<String>>()?;
                scope.owner = present(assignee.as_deref()).or(creator);
            }
            DocumentKind::Departure => {
                scope.departure = Some(*id);
                scope.guides = guides(&read("guides").get::<Set>()?);
            }
            DocumentKind::Manifest | DocumentKind::FieldLog => {
                scope.departure = DocumentId::parse(&read("departure").get::<String>()?).ok();
                scope.guides = guides(&read("guides").get::<Set>()?);
            }
            DocumentKind::Stock => {
                let custodian = read("custodian").get::<Option<String>>()?;
                scope.owner = present(custodian.as_deref());
                scope.locations = vec![*id];
            }
            DocumentKind::Transfer => {
                // An end that does not parse names no location anyone could be granted.
                scope.locations = [read("from").get::<String>()?, read("to").get::<String>()?]
                    .iter()
                    .filter_map(|end| DocumentId::parse(end).ok())
                    .collect();
            }
            DocumentKind::Employee => {
                let user = read("user").get::<Option<String>>()?;
                scope.owner = present(user.as_deref());
            }
            DocumentKind::Index => {
                scope.subject = present(Some(&read("user").get::<String>()?));
            }
            DocumentKind::Alerts => {
                // A user's copy of the alerts about their records is theirs to read.
                let for_user = read("for_user").get::<Option<String>>()?;
                scope.owner = present(for_user.as_deref()).or(creator);
            }
            DocumentKind::Invoice
            | DocumentKind::Catalog
            | DocumentKind::PurchaseOrder
            | DocumentKind::Journal
            | DocumentKind::Hr
            | DocumentKind::Campaign => scope.owner = creator,
        }
        Ok(scope)
    }
}

/// `text` as an owned string, unless absent or empty.
fn present(text: Option<&str>) -> Option<String> {
    text.filter(|text| !text.is_empty()).map(str::to_owned)
}

/// The record of `doc`; a record that does not hydrate is reported at the field that breaks it.
pub(super) fn record<R: Record>(doc: &AutoCommit) -> Result<R> {
    crate::model::hydrate_record(doc)
}

/// The record before (if the document existed) and after a change.
pub(super) fn records<R: Record + Default>(
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> std::result::Result<(Option<R>, R), super::Refusal> {
    let schema = |err: Error| super::Refusal::Schema(err.to_string());
    let before = before.map(record::<R>).transpose().map_err(schema)?;
    Ok((before, record::<R>(after).map_err(schema)?))
}

/// One field at the root of a record, read alone.
pub(super) struct Field<'a> {
    pub(super) doc: &'a AutoCommit,
    pub(super) kind: DocumentKind,
    pub(super) key: &'a str,
}

impl Field<'_> {
    /// The field's value; a missing field reads as its default (as fields added to a record
    /// after documents were stored do), and one of the wrong type is named.
    pub(super) fn get<T: autosurgeon::Hydrate + Default>(&self) -> Result<T> {
        if matches!(self.doc.get(automerge::ROOT, self.key), Ok(None)) {
            return Ok(T::default());
        }
        autosurgeon::hydrate_prop(self.doc, automerge::ROOT, self.key).map_err(|err| {
            Error::Malformed {
                kind: self.kind,
                path: FieldPath::root().key(self.key),
                reason: err.to_string(),
            }
        })
    }
}

/// The guides a set names.
fn guides(set: &Set) -> BTreeSet<String> {
    set.iter().map(str::to_owned).collect()
}
