//! Who may read or write a document: one decision from a user and a document's scope.

use super::{DocumentScope, Principal, Role};
use crate::model::DocumentKind as Kind;
use crate::sync::Access;

/// What `principal` may do with the document described by `scope`.
///
/// `None` means the document does not exist for this user: the server answers
/// `doc-unavailable` and never lists it in their index. Finance, prices and salaries live in
/// documents guides are never given, because a document once synced cannot be taken back.
///
/// The journal, index and alerts documents are the server's own: no user writes them, an admin
/// included. Generic documents (no Itinera kind) belong to their owner and whoever the server
/// says they are shared with.
///
/// ```
/// use itinera_core::model::DocumentKind;
/// use itinera_core::policy::{DocumentScope, Principal, Role, access};
/// use itinera_core::sync::Access;
///
/// let ana = Principal::new("ana", Role::Sales);
/// let her_account = DocumentScope {
///     kind: Some(DocumentKind::Account),
///     owner: Some("ana".into()),
///     ..Default::default()
/// };
/// let payroll = DocumentScope { kind: Some(DocumentKind::Hr), ..Default::default() };
/// assert_eq!(access(&ana, &her_account), Access::Write);
/// assert_eq!(access(&ana, &payroll), Access::None);
/// ```
pub fn access(principal: &Principal, scope: &DocumentScope) -> Access {
    let Some(kind) = scope.kind else {
        return generic(principal, scope);
    };
    match principal.role {
        Role::Admin | Role::Office => head_office(kind),
        Role::Sales => sales(principal, kind, scope),
        Role::Guide => guide(principal, kind, scope),
    }
}

/// Admins and office users see the same documents; they differ on generic documents and on
/// what the server's HTTP API lets them do (users, tokens), which is not decided here.
fn head_office(kind: Kind) -> Access {
    match kind {
        // Only the server writes the per-user indexes, the ledger's entries and the alerts:
        // office may lock a period (the field rules hold them to that), and acknowledges and
        // resolves alerts through the API, which records who did and when from the session (a
        // change synced from a device could say anyone, at any time).
        Kind::Index | Kind::Alerts | Kind::Manifest => Access::Read,
        Kind::Journal => Access::Write,
        Kind::Catalog
        | Kind::Stock
        | Kind::Transfer
        | Kind::PurchaseOrder
        | Kind::Departure
        | Kind::FieldLog
        | Kind::Booking
        | Kind::Invoice
        | Kind::Employee
        | Kind::Hr
        | Kind::Account
        | Kind::Lead
        | Kind::Campaign
        | Kind::Ticket => Access::Write,
    }
}

fn sales(principal: &Principal, kind: Kind, scope: &DocumentScope) -> Access {
    let owns = principal.is(scope.owner.as_deref());
    match kind {
        // Reps sell from the catalog and see departures (no prices there) to book seats.
        Kind::Catalog | Kind::Departure | Kind::Campaign => Access::Read,
        Kind::Account if owns => Access::Write,
        // A territory grant lets a rep look up a colleague's customer, not edit it.
        Kind::Account
            if scope
                .territory
                .as_deref()
                .is_some_and(|territory| principal.has_territory(territory)) =>
        {
            Access::Read
        }
        Kind::Account => Access::None,
        Kind::Lead | Kind::Booking | Kind::Invoice | Kind::Ticket => write_if(owns),
        Kind::Index => read_if(principal.is(scope.subject.as_deref())),
        // Their copy of the alerts about their records.
        Kind::Alerts => read_if(owns),
        Kind::Stock
        | Kind::Transfer
        | Kind::PurchaseOrder
        | Kind::Journal
        | Kind::Employee
        | Kind::Hr
        | Kind::FieldLog
        // The passengers of every rep are personal data: a rep's own are on his bookings.
        | Kind::Manifest => Access::None,
    }
}

fn guide(principal: &Principal, kind: Kind, scope: &DocumentScope) -> Access {
    let departure_granted = scope
        .departure
        .as_ref()
        .is_some_and(|id| principal.has_departure(id));
    let location_granted = scope
        .locations
        .iter()
        .any(|id| principal.has_stock_location(id));
    let owns = principal.is(scope.owner.as_deref());
    let assigned = assigned_guide(principal, scope);
    match kind {
        // The departure itself is the office's; guides report through the field log.
        Kind::Departure => read_if(departure_granted || assigned),
        // The passengers of the departures they run (the server writes the manifest).
        Kind::Manifest => read_if(departure_granted || assigned),
        Kind::FieldLog => write_if(departure_granted || assigned),
        // Their copy of the alerts about their records.
        Kind::Alerts => read_if(owns),
        Kind::Stock => write_if(owns || location_granted),
        Kind::Transfer => write_if(location_granted),
        // Their own employee record (licences, leave), never the HR record with the salary.
        Kind::Employee => read_if(owns),
        Kind::Index => read_if(principal.is(scope.subject.as_deref())),
        Kind::Catalog
        | Kind::Booking
        | Kind::Invoice
        | Kind::Journal
        | Kind::Hr
        | Kind::Account
        | Kind::Lead
        | Kind::Campaign
        | Kind::Ticket
        | Kind::PurchaseOrder => Access::None,
    }
}

/// Whether the server lists `principal` among the guides assigned to the departure the
/// document is about: an assignment grants its guide the departure and its field log.
fn assigned_guide(principal: &Principal, scope: &DocumentScope) -> bool {
    scope.guides.contains(&principal.user)
}

fn generic(principal: &Principal, scope: &DocumentScope) -> Access {
    let allowed = principal.role == Role::Admin
        || principal.is(scope.owner.as_deref())
        || scope.shared_with.contains(&principal.user);
    write_if(allowed)
}

fn write_if(allowed: bool) -> Access {
    if allowed { Access::Write } else { Access::None }
}

fn read_if(allowed: bool) -> Access {
    if allowed { Access::Read } else { Access::None }
}
