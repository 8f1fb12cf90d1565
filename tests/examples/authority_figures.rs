//! Figures for the authority and the reports (not a test):
//! rule evaluation time per change, and report latency with 100,000 records in the store: a
//! report computed, kept, and asked for right after a change of a document it reads.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example authority_figures
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera_core::model::*;
use itinera_core::reports::{summarize, summary_key};
use itinera_core::rules;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_core::{Document, DocumentId, Record};
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, http_get, user_with_token};

const DAY: i64 = 86_400_000;

fn id(kind: u8, n: u32) -> DocumentId {
    let mut random = [kind; 10];
    random[6..].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(1_764_000_000_000, random)
}

fn put<R: Record>(batch: &mut WriteBatch, id: DocumentId, creator: &str, record: &R) {
    let mut doc = Document::create(ActorId::from([7u8; 16]), 0, record).unwrap();
    if let Ok(Some(summary)) = summarize(&id, doc.automerge()) {
        batch.put_value(&summary_key(&id), serde_json::to_vec(&summary).unwrap());
    }
    let meta = DocumentMeta::describe(&id, &mut doc.automerge().clone(), Some(creator), 0);
    batch.put_snapshot(id, doc.save(), meta);
}

fn time<T>(runs: u32, mut f: impl FnMut() -> T) -> Duration {
    let started = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(f());
    }
    started.elapsed() / runs
}

