//! Who may read and write which document, and which changes the server refuses.
//!
//! The access table covers every role against every kind of document, with a document that is
//! the user's (owned, granted, about them) and one that is not. The change tests build real
//! documents, change them as a device would, and ask the server's check.

use std::collections::BTreeSet;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use itinera_core::document::Touched;
use itinera_core::model::*;
use itinera_core::policy::{
    DocumentScope, Grant, Principal, Refusal, Role, access, check_change, check_shared_change,
};
use itinera_core::sync::Access;
use itinera_core::{Document, DocumentId};

const USER: &str = "ana";
const OTHER: &str = "ben";

fn granted_departure() -> DocumentId {
    DocumentId::from_bytes([0xd1; 16])
}

fn other_departure() -> DocumentId {
    DocumentId::from_bytes([0xd2; 16])
}

fn granted_location() -> DocumentId {
    DocumentId::from_bytes([0x51; 16])
}

fn other_location() -> DocumentId {
    DocumentId::from_bytes([0x52; 16])
}

fn doc_id() -> DocumentId {
    DocumentId::from_bytes([0x42; 16])
}

/// `ana` in `role`, granted the north territory, one departure and one stock location.
fn principal(role: Role) -> Principal {
    Principal::new(USER, role)
        .with_grant(Grant::Territory("north".into()))
        .with_grant(Grant::Departure(granted_departure()))
        .with_grant(Grant::StockLocation(granted_location()))
}

/// A document of `kind` that is the user's in every way a scope can say so.
fn mine(kind: Option<DocumentKind>) -> DocumentScope {
    DocumentScope {
        kind,
        owner: Some(USER.into()),
        territory: Some("north".into()),
        departure: Some(granted_departure()),
        locations: vec![granted_location()],
        subject: Some(USER.into()),
        shared_with: BTreeSet::new(),
        guides: BTreeSet::new(),
    }
}

/// A document of `kind` that is someone else's in every way.
fn theirs(kind: Option<DocumentKind>) -> DocumentScope {
    DocumentScope {
        kind,
        owner: Some(OTHER.into()),
        territory: Some("south".into()),
        departure: Some(other_departure()),
        locations: vec![other_location()],
        subject: Some(OTHER.into()),
        shared_with: BTreeSet::new(),
        guides: BTreeSet::new(),
    }
}

#[test]
fn an_assigned_guide_sees_the_departure_and_writes_its_log_without_a_grant() {
    let gia = Principal::new("gia", Role::Guide);
    let mut scope = theirs(Some(DocumentKind::Departure));
    assert_eq!(access(&gia, &scope), Access::None);
    scope.guides.insert("gia".into());
    assert_eq!(access(&gia, &scope), Access::Read);
    scope.kind = Some(DocumentKind::FieldLog);
    assert_eq!(access(&gia, &scope), Access::Write);
    let ben = Principal::new("ben", Role::Guide);
    assert_eq!(
        access(&ben, &scope),
        Access::None,
        "only the guides assigned"
    );
}

