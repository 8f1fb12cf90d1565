//! List latency of the list model itself, in process (not a test): 100,000 accounts, the
//! queries head office makes, median and 99th percentile.
//!
//! ```sh
//! cargo run --release -p itinera-server --example list_figures
//! ```
//!
//! `RECORDS` sets the number of accounts (default 100,000). The same queries over HTTP, on a
//! server holding the accounts in its store, are in `tests/examples/web_figures.rs`.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera_core::model::{Account, Contact};
use itinera_core::policy::{Grant, Principal, Role};
use itinera_core::{Document, DocumentId};
use itinera_server::lists::{ListEntry, ListKind, ListModel, ListQuery};

const WORDS: [&str; 12] = [
    "Lakeside",
    "Harbour",
    "Danube",
    "Alpine",
    "Riverside",
    "Castle",
    "Forest",
    "Valley",
    "Summit",
    "Meadow",
    "Bridge",
    "Garden",
];

fn entry(n: u32) -> ListEntry {
    let mut account = Account {
        name: format!("{} Travel {n:06}", WORDS[n as usize % WORDS.len()]),
        owner: format!("rep-{:02}", n % 50),
        territory: format!("t{}", n % 10),
        ..Default::default()
    };
    account.contacts.insert(
        "c-1".into(),
        Contact {
            first_name: "Anna".into(),
            last_name: format!("Kiss {n}"),
            emails: [format!("anna{n}@example.test")].into_iter().collect(),
            ..Default::default()
        },
    );
    let doc = Document::create(ActorId::from([7u8; 16]), 0, &account).unwrap();
    let mut random = [9u8; 10];
    random[6..].copy_from_slice(&n.to_be_bytes());
    ListEntry::describe(
        DocumentId::new_v7(1_764_000_000_000, random),
        doc.automerge(),
        None,
    )
    .unwrap()
}

fn latency(runs: usize, mut call: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            call();
            started.elapsed()
        })
        .collect();
    times.sort();
    (times[runs / 2], times[(runs * 99 / 100).min(runs - 1)])
}

fn main() {
    let records: u32 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    let entries: Vec<ListEntry> = (0..records).map(entry).collect();
    println!(
        "{records} rows read from documents in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let model = ListModel::default();
    let started = Instant::now();
    model.load(entries);
    println!(
        "loaded into the model in {:.0} ms",
        started.elapsed().as_secs_f64() * 1e3
    );

    let office = Principal::new("olga", Role::Office);
    let rep = Principal::new("rep-07", Role::Sales);
    let territory_rep =
        Principal::new("rep-07", Role::Sales).with_grant(Grant::Territory("t3".into()));
    let query = |pairs: &[(&str, &str)]| {
        ListQuery::parse(ListKind::Accounts, pairs.iter().copied()).unwrap()
    };
    let mut cursor = String::new();
    for _ in 0..100 {
        let q = query(&[("cursor", &cursor)]);
        let page = model.list(&office, ListKind::Accounts, &q, q.limit);
        cursor = page.next_cursor.map(|c| c.encode()).unwrap_or_default();
    }
    let cases: Vec<(&str, &Principal, ListQuery)> = vec![
        ("first page, by name", &office, query(&[])),
        (
            "first page, by contacts (a number)",
            &office,
            query(&[("sort", "contacts")]),
        ),
        ("one row, by name", &office, query(&[("limit", "1")])),
        ("page 101, by name", &office, query(&[("cursor", &cursor)])),
        (
            "search \"travel 0999\"",
            &office,
            query(&[("q", "travel 0999")]),
        ),
        (
            "territory filter, by owner desc",
            &office,
            query(&[("territory", "t3"), ("sort", "owner"), ("order", "desc")]),
        ),
        ("a rep's own accounts", &rep, query(&[])),
        ("a rep with a territory", &territory_rep, query(&[])),
        (
            "search by contact e-mail",
            &office,
            query(&[("q", "anna4242@")]),
        ),
    ];
    println!("list latency in process, {records} accounts (median / p99 of 200):");
    for (name, principal, q) in cases {
        let page = model.list(principal, ListKind::Accounts, &q, q.limit);
        let (p50, p99) = latency(200, || {
            std::hint::black_box(model.list(principal, ListKind::Accounts, &q, q.limit));
        });
        println!(
            "  {name:<34} {:>6.2} ms / {:>6.2} ms  ({} of {} rows)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            page.rows.len(),
            page.total
        );
    }
    let all = query(&[]);
    let (p50, _) = latency(5, || {
        std::hint::black_box(model.list(&office, ListKind::Accounts, &all, usize::MAX));
    });
    println!(
        "  every row sorted (the CSV export)  {:>6.0} ms",
        p50.as_secs_f64() * 1e3
    );
}