fn main() {
    let records: u32 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);

    // Rule evaluation, in process.
    let departure_id = id(1, 0);
    let departure = Departure {
        tour: "db3".into(),
        capacity: 40,
        starts_at: 0,
        ends_at: DAY,
        ..Default::default()
    };
    let bookings: Vec<(DocumentId, Booking)> = (0..120u32)
        .map(|n| {
            let mut booking = Booking {
                departure: departure_id.to_string(),
                rep: "sam".into(),
                submitted_at: Some(i64::from(n)),
                ..Default::default()
            };
            for p in 0..(1 + n % 4) {
                booking
                    .passengers
                    .insert(format!("p{p}"), Passenger::default());
            }
            (id(2, n), booking)
        })
        .collect();
    let seats = time(1_000, || {
        rules::decide_seats(&departure_id, &departure, &bookings, 1_000)
    });
    let mut account = Account {
        name: "Lakeside".into(),
        owner: "sam".into(),
        ..Default::default()
    };
    for n in 0..200 {
        let contact = Contact {
            first_name: format!("F{n}"),
            last_name: format!("L{n}"),
            emails: [format!("c{n}@x.example")].into_iter().collect(),
            ..Default::default()
        };
        account.contacts.insert(format!("c-{n:03}"), contact);
    }
    let duplicates = time(200, || rules::duplicate_contacts(&departure_id, &account));
    let mut kit = StockLocation::default();
    for n in 0..50 {
        let movement = StockMovement {
            item: format!("item-{n}"),
            quantity: 10,
            reason: MovementReason::Receipt,
            reference: None,
            actor: "o".into(),
            at: 0,
        };
        kit.post_movement(LogKey::new(0, &format!("m{n}")), movement)
            .unwrap();
    }
    let stock = time(1_000, || rules::stock_findings(&departure_id, &kit, None));
    let account_doc = Document::create(ActorId::from([1u8; 16]), 0, &account).unwrap();
    let summary = time(200, || summarize(&departure_id, account_doc.automerge()));
    println!("rule evaluation per change (in process, release):");
    println!("  decide_seats, departure with 120 bookings:   {seats:?}");
    println!("  duplicate_contacts, account of 200 contacts: {duplicates:?}");
    println!("  stock_findings, kit of 50 items:             {stock:?}");
    println!("  summarize, account of 200 contacts:          {summary:?}");

    // The store with `records` records, written directly, then the real server over it.
    let data = DataDir::new("authority-figures");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let seeding = Instant::now();
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).unwrap();
        let mut batch = WriteBatch::new();
        let departures = (records / 200).max(1);
        for n in 0..records {
            match n % 10 {
                0 if n / 10 < departures => put(
                    &mut batch,
                    id(1, n),
                    "olga",
                    &Departure {
                        tour: format!("t{}", n % 7),
                        capacity: 40,
                        starts_at: 1_800_000_000_000 + i64::from(n) * DAY,
                        ends_at: 1_800_000_000_000 + i64::from(n) * DAY + DAY,
                        ..Default::default()
                    },
                ),
                0..=3 => {
                    let mut account = Account {
                        name: format!("Account {n}"),
                        owner: format!("rep{}", n % 20),
                        territory: format!("t{}", n % 5),
                        ..Default::default()
                    };
                    account.opportunities.insert(
                        "o".into(),
                        Opportunity {
                            name: "trip".into(),
                            stage: Stage::ALL[(n % 4) as usize],
                            amount_minor: i64::from(n % 97) * 1_000,
                            currency: "EUR".into(),
                            probability: 50,
                            ..Default::default()
                        },
                    );
                    put(&mut batch, id(3, n), "olga", &account);
                }
                4..=6 => {
                    let departure = id(1, (n % departures) * 10);
                    let mut booking = Booking {
                        departure: departure.to_string(),
                        rep: format!("rep{}", n % 20),
                        amount_minor: 39_000,
                        currency: "EUR".into(),
                        status: BookingStatus::Confirmed,
                        ..Default::default()
                    };
                    booking.passengers.insert("p".into(), Passenger::default());
                    put(&mut batch, id(4, n), "olga", &booking);
                }
                7 => put(
                    &mut batch,
                    id(5, n),
                    "olga",
                    &Lead {
                        name: format!("Lead {n}"),
                        owner: format!("rep{}", n % 20),
                        status: LeadStatus::ALL[(n % 5) as usize],
                        ..Default::default()
                    },
                ),
                _ => {
                    let invoice = Invoice {
                        provisional_number: format!("P-{n}"),
                        status: InvoiceStatus::Posted,
                        legal_number: Some(format!("2026-{n:06}")),
                        currency: "EUR".into(),
                        issued_on: Some("2026-10-01".into()),
                        due_on: Some("2026-10-31".into()),
                        ..Default::default()
                    };
                    let invoice = itinera_tests::device::with_tour_line(invoice, 1);
                    put(&mut batch, id(6, n), "olga", &invoice);
                }
            }
            if batch.len() >= 4_000 {
                store
                    .commit(std::mem::take(&mut batch), Durability::Relaxed)
                    .unwrap();
            }
        }
        store.commit(batch, Durability::Immediate).unwrap();
        println!(
            "\nseeded {records} records in {:.1} s ({} documents stored)",
            seeding.elapsed().as_secs_f64(),
            store.documents().unwrap().len()
        );
    }
    let server = TestServer::start(&data, &[]);
    println!(
        "report latency over {records} records (release server): the first request computes \
         it from the read model, `computed` is the median of 3 computations on a ready server, `kept` \
         the median of 5 answers kept until a change"
    );
    // Start-up work (the indexer's scan, the lists) first: /readyz says when it is done.
    let ready = Instant::now();
    while http_get(&format!("{}/readyz", server.base), None).0 != 200 {
        assert!(ready.elapsed() < Duration::from_secs(600), "never ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    println!("ready {:?} after listening", ready.elapsed());
    let get_with = |name: &str, query: &str| {
        let started = Instant::now();
        let (status, body) = http_get(
            &format!("{}/api/v1/reports/{name}{query}", server.base),
            Some(&olga),
        );
        assert_eq!(status, 200, "{body}");
        (started.elapsed(), body.len())
    };
    let get = |name: &str| get_with(name, "");
    for name in [
        "pipeline",
        "conversion",
        "revenue",
        "stock",
        "guides",
        "invoices",
        "trial-balance",
        "customers",
        "sync-health",
    ] {
        let (first, bytes) = get(name);
        let mut times: Vec<Duration> = (0..5).map(|_| get(name).0).collect();
        times.sort();
        // Another option is another report: computed each time.
        let mut computed: Vec<Duration> = (0..3)
            .map(|n| get_with(name, &format!("?guide_hour_cost_minor={}", 2_000 + n)).0)
            .collect();
        computed.sort();
        println!(
            "  {name:<14} first {first:>12?}  computed {:>12?}  kept {:>12?}  ({bytes} bytes)",
            computed[1], times[2]
        );
    }

    // A change through the server: a booking submitted, until its status comes back decided.
    let mut device = Device::connect(&server.sync_url(), &olga, "office").unwrap();
    let departure = id(1, 0);
    let mut round_trips = Vec::new();
    for n in 0..20u32 {
        let booking_id =
            DocumentId::new_v7(1_765_000_000_000, [9, 9, 9, 9, 9, 9, 0, 0, 0, n as u8]);
        let mut booking = Booking {
            departure: departure.to_string(),
            rep: "olga".into(),
            submitted_at: Some(i64::from(n)),
            ..Default::default()
        };
        booking.passengers.insert("p".into(), Passenger::default());
        let started = Instant::now();
        device.node.insert(
            booking_id,
            Document::create(ActorId::from([8u8; 16]), 0, &booking)
                .unwrap()
                .into_automerge(),
        );
        let decided = device.run_until(Duration::from_secs(30), |d| {
            d.node
                .document(&booking_id)
                .and_then(|doc| autosurgeon::hydrate::<_, Booking>(doc).ok())
                .is_some_and(|b| b.status != BookingStatus::Draft)
        });
        assert!(decided);
        round_trips.push(started.elapsed());
    }
    round_trips.sort();
    println!(
        "a booking submitted on a device until the server's decision is back on it (20 runs): median {:?}, max {:?}",
        round_trips[10], round_trips[19]
    );
    // What a request right after a change pays: the reports of the kinds a change touched,
    // asked for as soon as the change is acknowledged (nothing refreshes them in between).
    println!("report latency of the first request after a change (median of 5 changes):");
    let mut after: Vec<(&str, Vec<Duration>)> = Vec::new();
    let mut record_after =
        |name: &'static str, took: Duration| match after.iter_mut().find(|(n, _)| *n == name) {
            Some((_, times)) => times.push(took),
            None => after.push((name, vec![took])),
        };
    for n in 0..5u32 {
        // A booking: revenue and customers read bookings.
        let booking_id =
            DocumentId::new_v7(1_765_100_000_000, [9, 9, 9, 9, 9, 8, 0, 0, 0, n as u8]);
        let mut booking = Booking {
            departure: departure.to_string(),
            rep: "olga".into(),
            account: id(3, 10 + n).to_string(),
            amount_minor: 41_000,
            currency: "EUR".into(),
            submitted_at: Some(100 + i64::from(n)),
            ..Default::default()
        };
        booking.passengers.insert("p".into(), Passenger::default());
        let doc = Document::create(ActorId::from([8u8; 16]), 0, &booking).unwrap();
        device.node.insert(booking_id, doc.into_automerge());
        assert!(device.run_until(Duration::from_secs(30), |d| d.acknowledged(&booking_id)));
        record_after("revenue", get("revenue").0);
        record_after("customers", get("customers").0);
        // An opportunity's amount: the pipeline and conversion read accounts.
        let account = id(3, 21 + 10 * n);
        let patch = format!(
            r#"{{"opportunities":{{"o":{{"amount_minor":{}}}}}}}"#,
            1_000 + n
        );
        let (status, body) = itinera_tests::server::http(
            "PATCH",
            &format!("{}/api/v1/documents/{account}", server.base),
            Some(&olga),
            Some(&patch),
        );
        assert_eq!(status, 200, "{body}");
        record_after("pipeline", get("pipeline").0);
        record_after("conversion", get("conversion").0);
        // A posted invoice: the invoices report (its first page of receivables).
        let invoice_id =
            DocumentId::new_v7(1_765_200_000_000, [9, 9, 9, 9, 9, 7, 0, 0, 0, n as u8]);
        let invoice = Invoice {
            provisional_number: format!("X-{n}"),
            status: InvoiceStatus::Posted,
            currency: "EUR".into(),
            issued_on: Some("2026-10-02".into()),
            due_on: Some("2026-11-01".into()),
            ..Default::default()
        };
        let invoice = itinera_tests::device::with_tour_line(invoice, 1);
        let doc = Document::create(ActorId::from([8u8; 16]), 0, &invoice).unwrap();
        device.node.insert(invoice_id, doc.into_automerge());
        assert!(device.run_until(Duration::from_secs(30), |d| d.acknowledged(&invoice_id)));
        record_after("invoices", get("invoices").0);
    }
    for (name, mut times) in after {
        times.sort();
        println!(
            "  {name:<14} median {:>12?}  max {:>12?}",
            times[times.len() / 2],
            times[times.len() - 1]
        );
    }
    let (_, bytes) = get("invoices");
    let (_, all) = get_with("invoices", "/csv?table=receivables");
    println!(
        "  invoices: a page of receivables is {bytes} bytes; the CSV of all of them {all} bytes"
    );
}
