//! The phone SDK's replica and sync client (its Rust API, which Kotlin, Swift and Python wrap)
//! against the real server.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itinera::{ContactInput, PassengerInput, Replica, SyncClient, SyncListener, SyncStatus};
use itinera_core::DocumentId;
use itinera_core::model::*;
use itinera_tests::device::{Device, record};
use itinera_tests::server::{DataDir, TestServer, http, user_with_token};

const WAIT: Duration = Duration::from_secs(30);

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

#[derive(Default)]
struct Heard {
    statuses: Mutex<Vec<SyncStatus>>,
    changed: Mutex<Vec<String>>,
    rejected: Mutex<Vec<(String, String)>>,
}

impl SyncListener for Heard {
    fn records_changed(&self, documents: Vec<String>) {
        self.changed.lock().expect("lock").extend(documents);
    }
    fn status_changed(&self, status: SyncStatus) {
        self.statuses.lock().expect("lock").push(status);
    }
    fn document_rejected(&self, document: String, reason: String) {
        self.rejected.lock().expect("lock").push((document, reason));
    }
}

fn phone(
    data: &DataDir,
    name: &str,
    user: &str,
    server: &TestServer,
    token: &str,
) -> (Arc<Replica>, Arc<SyncClient>, Arc<Heard>) {
    let path = data.path().join(format!("{name}.redb"));
    let replica = Replica::open(path.display().to_string(), user.into()).expect("replica");
    let client = SyncClient::new(replica.clone(), server.sync_url(), token.into()).expect("client");
    let heard = Arc::new(Heard::default());
    client.set_listener(heard.clone());
    (replica, client, heard)
}

