//! Which fields of a record a user's change may not touch: server-only, set-once, frozen.
//!
//! Records are compared whole, hydrated from the document before and after the change, so an
//! edit is judged by what it does to the record and not by which Automerge operations carry it
//! (a device may rewrite a value with itself; that is no change).

use automerge::AutoCommit;

use super::Refusal;
use super::Role;
use super::document_scope::{Field, records};
use crate::civil_date::CivilDate;
use crate::document::Touched;
use crate::model::{
    Alerts, Booking, Departure, DocumentKind as Kind, FieldLog, FieldPath, Invoice, InvoiceStatus,
    Journal, Lead, Manifest, PurchaseSummary, Record, StockLocation, Ticket, UserIndex,
};

/// The name of the first of the named fields whose value differs between two records.
macro_rules! first_changed {
    ($before:expr, $after:expr; $($field:ident),+ $(,)?) => {{
        let (before, after) = (&$before, &$after);
        None$(.or_else(|| (before.$field != after.$field).then_some(stringify!($field))))+
    }};
}

/// The path of a field of the root record.
fn field(name: &str) -> FieldPath {
    FieldPath::root().key(name)
}

/// Checks the fields of a record of `kind` that no user may write, or may write once only.
///
/// `before` is `None` for a new document, which is then compared with the record type's
/// default: a device may create a booking, but not one that is already confirmed.
pub(super) fn check_fields(
    kind: Kind,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    written: &Touched,
) -> Result<(), Refusal> {
    match kind {
        Kind::Booking => {
            let (before, after) = records::<Booking>(before, after)?;
            server_only(
                kind,
                first_changed!(before.clone().unwrap_or_default(), after; status).map(field),
            )?;
            booking_requests(before.as_ref(), &after)
        }
        Kind::Account => {
            // The purchase summary is the server's, the rest the writer's: it is read alone, not
            // the whole account (a change to a big account was four readings of all of it), and
            // only when the change wrote it.
            if !written.field("purchase_summary") {
                return Ok(());
            }
            let was = before
                .map(purchase_summary)
                .transpose()?
                .unwrap_or_default();
            let changed = was != purchase_summary(after)?;
            server_only(kind, changed.then(|| field("purchase_summary")))
        }
        Kind::Invoice => {
            let (before, after) = records::<Invoice>(before, after)?;
            invoice_dates(before.as_ref(), &after)?;
            invoice(before, &after)
        }
        Kind::Departure => {
            let (before, after) = records::<Departure>(before, after)?;
            let was_guides = before
                .as_ref()
                .map(|b| b.guides.clone())
                .unwrap_or_default();
            if was_guides != after.guides {
                return server_only(kind, Some(field("guides")));
            }
            departure(before, &after)
        }
        Kind::Lead => {
            let (before, after) = records::<Lead>(before, after)?;
            // Converting a lead sets `converted_to`; pointing it elsewhere later would orphan the
            // account or opportunity it became.
            let changed = before.as_ref().is_some_and(|before| {
                before.converted_to.is_some() && before.converted_to != after.converted_to
            });
            set_once(kind, changed.then(|| field("converted_to")))
        }
        Kind::Ticket => {
            let (before, after) = records::<Ticket>(before, after)?;
            let changed = before.is_some_and(|before| before.booking != after.booking);
            set_once(kind, changed.then(|| field("booking")))
        }
        Kind::Journal => journal_lock(before, after),
        Kind::Index => unchanged::<UserIndex>(kind, before, after),
        // Derived from the bookings by the server only.
        Kind::Manifest => unchanged::<Manifest>(kind, before, after),
        Kind::Alerts => {
            let (before, after) = records::<Alerts>(before, after)?;
            let before = before.unwrap_or_default();
            if before.for_user.is_some() || after.for_user.is_some() {
                // A user's copy is the server's to write; office resolves the company's alert.
                return server_only(kind, (before != after).then(FieldPath::root));
            }
            alerts(&before, &after)
        }
        Kind::Stock => {
            let (before, after) = records::<StockLocation>(before, after)?;
            stock_movements(before.as_ref(), &after)
        }
        Kind::FieldLog => {
            let (before, after) = records::<FieldLog>(before, after)?;
            let was = before.map(|log| log.guides).unwrap_or_default();
            server_only(kind, (was != after.guides).then(|| field("guides")))
        }
        Kind::Catalog
        | Kind::Transfer
        | Kind::PurchaseOrder
        | Kind::Employee
        | Kind::Hr
        | Kind::Campaign => Ok(()),
    }
}

