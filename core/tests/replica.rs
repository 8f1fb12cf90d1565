//! The device replica: each operation a sales rep or a guide performs, durability across a
//! kill and a reopen, convergence of two replicas, the pending and discard bookkeeping the sync
//! client relies on, and what a failed write leaves behind (nothing).
#![cfg(feature = "redb")]

use std::ops::Bound;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use automerge::{ActorId, AutoCommit, ReadDoc};
use itinera_core::document::FieldValue;
use itinera_core::model::{
    Account, ActivityKind, AssignmentStatus, BookingStatus, Departure, DocumentKind, Employee,
    FieldLog, GuideAssignment, GuideRole, InvoiceStatus, LeadStatus, Manifest, ManifestEntry,
    ModelError, MovementReason, PassengerCategory, Severity, Stage, StockLocation, Transfer,
    TransferLine, TransferStatus,
};
use itinera_core::replica::{
    AccountUpdate, BookingInput, ContactInput, InvoiceLineInput, LeadInput, PassengerInput,
    Replica, ReplicaError,
};
use itinera_core::store::RedbStore;
use itinera_core::{Document, DocumentId, Error, Record};
use redb::backends::InMemoryBackend;
use redb::{BackendError, StorageBackend};

// --- Helpers ---------------------------------------------------------------------------------

fn actor(n: u8) -> ActorId {
    ActorId::from([n; 16])
}

fn doc_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_700_000_000_000 + u64::from(n), [n; 10])
}

fn rep() -> Replica {
    Replica::in_memory("ana", actor(1)).expect("replica")
}

fn guide() -> Replica {
    Replica::in_memory("gus", actor(2)).expect("replica")
}

/// A document written by head office, as the server would send it.
fn from_office<R: Record>(record: &R) -> AutoCommit {
    Document::create(actor(0xF0), 1, record)
        .expect("office document")
        .into_automerge()
}

/// Hands the document `id` from one replica to another, as a sync round would.
fn deliver(from: &mut Replica, to: &mut Replica, id: DocumentId) -> bool {
    let mut doc = from.document(id).expect("read").expect("held");
    to.merge_remote(id, &mut doc).expect("merge")
}

/// The record `id` of a replica, read from the copy the sync engine would get.
fn record<R: Record>(replica: &mut Replica, id: DocumentId) -> R {
    let doc = replica.document(id).expect("read").expect("held");
    Document::<R>::from_automerge(doc)
        .expect("well-formed")
        .record()
        .expect("hydrates")
}

fn is_not_found(err: &ReplicaError) -> bool {
    matches!(
        err,
        ReplicaError::Record(Error::Model(ModelError::NotFound(_)))
    )
}

fn is_invalid(err: &ReplicaError) -> bool {
    matches!(
        err,
        ReplicaError::Record(Error::Model(ModelError::Invalid(_)))
    )
}

fn contact(first: &str, last: &str, email: Option<&str>, phone: Option<&str>) -> ContactInput {
    ContactInput {
        first_name: first.into(),
        last_name: last.into(),
        title: "Head teacher".into(),
        email: email.map(Into::into),
        phone: phone.map(Into::into),
        language: "HU".into(),
    }
}

fn line(key: &str, quantity: i64, price: i64) -> InvoiceLineInput {
    InvoiceLineInput {
        key: key.into(),
        description: format!("line {key}"),
        quantity,
        unit_price_minor: price,
        vat_rate_bp: 2_700,
    }
}

