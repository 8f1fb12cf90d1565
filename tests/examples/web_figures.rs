//! Figures for head office (not a test): list latency from the lists with 100,000 accounts in the
//! store, the lists' build time, CSV import speed, and the web app's size.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example web_figures
//! ```
//!
//! `RECORDS` (default 100,000) sets the accounts seeded; `IMPORT_ROWS` (default 10,000) the rows
//! of the CSV imported through the import command.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera_core::model::{Account, Contact};
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_core::{Document, DocumentId};
use itinera_tests::server::{DataDir, TestServer, binary, cli, http_get, user_with_token};

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

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn account(n: u32) -> Account {
    let mut account = Account {
        name: format!("{} Travel {n:06}", WORDS[n as usize % WORDS.len()]),
        owner: format!("rep-{:02}", n % 50),
        territory: format!("t{}", n % 10),
        ..Default::default()
    };
    account.address.city = ["Budapest", "Pécs", "Győr", "Szeged"][n as usize % 4].into();
    account.contacts.insert(
        "c-1".into(),
        Contact {
            first_name: "Anna".into(),
            last_name: format!("Kiss {n}"),
            emails: [format!("anna{n}@example.test")].into_iter().collect(),
            ..Default::default()
        },
    );
    account
}

fn seed(data: &DataDir, records: u32) {
    let store = RedbStore::open(data.path().join("itinera.redb")).unwrap();
    let mut batch = WriteBatch::new();
    for n in 0..records {
        let mut random = [9u8; 10];
        random[6..].copy_from_slice(&n.to_be_bytes());
        let id = DocumentId::new_v7(1_764_000_000_000, random);
        let mut doc = Document::create(ActorId::from([7u8; 16]), 0, &account(n))
            .unwrap()
            .into_automerge();
        // The metadata a running server writes: scope and title included.
        let meta = DocumentMeta::describe(&id, &mut doc, Some("olga"), 0);
        batch.put_snapshot(id, doc.save(), meta);
        if n % 5_000 == 4_999 {
            store
                .commit(std::mem::take(&mut batch), Durability::Relaxed)
                .unwrap();
        }
    }
    store.commit(batch, Durability::Immediate).unwrap();
}

/// CPU seconds a process has used, from `/proc`.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks: f64 = fields.get(11..13).map_or(0.0, |f| {
        f.iter().filter_map(|v| v.parse::<f64>().ok()).sum()
    });
    ticks / 100.0
}

/// Waits until the server has finished its start-up work (indexes, summaries): under 5% of a
/// core over two seconds. Returns how long that took.
fn wait_idle(server: &TestServer) -> Duration {
    let started = Instant::now();
    loop {
        let before = cpu_seconds(server.pid());
        std::thread::sleep(Duration::from_secs(2));
        if cpu_seconds(server.pid()) - before < 0.1 || started.elapsed() > Duration::from_secs(900)
        {
            return started.elapsed();
        }
    }
}

