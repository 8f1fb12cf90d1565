//! What the policy needs to know about one document: its kind and who or what it belongs to.

use std::collections::BTreeSet;

use automerge::AutoCommit;
use autosurgeon::hydrate;

use crate::document::{DocumentHeader, validate};
use crate::id::DocumentId;
use crate::model::{
    Account, Alerts, Booking, Departure, DocumentKind, Employee, FieldLog, FieldPath, Lead,
    Manifest, Record, StockLocation, Ticket, Transfer,
};
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
    /// Reads the scope of the document `id` from its content.
    ///
    /// `creator` is the user who created the document, as the server recorded it; it owns the
    /// documents whose records name no owner (invoices, generic documents, unassigned tickets).
    /// Fails if the header is unreadable or the record does not hydrate.
    pub fn describe(id: &DocumentId, doc: &AutoCommit, creator: Option<&str>) -> Result<Self> {
        let creator = present(creator);
        let kind = DocumentHeader::read(doc)?.kind();
        let mut scope = Self {
            kind,
            ..Self::default()
        };
        let Some(kind) = kind else {
            scope.owner = creator;
            return Ok(scope);
        };
        match kind {
            DocumentKind::Account => {
                let account: Account = record(doc)?;
                scope.owner = present(Some(&account.owner));
                scope.territory = present(Some(&account.territory));
            }
            DocumentKind::Lead => {
                let lead: Lead = record(doc)?;
                scope.owner = present(Some(&lead.owner));
            }
            DocumentKind::Booking => {
                let booking: Booking = record(doc)?;
                scope.owner = present(Some(&booking.rep));
                scope.departure = DocumentId::parse(&booking.departure).ok();
            }
            DocumentKind::Ticket => {
                let ticket: Ticket = record(doc)?;
                scope.owner = present(ticket.assignee.as_deref()).or(creator);
            }
            DocumentKind::Departure => {
                let departure: Departure = record(doc)?;
                scope.departure = Some(*id);
                scope.guides = departure.guides.iter().map(str::to_owned).collect();
            }
            DocumentKind::Manifest => {
                let manifest: Manifest = record(doc)?;
                scope.departure = DocumentId::parse(&manifest.departure).ok();
                scope.guides = manifest.guides.iter().map(str::to_owned).collect();
            }
            DocumentKind::FieldLog => {
                let log: FieldLog = record(doc)?;
                scope.departure = DocumentId::parse(&log.departure).ok();
                scope.guides = log.guides.iter().map(str::to_owned).collect();
            }
            DocumentKind::Stock => {
                let location: StockLocation = record(doc)?;
                scope.owner = present(location.custodian.as_deref());
                scope.locations = vec![*id];
            }
            DocumentKind::Transfer => {
                let transfer: Transfer = record(doc)?;
                // An end that does not parse names no location anyone could be granted.
                scope.locations = [&transfer.from, &transfer.to]
                    .into_iter()
                    .filter_map(|end| DocumentId::parse(end).ok())
                    .collect();
            }
            DocumentKind::Employee => {
                let employee: Employee = record(doc)?;
                scope.owner = present(employee.user.as_deref());
            }
            DocumentKind::Index => {
                // Only the user: an index lists every document its user sees (all of them for
                // an admin), and hydrating the whole of it for each change cost time in
                // proportion to that.
                let user: String = autosurgeon::hydrate_prop(doc, automerge::ROOT, "user")
                    .map_err(|err| Error::Malformed {
                        kind: DocumentKind::Index,
                        path: FieldPath::root(),
                        reason: err.to_string(),
                    })?;
                scope.subject = present(Some(&user));
            }
            DocumentKind::Alerts => {
                // A user's copy of the alerts about their records is theirs to read.
                let alerts: Alerts = record(doc)?;
                scope.owner = present(alerts.for_user.as_deref()).or(creator);
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
    hydrate(doc).map_err(|err| match validate(doc) {
        Err(located) => located,
        Ok(_) => Error::Malformed {
            kind: R::KIND,
            path: FieldPath::root(),
            reason: err.to_string(),
        },
    })
}