/// A folder under the system temp dir, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "itinera-replica-{name}-{}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&path).expect("temp dir");
        Self(path)
    }

    fn file(&self) -> PathBuf {
        self.0.join("phone.redb")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// --- Sales rep -------------------------------------------------------------------------------

#[test]
fn account_contact_activity_and_opportunity_operations() {
    let mut ana = rep();
    let account = doc_id(1);
    assert_eq!(
        ana.create_account(account, " Alpine Schools ".into(), "north".into(), 1_000)
            .expect("create"),
        account
    );
    assert!(is_invalid(
        &ana.create_account(account, "Again".into(), "north".into(), 1_001)
            .expect_err("refused")
    ));
    assert!(is_invalid(
        &ana.create_account(doc_id(2), "  ".into(), "north".into(), 1_001)
            .expect_err("refused")
    ));

    let update = AccountUpdate {
        territory: Some("south".into()),
        vat_number: Some("HU12345678".into()),
        city: Some("Graz".into()),
        country: Some("at".into()),
        ..Default::default()
    };
    ana.update_account(account, update, 1_010).expect("update");

    ana.add_contact(
        account,
        "c-1".into(),
        contact(
            "Mira",
            "Kovács",
            Some(" Mira@Alpine.Example "),
            Some("0036 1 234 5678"),
        ),
        1_020,
    )
    .expect("add contact");
    assert!(is_invalid(
        &ana.add_contact(
            account,
            "c-1".into(),
            contact("Mira", "K", None, None),
            1_021
        )
        .expect_err("refused")
    ));
    assert!(is_invalid(
        &ana.add_contact(
            account,
            "c-2".into(),
            contact("Ben", "B", Some("ben-at-home"), None),
            1_021
        )
        .expect_err("refused")
    ));
    ana.add_contact(
        account,
        "c-2".into(),
        contact("Ben", "Berg", None, None),
        1_022,
    )
    .expect("second contact");
    ana.update_contact(
        account,
        "c-1".into(),
        contact("Mira", "Kovács-Nagy", Some("mira@school.example"), None),
        1_030,
    )
    .expect("update contact");
    assert!(is_not_found(
        &ana.update_contact(account, "c-9".into(), contact("X", "Y", None, None), 1_031)
            .expect_err("refused")
    ));
    ana.archive_contact(account, "c-2".into(), 1_040)
        .expect("archive contact");

    let call = ana
        .log_activity(
            account,
            ActivityKind::Call,
            "Called Mira".into(),
            "Wants a spring trip".into(),
            Some("c-1".into()),
            1_050,
            "ana-1",
        )
        .expect("activity");
    let task = ana
        .add_task(account, "Send the proposal".into(), 5_000, 1_060, "ana-2")
        .expect("task");
    assert!(is_invalid(
        &ana.complete_task(account, call.clone(), 1_061)
            .expect_err("refused")
    ));
    assert!(is_not_found(
        &ana.complete_task(account, "nope".into(), 1_061)
            .expect_err("refused")
    ));

    ana.add_opportunity(
        account,
        "o-1".into(),
        "Spring trip".into(),
        480_000,
        "eur".into(),
        1_070,
    )
    .expect("opportunity");
    ana.move_opportunity(account, "o-1".into(), Stage::Proposal, 1_080, "ana-3")
        .expect("move");
    assert!(is_not_found(
        &ana.move_opportunity(account, "o-9".into(), Stage::Won, 1_081, "ana-4")
            .expect_err("refused")
    ));

    let view = ana.account(account).expect("read").expect("held");
    assert_eq!(view.name, "Alpine Schools");
    assert_eq!(view.territory, "south");
    assert_eq!(view.owner, "ana");
    assert_eq!(view.vat_number.as_deref(), Some("HU12345678"));
    assert_eq!((view.city.as_str(), view.country.as_str()), ("Graz", "AT"));
    assert_eq!(view.contacts.len(), 1, "the archived contact is not listed");
    let mira = &view.contacts[0];
    assert_eq!(mira.last_name, "Kovács-Nagy");
    assert_eq!(mira.emails, vec!["mira@school.example".to_owned()]);
    assert_eq!(
        mira.phones,
        vec!["+3612345678".to_owned()],
        "None keeps the phone"
    );
    assert_eq!(mira.language, "hu");
    assert_eq!(view.opportunities.len(), 1);
    assert_eq!(view.opportunities[0].stage, Stage::Proposal);
    assert_eq!(view.opportunities[0].currency, "EUR");
    assert_eq!(view.opportunities[0].owner, "ana");
    assert_eq!(view.open_tasks, 1);

    let stored: Account = record(&mut ana, account);
    let history: Vec<_> = stored.opportunities["o-1"].stage_history.iter().collect();
    assert_eq!(history.len(), 1);
    assert_eq!(
        (history[0].1.from, history[0].1.to),
        (Stage::Prospecting, Stage::Proposal)
    );
    assert_eq!(history[0].1.actor, "ana");
    let logged = stored.activities.get(&call).expect("logged");
    assert_eq!(logged.related.as_deref(), Some("c-1"));
    assert_eq!(logged.actor, "ana");
    assert!(stored.contacts["c-2"].archived_at.is_some());

    ana.complete_task(account, task, 1_090).expect("complete");
    assert_eq!(
        ana.account(account)
            .expect("read")
            .expect("held")
            .open_tasks,
        0
    );

    assert_eq!(ana.my_accounts().expect("mine").len(), 1);
    ana.archive_account(account, 1_100).expect("archive");
    assert!(ana.my_accounts().expect("mine").is_empty());
    let found = ana.search_accounts("alpine".into()).expect("search");
    assert_eq!(found.len(), 1);
    assert!(
        found[0].archived,
        "search still finds archived accounts, flagged"
    );
}

#[test]
fn search_finds_accounts_by_name_email_and_phone() {
    let mut ana = rep();
    let (alpine, danube, atlas) = (doc_id(1), doc_id(2), doc_id(3));
    ana.create_account(alpine, "Alpine Schools".into(), "north".into(), 1)
        .expect("create");
    ana.create_account(danube, "Danube Travel".into(), "east".into(), 2)
        .expect("create");
    ana.create_account(atlas, "Atlas Tours".into(), "east".into(), 3)
        .expect("create");
    ana.add_contact(
        alpine,
        "c-1".into(),
        contact("Mira", "Kovács", Some("mira@alpine.example"), None),
        4,
    )
    .expect("contact");
    ana.add_contact(
        danube,
        "c-1".into(),
        contact("Ben", "Berg", None, Some("+36 1 234 5678")),
        5,
    )
    .expect("contact");
    ana.add_contact(
        atlas,
        "c-1".into(),
        contact("Old", "Contact", Some("old@atlas.example"), None),
        6,
    )
    .expect("contact");
    ana.archive_contact(atlas, "c-1".into(), 7)
        .expect("archive");

    let names = |found: Vec<itinera_core::replica::AccountView>| -> Vec<String> {
        found.into_iter().map(|view| view.name).collect()
    };
    assert_eq!(
        names(ana.search_accounts("SCHOOL".into()).expect("search")),
        ["Alpine Schools"]
    );
    assert_eq!(
        names(ana.search_accounts("a".into()).expect("search")),
        ["Alpine Schools", "Atlas Tours", "Danube Travel"],
        "by name, case-insensitive, sorted"
    );
    assert_eq!(
        names(
            ana.search_accounts(" MIRA@Alpine.example".into())
                .expect("search")
        ),
        ["Alpine Schools"]
    );
    assert_eq!(
        names(
            ana.search_accounts("0036-1-234-5678".into())
                .expect("search")
        ),
        ["Danube Travel"]
    );
    assert!(
        ana.search_accounts("old@atlas.example".into())
            .expect("search")
            .is_empty(),
        "archived contacts are not matched"
    );
    assert!(
        ana.search_accounts("   ".into())
            .expect("search")
            .is_empty()
    );
    assert!(
        ana.search_accounts("nobody@nowhere.example".into())
            .expect("search")
            .is_empty()
    );
}

#[test]
fn converting_a_lead_creates_account_contact_and_opportunity() {
    let mut ana = rep();
    let lead = doc_id(1);
    let input = LeadInput {
        name: "Mira Anna Kovács".into(),
        company: "Alpine Schools".into(),
        email: Some("MIRA@alpine.example".into()),
        phone: Some("0036 1 234 5678".into()),
        source: "fair".into(),
        campaign: Some("spring-fair".into()),
    };
    ana.create_lead(lead, input, 1_000).expect("lead");
    assert!(is_invalid(
        &ana.create_lead(
            doc_id(9),
            LeadInput {
                email: Some("x".into()),
                name: "X".into(),
                ..Default::default()
            },
            1
        )
        .expect_err("refused")
    ));
    let view = ana.lead(lead).expect("read").expect("held");
    assert_eq!(
        (view.email.as_str(), view.phone.as_str()),
        ("mira@alpine.example", "+3612345678")
    );
    assert_eq!(ana.my_leads().expect("leads").len(), 1);
    ana.qualify_lead(lead, 1_010).expect("qualify");
    assert_eq!(
        ana.lead(lead).expect("read").expect("held").status,
        LeadStatus::Qualified
    );

    let account = doc_id(2);
    let converted = ana
        .convert_lead(lead, account, "c-1".into(), "o-1".into(), 1_020)
        .expect("convert");
    assert_eq!(converted.account, account);
    assert_eq!(
        (converted.contact.as_str(), converted.opportunity.as_str()),
        ("c-1", "o-1")
    );

    let view = ana.account(account).expect("read").expect("created");
    assert_eq!(view.name, "Alpine Schools");
    assert_eq!(view.owner, "ana");
    assert_eq!(view.contacts.len(), 1);
    assert_eq!(view.contacts[0].id, "c-1");
    assert_eq!(
        (
            view.contacts[0].first_name.as_str(),
            view.contacts[0].last_name.as_str()
        ),
        ("Mira Anna", "Kovács")
    );
    assert_eq!(
        view.contacts[0].emails,
        vec!["mira@alpine.example".to_owned()]
    );
    assert_eq!(view.contacts[0].phones, vec!["+3612345678".to_owned()]);
    assert_eq!(view.opportunities.len(), 1);
    assert_eq!(view.opportunities[0].id, "o-1");
    assert_eq!(view.opportunities[0].owner, "ana");

    let lead_view = ana.lead(lead).expect("read").expect("held");
    assert_eq!(lead_view.status, LeadStatus::Converted);
    assert_eq!(lead_view.converted_to, Some(account.to_string()));
    assert!(ana.my_leads().expect("leads").is_empty());
    assert_eq!(ana.my_accounts().expect("mine").len(), 1);

    // A converted lead is not converted again, and nothing is created.
    let again = ana
        .convert_lead(lead, doc_id(3), "c-1".into(), "o-1".into(), 1_030)
        .expect_err("refused");
    assert!(is_invalid(&again));
    assert!(!ana.contains(doc_id(3)));
    assert!(is_invalid(
        &ana.qualify_lead(lead, 1_040).expect_err("refused")
    ));
    // Both documents were written in one commit and are waiting for the server.
    assert_eq!(ana.pending().expect("pending"), vec![lead, account]);
}

#[test]
fn bookings_are_drafted_submitted_and_show_the_servers_decision() {
    let mut ana = rep();
    let booking = doc_id(1);
    let departure = doc_id(7);
    let passenger = |key: &str| PassengerInput {
        key: key.into(),
        name: format!("Traveller {key}"),
        category: PassengerCategory::Child,
        dietary: "vegetarian".into(),
    };
    let input = BookingInput {
        departure,
        account: doc_id(8),
        contact: Some("c-1".into()),
        passengers: vec![passenger("p-1"), passenger("p-2")],
        amount_minor: 240_000,
        currency: "eur".into(),
        channel: "phone".into(),
    };
    let duplicate = BookingInput {
        passengers: vec![passenger("p-1"), passenger("p-1")],
        ..input.clone()
    };
    assert!(is_invalid(
        &ana.create_booking(doc_id(2), duplicate, 1)
            .expect_err("refused")
    ));
    ana.create_booking(booking, input, 1_000).expect("booking");
    let empty = doc_id(3);
    ana.create_booking(
        empty,
        BookingInput {
            passengers: Vec::new(),
            ..input_for(departure)
        },
        1_001,
    )
    .expect("empty draft");
    assert!(is_invalid(
        &ana.submit_booking(empty, 1_002).expect_err("refused")
    ));

    let view = ana.booking(booking).expect("read").expect("held");
    assert_eq!(view.status, BookingStatus::Draft);
    assert_eq!(view.rep, "ana");
    assert_eq!(view.departure, departure.to_string());
    assert_eq!(view.currency, "EUR");
    assert_eq!(view.passengers.len(), 2);
    assert_eq!(view.submitted_at, None);

    ana.submit_booking(booking, 1_010).expect("submit");
    ana.submit_booking(booking, 1_020)
        .expect("submitting again changes nothing");
    let view = ana.booking(booking).expect("read").expect("held");
    assert_eq!(view.submitted_at, Some(1_010));
    assert_eq!(
        view.status,
        BookingStatus::Draft,
        "the status is the server's"
    );

    // The server confirms it; the rep sees it after the next sync.
    let mut server = Replica::in_memory("server", actor(9)).expect("server");
    deliver(&mut ana, &mut server, booking);
    let mut confirmed = Document::<itinera_core::model::Booking>::from_automerge(
        server.document(booking).expect("read").expect("held"),
    )
    .expect("booking");
    confirmed
        .change(2_000, |booking| {
            booking.status = BookingStatus::Confirmed;
            Ok(())
        })
        .expect("confirm");
    let mut back = confirmed.into_automerge();
    assert!(ana.merge_remote(booking, &mut back).expect("merge"));
    assert_eq!(
        ana.booking(booking).expect("read").expect("held").status,
        BookingStatus::Confirmed
    );
    assert_eq!(ana.my_bookings().expect("mine").len(), 2);
    assert_eq!(ana.booking(doc_id(99)).expect("read"), None);
    assert!(matches!(
        ana.booking(doc_id(3)).map(|view| view.map(|view| view.id)),
        Ok(Some(_))
    ));
}

fn input_for(departure: DocumentId) -> BookingInput {
    BookingInput {
        departure,
        account: doc_id(8),
        contact: None,
        passengers: Vec::new(),
        amount_minor: 0,
        currency: "EUR".into(),
        channel: "visit".into(),
    }
}

#[test]
fn invoice_drafts_take_per_device_numbers_and_are_posted() {
    let mut ana = rep();
    let customer = doc_id(8);
    let first = ana
        .create_invoice_draft(
            doc_id(1),
            customer,
            "EUR".into(),
            "A".into(),
            vec![line("l-1", 2, 10_000)],
            1,
        )
        .expect("draft");
    assert_eq!(first, "ANA-0001");
    ana.set_invoice_prefix("ANA-P1".into()).expect("prefix");
    let second = ana
        .create_invoice_draft(
            doc_id(2),
            customer,
            "huf".into(),
            "A".into(),
            vec![line("l-1", 1, 1_000), line("l-2", 3, 333)],
            2,
        )
        .expect("draft");
    assert_eq!(
        second, "ANA-P1-0002",
        "one counter per device, whatever the prefix"
    );

    // Refused drafts do not take a number.
    assert!(is_invalid(
        &ana.create_invoice_draft(
            doc_id(3),
            customer,
            "EUR".into(),
            "A".into(),
            vec![line("l-1", 0, 1)],
            3
        )
        .expect_err("refused")
    ));
    assert!(is_invalid(
        &ana.create_invoice_draft(
            doc_id(3),
            customer,
            "EUR".into(),
            "A".into(),
            vec![line("l", 1, 1), line("l", 2, 1)],
            3
        )
        .expect_err("refused")
    ));
    assert!(is_invalid(
        &ana.create_invoice_draft(
            doc_id(1),
            customer,
            "EUR".into(),
            "A".into(),
            vec![line("l-1", 1, 1)],
            3
        )
        .expect_err("refused")
    ));
    let empty = ana
        .create_invoice_draft(doc_id(3), customer, "EUR".into(), "B".into(), Vec::new(), 4)
        .expect("an empty draft");
    assert_eq!(empty, "ANA-P1-0003");
    assert!(is_invalid(
        &ana.post_invoice(doc_id(3), 5).expect_err("refused")
    ));

    ana.post_invoice(doc_id(2), 10).expect("post");
    ana.post_invoice(doc_id(2), 11)
        .expect("posting again changes nothing");
    let view = ana.invoice(doc_id(2)).expect("read").expect("held");
    assert_eq!(view.status, InvoiceStatus::Posted);
    assert_eq!(view.provisional_number, "ANA-P1-0002");
    assert_eq!(view.legal_number, None);
    assert_eq!(view.currency, "HUF");
    assert_eq!(view.customer, customer.to_string());
    assert_eq!(view.lines.len(), 2);
    // 1000 + 999 net; VAT 270 + 269.73 → 270 + 270 rounded per line.
    assert_eq!(
        (view.net_minor, view.vat_minor, view.gross_minor),
        (1_999, 540, 2_539)
    );
    let stored: itinera_core::model::Invoice = record(&mut ana, doc_id(2));
    assert_eq!(
        stored.totals,
        Default::default(),
        "totals stay the server's to write"
    );
    assert_eq!(
        ana.invoice(doc_id(1)).expect("read").expect("held").status,
        InvoiceStatus::Draft
    );
}

// --- Guide -----------------------------------------------------------------------------------

/// A guide's replica holding what the server sends a guide: an employee record, a departure
/// with a manifest and assignments, its field log, a tour kit, the van and a transfer.
struct GuideSet {
    gus: Replica,
    departure: DocumentId,
    field_log: DocumentId,
    kit: DocumentId,
    van: DocumentId,
    transfer: DocumentId,
}

fn guide_set() -> GuideSet {
    let mut gus = guide();
    let employee = doc_id(10);
    let (departure, field_log, kit, van, transfer) =
        (doc_id(11), doc_id(12), doc_id(13), doc_id(14), doc_id(15));

    let record = Employee {
        name: "Gus".into(),
        user: Some("gus".into()),
        ..Default::default()
    };
    gus.merge_remote(employee, &mut from_office(&record))
        .expect("employee");

    let mut trip = Departure {
        tour: "danube-3d".into(),
        starts_at: 5_000,
        ends_at: 9_000,
        time_zone: "Europe/Budapest".into(),
        capacity: 20,
        ..Default::default()
    };
    let mut manifest = Manifest {
        departure: departure.to_string(),
        ..Default::default()
    };
    manifest.guides.insert("gus");
    for key in ["p-1", "p-2"] {
        manifest.passengers.insert(
            key.into(),
            ManifestEntry {
                name: format!("Traveller {key}"),
                category: "adult".into(),
                dietary: String::new(),
                booking: doc_id(30).to_string(),
            },
        );
    }
    trip.assignments.insert(
        "a-1".into(),
        GuideAssignment {
            employee: employee.to_string(),
            role: GuideRole::Lead,
            status: AssignmentStatus::Offered,
            hours: 24.0,
        },
    );
    trip.assignments.insert(
        "a-2".into(),
        GuideAssignment {
            employee: "someone-else".into(),
            ..Default::default()
        },
    );
    gus.merge_remote(departure, &mut from_office(&trip))
        .expect("departure");
    gus.merge_remote(
        Manifest::document_id(&departure),
        &mut from_office(&manifest),
    )
    .expect("manifest");

    let log = FieldLog {
        departure: departure.to_url(),
        ..Default::default()
    };
    gus.merge_remote(field_log, &mut from_office(&log))
        .expect("field log");

    let mut kit_record = StockLocation {
        name: "Kit 3".into(),
        custodian: Some("gus".into()),
        ..Default::default()
    };
    kit_record.stock_item("water");
    kit_record.stock_item("plasters");
    gus.merge_remote(kit, &mut from_office(&kit_record))
        .expect("kit");
    let van_record = StockLocation {
        name: "Van 1".into(),
        ..Default::default()
    };
    gus.merge_remote(van, &mut from_office(&van_record))
        .expect("van");

    let mut shipment = Transfer {
        from: van.to_string(),
        to: kit.to_string(),
        status: TransferStatus::Shipped,
        shipped_at: Some(2_000),
        ..Default::default()
    };
    shipment.lines.insert(
        "t-1".into(),
        TransferLine {
            item: "water".into(),
            quantity: 24,
        },
    );
    shipment.lines.insert(
        "t-2".into(),
        TransferLine {
            item: "blankets".into(),
            quantity: 4,
        },
    );
    gus.merge_remote(transfer, &mut from_office(&shipment))
        .expect("transfer");

    GuideSet {
        gus,
        departure,
        field_log,
        kit,
        van,
        transfer,
    }
}

#[test]
fn guide_operations_on_departure_field_log_stock_and_transfer() {
    let GuideSet {
        mut gus,
        departure,
        field_log,
        kit,
        van,
        transfer,
    } = guide_set();
    assert_eq!(
        gus.pending().expect("pending").len(),
        7,
        "nothing acknowledged yet"
    );

    assert_eq!(gus.field_log_of(departure).expect("find"), Some(field_log));
    assert_eq!(gus.field_log_of(doc_id(99)).expect("find"), None);

    gus.check_in(field_log, "p-1".into(), 6_000)
        .expect("check in");
    gus.check_in(field_log, "p-1".into(), 6_001)
        .expect("twice is once");
    let views = gus.my_departures().expect("departures");
    assert_eq!(views.len(), 1);
    let view = &views[0];
    assert_eq!(view.id, departure);
    assert_eq!(view.tour, "danube-3d");
    assert_eq!(view.field_log, Some(field_log));
    assert_eq!(view.assignments.len(), 1, "only this guide's assignment");
    assert_eq!(view.assignments[0].id, "a-1");
    let checked: Vec<(&str, bool)> = view
        .manifest
        .iter()
        .map(|entry| (entry.key.as_str(), entry.checked_in))
        .collect();
    assert_eq!(checked, [("p-1", true), ("p-2", false)]);

    let incident = gus
        .report_incident(
            field_log,
            Severity::Medium,
            "Bus 20 minutes late".into(),
            6_100,
            "gus-1",
        )
        .expect("incident");
    assert!(is_invalid(
        &gus.report_incident(field_log, Severity::Low, " ".into(), 6_101, "gus-2")
            .expect_err("refused")
    ));
    gus.write_field_notes(field_log, "Lunch at the Kovács inn.".into(), 6_200)
        .expect("notes");
    let answer = gus
        .respond_to_assignment(
            field_log,
            "a-1".into(),
            doc_id(10).to_string(),
            true,
            6_300,
            "gus-3",
        )
        .expect("accept");
    assert!(is_not_found(
        &gus.respond_to_assignment(
            field_log,
            "a-9".into(),
            doc_id(10).to_string(),
            true,
            6_301,
            "gus-4"
        )
        .expect_err("refused")
    ));
    assert!(is_invalid(
        &gus.respond_to_assignment(
            field_log,
            "a-2".into(),
            doc_id(10).to_string(),
            true,
            6_302,
            "gus-5"
        )
        .expect_err("refused")
    ));

    let log: FieldLog = record(&mut gus, field_log);
    assert_eq!(log.check_ins.iter().collect::<Vec<_>>(), ["p-1"]);
    let reported = log.incidents.get(&incident).expect("incident");
    assert_eq!(
        (reported.severity, reported.actor.as_str()),
        (Severity::Medium, "gus")
    );
    assert_eq!(log.notes.as_str(), "Lunch at the Kovács inn.");
    let accepted = log.acceptances.get(&answer).expect("answer");
    assert!(accepted.accepted);
    assert_eq!(accepted.assignment, "a-1");

    gus.consume_stock(
        kit,
        "water".into(),
        6,
        Some(departure.to_string()),
        6_400,
        "gus-6",
    )
    .expect("consume");
    assert!(is_invalid(
        &gus.consume_stock(kit, "water".into(), -1, None, 6_401, "gus-7")
            .expect_err("refused")
    ));
    assert_eq!(
        gus.stock_level(kit, "water".into()).expect("level"),
        Some(-6)
    );
    let stock: StockLocation = record(&mut gus, kit);
    let (_, movement) = stock.movements.iter().next().expect("movement");
    assert_eq!(movement.quantity, -6);
    assert_eq!(movement.reason, MovementReason::Consumption);
    assert_eq!(movement.reference, Some(departure.to_string()));

    gus.receive_transfer(transfer, 7_000).expect("receive");
    gus.receive_transfer(transfer, 7_001)
        .expect("receiving again changes nothing");
    let received: Transfer = record(&mut gus, transfer);
    assert_eq!(received.status, TransferStatus::Received);
    assert_eq!(received.received_at, Some(7_000));
    assert_eq!(received.received_by.as_deref(), Some("gus"));
    assert_eq!(
        gus.stock_level(kit, "water".into()).expect("level"),
        Some(18)
    );
    assert_eq!(
        gus.stock_level(kit, "blankets".into()).expect("level"),
        Some(4)
    );
    let stock: StockLocation = record(&mut gus, kit);
    assert_eq!(
        stock.movements.len(),
        3,
        "one consumption and one receipt per line"
    );
    assert_eq!(
        gus.stock_level(van, "water".into()).expect("level"),
        Some(0)
    );

    // A transfer not shipped yet is refused.
    let draft = doc_id(16);
    let mut unshipped = from_office(&Transfer {
        to: kit.to_string(),
        ..Default::default()
    });
    gus.merge_remote(draft, &mut unshipped)
        .expect("draft transfer");
    assert!(is_invalid(
        &gus.receive_transfer(draft, 7_100).expect_err("refused")
    ));
}

#[test]
fn field_notes_and_check_ins_from_two_guides_merge() {
    let GuideSet {
        mut gus, field_log, ..
    } = guide_set();
    gus.write_field_notes(field_log, "Day 1: Vác, lunch at the Kovács inn.".into(), 1)
        .expect("notes");
    let mut ida = Replica::in_memory("ida", actor(3)).expect("replica");
    deliver(&mut gus, &mut ida, field_log);

    gus.write_field_notes(
        field_log,
        "Day 1: Vác, lunch at the Kovács inn. Rain.".into(),
        2,
    )
    .expect("notes");
    ida.write_field_notes(
        field_log,
        "Day 1: Szentendre, Vác, lunch at the Kovács inn.".into(),
        3,
    )
    .expect("notes");
    gus.check_in(field_log, "p-1".into(), 4).expect("check in");
    ida.check_in(field_log, "p-2".into(), 5).expect("check in");
    deliver(&mut gus, &mut ida, field_log);
    deliver(&mut ida, &mut gus, field_log);

    let at_gus: FieldLog = record(&mut gus, field_log);
    let at_ida: FieldLog = record(&mut ida, field_log);
    assert_eq!(at_gus, at_ida);
    assert_eq!(
        at_gus.notes.as_str(),
        "Day 1: Szentendre, Vác, lunch at the Kovács inn. Rain."
    );
    assert_eq!(at_gus.check_ins.len(), 2);
}

// --- Durability ------------------------------------------------------------------------------

/// Set in the child process: the replica file to edit before aborting.
const CHILD_REPLICA: &str = "ITINERA_REPLICA_KILL_CHILD";
const KILL_TEST: &str = "an_edit_survives_a_kill_right_after_it";

#[test]
fn an_edit_survives_a_kill_right_after_it() {
    if let Ok(path) = std::env::var(CHILD_REPLICA) {
        // The child: edit, then die without closing or dropping anything.
        let mut phone = Replica::open(&path, "ana", actor(1)).expect("child opens");
        phone
            .create_account(doc_id(1), "Before".into(), "north".into(), 1_000)
            .expect("create");
        let update = AccountUpdate {
            name: Some("After".into()),
            ..Default::default()
        };
        phone
            .update_account(doc_id(1), update, 1_001)
            .expect("update");
        let number = phone
            .create_invoice_draft(
                doc_id(2),
                doc_id(1),
                "EUR".into(),
                "A".into(),
                vec![line("l", 1, 5)],
                1_002,
            )
            .expect("draft");
        assert_eq!(number, "ANA-0001");
        std::process::abort();
    }
    let dir = TempDir::new("kill");
    let status = Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", KILL_TEST, "--nocapture", "--test-threads=1"])
        .env(CHILD_REPLICA, dir.file())
        .status()
        .expect("run the child");
    assert!(!status.success(), "the child aborts");

    let mut phone = Replica::open(dir.file(), "ana", actor(1)).expect("reopen");
    let view = phone.account(doc_id(1)).expect("read").expect("kept");
    assert_eq!(view.name, "After");
    let number = phone
        .create_invoice_draft(
            doc_id(3),
            doc_id(1),
            "EUR".into(),
            "A".into(),
            vec![line("l", 1, 5)],
            2_000,
        )
        .expect("draft");
    assert_eq!(number, "ANA-0002", "the counter survived the kill");
}

#[test]
fn a_reopened_replica_holds_every_change_and_never_repeats_a_number() {
    let dir = TempDir::new("reopen");
    let account = doc_id(1);
    {
        let mut phone = Replica::open(dir.file(), "ana", actor(1)).expect("open");
        phone
            .create_account(account, "Alpine".into(), "north".into(), 1)
            .expect("create");
        for n in 0..5 {
            phone
                .log_activity(
                    account,
                    ActivityKind::Note,
                    format!("note {n}"),
                    String::new(),
                    None,
                    10 + n,
                    "ana",
                )
                .expect("note");
        }
        assert_eq!(
            phone
                .create_invoice_draft(
                    doc_id(2),
                    account,
                    "EUR".into(),
                    "A".into(),
                    vec![line("l", 1, 5)],
                    20
                )
                .expect("draft"),
            "ANA-0001"
        );
        phone.set_last_sync(30).expect("last sync");
        phone
            .put_sync_state(account, "server-1", vec![1, 2, 3])
            .expect("sync state");
        phone.set_acknowledged(account, Vec::new()).expect("ack");
        // Dropped here, without close.
    }
    let mut numbers = vec!["ANA-0001".to_owned()];
    for round in 0..3u8 {
        let mut phone = Replica::open(dir.file(), "ana", actor(1)).expect("reopen");
        assert_eq!(phone.document_ids()[..2], [account, doc_id(2)]);
        assert_eq!(phone.record_kind(doc_id(2)), Some(DocumentKind::Invoice));
        let stored: Account = record(&mut phone, account);
        assert_eq!(stored.activities.len(), 5);
        assert_eq!(phone.last_sync(), Some(30));
        assert_eq!(
            phone.sync_state(account, "server-1").expect("state"),
            Some(vec![1, 2, 3])
        );
        let number = phone
            .create_invoice_draft(
                doc_id(40 + round),
                account,
                "EUR".into(),
                "A".into(),
                vec![line("l", 1, 5)],
                40,
            )
            .expect("draft");
        assert!(!numbers.contains(&number), "{number} repeated");
        numbers.push(number);
        if round == 1 {
            phone.close().expect("a clean close too");
        }
    }
    assert_eq!(numbers, ["ANA-0001", "ANA-0002", "ANA-0003", "ANA-0004"]);
    assert!(matches!(
        Replica::open(dir.file(), "gus", actor(2)).expect_err("refused"),
        ReplicaError::OtherUser { .. }
    ));
}

/// An in-memory disk whose writes fail while `broken` is set.
#[derive(Debug, Clone)]
struct FlakyDisk {
    inner: Arc<InMemoryBackend>,
    broken: Arc<AtomicBool>,
}

impl FlakyDisk {
    fn check(&self) -> std::io::Result<()> {
        if self.broken.load(Ordering::SeqCst) {
            Err(std::io::Error::from(std::io::ErrorKind::StorageFull))
        } else {
            Ok(())
        }
    }
}

impl StorageBackend for FlakyDisk {
    fn len(&self) -> Result<u64, std::io::Error> {
        self.inner.len()
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> Result<(), std::io::Error> {
        self.inner.read(offset, out)
    }

    fn set_len(&self, len: u64) -> Result<(), std::io::Error> {
        self.check()?;
        self.inner.set_len(len)
    }

    fn sync_data(&self) -> Result<(), std::io::Error> {
        self.check()?;
        self.inner.sync_data()
    }

    fn write(&self, offset: u64, data: &[u8]) -> Result<(), std::io::Error> {
        self.check()?;
        self.inner.write(offset, data)
    }

    fn close(&self) -> Result<(), std::io::Error> {
        self.inner.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.inner.try_lock_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.inner.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.inner.unlock_range(start, end)
    }
}

#[test]
fn a_failed_write_leaves_nothing_behind() {
    let disk = FlakyDisk {
        inner: Arc::new(InMemoryBackend::new()),
        broken: Arc::new(AtomicBool::new(false)),
    };
    let store = RedbStore::with_backend(disk.clone()).expect("store");
    let mut ana = Replica::with_store(store, "ana", actor(1)).expect("replica");
    let account = doc_id(1);
    ana.create_account(account, "Alpine".into(), "north".into(), 1)
        .expect("create");

    disk.broken.store(true, Ordering::SeqCst);
    let err = ana
        .update_account(
            account,
            AccountUpdate {
                name: Some("Renamed".into()),
                ..Default::default()
            },
            2,
        )
        .expect_err("refused");
    assert!(matches!(err, ReplicaError::Store(_)), "{err:?}");
    assert!(
        ana.create_account(doc_id(2), "New".into(), "north".into(), 3)
            .is_err()
    );
    assert!(
        ana.create_invoice_draft(
            doc_id(3),
            account,
            "EUR".into(),
            "A".into(),
            vec![line("l", 1, 5)],
            4
        )
        .is_err()
    );
    let lead = doc_id(4);
    assert!(
        ana.create_lead(
            lead,
            LeadInput {
                name: "Lee".into(),
                ..Default::default()
            },
            5
        )
        .is_err()
    );

    disk.broken.store(false, Ordering::SeqCst);
    assert_eq!(
        ana.account(account).expect("read").expect("held").name,
        "Alpine"
    );
    assert!(
        !ana.contains(doc_id(2)),
        "a document whose creation failed is not held"
    );
    assert_eq!(ana.document_ids(), vec![account]);
    // The failed edit can be made again, and the number the failed draft would have had is
    // given to the next draft: it was never stored anywhere.
    ana.update_account(
        account,
        AccountUpdate {
            name: Some("Renamed".into()),
            ..Default::default()
        },
        6,
    )
    .expect("update");
    assert_eq!(
        ana.create_invoice_draft(
            doc_id(3),
            account,
            "EUR".into(),
            "A".into(),
            vec![line("l", 1, 5)],
            7
        )
        .expect("draft"),
        "ANA-0001"
    );
    assert_eq!(
        ana.account(account).expect("read").expect("held").name,
        "Renamed"
    );
}

// --- Sync-facing API -------------------------------------------------------------------------

#[test]
fn two_replicas_converge_through_document_and_merge_remote() {
    let mut ana = rep();
    let mut ben = Replica::in_memory("ana", actor(3)).expect("second phone of ana");
    let account = doc_id(1);
    ana.create_account(account, "Alpine".into(), "north".into(), 1)
        .expect("create");
    ana.add_opportunity(account, "o-1".into(), "Spring".into(), 100, "EUR".into(), 2)
        .expect("opportunity");
    assert!(
        deliver(&mut ana, &mut ben, account),
        "a new document is inserted"
    );
    assert!(
        !deliver(&mut ana, &mut ben, account),
        "nothing new the second time"
    );

    // Both edit offline, different fields and the same one.
    ana.update_account(
        account,
        AccountUpdate {
            city: Some("Graz".into()),
            ..Default::default()
        },
        10,
    )
    .expect("update");
    ben.update_account(
        account,
        AccountUpdate {
            territory: Some("south".into()),
            ..Default::default()
        },
        11,
    )
    .expect("update");
    ana.move_opportunity(account, "o-1".into(), Stage::Proposal, 12, "ana-1")
        .expect("move");
    ben.move_opportunity(account, "o-1".into(), Stage::Lost, 13, "ben-1")
        .expect("move");
    ben.add_contact(account, "c-1".into(), contact("Mira", "K", None, None), 14)
        .expect("contact");

    assert!(deliver(&mut ana, &mut ben, account));
    assert!(deliver(&mut ben, &mut ana, account));
    let mut at_ana = ana.document(account).expect("read").expect("held");
    let mut at_ben = ben.document(account).expect("read").expect("held");
    assert_eq!(at_ana.get_heads(), at_ben.get_heads());
    let (view_ana, view_ben) = (
        ana.account(account).expect("read").expect("held"),
        ben.account(account).expect("read").expect("held"),
    );
    assert_eq!(view_ana, view_ben);
    assert_eq!(
        (view_ana.city.as_str(), view_ana.territory.as_str()),
        ("Graz", "south")
    );
    assert_eq!(view_ana.contacts.len(), 1);

    // The concurrent stage moves stay visible as a conflict, with both histories kept.
    let stage = ana
        .conflicts(account, "/opportunities/o-1/stage")
        .expect("conflicts");
    assert!(stage.is_conflicted());
    let mut values: Vec<FieldValue> = stage
        .values
        .iter()
        .map(|value| value.value.clone())
        .collect();
    values.sort_by_key(|value| format!("{value:?}"));
    assert_eq!(
        values,
        [
            FieldValue::Str("lost".into()),
            FieldValue::Str("proposal".into())
        ]
    );
    let stored: Account = record(&mut ana, account);
    assert_eq!(stored.opportunities["o-1"].stage_history.len(), 2);
    assert!(matches!(
        ana.conflicts(account, "/no/such/field")
            .expect_err("refused"),
        ReplicaError::Record(Error::NoSuchField(_))
    ));

    // What ana merged is durable too: her store has ben's contact.
    assert_eq!(at_ana.get_heads().len(), at_ben.get_heads().len());
    assert_eq!(
        at_ana.length(automerge::ROOT),
        at_ben.length(automerge::ROOT)
    );
}

#[test]
fn merge_remote_refuses_documents_that_do_not_fit_and_keeps_its_own() {
    let mut ana = rep();
    let account = doc_id(1);
    ana.create_account(account, "Alpine".into(), "north".into(), 1)
        .expect("create");
    let mut bad = ana.document(account).expect("read").expect("held");
    {
        use automerge::transaction::Transactable;
        bad.put(automerge::ROOT, "name", 42).expect("put");
        bad.commit();
    }
    let err = ana.merge_remote(account, &mut bad).expect_err("refused");
    assert!(
        matches!(err, ReplicaError::Record(Error::Malformed { .. })),
        "{err:?}"
    );
    assert_eq!(
        ana.account(account).expect("read").expect("held").name,
        "Alpine"
    );
    assert!(ana.pending().expect("pending").contains(&account));

    // Another kind under the same id is refused too.
    let mut lead = from_office(&itinera_core::model::Lead::default());
    assert!(ana.merge_remote(account, &mut lead).is_err());
    assert_eq!(ana.record_kind(account), Some(DocumentKind::Account));

    // A generic automerge-repo document is held as it is.
    let generic = doc_id(2);
    let mut doc = AutoCommit::new();
    {
        use automerge::transaction::Transactable;
        doc.put(automerge::ROOT, "todo", "buy bread").expect("put");
        doc.commit();
    }
    assert!(ana.merge_remote(generic, &mut doc).expect("merge"));
    assert_eq!(ana.record_kind(generic), None);
    assert!(ana.contains(generic));
    assert_eq!(ana.title(generic).expect("title"), Some(String::new()));
    // An empty document is not inserted.
    assert!(
        !ana.merge_remote(doc_id(3), &mut AutoCommit::new())
            .expect("merge")
    );
    assert!(!ana.contains(doc_id(3)));
}

#[test]
fn pending_lists_exactly_the_documents_with_unacknowledged_changes() {
    let mut ana = rep();
    let (account, lead) = (doc_id(1), doc_id(2));
    assert!(ana.pending().expect("pending").is_empty());
    ana.create_account(account, "Alpine".into(), "north".into(), 1)
        .expect("create");
    ana.create_lead(
        lead,
        LeadInput {
            name: "Lee".into(),
            ..Default::default()
        },
        2,
    )
    .expect("lead");
    assert_eq!(ana.pending().expect("pending"), vec![account, lead]);
    assert_eq!(ana.pending_changes().expect("count"), 2);

    let mut server = Replica::in_memory("server", actor(9)).expect("server");
    deliver(&mut ana, &mut server, account);
    let heads = server
        .document(account)
        .expect("read")
        .expect("held")
        .get_heads();
    ana.set_acknowledged(account, heads.clone()).expect("ack");
    assert_eq!(ana.acknowledged(account), heads);
    assert_eq!(ana.pending().expect("pending"), vec![lead]);

    ana.archive_account(account, 3).expect("archive");
    ana.update_account(
        account,
        AccountUpdate {
            city: Some("Graz".into()),
            ..Default::default()
        },
        4,
    )
    .expect("update");
    assert_eq!(ana.pending().expect("pending"), vec![account, lead]);
    assert_eq!(ana.pending_changes().expect("count"), 3);

    // Heads the replica does not hold yet do not count.
    ana.set_acknowledged(lead, vec![automerge::ChangeHash([7; 32])])
        .expect("ack");
    assert_eq!(ana.pending().expect("pending"), vec![account, lead]);

    for id in [account, lead] {
        let heads = ana.document(id).expect("read").expect("held").get_heads();
        ana.set_acknowledged(id, heads).expect("ack");
    }
    assert!(ana.pending().expect("pending").is_empty());
    assert_eq!(ana.pending_changes().expect("count"), 0);

    // A change from the server that the sync client acknowledges is not pending either.
    let mut renamed =
        Document::<Account>::from_automerge(server.document(account).expect("read").expect("held"))
            .expect("account");
    renamed
        .change(5, |account| {
            account.name = "Alpine Schools".into();
            Ok(())
        })
        .expect("rename");
    let mut incoming = renamed.into_automerge();
    assert!(ana.merge_remote(account, &mut incoming).expect("merge"));
    let heads = ana
        .document(account)
        .expect("read")
        .expect("held")
        .get_heads();
    ana.set_acknowledged(account, heads).expect("ack");
    assert!(ana.pending().expect("pending").is_empty());

    // Acknowledgements survive a reopen.
    let dir = TempDir::new("ack");
    {
        let mut phone = Replica::open(dir.file(), "ana", actor(1)).expect("open");
        phone
            .create_account(account, "Alpine".into(), "north".into(), 1)
            .expect("create");
        let heads = phone
            .document(account)
            .expect("read")
            .expect("held")
            .get_heads();
        phone.set_acknowledged(account, heads).expect("ack");
        phone
            .create_lead(
                lead,
                LeadInput {
                    name: "Lee".into(),
                    ..Default::default()
                },
                2,
            )
            .expect("lead");
    }
    let mut phone = Replica::open(dir.file(), "ana", actor(1)).expect("reopen");
    assert_eq!(phone.pending().expect("pending"), vec![lead]);
}

#[test]
fn discarding_refused_changes_restores_the_acknowledged_state() {
    let dir = TempDir::new("discard");
    let mut ana = Replica::open(dir.file(), "ana", actor(1)).expect("open");
    let mut server = Replica::in_memory("server", actor(9)).expect("server");
    let account = doc_id(1);
    ana.create_account(account, "Alpine".into(), "north".into(), 1)
        .expect("create");
    ana.update_account(
        account,
        AccountUpdate {
            city: Some("Graz".into()),
            ..Default::default()
        },
        2,
    )
    .expect("an edit the server accepts");
    deliver(&mut ana, &mut server, account);
    let accepted = server
        .document(account)
        .expect("read")
        .expect("held")
        .get_heads();
    ana.set_acknowledged(account, accepted.clone())
        .expect("ack");

    ana.update_account(
        account,
        AccountUpdate {
            territory: Some("south".into()),
            ..Default::default()
        },
        3,
    )
    .expect("an edit the server refuses");
    ana.put_sync_state(account, "server-1", vec![9])
        .expect("sync state");
    assert_eq!(ana.pending().expect("pending"), vec![account]);

    ana.discard_local_changes(account).expect("discard");
    let view = ana.account(account).expect("read").expect("held");
    assert_eq!(view.territory, "north", "the refused edit is gone");
    assert_eq!(view.city, "Graz", "the acknowledged edit stays");
    assert!(ana.pending().expect("pending").is_empty());
    assert_eq!(
        ana.document(account)
            .expect("read")
            .expect("held")
            .get_heads(),
        accepted
    );
    assert_eq!(ana.sync_state(account, "server-1").expect("state"), None);
    ana.discard_local_changes(account)
        .expect("nothing left to discard");

    // A document the server never acknowledged goes entirely.
    let lead = doc_id(2);
    ana.create_lead(
        lead,
        LeadInput {
            name: "Lee".into(),
            ..Default::default()
        },
        4,
    )
    .expect("lead");
    // Going back would delete what was never anywhere else: refused, until the app asks.
    assert!(matches!(
        ana.discard_local_changes(lead).expect_err("refused"),
        ReplicaError::NeverAcknowledged { changes: 1, .. }
    ));
    assert!(ana.contains(lead));
    ana.delete_unsynced_document(lead).expect("delete");
    assert!(!ana.contains(lead));
    assert!(is_not_found(
        &ana.discard_local_changes(lead).expect_err("refused")
    ));

    // Writing goes on after a discard, and the server takes the new edits.
    ana.update_account(
        account,
        AccountUpdate {
            vat_number: Some("AT123".into()),
            ..Default::default()
        },
        5,
    )
    .expect("a new edit");
    assert!(deliver(&mut ana, &mut server, account));
    assert_eq!(
        server
            .account(account)
            .expect("read")
            .expect("held")
            .vat_number
            .as_deref(),
        Some("AT123")
    );
    drop(ana);

    // The discard and what followed are what the store holds.
    let mut ana = Replica::open(dir.file(), "ana", actor(1)).expect("reopen");
    let view = ana.account(account).expect("read").expect("held");
    assert_eq!(
        (
            view.territory.as_str(),
            view.city.as_str(),
            view.vat_number.as_deref()
        ),
        ("north", "Graz", Some("AT123"))
    );
    assert!(!ana.contains(lead));
    assert_eq!(ana.document_ids(), vec![account]);
}

#[test]
fn index_titles_and_kinds() {
    let mut gus = guide();
    assert_eq!(gus.index_id(), DocumentId::index_of("gus"));
    assert!(gus.indexed_documents().expect("none yet").is_empty());
    let mut index = itinera_core::model::UserIndex {
        user: "gus".into(),
        ..Default::default()
    };
    index
        .documents
        .insert(doc_id(5).to_string(), Default::default());
    index
        .documents
        .insert("not-an-id".into(), Default::default());
    gus.merge_remote(gus.index_id(), &mut from_office(&index))
        .expect("index");
    assert_eq!(gus.indexed_documents().expect("listed"), vec![doc_id(5)]);

    let mut ana = rep();
    ana.create_invoice_draft(
        doc_id(1),
        doc_id(8),
        "EUR".into(),
        "A".into(),
        vec![line("l", 1, 1)],
        1,
    )
    .expect("draft");
    assert_eq!(
        ana.title(doc_id(1)).expect("title").as_deref(),
        Some("ANA-0001")
    );
    assert_eq!(ana.title(doc_id(9)).expect("title"), None);
    assert_eq!(ana.record_kind(doc_id(9)), None);
    assert!(matches!(
        ana.update_account(doc_id(1), AccountUpdate::default(), 2)
            .expect_err("refused"),
        ReplicaError::Record(Error::WrongKind {
            expected: DocumentKind::Account,
            ..
        })
    ));
    assert_eq!(ana.user(), "ana");
    fn assert_send<T: Send>() {}
    assert_send::<Replica>();
}
