//! Figures for crash recovery (not a test): how long the server takes at start-up to make
//! the decisions a crash left pending, with 10,000 of them (half posted invoices waiting for
//! their legal number and journal entry, half bookings waiting for their seats). `PENDING` sets
//! how many, `ONLY=invoices` or `ONLY=bookings` one kind only.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example decision_recovery
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera_core::engine::OutboxEntry;
use itinera_core::model::*;
use itinera_core::reports::{summarize, summary_key};
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_core::{Document, DocumentId, Record};
use itinera_tests::server::{DataDir, TestServer, http_get, user_with_token};

fn id(kind: u8, n: u32) -> DocumentId {
    let mut random = [kind; 10];
    random[6..].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(1_764_000_000_000, random)
}

/// Stores `record` as `id`, with the outbox entry a user's commit of it would have written.
fn put<R: Record>(batch: &mut WriteBatch, id: DocumentId, record: &R, pending: bool) {
    let mut doc = Document::create(ActorId::from([7u8; 16]), 0, record).unwrap();
    if let Ok(Some(summary)) = summarize(&id, doc.automerge()) {
        batch.put_value(&summary_key(&id), serde_json::to_vec(&summary).unwrap());
    }
    let mut automerge = doc.automerge().clone();
    let meta = DocumentMeta::describe(&id, &mut automerge, Some("sam"), 0);
    if pending {
        let entry = OutboxEntry::new(id, &automerge.get_heads(), 1_764_000_000_000);
        batch.put_value(&entry.key, entry.value());
    }
    batch.put_snapshot(id, doc.save(), meta);
}

fn main() {
    let pending: u32 = std::env::var("PENDING")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let data = DataDir::new("decision-recovery");
    let olga = user_with_token(&data, "olga", "office", &[]);
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).unwrap();
        let mut batch = WriteBatch::new();
        let departures = (pending / 2 / 40).max(1);
        for n in 0..departures {
            let departure = Departure {
                tour: "db3".into(),
                capacity: 30,
                starts_at: 1_800_000_000_000,
                ends_at: 1_800_086_400_000,
                ..Default::default()
            };
            put(&mut batch, id(1, n), &departure, false);
        }
        let only = std::env::var("ONLY").unwrap_or_default();
        for n in 0..pending {
            let invoice = match only.as_str() {
                "invoices" => true,
                "bookings" => false,
                _ => n % 2 == 0,
            };
            if invoice {
                let invoice = Invoice {
                    provisional_number: format!("P-{n}"),
                    series: "A".into(),
                    currency: "EUR".into(),
                    issued_on: Some("2026-11-20".into()),
                    status: InvoiceStatus::Posted,
                    ..Default::default()
                };
                let invoice = itinera_tests::device::with_tour_line(invoice, 1);
                put(&mut batch, id(2, n), &invoice, true);
            } else {
                let mut booking = Booking {
                    departure: id(1, n % departures).to_string(),
                    rep: "sam".into(),
                    submitted_at: Some(1),
                    ..Default::default()
                };
                booking.passengers.insert("p".into(), Passenger::default());
                put(&mut batch, id(3, n), &booking, true);
            }
            if batch.len() >= 4_000 {
                store
                    .commit(std::mem::take(&mut batch), Durability::Relaxed)
                    .unwrap();
            }
        }
        store.commit(batch, Durability::Immediate).unwrap();
    }
    println!("{pending} pending decisions seeded; starting the server (release build)");
    let started = Instant::now();
    let server = TestServer::start(&data, &[]);
    let listening = started.elapsed();
    let deadline = Instant::now() + Duration::from_secs(3_600);
    let line = loop {
        if let Some(line) = server
            .log()
            .lines()
            .find(|line| line.contains("recovered the pending decisions"))
        {
            break line.to_owned();
        }
        assert!(Instant::now() < deadline, "no recovery within an hour");
        std::thread::sleep(Duration::from_millis(100));
    };
    let total = started.elapsed();
    let _ = line;
    println!("listening after {listening:?}; every pending decision made after {total:?}");
    println!(
        "recovery: {:.2} ms per pending decision",
        total.as_secs_f64() * 1_000.0 / f64::from(pending)
    );
    for line in server.log().lines().filter(|line| line.contains("recover")) {
        println!("  {}", strip_colours(line));
    }
    let (_, body) = http_get(
        &format!("{}/api/v1/reports/invoices", server.base),
        Some(&olga),
    );
    println!("invoices report afterwards: {} bytes", body.len());
}

/// The log line without its terminal colours.
fn strip_colours(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
