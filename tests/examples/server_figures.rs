//! Figures for the sync server, measured against the real binary on loopback (not a test).
//!
//! ```sh
//! cargo build --release -p itinera-server
//! cargo run --release -p itinera-tests --example server_figures
//! ```
//!
//! Prints: durable changes per second accepted from 50 concurrent clients; the server's memory
//! with 10,000 documents stored and 100 of them open; its memory per idle WebSocket connection.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

use std::time::{Duration, Instant};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, user_with_token};

const WAIT: Duration = Duration::from_secs(60);

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

fn doc_id(client: u32, n: u32) -> DocumentId {
    let mut random = [0u8; 10];
    random[..4].copy_from_slice(&client.to_be_bytes());
    random[4..8].copy_from_slice(&n.to_be_bytes());
    DocumentId::new_v7(1_764_000_000_000, random)
}

fn small_doc(n: u32) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", format!("record {n}")).unwrap();
    doc.put(ROOT, "seats", i64::from(n % 40)).unwrap();
    doc.commit();
    doc
}

fn main() {
    let clients: u32 = std::env::var("CLIENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50);
    let seconds: u64 = std::env::var("SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let stored: u32 = std::env::var("STORED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let idle: u32 = std::env::var("IDLE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000);

    let data = DataDir::new("figures");
    let token = user_with_token(&data, "olga", "office", &[]);
    for durability in ["durable", "relaxed"] {
        let flags: &[&str] = if durability == "relaxed" {
            &["--relaxed-durability"]
        } else {
            &[]
        };
        let server = TestServer::start(&data, flags);
        let url = server.sync_url();
        let started = Instant::now();
        let deadline = started + Duration::from_secs(seconds);
        let threads: Vec<_> = (0..clients)
            .map(|c| {
                let (url, token) = (url.clone(), token.clone());
                std::thread::spawn(move || {
                    let mut device =
                        Device::connect(&url, &token, &format!("{durability}-writer-{c}")).unwrap();
                    let id = doc_id(c + if durability == "relaxed" { 10_000 } else { 0 }, 0);
                    device.node.insert(id, small_doc(c));
                    let mut acknowledged = 0u64;
                    let mut n = 0i64;
                    while Instant::now() < deadline {
                        n += 1;
                        device
                            .node
                            .change(&id, |doc| doc.put(ROOT, "seats", n).unwrap());
                        if device.run_until(WAIT, |d| d.acknowledged(&id)) {
                            acknowledged += 1;
                        }
                    }
                    acknowledged
                })
            })
            .collect();
        let total: u64 = threads.into_iter().map(|t| t.join().unwrap()).sum();
        let elapsed = started.elapsed().as_secs_f64();
        println!(
            "{durability:>7}: {clients} clients, each waiting for the acknowledgement of every change: {total} changes in {elapsed:.1} s = {:.0} acknowledged changes/s",
            total as f64 / elapsed
        );
        drop(server);
    }

    // 10,000 small documents stored, then a restart and 100 of them opened.
    let mut server = TestServer::start(&data, &[]);
    let url = server.sync_url();
    let per_client = stored / 10;
    let loaders: Vec<_> = (0..10u32)
        .map(|c| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut device = Device::connect(&url, &token, &format!("loader-{c}")).unwrap();
                let ids: Vec<DocumentId> = (0..per_client).map(|n| doc_id(100 + c, n)).collect();
                for (n, id) in ids.iter().enumerate() {
                    device.node.insert(*id, small_doc(n as u32));
                }
                assert!(device.run_until(Duration::from_secs(600), |d| {
                    ids.iter().all(|id| d.acknowledged(id))
                }));
            })
        })
        .collect();
    for loader in loaders {
        loader.join().unwrap();
    }
    server.terminate();
    let server = TestServer::start(&data, &[]);
    let pid = server_pid(&server);
    let before = rss_kib(pid);
    let mut reader = Device::connect(&server.sync_url(), &token, "reader").unwrap();
    let opened: Vec<DocumentId> = (0..100).map(|n| doc_id(100, n)).collect();
    for id in &opened {
        reader.node.find(*id);
    }
    assert!(reader.run_until(WAIT, |d| {
        opened.iter().all(|id| d.node.document(id).is_some())
    }));
    let after = rss_kib(pid);
    println!(
        "memory: {stored} documents stored; after restart {before} KiB RSS, with 100 open {after} KiB RSS (open_documents = {:?})",
        server.metric("itinera_open_documents")
    );
    reader.disconnect();

    // Idle connections: handshake done, nothing else.
    let before = rss_kib(pid);
    let mut idle_devices = Vec::new();
    for n in 0..idle {
        let mut device = Device::connect(&server.sync_url(), &token, &format!("idle-{n}")).unwrap();
        device.run_until(Duration::from_millis(200), |d| {
            d.events
                .iter()
                .any(|e| matches!(e, itinera_core::sync::Event::PeerJoined { .. }))
        });
        idle_devices.push(device);
    }
    let after = rss_kib(pid);
    println!(
        "idle connections: {idle} open, server RSS {before} KiB → {after} KiB = {:.1} KiB per connection",
        (after.saturating_sub(before)) as f64 / f64::from(idle)
    );
}

fn server_pid(server: &TestServer) -> u32 {
    server.pid()
}
