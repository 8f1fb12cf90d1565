//! Figures for the phone SDK (not a test): a device's first sync of 10,000 records, a
//! reconnect with nothing changed, and one after 100 of them changed on the server (time, and
//! bytes on the wire as the server counted them); opening that replica again (time and memory,
//! in a process of its own); and what one edit costs on an account of 2,000 contacts and
//! 5,000 activities.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example device_figures
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera::{ContactInput, Replica, SyncClient};
use itinera_core::model::Account;
use itinera_core::reports::{summarize, summary_key};
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_core::{Document, DocumentId};
use itinera_tests::server::{DataDir, TestServer, http_get, user_with_token};

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

fn main() {
    if let [_, command, path, user] = std::env::args().collect::<Vec<_>>().as_slice() {
        if command == "open" {
            open_figures(path, user);
            return;
        }
    }
    let records: u32 = std::env::var("RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let data = DataDir::new("device-figures");
    let olga = user_with_token(&data, "olga", "office", &[]);
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).unwrap();
        let mut batch = WriteBatch::new();
        for n in 0..records {
            let mut random = [3u8; 10];
            random[6..].copy_from_slice(&n.to_be_bytes());
            let id = DocumentId::new_v7(1_764_000_000_000, random);
            let account = Account {
                name: format!("Account {n}"),
                owner: "olga".into(),
                territory: format!("t{}", n % 5),
                ..Default::default()
            };
            let mut doc = Document::create(ActorId::from([5u8; 16]), 0, &account).unwrap();
            if let Ok(Some(summary)) = summarize(&id, doc.automerge()) {
                batch.put_value(&summary_key(&id), serde_json::to_vec(&summary).unwrap());
            }
            let meta = DocumentMeta::describe(&id, &mut doc.automerge().clone(), Some("olga"), 0);
            batch.put_snapshot(id, doc.save(), meta);
            if batch.len() >= 4_000 {
                store
                    .commit(std::mem::take(&mut batch), Durability::Relaxed)
                    .unwrap();
            }
        }
        store.commit(batch, Durability::Immediate).unwrap();
    }
    let server = TestServer::start(&data, &[]);
    // The server lists every record in the user's index document when it starts.
    let index = DocumentId::index_of("olga");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let (status, body) = http_get(
            &format!("{}/api/v1/documents/{index}", server.base),
            Some(&olga),
        );
        if status == 200 && body.matches("\"kind\":\"account\"").count() >= records as usize {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the index never listed every record"
        );
        std::thread::sleep(Duration::from_millis(200));
    }

    let phone = data.path().join("phone.redb");
    let replica = Replica::open(phone.display().to_string(), "olga".into()).unwrap();
    let client = SyncClient::new(replica.clone(), server.sync_url(), olga.clone()).unwrap();
    let ids: Vec<DocumentId> = (0..records)
        .map(|n| {
            let mut random = [3u8; 10];
            random[6..].copy_from_slice(&n.to_be_bytes());
            DocumentId::new_v7(1_764_000_000_000, random)
        })
        .collect();
    for round in [
        "first sync",
        "reconnect, nothing changed",
        "reconnect, 100 changed",
    ] {
        if round == "reconnect, 100 changed" {
            for id in ids.iter().take(100) {
                let (status, body) = itinera_tests::server::http(
                    "PATCH",
                    &format!("{}/api/v1/documents/{id}", server.base),
                    Some(&olga),
                    Some(r#"{"territory":"changed"}"#),
                );
                assert_eq!(status, 200, "{body}");
            }
        }
        let started = Instant::now();
        let report = block(client.sync_now()).unwrap();
        let elapsed = started.elapsed();
        let bytes = (report.bytes_sent + report.bytes_received) as f64;
        println!(
            "{round:>28}: {:.3} s, {:.1} KB on the wire ({:.0} B per record), {} documents received, {} synced by the automerge protocol",
            elapsed.as_secs_f64(),
            bytes / 1e3,
            bytes / f64::from(records),
            report.documents_received,
            report.documents_synced
        );
    }
    println!(
        "records on the device: {}",
        replica.my_accounts().unwrap().len()
    );
    drop(client);
    drop(replica);
    // Opened again by a process that holds nothing else, so its memory is the replica's.
    // The first open after the first sync counts the file's free pages once (the file grew);
    // later opens do not.
    for _ in 0..2 {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["open", &phone.display().to_string(), "olga"])
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
    }
    edit_figures(&data);
}

