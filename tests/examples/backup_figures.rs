//! Figures for backups (not a test): the time and size of a backup of 100,000 records taken
//! from a running server and from a stopped one, and the time to restore it, export it and
//! import the export.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example backup_figures     # RECORDS=10000 for less
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera_core::model::{Account, Contact};
use itinera_core::reports::{summarize, summary_key};
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_core::{Document, DocumentId};
use itinera_tests::server::{DataDir, TestServer, binary, http_get, user_with_token};

fn id(n: u32) -> DocumentId {
    let mut random = [9u8; 10];
    random[6..].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(1_764_000_000_000 + u64::from(n), random)
}

/// An account of a few contacts, as a rep's phone writes one: about a kilobyte saved.
fn account(n: u32) -> Account {
    let mut account = Account {
        name: format!("Travel agency {n}"),
        owner: format!("rep{}", n % 20),
        ..Default::default()
    };
    for c in 0..3 {
        let contact = Contact {
            first_name: format!("First{c}"),
            last_name: format!("Last{n}"),
            emails: [format!("c{c}.{n}@agency.example")].into_iter().collect(),
            ..Default::default()
        };
        account.contacts.insert(format!("c-{c}"), contact);
    }
    account
}

fn seed(store: &RedbStore, records: u32) {
    let actor = ActorId::from([7u8; 16]);
    for chunk in (0..records).collect::<Vec<_>>().chunks(2_000) {
        let mut batch = WriteBatch::new();
        for &n in chunk {
            let mut doc = Document::create(actor.clone(), 0, &account(n)).unwrap();
            let id = id(n);
            if let Ok(Some(summary)) = summarize(&id, doc.automerge()) {
                batch.put_value(&summary_key(&id), serde_json::to_vec(&summary).unwrap());
            }
            let creator = format!("rep{}", n % 20);
            let meta = DocumentMeta::describe(&id, &mut doc.automerge().clone(), Some(&creator), 0);
            batch.put_snapshot(id, doc.save(), meta);
        }
        store.commit(batch, Durability::Relaxed).unwrap();
    }
}

fn cli(data: &Path, args: &[&str], env: &[(&str, &str)]) -> Duration {
    let started = Instant::now();
    let mut command = Command::new(binary());
    command.arg("--data").arg(data).args(args);
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    started.elapsed()
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn main() {
    let records: u32 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let data = DataDir::new("backup-figures");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let started = Instant::now();
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).unwrap();
        seed(&store, records);
        store.close().unwrap();
    }
    let seeded = started.elapsed();
    let store_bytes = std::fs::metadata(data.path().join("itinera.redb"))
        .unwrap()
        .len();
    println!(
        "{records} account records seeded in {seeded:.1?}; store file {:.1} MiB",
        mib(store_bytes)
    );

    let server = TestServer::start(&data, &[]);
    let deadline = Instant::now() + Duration::from_secs(600);
    while http_get(&format!("{}/readyz", server.base), None).0 != 200 {
        assert!(Instant::now() < deadline, "the server never became ready");
        std::thread::sleep(Duration::from_millis(200));
    }
    let running = data.path().join("running.bak");
    let took = cli(
        data.path(),
        &[
            "backup",
            running.to_str().unwrap(),
            "--server",
            &server.base,
        ],
        &[("ITINERA_ADMIN_TOKEN", &admin)],
    );
    let backup_bytes = std::fs::metadata(&running).unwrap().len();
    println!(
        "backup of the running server (admin API, verified): {took:.2?}, {:.1} MiB",
        mib(backup_bytes)
    );
    drop(server);

    let stopped = data.path().join("stopped.bak");
    let took = cli(data.path(), &["backup", stopped.to_str().unwrap()], &[]);
    println!("backup of the stopped server's folder (verified): {took:.2?}");

    let restored = DataDir::new("backup-figures-restored");
    let took = cli(
        restored.path(),
        &["restore", running.to_str().unwrap()],
        &[],
    );
    let restored_bytes = std::fs::metadata(restored.path().join("itinera.redb"))
        .unwrap()
        .len();
    println!(
        "restore into a new folder: {took:.2?}; restored store {:.1} MiB",
        mib(restored_bytes)
    );
    let took = cli(restored.path(), &["check"], &[]);
    println!("check of the restored store (loads and validates every document): {took:.2?}");

    let export = restored.path().join("export");
    let took = cli(restored.path(), &["export", export.to_str().unwrap()], &[]);
    println!("export: {took:.2?}");
    let imported = DataDir::new("backup-figures-imported");
    let took = cli(imported.path(), &["import", export.to_str().unwrap()], &[]);
    println!("import into an empty folder: {took:.2?}");
}
