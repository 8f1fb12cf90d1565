//! The decision crash loop: a rep posts invoices and submits bookings while the server is
//! killed with SIGKILL at random moments. After every restart, with no other edit, every
//! invoice the server holds gets its legal number, every booking its decision, and then the
//! books are checked: numbers run 1, 2, 3… without a gap or a repeat, every invoice's journal
//! entry exists exactly once, and the departure's seats match its confirmed bookings.
//!
//! Decisions survive because the need for one is written with the change (the outbox) and
//! cleared with the decision; the server evaluates what is left when it starts.
//!
//! Used by the `decision_crash_loop` test (a few cycles); replay a failure with its seed.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use automerge::AutoCommit;
use itinera_core::model::{Booking, Departure, Invoice, InvoiceStatus, Passenger};
use itinera_core::{DocumentId, Record};
use serde_json::Value;

use crate::crash_loop::Rng;
use crate::device::Device;
use crate::server::{Backend, DataDir, TestServer, http_get};

/// How a decision crash loop runs.
#[derive(Debug, Clone)]
pub struct Settings {
    pub cycles: usize,
    pub seed: u64,
    /// The server lives between these before each kill.
    pub min_uptime: Duration,
    pub max_uptime: Duration,
    /// Seats on the departure the bookings are for.
    pub capacity: i64,
    /// Where the server stores: its redb file, or a PostgreSQL schema.
    pub backend: Backend,
}

/// What a loop did; it panics instead if a decision was lost or made twice.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub cycles: usize,
    /// Invoices and bookings the rep's device saw acknowledged.
    pub acknowledged: usize,
    /// Invoices numbered at the end.
    pub invoices: usize,
    /// Bookings decided at the end.
    pub bookings: usize,
    /// The longest wait after a restart until every decision was made.
    pub slowest_recovery: Duration,
}

const ISSUED_ON: &str = "2026-11-20";

pub fn created<R: Record>(record: &R) -> AutoCommit {
    crate::device::record(0x5a, record)
}

pub fn invoice(n: usize) -> Invoice {
    let invoice = Invoice {
        provisional_number: format!("SAM-{n}"),
        series: "A".into(),
        customer: "acc".into(),
        currency: "EUR".into(),
        issued_on: Some(ISSUED_ON.into()),
        status: InvoiceStatus::Posted,
        ..Default::default()
    };
    crate::device::with_tour_line(invoice, 1)
}

pub fn booking(departure: &DocumentId, n: usize) -> Booking {
    let mut booking = Booking {
        departure: departure.to_string(),
        account: "acc".into(),
        rep: "sam".into(),
        submitted_at: Some(1),
        ..Default::default()
    };
    booking.passengers.insert(
        "p".into(),
        Passenger {
            name: format!("guest {n}"),
            ..Default::default()
        },
    );
    booking
}

pub fn id_of(n: usize, kind: u8) -> DocumentId {
    let [a, b, c, d] = u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes();
    DocumentId::new_v7(1_764_300_000_000, [kind, 3, 3, 3, 3, 3, a, b, c, d])
}

/// Writes invoices and bookings, one at a time, each waited for, until the server dies.
pub fn write_until_killed(
    mut device: Device,
    departure: DocumentId,
    start: usize,
) -> (usize, usize) {
    let mut n = start;
    let mut acknowledged = 0;
    while !device.closed {
        n += 1;
        let id = if n % 2 == 0 {
            let id = id_of(n, 1);
            device.node.insert(id, created(&invoice(n)));
            id
        } else {
            let id = id_of(n, 2);
            device.node.insert(id, created(&booking(&departure, n)));
            id
        };
        if device.run_until(Duration::from_secs(5), |d| d.closed || d.acknowledged(&id))
            && device.acknowledged(&id)
        {
            acknowledged += 1;
        }
    }
    (n, acknowledged)
}

