//! Figures for the phone SDK (not a test): a device's first sync of 10,000 records, a
//! reconnect with nothing changed, and one after 100 of them changed on the server; time, and
//! bytes on the wire as the server counted them.
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example device_figures
//! ```

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::ActorId;
use itinera::{Replica, SyncClient};
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
}
