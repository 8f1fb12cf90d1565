//! Crash loops: the server killed with SIGKILL at random moments under a write load, and a phone's
//! replica killed while it writes and syncs. Nothing acknowledged is ever lost.
//!
//! `ITINERA_CRASH_SEED` replays a failing run (the seed is in the failure message).
//! `cargo run --release -p itinera-tests --example crash_loop -- 100` runs the long version.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use itinera::{Replica, SyncClient};
use itinera_tests::crash_loop::{self, Rng, Settings};
use itinera_tests::server::{Backend, DataDir, TestServer, http_get, user_with_token};

fn seed(default: u64) -> u64 {
    std::env::var("ITINERA_CRASH_SEED")
        .ok()
        .and_then(|text| u64::from_str_radix(text.trim_start_matches("0x"), 16).ok())
        .unwrap_or(default)
}

/// Ten SIGKILLs under a write load of four devices, on `backend`.
fn killed_ten_times_under_load(backend: Backend) {
    let settings = Settings {
        cycles: 10,
        devices: 4,
        seed: seed(0x5eed_c0de_0001),
        min_uptime: Duration::from_millis(150),
        max_uptime: Duration::from_millis(700),
        backend,
    };
    let report = crash_loop::run(&settings, |line| eprintln!("{line}"));
    assert_eq!(report.cycles, 10);
    assert!(
        report.acknowledged >= 40,
        "too few writes were acknowledged to prove anything: {report:?}"
    );
    assert!(report.documents_checked >= 5, "{report:?}");
}

#[test]
fn the_server_killed_ten_times_under_load_loses_no_acknowledged_change() {
    killed_ten_times_under_load(Backend::Redb);
}

#[test]
fn the_server_on_postgres_killed_ten_times_under_load_loses_no_acknowledged_change() {
    killed_ten_times_under_load(Backend::postgres("crash_loop"));
}

const CHILD_REPLICA: &str = "ITINERA_CRASH_CHILD_REPLICA";
const CHILD_URL: &str = "ITINERA_CRASH_CHILD_URL";
const CHILD_TOKEN: &str = "ITINERA_CRASH_CHILD_TOKEN";
const CHILD_TEST: &str = "a_replica_killed_while_writing_and_syncing_keeps_every_saved_edit";

/// In the child: syncs in the background while creating accounts as fast as it can, printing
/// the id of each one `create_account` returned (returned means saved on the device).
#[allow(clippy::print_stdout)]
fn write_and_sync_until_killed(path: &str, url: &str, token: &str) {
    let replica = Replica::open(path.into(), "olga".into()).expect("child opens the replica");
    let client = SyncClient::new(replica.clone(), url.into(), token.into()).expect("client");
    client.start_background(20);
    for n in 0.. {
        let id = replica
            .create_account(format!("Account {n}"), "north".into())
            .expect("create");
        println!("saved {id}");
    }
}

#[test]
fn a_replica_killed_while_writing_and_syncing_keeps_every_saved_edit() {
    if let (Ok(path), Ok(url), Ok(token)) = (
        std::env::var(CHILD_REPLICA),
        std::env::var(CHILD_URL),
        std::env::var(CHILD_TOKEN),
    ) {
        write_and_sync_until_killed(&path, &url, &token);
        return;
    }
    let data = DataDir::new("replica-kill");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let path = data.path().join("phone.redb");
    let mut rng = Rng::new(seed(0x5eed_c0de_0002));
    let mut saved = Vec::new();
    for cycle in 0..6 {
        let mut child = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", CHILD_TEST, "--nocapture"])
            .env(CHILD_REPLICA, &path)
            .env(CHILD_URL, server.sync_url())
            .env(CHILD_TOKEN, &olga)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("child");
        let lines = BufReader::new(child.stdout.take().expect("stdout"));
        let kill_after = rng.between(5, 60);
        let mut this_run = 0;
        for line in lines.lines().map_while(Result::ok) {
            if let Some(id) = line.strip_prefix("saved ") {
                saved.push(id.to_owned());
                this_run += 1;
                if this_run == kill_after {
                    break;
                }
            }
        }
        child.kill().expect("kill");
        let _ = child.wait();
        assert_eq!(
            this_run, kill_after,
            "cycle {cycle}: the child stopped early"
        );

        let replica = Replica::open(path.display().to_string(), "olga".into())
            .expect("the replica opens after the kill");
        for id in &saved {
            let account = replica.account(id.clone()).expect("read");
            assert!(
                account.is_some(),
                "cycle {cycle}: saved account {id} is gone"
            );
        }
    }

    // Everything saved on the phone reaches the server with the next sync.
    let replica = Replica::open(path.display().to_string(), "olga".into()).expect("reopen");
    let client = SyncClient::new(replica.clone(), server.sync_url(), olga.clone()).expect("client");
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(client.sync_now())
        .expect("sync");
    assert!(replica.pending_documents().expect("pending").is_empty());
    for id in &saved {
        let (status, body) = http_get(
            &format!("{}/api/v1/documents/{id}", server.base),
            Some(&olga),
        );
        assert_eq!(status, 200, "{id} did not reach the server: {body}");
    }
}