/// Opens a replica and lists its records: time and the memory the process grew by.
fn open_figures(path: &str, user: &str) {
    let before = status_kib("VmRSS:");
    let started = Instant::now();
    let replica = Replica::open(path.into(), user.into()).unwrap();
    let opened = started.elapsed();
    let open_memory = status_kib("VmRSS:").saturating_sub(before);
    let started = Instant::now();
    let listed = replica.my_accounts().unwrap().len();
    let listing = started.elapsed();
    let mb = |kib: u64| kib as f64 / 1024.0;
    println!(
        "opening a replica of {listed} records: {:.1} ms, memory +{:.1} MB",
        opened.as_secs_f64() * 1e3,
        mb(open_memory),
    );
    println!(
        "listing them (my accounts): {:.1} ms, memory +{:.1} MB after, +{:.1} MB at the peak",
        listing.as_secs_f64() * 1e3,
        mb(status_kib("VmRSS:").saturating_sub(before)),
        mb(status_kib("VmHWM:").saturating_sub(before)),
    );
}

/// One edit of each kind, many times, on an account of 2,000 contacts and 5,000 activities.
fn edit_figures(data: &DataDir) {
    let path = data.path().join("big-account.redb");
    let replica = Replica::open(path.display().to_string(), "olga".into()).unwrap();
    let account = replica
        .create_account("Danube Cruises".into(), "north".into())
        .unwrap();
    let contact = |n: u32| ContactInput {
        first_name: format!("Anna {n}"),
        last_name: "Kovács".into(),
        title: "Buyer".into(),
        email: Some(format!("anna{n}@example.com")),
        phone: None,
        language: "hu".into(),
    };
    let mut contacts = Vec::new();
    for n in 0..2_000 {
        contacts.push(replica.add_contact(account.clone(), contact(n)).unwrap());
    }
    for n in 0..5_000 {
        replica
            .log_activity(
                account.clone(),
                "call".into(),
                format!("Call {n}"),
                String::new(),
                None,
            )
            .unwrap();
    }
    let time = |what: &str, edit: &mut dyn FnMut(u32)| {
        let mut took: Vec<f64> = (0..200)
            .map(|n| {
                let started = Instant::now();
                edit(n);
                started.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        took.sort_by(f64::total_cmp);
        println!(
            "{what:>42}: mean {:.2} ms, p99 {:.2} ms",
            took.iter().sum::<f64>() / took.len() as f64,
            took[took.len() * 99 / 100]
        );
    };
    println!("edits on an account of 2,000 contacts and 5,000 activities (200 of each):");
    time("rename the account", &mut |n| {
        replica
            .update_account(
                account.clone(),
                Some(format!("Danube Cruises {n}")),
                None,
                None,
            )
            .unwrap();
    });
    time("add a contact", &mut |n| {
        replica
            .add_contact(account.clone(), contact(10_000 + n))
            .unwrap();
    });
    time("change a contact", &mut |n| {
        let which = contacts[n as usize % contacts.len()].clone();
        replica
            .update_contact(account.clone(), which, contact(20_000 + n))
            .unwrap();
    });
    time("log a call", &mut |n| {
        replica
            .log_activity(
                account.clone(),
                "call".into(),
                format!("Call again {n}"),
                String::new(),
                None,
            )
            .unwrap();
    });
}

/// A field of /proc/self/status, in KiB.
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
