//! The disk fills up under a running server: writes are refused with a clear error, reads go on,
//! nothing acknowledged is lost, and writes succeed again once there is space.
//!
//! The data folder is a small tmpfs mounted by the test (the test needs the right to mount, as
//! root has on CI), filled with a file until the kernel says `ENOSPC`.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use itinera_core::DocumentId;
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, http, user_with_token};

const WAIT: Duration = Duration::from_secs(30);
const DISK: u64 = 40 * 1024 * 1024;

fn doc_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_100_000_000 + u64::from(n), [n; 10])
}

/// A string of `len` characters that compresses poorly, so that storing it takes about as many
/// bytes on disk.
fn incompressible(len: usize, seed: u64) -> String {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            char::from(
                b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_"
                    [(state % 64) as usize],
            )
        })
        .collect()
}

/// Writes a file into `dir` until the filesystem is full; returns its path.
fn fill_disk(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler file");
    for chunk in [1024 * 1024, 4096, 64] {
        let block = vec![0x5au8; chunk];
        loop {
            match file.write_all(&block).and_then(|()| file.sync_all()) {
                Ok(()) => {}
                Err(err) if err.raw_os_error() == Some(28) => break, // ENOSPC
                Err(err) => panic!("filling the disk failed otherwise: {err}"),
            }
        }
    }
    path
}

#[test]
fn a_full_disk_refuses_writes_keeps_serving_reads_and_recovers() {
    let data = DataDir::on_tmpfs("disk-full", DISK);
    let olga = user_with_token(&data, "olga", "office", &[]);
    // Large REST bodies are allowed here: the test fills the disk with them.
    let mut server = TestServer::start(&data, &["--max-body-bytes", "8388608"]);

    // Five documents written and acknowledged while there is space.
    let mut writer = Device::connect(&server.sync_url(), &olga, "writer").expect("connect");
    for n in 0..5u8 {
        let mut doc = AutoCommit::new().with_actor(ActorId::from([n + 1; 16]));
        doc.put(ROOT, "title", format!("document {n}"))
            .expect("put");
        doc.commit();
        writer.node.insert(doc_id(n), doc);
        assert!(writer.run_until(WAIT, |d| d.acknowledged(&doc_id(n))));
    }

    let filler = fill_disk(data.path());

    // A write that needs space: refused with a reason, and not acknowledged.
    let blob = incompressible(3 * 1024 * 1024, 7);
    writer.node.change(&doc_id(0), |doc| {
        doc.put(ROOT, "attachment", blob.as_str()).expect("put")
    });
    assert!(
        writer.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("could not store"))),
        "no storage error reached the writer: {:?}",
        writer.errors
    );
    assert!(!writer.acknowledged(&doc_id(0)));
    assert!(!writer.closed, "the writer's connection stays open");

    // Reads go on: another device fetches a document, the REST API serves one, and a REST
    // write is refused with a status that says "try later".
    let mut reader = Device::connect(&server.sync_url(), &olga, "reader").expect("connect");
    reader.node.find(doc_id(1));
    assert!(reader.run_until(WAIT, |d| d.node.document(&doc_id(1)).is_some()));
    let title = reader
        .node
        .document(&doc_id(1))
        .and_then(|doc| doc.get(ROOT, "title").ok().flatten())
        .map(|(value, _)| value.as_str().unwrap_or_default().to_owned());
    assert_eq!(title.as_deref(), Some("document 1"));
    let (status, view) = server.document(&olga, &doc_id(2));
    assert_eq!(status, 200);
    assert_eq!(view["record"]["title"], "document 2");
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{}", server.base, doc_id(3)),
        Some(&olga),
        Some(&format!(
            r#"{{"note":"{}"}}"#,
            incompressible(2 * 1024 * 1024, 9)
        )),
    );
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("space") || body.contains("store"), "{body}");
    // The server did not keep the refused change to hand out.
    let (_, view) = server.document(&olga, &doc_id(0));
    assert!(view["record"]["attachment"].is_null());
    let (_, view) = server.document(&olga, &doc_id(3));
    assert!(view["record"]["note"].is_null());

    // Space returns: the writer's change is asked for again and stored.
    std::fs::remove_file(&filler).expect("free the disk");
    assert!(
        writer.run_until(WAIT, |d| d.acknowledged(&doc_id(0))),
        "the change was not stored once there was space"
    );

    // Everything acknowledged survives a crash.
    server.kill9();
    let server = TestServer::start(&data, &[]);
    let (status, view) = server.document(&olga, &doc_id(0));
    assert_eq!(status, 200);
    assert_eq!(
        view["record"]["attachment"].as_str().map(str::len),
        Some(blob.len())
    );
    for n in 1..5u8 {
        let (_, view) = server.document(&olga, &doc_id(n));
        assert_eq!(view["record"]["title"], format!("document {n}"));
    }
}

#[test]
fn a_read_only_data_folder_stops_the_server_with_a_clear_error() {
    let data = DataDir::on_tmpfs("disk-ro", DISK);
    user_with_token(&data, "olga", "office", &[]);
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,ro"])
        .arg(data.path())
        .status()
        .expect("mount runs");
    assert!(remounted.success(), "could not remount the tmpfs read-only");
    let output = std::process::Command::new(itinera_tests::server::binary())
        .arg("--data")
        .arg(data.path())
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .expect("the server runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !output.status.success(),
        "the server started on a read-only store"
    );
    assert!(
        stderr.contains("Read-only file system") && !stderr.contains("panicked"),
        "{stderr}"
    );
    // Nothing was lost: writable again, it starts and knows its user.
    let remounted = std::process::Command::new("mount")
        .args(["-o", "remount,rw"])
        .arg(data.path())
        .status()
        .expect("mount runs");
    assert!(remounted.success());
    let users = itinera_tests::server::cli(&data, &["user", "list"]);
    assert!(users.contains("olga"), "{users}");
}