/// Syncs until `done` holds (the server's decisions arrive on a later round).
fn sync_until(client: &SyncClient, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        block(client.sync_now()).expect("sync");
        if done() {
            return;
        }
        assert!(Instant::now() < deadline, "the condition never held");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn two_offline_phones_converge_with_conflicts_stock_sums_and_server_decisions() {
    let data = DataDir::new("sdk-two-phones");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);

    // Head office sets up a tour kit and a departure; the first phone creates the account.
    let kit = DocumentId::new_v7(1_764_000_000_000, [1; 10]);
    let departure = DocumentId::new_v7(1_764_000_000_000, [2; 10]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let mut location = StockLocation {
        name: "Van 2".into(),
        custodian: Some("olga".into()),
        ..Default::default()
    };
    let receipt = StockMovement {
        item: "water".into(),
        quantity: 10,
        reason: MovementReason::Receipt,
        reference: None,
        actor: "olga".into(),
        at: 1,
    };
    location
        .post_movement(LogKey::new(1, "office"), receipt)
        .expect("receipt");
    office.node.insert(kit, record(1, &location));
    office.node.insert(
        departure,
        record(
            1,
            &Departure {
                tour: "db3".into(),
                capacity: 20,
                starts_at: 1,
                ends_at: 2,
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit) && d.acknowledged(&departure)));

    let (a, a_sync, a_heard) = phone(&data, "a", "olga", &server, &olga);
    let (b, b_sync, _) = phone(&data, "b", "olga", &server, &olga);
    let account = a
        .create_account("Lakeside Schools".into(), "north".into())
        .expect("account");
    a.add_contact(
        account.clone(),
        ContactInput {
            first_name: "Ilona".into(),
            last_name: "Kovács".into(),
            title: String::new(),
            email: Some("ilona@lakeside.example".into()),
            phone: None,
            language: "hu".into(),
        },
    )
    .expect("contact");
    let report = block(a_sync.sync_now()).expect("sync a");
    assert_eq!(report.documents_sent, 1);
    assert!(a.pending_documents().expect("pending").is_empty());
    sync_until(&b_sync, || {
        b.account(account.clone()).ok().flatten().is_some()
            && b.stock_level(kit.to_url(), "water".into()).ok().flatten() == Some(10)
    });

    // Both offline: the same field and different fields of the account, the same kit, a
    // booking each.
    a.update_account(
        account.clone(),
        Some("Lakeside Schools Ltd".into()),
        None,
        Some("Tata".into()),
    )
    .expect("edit a");
    b.update_account(
        account.clone(),
        Some("Lakeside School District".into()),
        Some("west".into()),
        None,
    )
    .expect("edit b");
    a.consume_stock(kit.to_url(), "water".into(), 3, Some(departure.to_url()))
        .expect("consume a");
    b.consume_stock(kit.to_url(), "water".into(), 3, Some(departure.to_url()))
        .expect("consume b");
    let guest = |name: &str| PassengerInput {
        name: name.into(),
        category: "adult".into(),
        dietary: String::new(),
    };
    let booking_a = a
        .create_booking(
            departure.to_url(),
            account.clone(),
            vec![guest("Anna")],
            39_000,
            "EUR".into(),
        )
        .expect("booking a");
    let booking_b = b
        .create_booking(
            departure.to_url(),
            account.clone(),
            vec![guest("Bence"), guest("Csilla")],
            78_000,
            "EUR".into(),
        )
        .expect("booking b");
    a.submit_booking(booking_a.clone()).expect("submit a");
    b.submit_booking(booking_b.clone()).expect("submit b");
    assert_eq!(a.pending_documents().expect("pending").len(), 3);

    // Reconnect.
    let decided = |r: &Replica, booking: &str| {
        r.booking(booking.into())
            .ok()
            .flatten()
            .is_some_and(|b| b.status == "confirmed")
    };
    block(a_sync.sync_now()).expect("sync a");
    sync_until(&b_sync, || decided(&b, &booking_b));
    sync_until(&a_sync, || {
        decided(&a, &booking_a)
            && a.account(account.clone())
                .ok()
                .flatten()
                .is_some_and(|v| v.territory == "west")
    });
    sync_until(&b_sync, || {
        b.account(account.clone()).ok().flatten() == a.account(account.clone()).ok().flatten()
    });

    let on_a = a.account(account.clone()).expect("read").expect("account");
    assert_eq!(
        (on_a.city.as_str(), on_a.territory.as_str()),
        ("Tata", "west"),
        "edits of different fields both kept"
    );
    let conflict = a
        .conflicts(account.clone(), "/name".into())
        .expect("conflicts");
    assert_eq!(conflict.len(), 2, "the same-field edit shows as a conflict");
    assert_eq!(conflict.iter().filter(|v| v.winner).count(), 1);
    assert_eq!(
        a.stock_level(kit.to_url(), "water".into()).expect("level"),
        Some(4),
        "stock down by the sum"
    );
    assert_eq!(
        b.stock_level(kit.to_url(), "water".into()).expect("level"),
        Some(4)
    );
    assert!(a.pending_documents().expect("pending").is_empty());
    assert!(a.last_sync().expect("last sync").is_some());
    // The listener runs on a thread of its own: it may hear the last events a moment after.
    server.eventually("the listener hearing the sync end", || {
        a_heard.statuses.lock().expect("lock").last() == Some(&SyncStatus::Online)
            && !a_heard.changed.lock().expect("lock").is_empty()
    });
    let statuses = a_heard.statuses.lock().expect("lock").clone();
    assert!(
        statuses.contains(&SyncStatus::Syncing) && statuses.last() == Some(&SyncStatus::Online)
    );
    assert!(
        !a_heard.changed.lock().expect("lock").is_empty(),
        "the listener heard of changed records"
    );
}

#[test]
fn a_refused_change_reaches_the_listener_and_can_be_discarded() {
    let data = DataDir::new("sdk-rejected");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let (replica, client, heard) = phone(&data, "sam", "sam", &server, &sam);
    let account = replica
        .create_account("Harbour Travel".into(), "south".into())
        .expect("account");
    block(client.sync_now()).expect("sync");

    // Head office hands the account to another rep while Sam edits it offline.
    let id = DocumentId::parse(&account).expect("id");
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&olga),
        Some(r#"{"owner":"sofia"}"#),
    );
    assert_eq!(status, 200, "{body}");
    replica
        .update_account(
            account.clone(),
            Some("Harbour Travel (Sam)".into()),
            None,
            None,
        )
        .expect("offline edit");
    assert_eq!(
        replica.pending_documents().expect("pending"),
        vec![account.clone()]
    );

    let report = block(client.sync_now()).expect("sync");
    assert_eq!(report.rejected.len(), 1, "{report:?}");
    assert_eq!(report.rejected[0].document, account);
    // The app's listener is called off the sync task (a listener can never hold a sync up),
    // so it may hear of the refusal a moment after the sync returned.
    server.eventually("the listener hearing of the refusal", || {
        !heard.rejected.lock().expect("lock").is_empty()
    });
    let rejected = heard.rejected.lock().expect("lock").clone();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0].1.contains("may not write"), "{rejected:?}");

    client
        .discard_local_changes(account.clone())
        .expect("discard");
    let view = replica
        .account(account.clone())
        .expect("read")
        .expect("account");
    assert_eq!(
        view.name, "Harbour Travel",
        "back to the version the server acknowledged"
    );
    assert!(replica.pending_documents().expect("pending").is_empty());
}