#[test]
fn access_table_covers_every_role_and_kind() {
    use Access::{None as N, Read as R, Write as W};
    use DocumentKind as K;
    // For each kind: (mine, theirs) for admin, office, sales, guide.
    let table: [(K, [(Access, Access); 4]); 18] = [
        (K::Catalog, [(W, W), (W, W), (R, R), (N, N)]),
        (K::Stock, [(W, W), (W, W), (N, N), (W, N)]),
        (K::Transfer, [(W, W), (W, W), (N, N), (W, N)]),
        (K::PurchaseOrder, [(W, W), (W, W), (N, N), (N, N)]),
        (K::Departure, [(W, W), (W, W), (R, R), (R, N)]),
        (K::FieldLog, [(W, W), (W, W), (N, N), (W, N)]),
        (K::Booking, [(W, W), (W, W), (W, N), (N, N)]),
        (K::Invoice, [(W, W), (W, W), (W, N), (N, N)]),
        (K::Journal, [(W, W), (W, W), (N, N), (N, N)]),
        (K::Employee, [(W, W), (W, W), (N, N), (R, N)]),
        (K::Hr, [(W, W), (W, W), (N, N), (N, N)]),
        (K::Account, [(W, W), (W, W), (W, N), (N, N)]),
        (K::Lead, [(W, W), (W, W), (W, N), (N, N)]),
        (K::Campaign, [(W, W), (W, W), (R, R), (N, N)]),
        (K::Ticket, [(W, W), (W, W), (W, N), (N, N)]),
        (K::Index, [(R, R), (R, R), (R, N), (R, N)]),
        (K::Alerts, [(R, R), (R, R), (R, N), (R, N)]),
        // "Mine" for a guide is a departure he runs; no rep reads another's passengers.
        (K::Manifest, [(R, R), (R, R), (N, N), (R, N)]),
    ];
    let kinds: Vec<K> = table.iter().map(|(kind, _)| *kind).collect();
    assert_eq!(kinds, K::ALL, "the table lists every kind once, in order");
    assert_eq!(
        Role::ALL,
        [Role::Admin, Role::Office, Role::Sales, Role::Guide]
    );

    let mut wrong = Vec::new();
    for (kind, row) in table {
        for (role, (expect_mine, expect_theirs)) in Role::ALL.iter().zip(row) {
            let user = principal(*role);
            let got_mine = access(&user, &mine(Some(kind)));
            let got_theirs = access(&user, &theirs(Some(kind)));
            if (got_mine, got_theirs) != (expect_mine, expect_theirs) {
                wrong.push(format!(
                    "{role} on {kind}: expected {expect_mine:?}/{expect_theirs:?}, \
                     got {got_mine:?}/{got_theirs:?}"
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn a_rep_reads_the_accounts_of_a_granted_territory_but_writes_only_their_own() {
    let rep = principal(Role::Sales);
    let colleagues_in_north = DocumentScope {
        territory: Some("north".into()),
        ..theirs(Some(DocumentKind::Account))
    };
    let own_in_south = DocumentScope {
        owner: Some(USER.into()),
        ..theirs(Some(DocumentKind::Account))
    };
    let unassigned_in_south = DocumentScope {
        owner: None,
        ..theirs(Some(DocumentKind::Account))
    };
    assert_eq!(access(&rep, &colleagues_in_north), Access::Read);
    assert_eq!(access(&rep, &own_in_south), Access::Write);
    assert_eq!(access(&rep, &unassigned_in_south), Access::None);
}

#[test]
fn a_guide_writes_stock_they_hold_or_are_granted_and_transfers_touching_it() {
    let guide = principal(Role::Guide);
    let custodian_only = DocumentScope {
        owner: Some(USER.into()),
        ..theirs(Some(DocumentKind::Stock))
    };
    let granted_only = DocumentScope {
        owner: None,
        locations: vec![granted_location()],
        ..theirs(Some(DocumentKind::Stock))
    };
    let transfer_into_granted = DocumentScope {
        locations: vec![other_location(), granted_location()],
        ..theirs(Some(DocumentKind::Transfer))
    };
    let field_log_without_departure = DocumentScope {
        departure: None,
        ..mine(Some(DocumentKind::FieldLog))
    };
    assert_eq!(access(&guide, &custodian_only), Access::Write);
    assert_eq!(access(&guide, &granted_only), Access::Write);
    assert_eq!(access(&guide, &transfer_into_granted), Access::Write);
    assert_eq!(access(&guide, &field_log_without_departure), Access::None);
}

#[test]
fn a_user_called_nothing_owns_nothing() {
    let nobody = Principal::new("", Role::Sales);
    let unowned = DocumentScope {
        kind: Some(DocumentKind::Account),
        owner: Some(String::new()),
        ..DocumentScope::default()
    };
    assert_eq!(access(&nobody, &unowned), Access::None);
}

#[test]
fn generic_documents_are_written_by_their_owner_admins_and_who_they_are_shared_with() {
    let shared = DocumentScope {
        shared_with: [USER.to_owned()].into(),
        ..theirs(None)
    };
    for role in Role::ALL {
        let user = principal(*role);
        assert_eq!(access(&user, &mine(None)), Access::Write, "{role}, owner");
        assert_eq!(access(&user, &shared), Access::Write, "{role}, shared");
        let expected = if *role == Role::Admin {
            Access::Write
        } else {
            Access::None
        };
        assert_eq!(access(&user, &theirs(None)), expected, "{role}, not theirs");
    }
}

// ---------------------------------------------------------------------------------------------
// DocumentScope::describe

fn automerge_of<R: Record>(record: &R) -> AutoCommit {
    Document::create(ActorId::from([1u8; 16]), 0, record)
        .expect("create")
        .automerge()
        .clone()
}

fn describe(doc: &AutoCommit, creator: Option<&str>) -> DocumentScope {
    DocumentScope::describe(&doc_id(), doc, creator).expect("describe")
}

#[test]
fn describe_reads_who_and_what_each_kind_of_record_belongs_to() {
    let departure = granted_departure().to_string();
    let location = granted_location().to_string();

    let account = describe(
        &automerge_of(&Account {
            owner: USER.into(),
            territory: "north".into(),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(account.kind, Some(DocumentKind::Account));
    assert_eq!(account.owner.as_deref(), Some(USER));
    assert_eq!(account.territory.as_deref(), Some("north"));

    let lead = describe(
        &automerge_of(&Lead {
            owner: USER.into(),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(lead.owner.as_deref(), Some(USER));

    let booking = describe(
        &automerge_of(&Booking {
            rep: USER.into(),
            departure: departure.clone(),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(booking.owner.as_deref(), Some(USER));
    assert_eq!(booking.departure, Some(granted_departure()));

    let invoice = describe(&automerge_of(&Invoice::default()), Some(USER));
    assert_eq!(invoice.owner.as_deref(), Some(USER));

    let assigned = describe(
        &automerge_of(&Ticket {
            assignee: Some(OTHER.into()),
            ..Default::default()
        }),
        Some(USER),
    );
    assert_eq!(assigned.owner.as_deref(), Some(OTHER));
    let unassigned = describe(&automerge_of(&Ticket::default()), Some(USER));
    assert_eq!(unassigned.owner.as_deref(), Some(USER));

    let run = describe(&automerge_of(&Departure::default()), Some("office"));
    assert_eq!(run.departure, Some(doc_id()));
    assert_eq!(run.owner, None);

    let log = describe(
        &automerge_of(&FieldLog {
            departure: departure.clone(),
            ..Default::default()
        }),
        Some(USER),
    );
    assert_eq!(log.departure, Some(granted_departure()));

    let kit = describe(
        &automerge_of(&StockLocation {
            custodian: Some(USER.into()),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(kit.owner.as_deref(), Some(USER));
    assert_eq!(kit.locations, vec![doc_id()]);

    let transfer = describe(
        &automerge_of(&Transfer {
            from: location.clone(),
            to: "the van out back".into(),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(transfer.locations, vec![granted_location()]);

    let employee = describe(
        &automerge_of(&Employee {
            user: Some(USER.into()),
            ..Default::default()
        }),
        Some("office"),
    );
    assert_eq!(employee.owner.as_deref(), Some(USER));

    let index = describe(
        &automerge_of(&UserIndex {
            user: USER.into(),
            ..Default::default()
        }),
        None,
    );
    assert_eq!(index.subject.as_deref(), Some(USER));
    assert_eq!(index.owner, None);

    let catalog = describe(&automerge_of(&Catalog::default()), Some("office"));
    assert_eq!(catalog.owner.as_deref(), Some("office"));

    let mut generic = AutoCommit::new();
    generic.put(ROOT, "title", "Packing list").expect("put");
    let generic = describe(&generic, Some(USER));
    assert_eq!(generic.kind, None);
    assert_eq!(generic.owner.as_deref(), Some(USER));
    assert!(generic.shared_with.is_empty());
}

#[test]
fn describe_reads_unparsable_references_and_empty_fields_as_absent() {
    let booking = describe(
        &automerge_of(&Booking {
            departure: "not an id".into(),
            ..Default::default()
        }),
        Some(USER),
    );
    assert_eq!(booking.departure, None);
    assert_eq!(
        booking.owner, None,
        "an empty rep is nobody, not the creator"
    );

    let account = describe(&automerge_of(&Account::default()), Some(USER));
    assert_eq!(account.owner, None);
    assert_eq!(account.territory, None);
}

#[test]
fn describe_fails_on_an_unknown_kind() {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", "spaceship").expect("put");
    doc.put(ROOT, "schema", 1u64).expect("put");
    assert!(DocumentScope::describe(&doc_id(), &doc, None).is_err());
}

// ---------------------------------------------------------------------------------------------
// check_change

/// A document of `record` created at time 0, and a snapshot of it as the server holds it.
fn created<R: Record>(record: &R) -> (Document<R>, AutoCommit) {
    let doc = Document::create(ActorId::from([1u8; 16]), 0, record).expect("create");
    let before = doc.automerge().clone();
    (doc, before)
}

/// `record` changed by `edit` on a device: the server's document before and the fork after.
fn changed<R: Record>(
    record: &R,
    edit: impl FnOnce(&mut R) -> Result<(), ModelError>,
) -> (AutoCommit, AutoCommit) {
    let (doc, before) = created(record);
    let mut device = Document::<R>::from_automerge(doc.automerge().clone())
        .expect("typed")
        .with_actor(ActorId::from([2u8; 16]));
    device.change(1, edit).expect("change");
    (before, device.into_automerge())
}

/// The server's check of a change, by the rules of the fields it wrote as the server runs it
/// (debug builds also run every rule and compare), and by every rule: both must agree.
fn check(
    who: &Principal,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    creator: &str,
) -> Result<(), Refusal> {
    let heads = before
        .map(|doc| doc.clone().get_heads())
        .unwrap_or_default();
    let written = Touched::since(&mut after.clone(), &heads);
    let shared = BTreeSet::new();
    let fast = check_shared_change(
        who,
        &doc_id(),
        before,
        after,
        Some(creator),
        &shared,
        &written,
    );
    assert_eq!(
        fast,
        check_change(who, &doc_id(), before, after, Some(creator))
    );
    fast
}

fn path(text: &str) -> FieldPath {
    FieldPath::parse(text)
}

fn own_account() -> Account {
    Account {
        name: "Alpine Schools".into(),
        owner: USER.into(),
        territory: "north".into(),
        ..Default::default()
    }
}

#[test]
fn a_rep_may_edit_notes_and_tags_of_their_own_account() {
    let (before, after) = changed(&own_account(), |account| {
        account.notes.splice(0, 0, "Prefers May departures.");
        account.tags.insert("schools");
        Ok(())
    });
    assert_eq!(
        check(&principal(Role::Sales), Some(&before), &after, "office"),
        Ok(())
    );
}

/// The rep's own account with one call logged.
fn account_with_a_call() -> Account {
    let mut account = own_account();
    account
        .activities
        .append(
            LogKey::new(1, "a"),
            Activity {
                actor: USER.into(),
                subject: "Called about May".into(),
                ..Default::default()
            },
        )
        .expect("a new entry");
    account
}

/// `account` before and after a device rewrote its logged call.
fn call_rewritten(account: &Account) -> (AutoCommit, AutoCommit) {
    changed(account, |account| {
        if let Some(activity) = account.activities.get_mut(LogKey::new(1, "a").as_str()) {
            activity.subject = "Never called".into();
        }
        Ok(())
    })
}

#[test]
fn a_change_is_checked_by_the_rules_of_the_fields_it_wrote() {
    let account = account_with_a_call();
    let (before, renamed) = changed(&account, |account| {
        account.name = "Alpine Schools Ltd".into();
        Ok(())
    });
    let written = Touched::since(&mut renamed.clone(), &before.clone().get_heads());
    assert_eq!(written, Touched::Fields(["name".to_owned()].into()));
    assert_eq!(
        check(&principal(Role::Sales), Some(&before), &renamed, USER),
        Ok(())
    );

    let (before, rewritten) = call_rewritten(&account);
    let written = Touched::since(&mut rewritten.clone(), &before.clone().get_heads());
    assert!(written.field("activities") && !written.field("name"));
    assert!(matches!(
        check(&principal(Role::Sales), Some(&before), &rewritten, USER),
        Err(Refusal::Rule { .. })
    ));
}

/// A written set that leaves out what the change wrote would let a refused change through;
/// debug builds run every rule beside it and stop.
#[test]
#[cfg(debug_assertions)]
#[should_panic(expected = "every rule says Err")]
fn a_written_set_that_misses_a_field_is_caught_in_debug_builds() {
    let account = account_with_a_call();
    let (before, rewritten) = call_rewritten(&account);
    let wrong = Touched::Fields(["name".to_owned()].into());
    let _ = check_shared_change(
        &principal(Role::Sales),
        &doc_id(),
        Some(&before),
        &rewritten,
        Some(USER),
        &BTreeSet::new(),
        &wrong,
    );
}

#[test]
fn a_rep_may_not_change_a_bookings_status() {
    let booking = Booking {
        rep: USER.into(),
        ..Default::default()
    };
    let (before, after) = changed(&booking, |booking| {
        booking.status = BookingStatus::Confirmed;
        Ok(())
    });
    let refusal = check(&principal(Role::Sales), Some(&before), &after, USER).expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::ServerOnly {
            kind: DocumentKind::Booking,
            path: path("/status"),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "booking /status is written by the server only"
    );
}

#[test]
fn a_new_booking_must_not_arrive_already_confirmed() {
    let confirmed = automerge_of(&Booking {
        rep: USER.into(),
        status: BookingStatus::Confirmed,
        ..Default::default()
    });
    let draft = automerge_of(&Booking {
        rep: USER.into(),
        ..Default::default()
    });
    let rep = principal(Role::Sales);
    assert!(matches!(
        check(&rep, None, &confirmed, USER),
        Err(Refusal::ServerOnly { path, .. }) if path == FieldPath::parse("/status")
    ));
    assert_eq!(check(&rep, None, &draft, USER), Ok(()));
    // The server holds an empty document for one it has not received yet: that is a creation.
    assert_eq!(check(&rep, Some(&AutoCommit::new()), &draft, USER), Ok(()));
}

#[test]
fn a_rep_may_not_hand_their_account_to_another_rep() {
    let (before, after) = changed(&own_account(), |account| {
        account.owner = OTHER.into();
        Ok(())
    });
    let refusal = check(&principal(Role::Sales), Some(&before), &after, USER).expect_err("refused");
    assert!(matches!(refusal, Refusal::Forbidden { .. }), "{refusal:?}");
    assert!(refusal.to_string().contains("ana (sales)"), "{refusal}");
    // The office reassigns accounts.
    assert_eq!(
        check(&principal(Role::Office), Some(&before), &after, USER),
        Ok(())
    );
}

#[test]
fn a_rep_may_not_take_over_a_colleagues_account() {
    // Writable after the change but not before: only the check of the document as it was
    // stops this.
    let colleagues = Account {
        owner: OTHER.into(),
        ..own_account()
    };
    let (before, after) = changed(&colleagues, |account| {
        account.owner = USER.into();
        Ok(())
    });
    let refusal =
        check(&principal(Role::Sales), Some(&before), &after, OTHER).expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::Forbidden {
            reason: "ana (sales) may not change this account".into()
        }
    );
}

#[test]
fn a_rep_may_not_create_an_account_for_another_rep() {
    let theirs = automerge_of(&Account {
        owner: OTHER.into(),
        ..own_account()
    });
    let refusal = check(&principal(Role::Sales), None, &theirs, USER).expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::Forbidden {
            reason: "ana (sales) may not create this account".into()
        }
    );
    assert_eq!(
        check(
            &principal(Role::Sales),
            None,
            &automerge_of(&own_account()),
            USER
        ),
        Ok(())
    );
}

#[test]
fn a_rep_may_not_change_a_colleagues_account_they_can_only_read() {
    let colleagues = Account {
        owner: OTHER.into(),
        ..own_account()
    };
    let (before, after) = changed(&colleagues, |account| {
        account.tags.insert("mine-now");
        Ok(())
    });
    let rep = principal(Role::Sales);
    assert_eq!(
        access(
            &rep,
            &DocumentScope::describe(&doc_id(), &before, None).expect("scope")
        ),
        Access::Read
    );
    assert!(matches!(
        check(&rep, Some(&before), &after, OTHER),
        Err(Refusal::Forbidden { .. })
    ));
}

#[test]
fn a_guide_may_write_only_the_field_log_of_a_granted_departure() {
    let guide = principal(Role::Guide);
    for (departure, allowed) in [(other_departure(), false), (granted_departure(), true)] {
        let log = FieldLog {
            departure: departure.to_string(),
            ..Default::default()
        };
        let (before, after) = changed(&log, |log| {
            log.check_ins.insert("passenger-1");
            Ok(())
        });
        let result = check(&guide, Some(&before), &after, "office");
        if allowed {
            assert_eq!(result, Ok(()));
        } else {
            assert!(
                matches!(result, Err(Refusal::Forbidden { .. })),
                "{result:?}"
            );
        }
    }
}

#[test]
fn a_guide_may_not_point_a_field_log_at_a_departure_they_are_not_on() {
    let log = FieldLog {
        departure: granted_departure().to_string(),
        ..Default::default()
    };
    let (before, after) = changed(&log, |log| {
        log.departure = other_departure().to_string();
        Ok(())
    });
    assert!(matches!(
        check(&principal(Role::Guide), Some(&before), &after, "office"),
        Err(Refusal::Forbidden { .. })
    ));
}

fn posted_invoice() -> Invoice {
    let mut invoice = Invoice {
        provisional_number: "PHONE7-0001".into(),
        legal_number: Some("2025-000123".into()),
        status: InvoiceStatus::Posted,
        customer: "acct".into(),
        ..Default::default()
    };
    invoice.lines.insert(
        "l-1".into(),
        InvoiceLine {
            description: "Danube bend, 3 days".into(),
            quantity: 2,
            unit_price_minor: 45_000,
            vat_rate_bp: 2_700,
        },
    );
    invoice.totals = invoice.compute_totals();
    invoice
}

#[test]
fn a_posted_invoice_is_frozen() {
    let office = principal(Role::Office);
    let (before, after) = changed(&posted_invoice(), |invoice| {
        if let Some(line) = invoice.lines.get_mut("l-1") {
            line.quantity = 3;
        }
        Ok(())
    });
    let refusal = check(&office, Some(&before), &after, "office").expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::Frozen {
            status: InvoiceStatus::Posted,
            path: path("/lines"),
        }
    );
    assert!(refusal.to_string().contains("credit note"), "{refusal}");

    let (before, after) = changed(&posted_invoice(), |invoice| {
        invoice.status = InvoiceStatus::Draft;
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::Frozen {
            status: InvoiceStatus::Posted,
            path: path("/status"),
        })
    );
}

#[test]
fn a_posted_invoice_is_credited_by_its_credit_note_and_a_draft_edited() {
    let office = principal(Role::Office);
    let (before, after) = changed(&posted_invoice(), |invoice| {
        invoice.status = InvoiceStatus::Credited;
        Ok(())
    });
    let refusal = check(&office, Some(&before), &after, "office").expect_err("by hand");
    assert!(
        refusal.to_string().contains("credit note is posted"),
        "{refusal}"
    );

    let draft = Invoice {
        provisional_number: "PHONE7-0002".into(),
        ..Default::default()
    };
    let (before, after) = changed(&draft, |invoice| {
        invoice.lines.insert("l-1".into(), InvoiceLine::default());
        invoice.status = InvoiceStatus::Posted;
        Ok(())
    });
    assert_eq!(check(&office, Some(&before), &after, "office"), Ok(()));
}

#[test]
fn a_payment_is_recorded_on_a_posted_invoice_but_never_rewritten() {
    let office = principal(Role::Office);
    let payment = Payment {
        amount_minor: 114_300,
        method: "transfer".into(),
        reference: "BANK-1".into(),
        at: 5,
    };
    let (before, after) = changed(&posted_invoice(), |invoice| {
        invoice
            .payments
            .append(LogKey::new(5, "office"), payment.clone())?;
        Ok(())
    });
    assert_eq!(check(&office, Some(&before), &after, "office"), Ok(()));

    let mut paid = posted_invoice();
    paid.payments
        .append(LogKey::new(5, "office"), payment)
        .expect("append");
    let (before, after) = changed(&paid, |invoice| {
        let key = invoice
            .payments
            .iter()
            .next()
            .map(|(key, _)| key.to_owned())
            .expect("a payment");
        if let Some(entry) = invoice.payments.get_mut(&key) {
            entry.amount_minor = 1;
        }
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::Frozen {
            status: InvoiceStatus::Posted,
            path: path("/payments")
        })
    );
}

#[test]
fn the_legal_number_and_totals_of_an_invoice_are_the_servers() {
    let office = principal(Role::Office);
    let draft = Invoice::default();
    let (before, after) = changed(&draft, |invoice| {
        invoice.legal_number = Some("2025-000124".into());
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::ServerOnly {
            kind: DocumentKind::Invoice,
            path: path("/legal_number"),
        })
    );
    let (before, after) = changed(&draft, |invoice| {
        invoice.totals.gross_minor = 1;
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::ServerOnly {
            kind: DocumentKind::Invoice,
            path: path("/totals"),
        })
    );
}

#[test]
fn an_invoices_provisional_number_is_set_once() {
    let draft = Invoice {
        provisional_number: "PHONE7-0003".into(),
        ..Default::default()
    };
    let (before, after) = changed(&draft, |invoice| {
        invoice.provisional_number = "PHONE7-0004".into();
        Ok(())
    });
    assert_eq!(
        check(&principal(Role::Office), Some(&before), &after, "office"),
        Err(Refusal::SetOnce {
            kind: DocumentKind::Invoice,
            path: path("/provisional_number"),
        })
    );
}

fn departure_with_guide() -> Departure {
    let mut departure = Departure {
        tour: "tour-danube".into(),
        capacity: 20,
        ..Default::default()
    };
    departure.assignments.insert(
        "a-1".into(),
        GuideAssignment {
            employee: "emp-1".into(),
            ..Default::default()
        },
    );
    departure
}

#[test]
fn a_departures_tour_and_assigned_employees_are_set_once() {
    let office = principal(Role::Office);
    let (before, after) = changed(&departure_with_guide(), |departure| {
        departure.tour = "tour-tokaj".into();
        Ok(())
    });
    let refusal = check(&office, Some(&before), &after, "office").expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::SetOnce {
            kind: DocumentKind::Departure,
            path: path("/tour"),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "departure /tour is set once and cannot change"
    );

    let (before, after) = changed(&departure_with_guide(), |departure| {
        if let Some(assignment) = departure.assignments.get_mut("a-1") {
            assignment.employee = "emp-2".into();
        }
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::SetOnce {
            kind: DocumentKind::Departure,
            path: path("/assignments/a-1/employee"),
        })
    );

    // Status and hours of an assignment, and new assignments, are the office's to change.
    let (before, after) = changed(&departure_with_guide(), |departure| {
        if let Some(assignment) = departure.assignments.get_mut("a-1") {
            assignment.status = AssignmentStatus::Accepted;
            assignment.hours = 6.5;
        }
        departure.assignments.insert(
            "a-2".into(),
            GuideAssignment {
                employee: "emp-2".into(),
                ..Default::default()
            },
        );
        departure.capacity = 24;
        Ok(())
    });
    assert_eq!(check(&office, Some(&before), &after, "office"), Ok(()));
}

#[test]
fn a_departures_seats_and_manifest_are_the_servers() {
    let office = principal(Role::Office);
    let (before, after) = changed(&departure_with_guide(), |departure| {
        departure
            .manifest
            .insert("p-1".into(), ManifestEntry::default());
        Ok(())
    });
    assert_eq!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::ServerOnly {
            kind: DocumentKind::Departure,
            path: path("/manifest"),
        })
    );
    let (before, after) = changed(&departure_with_guide(), |departure| {
        departure.seats_confirmed = 3;
        Ok(())
    });
    assert!(matches!(
        check(&office, Some(&before), &after, "office"),
        Err(Refusal::ServerOnly { path, .. }) if path == FieldPath::parse("/seats_confirmed")
    ));
}

#[test]
fn an_accounts_purchase_summary_is_the_servers() {
    let (before, after) = changed(&own_account(), |account| {
        account.purchase_summary.revenue_minor = 1_000_000;
        Ok(())
    });
    assert_eq!(
        check(&principal(Role::Sales), Some(&before), &after, "office"),
        Err(Refusal::ServerOnly {
            kind: DocumentKind::Account,
            path: path("/purchase_summary"),
        })
    );
}

#[test]
fn a_leads_conversion_is_set_once_and_a_tickets_booking_never_moves() {
    let rep = principal(Role::Sales);
    let lead = Lead {
        owner: USER.into(),
        ..Default::default()
    };
    let (before, after) = changed(&lead, |lead| {
        lead.converted_to = Some("account-1".into());
        lead.status = LeadStatus::Converted;
        Ok(())
    });
    assert_eq!(check(&rep, Some(&before), &after, USER), Ok(()));

    let converted = Lead {
        converted_to: Some("account-1".into()),
        ..lead
    };
    let (before, after) = changed(&converted, |lead| {
        lead.converted_to = Some("account-2".into());
        Ok(())
    });
    assert_eq!(
        check(&rep, Some(&before), &after, USER),
        Err(Refusal::SetOnce {
            kind: DocumentKind::Lead,
            path: path("/converted_to"),
        })
    );

    let ticket = Ticket {
        booking: Some("booking-1".into()),
        assignee: Some(USER.into()),
        ..Default::default()
    };
    let (before, after) = changed(&ticket, |ticket| {
        ticket.booking = Some("booking-2".into());
        Ok(())
    });
    assert_eq!(
        check(&rep, Some(&before), &after, USER),
        Err(Refusal::SetOnce {
            kind: DocumentKind::Ticket,
            path: path("/booking"),
        })
    );
}

fn open_alert() -> Alerts {
    let mut alerts = Alerts::default();
    alerts.alerts.insert(
        "al-1".into(),
        Alert {
            rule: AlertRule::NegativeStock,
            severity: AlertSeverity::Warning,
            document: "stock-1".into(),
            message: "water below zero".into(),
            raised_at: 10,
            status: AlertStatus::Open,
            resolved_by: None,
            resolved_at: None,
            finding: String::new(),
            cleared_at: None,
            owners: Default::default(),
        },
    );
    alerts
}

#[test]
fn the_alerts_are_the_servers_office_resolves_them_through_the_api() {
    // A device may not write the alerts, not even to resolve one: who resolved it and when
    // would be whatever the device said. The API resolves them as the server.
    let office = principal(Role::Office);
    let (before, after) = changed(&open_alert(), |alerts| {
        if let Some(alert) = alerts.alerts.get_mut("al-1") {
            alert.status = AlertStatus::Resolved;
            alert.resolved_by = Some("admin".into());
            alert.resolved_at = Some(0);
        }
        Ok(())
    });
    assert!(matches!(
        check(&office, Some(&before), &after, "server"),
        Err(Refusal::Forbidden { .. })
    ));
    assert!(matches!(
        check(&principal(Role::Admin), Some(&before), &after, "server"),
        Err(Refusal::Forbidden { .. })
    ));
}

#[test]
fn nobody_writes_the_journal_or_an_index() {
    let (before, after) = changed(&Journal::default(), |journal| {
        journal.period = "2026-11".into();
        Ok(())
    });
    assert!(matches!(
        check(&principal(Role::Admin), Some(&before), &after, "server"),
        Err(Refusal::ServerOnly { .. })
    ));
    // Office locks a period; nobody else may, and nobody unlocks one.
    let (open, locked) = changed(&Journal::default(), |journal| {
        journal.locked = true;
        Ok(())
    });
    assert_eq!(
        check(&principal(Role::Office), Some(&open), &locked, "server"),
        Ok(())
    );
    assert!(matches!(
        check(&principal(Role::Sales), Some(&open), &locked, "server"),
        Err(Refusal::Forbidden { .. })
    ));
    assert!(matches!(
        check(&principal(Role::Office), Some(&locked), &open, "server"),
        Err(Refusal::Rule { .. })
    ));
    let index = UserIndex {
        user: USER.into(),
        ..Default::default()
    };
    let (before, after) = changed(&index, |index| {
        index.documents.insert("doc".into(), IndexEntry::default());
        Ok(())
    });
    assert!(matches!(
        check(&principal(Role::Sales), Some(&before), &after, "server"),
        Err(Refusal::Forbidden { .. })
    ));
}

#[test]
fn a_change_that_breaks_the_schema_is_refused_before_anything_else() {
    let (_, mut before) = created(&own_account());
    let mut after = before.fork().with_actor(ActorId::from([2u8; 16]));
    after.put(ROOT, "name", 42).expect("put");
    after.commit();
    let refusal = check(&principal(Role::Sales), Some(&before), &after, USER).expect_err("refused");
    match &refusal {
        Refusal::Schema(text) => assert!(text.contains("/name"), "{text}"),
        other => panic!("expected Schema, got {other:?}"),
    }
    // Even a user who may not write the document learns only that it is malformed: the
    // schema comes first.
    let refusal = check(&principal(Role::Guide), Some(&before), &after, USER).expect_err("refused");
    assert!(matches!(refusal, Refusal::Schema(_)), "{refusal:?}");
}

#[test]
fn a_change_of_kind_is_refused() {
    let sales = principal(Role::Sales);
    let (_, mut account) = created(&own_account());

    // A record that stops being one.
    let mut generic = account.fork().with_actor(ActorId::from([2u8; 16]));
    generic.delete(ROOT, "kind").expect("delete");
    generic.commit();
    assert_eq!(
        check(&sales, Some(&account), &generic, USER),
        Err(Refusal::KindChanged {
            before: Some(DocumentKind::Account),
            after: None,
        })
    );

    // A record that becomes another, well-formed record.
    let mut lead = account.fork().with_actor(ActorId::from([2u8; 16]));
    autosurgeon::reconcile(
        &mut lead,
        &Lead {
            owner: USER.into(),
            ..Default::default()
        },
    )
    .expect("reconcile");
    lead.put(ROOT, "kind", "lead").expect("put");
    lead.commit();
    assert_eq!(
        lead.get(ROOT, "kind")
            .expect("get")
            .map(|(v, _)| v.to_string()),
        Some("\"lead\"".to_owned())
    );
    let refusal = check(&sales, Some(&account), &lead, USER).expect_err("refused");
    assert_eq!(
        refusal,
        Refusal::KindChanged {
            before: Some(DocumentKind::Account),
            after: Some(DocumentKind::Lead),
        }
    );
    assert_eq!(
        refusal.to_string(),
        "a document's kind cannot change (from account to lead)"
    );

    // A generic document that becomes a record.
    let mut notes = AutoCommit::new().with_actor(ActorId::from([3u8; 16]));
    notes.put(ROOT, "title", "Packing list").expect("put");
    notes.commit();
    let mut record = notes.fork().with_actor(ActorId::from([2u8; 16]));
    autosurgeon::reconcile(&mut record, own_account()).expect("reconcile");
    record.put(ROOT, "kind", "account").expect("put");
    record.put(ROOT, "schema", 1u64).expect("put");
    record.commit();
    assert_eq!(
        check(&sales, Some(&notes), &record, USER),
        Err(Refusal::KindChanged {
            before: None,
            after: Some(DocumentKind::Account),
        })
    );
}

#[test]
fn generic_documents_are_changed_by_their_creator_and_those_it_is_shared_with() {
    let mut before = AutoCommit::new().with_actor(ActorId::from([3u8; 16]));
    before.put(ROOT, "title", "Packing list").expect("put");
    before.commit();
    let mut after = before.fork().with_actor(ActorId::from([2u8; 16]));
    after.put(ROOT, "title", "Packing list, May").expect("put");
    after.commit();

    let ben = Principal::new(OTHER, Role::Guide);
    assert_eq!(check(&ben, Some(&before), &after, OTHER), Ok(()));
    assert!(matches!(
        check(&ben, Some(&before), &after, USER),
        Err(Refusal::Forbidden { .. })
    ));
    let shared: BTreeSet<String> = [OTHER.to_owned()].into();
    assert_eq!(
        check_shared_change(
            &ben,
            &doc_id(),
            Some(&before),
            &after,
            Some(USER),
            &shared,
            &Touched::Everything,
        ),
        Ok(())
    );
}