/// An account's purchase summary alone (the default if the account has none yet).
fn purchase_summary(doc: &AutoCommit) -> Result<PurchaseSummary, Refusal> {
    let field = Field {
        doc,
        kind: Kind::Account,
        key: "purchase_summary",
    };
    field.get().map_err(|err| Refusal::Schema(err.to_string()))
}

fn server_only(kind: Kind, changed: Option<FieldPath>) -> Result<(), Refusal> {
    changed.map_or(Ok(()), |path| Err(Refusal::ServerOnly { kind, path }))
}

fn set_once(kind: Kind, changed: Option<FieldPath>) -> Result<(), Refusal> {
    changed.map_or(Ok(()), |path| Err(Refusal::SetOnce { kind, path }))
}

/// A document only the server changes: any difference at all is refused.
fn unchanged<R: Record + Default>(
    kind: Kind,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> Result<(), Refusal> {
    let (before, after) = records::<R>(before, after)?;
    let changed = before.unwrap_or_default() != after;
    server_only(kind, changed.then(FieldPath::root))
}

fn invoice(before: Option<Invoice>, after: &Invoice) -> Result<(), Refusal> {
    let kind = Kind::Invoice;
    let was = before.clone().unwrap_or_default();
    // The legal number comes from one gapless sequence and the totals from the lines; a device
    // writing either would break the numbering or the books.
    server_only(
        kind,
        first_changed!(was, after; legal_number, totals, held).map(field),
    )?;
    // An invoice becomes credited when the server posts its credit note; before that the
    // ledger would disagree with the status.
    if after.status == InvoiceStatus::Credited && was.status != InvoiceStatus::Credited {
        return Err(Refusal::Rule {
            kind,
            path: field("status"),
            reason: "an invoice becomes credited when its credit note is posted; post a credit \
                     note (credit_of set to this invoice) instead"
                .into(),
        });
    }
    let Some(before) = before else {
        return Ok(());
    };
    set_once(
        kind,
        first_changed!(before, after; provisional_number).map(field),
    )?;
    if !matches!(
        before.status,
        InvoiceStatus::Posted | InvoiceStatus::Credited
    ) {
        return Ok(());
    }
    let frozen = |path| Refusal::Frozen {
        status: before.status,
        path,
    };
    // Everything but the status is compared at once, so a field added to `Invoice` later is
    // frozen too; the list below only names the field for the user.
    // Payments are recorded against posted invoices (that is when they arrive); existing
    // payments may not be rewritten or removed.
    for (key, payment) in before.payments.iter() {
        if after.payments.get(key) != Some(payment) {
            return Err(frozen(field("payments")));
        }
    }
    let mut rest = after.clone();
    rest.status = before.status;
    rest.payments = before.payments.clone();
    // Office approves dates on posted invoices; role rules say who.
    rest.approvals = before.approvals.clone();
    if rest != before {
        let path = first_changed!(
            before, after;
            provisional_number, legal_number, series, customer, issued_on, due_on, currency,
            lines, bookings, totals, credit_of,
        );
        return Err(frozen(path.map_or_else(FieldPath::root, field)));
    }
    if after.status == before.status {
        Ok(())
    } else {
        Err(frozen(field("status")))
    }
}

fn departure(before: Option<Departure>, after: &Departure) -> Result<(), Refusal> {
    let kind = Kind::Departure;
    let was = before.clone().unwrap_or_default();
    // Seats and the manifest are derived from bookings by the server, in one deterministic
    // order; a phone's count would merge into an overbooking.
    server_only(
        kind,
        first_changed!(
            was, after;
            seats_confirmed, seats_provisional, seats_waitlisted, manifest,
        )
        .map(field),
    )?;
    let Some(before) = before else {
        return Ok(());
    };
    set_once(kind, first_changed!(before, after; tour).map(field))?;
    // An assignment is one employee's: hours, acceptances and conflicts refer to them. Another
    // guide gets a new assignment; this one may be removed.
    let reassigned = before.assignments.iter().find_map(|(key, was)| {
        let now = after.assignments.get(key)?;
        (now.employee != was.employee).then(|| {
            FieldPath::root()
                .key("assignments")
                .key(key.as_str())
                .key("employee")
        })
    });
    set_once(kind, reassigned)
}

/// Users resolve alerts; raising, rewording and removing them is the authority's.
fn alerts(before: &Alerts, after: &Alerts) -> Result<(), Refusal> {
    let kind = Kind::Alerts;
    let alert_path = |key: &str| FieldPath::root().key("alerts").key(key);
    let added = after
        .alerts
        .keys()
        .find(|key| !before.alerts.contains_key(*key));
    let removed = before
        .alerts
        .keys()
        .find(|key| !after.alerts.contains_key(*key));
    server_only(kind, added.or(removed).map(|key| alert_path(key)))?;
    for (key, was) in &before.alerts {
        let Some(now) = after.alerts.get(key) else {
            continue;
        };
        // Compared whole with the resolution copied over, so a field added to `Alert` later is
        // the server's too.
        let mut rest = now.clone();
        rest.status = was.status;
        rest.resolved_by.clone_from(&was.resolved_by);
        rest.resolved_at = was.resolved_at;
        if rest != *was {
            let changed = first_changed!(was, now; rule, severity, document, message, raised_at);
            let path = match changed {
                Some(name) => alert_path(key).key(name),
                None => alert_path(key),
            };
            return server_only(kind, Some(path));
        }
    }
    Ok(())
}

/// Seats after submission: the server keeps the queue and the seats (`seating`); a rep may
/// withdraw a submission (clear `submitted_at`) and submit again, but not move it in time,
/// and a cancellation is final.
fn booking_requests(before: Option<&Booking>, after: &Booking) -> Result<(), Refusal> {
    let kind = Kind::Booking;
    let was = before.cloned().unwrap_or_default();
    if was.seating != after.seating {
        return server_only(kind, Some(field("seating")));
    }
    let Some(before) = before else {
        return Ok(());
    };
    if let (Some(was), Some(now)) = (before.submitted_at, after.submitted_at) {
        if was != now {
            return Err(Refusal::Rule {
                kind,
                path: field("submitted_at"),
                reason: "a submission keeps its time; withdraw it (clear submitted_at) and \
                         submit again to take a new place in the queue"
                    .into(),
            });
        }
    }
    if before.cancelled_at.is_some() && before.cancelled_at != after.cancelled_at {
        return Err(Refusal::Rule {
            kind,
            path: field("cancelled_at"),
            reason: "a cancellation is final; book again for the customer".into(),
        });
    }
    Ok(())
}

/// `issued_on` and `due_on` are calendar dates (`YYYY-MM-DD`): a date-time would give a legal
/// number but no journal period.
fn invoice_dates(before: Option<&Invoice>, after: &Invoice) -> Result<(), Refusal> {
    let dates = [("issued_on", &after.issued_on), ("due_on", &after.due_on)];
    for (name, value) in dates {
        let Some(text) = value.as_deref() else {
            continue;
        };
        let unchanged = before.is_some_and(|before| match name {
            "issued_on" => before.issued_on.as_deref() == Some(text),
            _ => before.due_on.as_deref() == Some(text),
        });
        if unchanged || CivilDate::parse(text).is_some() {
            continue;
        }
        return Err(Refusal::Rule {
            kind: Kind::Invoice,
            path: field(name),
            reason: format!("{text:?} is not a date; write it as YYYY-MM-DD (2026-11-20)"),
        });
    }
    Ok(())
}

/// A journal's entries are the server's; office may lock the period, never unlock it.
fn journal_lock(before: Option<&AutoCommit>, after: &AutoCommit) -> Result<(), Refusal> {
    let kind = Kind::Journal;
    let (before, after) = records::<Journal>(before, after)?;
    let before = before.unwrap_or_default();
    let mut rest = after.clone();
    rest.locked = before.locked;
    if rest != before {
        return server_only(kind, Some(FieldPath::root()));
    }
    if before.locked && !after.locked {
        return Err(Refusal::Rule {
            kind,
            path: field("locked"),
            reason: "a locked period stays locked; late entries go to the next open period".into(),
        });
    }
    Ok(())
}

/// Stock movements are a ledger: appended, never rewritten or removed, so the counters can
/// always be recounted from them. Who posted a movement and when may differ after a merge
/// (the same receipt posted on two phones); what it moves may not.
fn stock_movements(before: Option<&StockLocation>, after: &StockLocation) -> Result<(), Refusal> {
    let Some(before) = before else {
        return Ok(());
    };
    // What a movement says: two phones posting the same receipt under the same key at once
    // differ in who and when only, and merge into one movement.
    let substance = |m: &crate::model::StockMovement| {
        (m.item.clone(), m.quantity, m.reason, m.reference.clone())
    };
    for (key, movement) in before.movements.iter() {
        if after.movements.get(key).map(substance) != Some(substance(movement)) {
            return Err(Refusal::Rule {
                kind: Kind::Stock,
                path: FieldPath::root().key("movements").key(key),
                reason: "stock movements are never rewritten or removed; post a correcting \
                         adjustment instead"
                    .into(),
            });
        }
    }
    Ok(())
}

/// What only head office (office and admins) may write, whatever else the user may change:
/// a booking's priority, and approvals of invoice dates far in the past.
pub(super) fn check_office_fields(
    role: Role,
    kind: Kind,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
) -> Result<(), Refusal> {
    if matches!(role, Role::Admin | Role::Office) {
        return Ok(());
    }
    let office_only = |path: FieldPath, what: &str| Refusal::Rule {
        kind,
        path,
        reason: format!("{what} is set by head office only"),
    };
    match kind {
        Kind::Booking => {
            let (before, after) = records::<Booking>(before, after)?;
            if before.unwrap_or_default().priority != after.priority {
                return Err(office_only(
                    field("priority"),
                    "the priority in the seat queue",
                ));
            }
            Ok(())
        }
        Kind::Invoice => {
            let (before, after) = records::<Invoice>(before, after)?;
            if before.unwrap_or_default().approvals != after.approvals {
                return Err(office_only(
                    field("approvals"),
                    "approving a date far in the past",
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::{Alert, AlertRule, AlertSeverity, AlertStatus, IndexEntry};

    fn edited<R: Record>(record: &R, edit: impl FnOnce(&mut R)) -> (AutoCommit, AutoCommit) {
        let mut doc = Document::create(ActorId::from([1u8; 16]), 0, record).expect("create");
        let before = doc.automerge().clone();
        doc.change(1, |record| {
            edit(record);
            Ok(())
        })
        .expect("change");
        (before, doc.into_automerge())
    }

    // Access already keeps every user from writing these; this is the second lock, in case a
    // role is ever given more.
    #[test]
    fn any_change_to_a_journal_or_an_index_is_the_servers() {
        let (before, after) = edited(&Journal::default(), |journal| {
            journal.period = "2026-11".into();
        });
        assert_eq!(
            check_fields(Kind::Journal, Some(&before), &after, &Touched::Everything),
            Err(Refusal::ServerOnly {
                kind: Kind::Journal,
                path: FieldPath::root(),
            })
        );
        assert_eq!(
            check_fields(Kind::Journal, Some(&before), &before, &Touched::Everything),
            Ok(())
        );

        let (before, after) = edited(&UserIndex::default(), |index| {
            index
                .documents
                .insert("doc-1".into(), IndexEntry::default());
        });
        assert!(matches!(
            check_fields(Kind::Index, Some(&before), &after, &Touched::Everything),
            Err(Refusal::ServerOnly {
                kind: Kind::Index,
                ..
            })
        ));
        assert!(matches!(
            check_fields(Kind::Index, None, &after, &Touched::Everything),
            Err(Refusal::ServerOnly {
                kind: Kind::Index,
                ..
            })
        ));
    }

    #[test]
    fn office_may_lock_a_period_but_not_unlock_it() {
        let (open, locked) = edited(&Journal::default(), |journal| journal.locked = true);
        assert_eq!(
            check_fields(Kind::Journal, Some(&open), &locked, &Touched::Everything),
            Ok(())
        );
        assert!(matches!(
            check_fields(Kind::Journal, Some(&locked), &open, &Touched::Everything),
            Err(Refusal::Rule { .. })
        ));
    }

    #[test]
    fn a_booking_keeps_its_submission_time_and_its_cancellation() {
        let submitted = Booking {
            submitted_at: Some(100),
            ..Default::default()
        };
        let (before, after) = edited(&submitted, |b| b.submitted_at = Some(5));
        let refusal = check_fields(Kind::Booking, Some(&before), &after, &Touched::Everything)
            .expect_err("backdated");
        assert!(refusal.to_string().contains("submitted_at"), "{refusal}");
        let (before, withdrawn) = edited(&submitted, |b| b.submitted_at = None);
        assert_eq!(
            check_fields(
                Kind::Booking,
                Some(&before),
                &withdrawn,
                &Touched::Everything
            ),
            Ok(())
        );
        let (before, seated) = edited(&submitted, |b| b.seating.received_at = Some(1));
        assert!(matches!(
            check_fields(Kind::Booking, Some(&before), &seated, &Touched::Everything),
            Err(Refusal::ServerOnly { .. })
        ));
        let cancelled = Booking {
            cancelled_at: Some(7),
            ..submitted
        };
        let (before, revived) = edited(&cancelled, |b| b.cancelled_at = None);
        assert!(matches!(
            check_fields(Kind::Booking, Some(&before), &revived, &Touched::Everything),
            Err(Refusal::Rule { .. })
        ));
    }

    #[test]
    fn only_head_office_sets_a_bookings_priority() {
        let (before, after) = edited(&Booking::default(), |b| b.priority = 9);
        let refusal = check_office_fields(Role::Sales, Kind::Booking, Some(&before), &after)
            .expect_err("a rep may not");
        assert_eq!(
            refusal.to_string(),
            "booking /priority: the priority in the seat queue is set by head office only"
        );
        assert_eq!(
            check_office_fields(Role::Office, Kind::Booking, Some(&before), &after),
            Ok(())
        );
        // Created with a priority: refused too.
        assert!(check_office_fields(Role::Sales, Kind::Booking, None, &after).is_err());
    }

    #[test]
    fn an_issue_date_must_be_a_date() {
        let (before, after) = edited(&Invoice::default(), |i| {
            i.issued_on = Some("2026-11-20T10:00:00Z".into());
        });
        let refusal = check_fields(Kind::Invoice, Some(&before), &after, &Touched::Everything)
            .expect_err("date-time");
        assert_eq!(
            refusal.to_string(),
            "invoice /issued_on: \"2026-11-20T10:00:00Z\" is not a date; write it as YYYY-MM-DD \
             (2026-11-20)"
        );
        let (before, after) = edited(&Invoice::default(), |i| {
            i.issued_on = Some("2026-11-20".into());
        });
        assert_eq!(
            check_fields(Kind::Invoice, Some(&before), &after, &Touched::Everything),
            Ok(())
        );
    }

    #[test]
    fn an_invoice_is_credited_by_the_server_only() {
        let posted = Invoice {
            status: InvoiceStatus::Posted,
            legal_number: Some("2026-A-000001".into()),
            ..Default::default()
        };
        let (before, after) = edited(&posted, |i| i.status = InvoiceStatus::Credited);
        assert!(matches!(
            check_fields(Kind::Invoice, Some(&before), &after, &Touched::Everything),
            Err(Refusal::Rule { .. })
        ));
    }

    #[test]
    fn stock_movements_are_never_rewritten() {
        let mut kit = StockLocation::default();
        kit.post_movement(
            crate::model::LogKey::new(1, "a"),
            crate::model::StockMovement {
                item: "water".into(),
                quantity: 5,
                reason: crate::model::MovementReason::Receipt,
                reference: None,
                actor: "olga".into(),
                at: 1,
            },
        )
        .expect("receipt");
        let (before, after) = edited(&kit, |k| {
            if let Some(m) = k
                .movements
                .get_mut(crate::model::LogKey::new(1, "a").as_str())
            {
                m.quantity = 50;
            }
        });
        let refusal = check_fields(Kind::Stock, Some(&before), &after, &Touched::Everything)
            .expect_err("rewritten");
        assert!(refusal.to_string().contains("never rewritten"), "{refusal}");
    }

    #[test]
    fn adding_an_alert_is_the_servers() {
        let (before, after) = edited(&Alerts::default(), |alerts| {
            alerts.alerts.insert(
                "al-9".into(),
                Alert {
                    rule: AlertRule::LowStock,
                    severity: AlertSeverity::Info,
                    document: "stock-1".into(),
                    message: "made up".into(),
                    raised_at: 1,
                    status: AlertStatus::Open,
                    resolved_by: None,
                    resolved_at: None,
                    finding: String::new(),
                    cleared_at: None,
                    owners: Default::default(),
                },
            );
        });
        assert_eq!(
            check_fields(Kind::Alerts, Some(&before), &after, &Touched::Everything),
            Err(Refusal::ServerOnly {
                kind: Kind::Alerts,
                path: FieldPath::parse("/alerts/al-9"),
            })
        );
        // An empty alerts document may be created, but not one with alerts in it.
        assert_eq!(
            check_fields(Kind::Alerts, None, &before, &Touched::Everything),
            Ok(())
        );
        assert!(check_fields(Kind::Alerts, None, &after, &Touched::Everything).is_err());
    }
}