/// In the child process: open the replica, make an edit, start syncing, and wait to be killed.
/// It reports on stdout, which the parent reads.
#[allow(clippy::print_stdout)]
fn child_edits_then_syncs(path: &str, url: &str, token: &str) {
    let replica = Replica::open(path.into(), "olga".into()).expect("replica");
    let account = replica
        .create_account("Killed mid-sync".into(), "north".into())
        .expect("account");
    for n in 0..150 {
        replica
            .create_account(format!("Filler {n}"), "north".into())
            .expect("filler");
    }
    println!("edited {account}");
    let client = SyncClient::new(replica, url.into(), token.into()).expect("client");
    println!("syncing");
    let _ = block(client.sync_now());
    println!("synced");
}

#[test]
fn a_device_killed_mid_sync_loses_no_local_edit() {
    if let (Ok(path), Ok(url), Ok(token)) = (
        std::env::var("ITINERA_CHILD_REPLICA"),
        std::env::var("ITINERA_CHILD_URL"),
        std::env::var("ITINERA_CHILD_TOKEN"),
    ) {
        child_edits_then_syncs(&path, &url, &token);
        return;
    }
    let data = DataDir::new("sdk-kill");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let path = data.path().join("phone.redb");
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "a_device_killed_mid_sync_loses_no_local_edit",
            "--nocapture",
        ])
        .env("ITINERA_CHILD_REPLICA", &path)
        .env("ITINERA_CHILD_URL", server.sync_url())
        .env("ITINERA_CHILD_TOKEN", &olga)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("child");
    let mut account = None;
    let stdout = child.stdout.take().expect("stdout");
    for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)).map_while(Result::ok) {
        if let Some(id) = line.strip_prefix("edited ") {
            account = Some(id.to_owned());
        }
        if line == "syncing" {
            // Let the sync get under way, then pull the plug.
            std::thread::sleep(Duration::from_millis(30));
            child.kill().expect("kill");
            break;
        }
    }
    let _ = child.wait();
    let account = account.expect("the child reported its edit");

    // The next start finds the edit and syncs it.
    let replica = Replica::open(path.display().to_string(), "olga".into()).expect("reopen");
    assert_eq!(
        replica
            .account(account.clone())
            .expect("read")
            .map(|a| a.name)
            .as_deref(),
        Some("Killed mid-sync")
    );
    let client = SyncClient::new(replica.clone(), server.sync_url(), olga.clone()).expect("client");
    block(client.sync_now()).expect("sync");
    assert!(replica.pending_documents().expect("pending").is_empty());
    let id = DocumentId::parse(&account).expect("id");
    let (status, body) = itinera_tests::server::http_get(
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&olga),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("Killed mid-sync"));
}

#[test]
fn background_sync_sends_a_local_change_without_being_asked() {
    let data = DataDir::new("sdk-background");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let (replica, client, heard) = phone(&data, "phone", "olga", &server, &olga);
    client.start_background(60_000);
    let account = replica
        .create_account("Sent in the background".into(), "north".into())
        .expect("account");
    let deadline = Instant::now() + WAIT;
    while !replica.pending_documents().expect("pending").is_empty() {
        assert!(
            Instant::now() < deadline,
            "the background sync never sent the change"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    client.stop_background();
    let id = DocumentId::parse(&account).expect("id");
    let (status, body) = itinera_tests::server::http_get(
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&olga),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        heard
            .statuses
            .lock()
            .expect("lock")
            .contains(&SyncStatus::Online)
    );

    // Offline (a server that does not answer): the loop reports it and keeps the change.
    let (offline, offline_client, offline_heard) = {
        let path = data.path().join("offline.redb");
        let replica = Replica::open(path.display().to_string(), "olga".into()).expect("replica");
        let client = SyncClient::new(
            replica.clone(),
            "ws://127.0.0.1:9/sync".into(),
            olga.clone(),
        )
        .expect("client");
        let heard = Arc::new(Heard::default());
        client.set_listener(heard.clone());
        (replica, client, heard)
    };
    offline
        .create_account("Waits for signal".into(), "north".into())
        .expect("account");
    offline_client.start_background(60_000);
    let deadline = Instant::now() + WAIT;
    while !offline_heard
        .statuses
        .lock()
        .expect("lock")
        .contains(&SyncStatus::Offline)
    {
        assert!(
            Instant::now() < deadline,
            "the listener never heard the device is offline"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    offline_client.stop_background();
    assert_eq!(
        offline.pending_documents().expect("pending").len(),
        1,
        "the change waits"
    );
}