fn records(server: &TestServer, token: &str, kind: &str) -> Vec<Value> {
    let (status, body) = http_get(
        &format!("{}/api/v1/records?kind={kind}", server.base),
        Some(token),
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// How many times each journal entry key (`invoice:{id}`, …) stands in the journals.
fn journal_entries(server: &TestServer, token: &str) -> BTreeMap<String, usize> {
    let mut entries: BTreeMap<String, usize> = BTreeMap::new();
    for journal in records(server, token, "journal") {
        for key in journal["record"]["entries"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            *entries.entry(key.clone()).or_default() += 1;
        }
    }
    entries
}

/// Waits until every invoice is numbered and booked, every booking decided and the
/// departure's seats counted (an invoice's number and its journal entry are two documents'
/// writes, as are a booking's status and its departure's count); returns how long it took.
pub fn wait_for_decisions(
    server: &TestServer,
    token: &str,
    departure: &DocumentId,
    seed: u64,
) -> Duration {
    let started = Instant::now();
    loop {
        let booked = journal_entries(server, token);
        let undecided_invoices = records(server, token, "invoice")
            .iter()
            .filter(|i| {
                let id = i["id"].as_str().unwrap_or_default();
                i["record"]["legal_number"].is_null()
                    || !booked
                        .contains_key(&format!("invoice:{}", id.trim_start_matches("automerge:")))
            })
            .count();
        let bookings = records(server, token, "booking");
        let undecided_bookings = bookings
            .iter()
            .filter(|b| b["record"]["status"] == "draft")
            .count();
        let counted = seats_confirmed(server, token, departure);
        let confirmed = confirmed_bookings(&bookings);
        if undecided_invoices + undecided_bookings == 0 && counted == Some(confirmed) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "seed {seed:#x}: {undecided_invoices} invoices and {undecided_bookings} bookings \
             still undecided, and the departure counts {counted:?} seats for {confirmed} \
             confirmed bookings, a minute after the restart; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Checks the books: gapless numbers, one journal entry per invoice, seats that add up.
pub fn check_books(
    server: &TestServer,
    token: &str,
    departure: &DocumentId,
    seed: u64,
) -> (usize, usize) {
    let invoices = records(server, token, "invoice");
    let mut numbers: Vec<u64> = invoices
        .iter()
        .map(|i| {
            let number = i["record"]["legal_number"].as_str().unwrap_or_default();
            number
                .rsplit('-')
                .next()
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("seed {seed:#x}: {number:?} is not a legal number"))
        })
        .collect();
    numbers.sort_unstable();
    let expected: Vec<u64> = (1..=numbers.len() as u64).collect();
    assert_eq!(
        numbers, expected,
        "seed {seed:#x}: numbers with a gap or a repeat"
    );

    let entries = journal_entries(server, token);
    for invoice in &invoices {
        let id = invoice["id"]
            .as_str()
            .unwrap_or_default()
            .trim_start_matches("automerge:");
        let key = format!("invoice:{id}");
        assert_eq!(
            entries.get(&key).copied(),
            Some(1),
            "seed {seed:#x}: the journal entry of {id} exists {:?} times",
            entries.get(&key)
        );
    }
    assert_eq!(
        entries.len(),
        invoices.len(),
        "seed {seed:#x}: entries without an invoice"
    );

    let bookings = records(server, token, "booking");
    assert_eq!(
        seats_confirmed(server, token, departure),
        Some(confirmed_bookings(&bookings)),
        "seed {seed:#x}: seats and confirmed bookings disagree"
    );
    (invoices.len(), bookings.len())
}

fn confirmed_bookings(bookings: &[Value]) -> i64 {
    bookings
        .iter()
        .filter(|b| b["record"]["status"] == "confirmed")
        .count() as i64
}

/// The departure's count of confirmed seats, as the server holds it.
fn seats_confirmed(server: &TestServer, token: &str, departure: &DocumentId) -> Option<i64> {
    let (status, view) = server.document(token, departure);
    assert_eq!(status, 200);
    view["record"]["seats_confirmed"].as_i64()
}

/// Runs the loop; panics with the seed if a decision is lost, made twice or left undone.
pub fn run(settings: &Settings, mut progress: impl FnMut(&str)) -> Report {
    let data = DataDir::new("decision-crash-loop");
    let backend = &settings.backend;
    let olga = backend.user_with_token(&data, "olga", "office", &[]);
    let sam = backend.user_with_token(&data, "sam", "sales", &[]);
    let mut rng = Rng::new(settings.seed);
    let mut server = backend.start(&data, &[]);
    let departure = id_of(0, 9);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        departure,
        created(&Departure {
            tour: "db3".into(),
            capacity: settings.capacity,
            starts_at: 1_800_000_000_000,
            ends_at: 1_800_086_400_000,
            ..Default::default()
        }),
    );
    assert!(office.run_until(Duration::from_secs(30), |d| d.acknowledged(&departure)));
    office.disconnect();

    let mut report = Report::default();
    let mut next = 0;
    for cycle in 1..=settings.cycles {
        let device = Device::connect(&server.sync_url(), &sam, &format!("sam-{cycle}"))
            .expect("device connects");
        let uptime = Duration::from_millis(rng.between(
            settings.min_uptime.as_millis() as u64,
            settings.max_uptime.as_millis() as u64,
        ));
        let writer = std::thread::spawn(move || write_until_killed(device, departure, next));
        std::thread::sleep(uptime);
        server.kill9();
        let (last, acknowledged) = writer.join().expect("writer");
        next = last;
        report.acknowledged += acknowledged;
        let checked = backend.cli(&data, &["check"]);
        assert!(checked.contains(", 0 broken"), "cycle {cycle}: {checked}");

        // Restarted, and nobody edits: whatever was pending is decided.
        server = backend.start(&data, &[]);
        let recovery = wait_for_decisions(&server, &olga, &departure, settings.seed);
        report.slowest_recovery = report.slowest_recovery.max(recovery);
        let (invoices, bookings) = check_books(&server, &olga, &departure, settings.seed);
        report.invoices = invoices;
        report.bookings = bookings;
        progress(&format!(
            "cycle {cycle}/{}: killed after {} ms; {invoices} invoices numbered without a gap, \
             {bookings} bookings decided, decided {recovery:?} after the restart",
            settings.cycles,
            uptime.as_millis()
        ));
    }
    server.terminate();
    report.cycles = settings.cycles;
    report
}