fn get(server: &TestServer, token: &str, path: &str) -> serde_json::Value {
    let (status, body) = http_get(&format!("{}/api/v1{path}", server.base), Some(token));
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Median and 99th percentile of `runs` timed calls.
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

fn lists(server: &TestServer, office: &str, rep: &str, records: u32) {
    println!("list latency over HTTP, {records} accounts (median / p99 of 50, release server):");
    let mut cursor = String::new();
    for _ in 0..100 {
        let page = get(
            server,
            office,
            &format!("/lists/accounts?limit=50&cursor={cursor}"),
        );
        cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    }
    let cases: [(&str, &str, String); 6] = [
        (
            "first page, by name",
            office,
            "/lists/accounts?limit=50".into(),
        ),
        (
            "page 101, by name",
            office,
            format!("/lists/accounts?limit=50&cursor={cursor}"),
        ),
        (
            "search \"travel 0999\"",
            office,
            "/lists/accounts?q=travel%200999".into(),
        ),
        (
            "territory filter, by owner desc",
            office,
            "/lists/accounts?territory=t3&sort=owner&order=desc".into(),
        ),
        (
            "a rep's own accounts (access)",
            rep,
            "/lists/accounts?limit=50".into(),
        ),
        (
            "search by contact e-mail",
            office,
            "/lists/accounts?q=anna4242@".into(),
        ),
    ];
    for (name, token, path) in cases {
        let answer = get(server, token, &path);
        let (p50, p99) = latency(50, || {
            get(server, token, &path);
        });
        println!(
            "  {name:<34} {:>7.2} ms / {:>7.2} ms  ({} of {} rows)",
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            answer["items"].as_array().map_or(0, Vec::len),
            answer["total"]
        );
    }
    let started = Instant::now();
    let (status, body) = http_get(
        &format!("{}/api/v1/lists/accounts?format=csv", server.base),
        Some(office),
    );
    assert_eq!(status, 200);
    println!(
        "  CSV export of every account         {:>7.0} ms  ({} lines, {} KB)",
        started.elapsed().as_secs_f64() * 1e3,
        body.lines().count(),
        body.len() / 1024
    );
}

fn import(server: &TestServer, office: &str, data: &DataDir, rows: u32) {
    let file = data.path().join("crm-export.csv");
    let mut csv = std::fs::File::create(&file).unwrap();
    writeln!(
        csv,
        "Account ID,Account Name,Account Owner,Billing City,First Name,Last Name,Email,Phone"
    )
    .unwrap();
    for n in 0..rows {
        writeln!(
            csv,
            "CRM-{n:06},Imported Travel {n:06},rep-{:02},Debrecen,Béla,Tóth {n},bela{n}@import.test,+36 30 {:07}",
            n % 50,
            1_000_000 + n
        )
        .unwrap();
    }
    drop(csv);
    println!(
        "CSV import through the import command, {rows} rows (one account with a contact each):"
    );
    for round in ["first import", "same file again"] {
        let started = Instant::now();
        let output = Command::new(binary())
            .args(["import-csv", "accounts"])
            .arg(&file)
            .args(["--server", &server.base, "--token", office])
            .output()
            .unwrap();
        let elapsed = started.elapsed();
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let summary = stdout
            .lines()
            .find(|line| line.starts_with("imported in"))
            .unwrap_or_default();
        println!(
            "  {round:<16} {:>6.2} s, {:>7.0} rows/s  ({summary})",
            elapsed.as_secs_f64(),
            f64::from(rows) / elapsed.as_secs_f64()
        );
    }
}

fn bundle() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../web/dist/assets");
    println!("web app bundle (web/dist/assets):");
    let mut total = (0, 0);
    for entry in std::fs::read_dir(dist).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&bytes).unwrap();
        let gzipped = gz.finish().unwrap().len();
        total = (total.0 + bytes.len(), total.1 + gzipped);
        println!(
            "  {:<28} {:>7} B, {:>6} B gzip",
            path.file_name().unwrap().to_string_lossy(),
            bytes.len(),
            gzipped
        );
    }
    println!("  {:<28} {:>7} B, {:>6} B gzip", "total", total.0, total.1);
}

fn main() {
    let records = env_number("RECORDS", 100_000);
    let rows = env_number("IMPORT_ROWS", 10_000);
    bundle();
    let data = DataDir::new("web-figures");
    let started = Instant::now();
    seed(&data, records);
    println!(
        "seeded {records} accounts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let office = user_with_token(&data, "olga", "office", &[]);
    let rep = user_with_token(&data, "rep-07", "sales", &[]);
    for n in (0..50).filter(|n| *n != 7) {
        cli(
            &data,
            &["user", "add", &format!("rep-{n:02}"), "--role", "sales"],
        );
    }
    let started = Instant::now();
    let server = TestServer::start(&data, &[]);
    // The lists answer 503 until they have read the store.
    while http_get(
        &format!("{}/api/v1/lists/accounts?limit=1", server.base),
        Some(&office),
    )
    .0 != 200
    {
        std::thread::sleep(Duration::from_millis(200));
    }
    println!(
        "first start: lists of {records} documents ready after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let busy = wait_idle(&server);
    println!(
        "  (the server's other start-up work went on for {:.0} s more)",
        busy.as_secs_f64()
    );
    lists(&server, &office, &rep, records);
    drop(server);
    let started = Instant::now();
    let server = TestServer::start(&data, &[]);
    while http_get(
        &format!("{}/api/v1/lists/accounts?limit=1", server.base),
        Some(&office),
    )
    .0 != 200
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    println!(
        "after a restart: lists of {records} documents ready after {:.2} s (rows kept in the store)",
        started.elapsed().as_secs_f64()
    );
    drop(server);

    // Imports into a store of their own, so that the figures are the import's.
    let data = DataDir::new("import-figures");
    let office = user_with_token(&data, "olga", "office", &[]);
    for n in 0..50 {
        cli(
            &data,
            &["user", "add", &format!("rep-{n:02}"), "--role", "sales"],
        );
    }
    let server = TestServer::start(&data, &[]);
    wait_idle(&server);
    import(&server, &office, &data, rows);
}
