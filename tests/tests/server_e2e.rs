//! The real server, driven through its public protocol and API by the unmodified JS client and
//! by Rust devices on the core engine.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT, ReadDoc};
use itinera_core::DocumentId;
use itinera_core::model::{Account, Booking, BookingStatus, Invoice};
use itinera_core::protocol::DecodeLimits;
use itinera_tests::device::{ConnectError, Device, record};
use itinera_tests::js::node;
use itinera_tests::server::{DataDir, TestServer, cli, http, http_get, token, user_with_token};

const WAIT: Duration = Duration::from_secs(20);

fn new_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_000_000_000 + u64::from(n), [n; 10])
}

#[test]
fn js_clients_create_find_and_converge_and_another_user_cannot_see_it() {
    let data = DataDir::new("js-generic");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ana_phone_2 = token(&data, "ana", "1d");
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let server = TestServer::start(&data, &[]);

    let out = node(
        "js/e2e_generic.mjs",
        &[&server.base, &ana, &ana_phone_2, &ben],
        "",
    );
    let result: serde_json::Value =
        serde_json::from_str(out.trim()).expect("json from the JS client");
    assert_eq!(result["seenByB"]["title"], "Danube bend");
    assert_eq!(result["a"], result["b"], "both JS clients converged");
    assert_eq!(result["a"]["seats"], 11);
    assert_eq!(result["a"]["note"], "pick-up at 7:30");
    assert_eq!(result["third"], "unavailable");
}

#[test]
fn a_rust_device_and_a_js_client_converge_on_an_account() {
    let data = DataDir::new("rust-js");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let id = new_id(1);
    let account = Account {
        name: "Lakeside Travel".into(),
        owner: "ana".into(),
        territory: "north".into(),
        ..Default::default()
    };

    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-rust").expect("connect");
    phone.node.insert(id, record(1, &account));
    assert!(
        phone.run_until(WAIT, |d| d.acknowledged(&id)),
        "server acknowledged the new account"
    );

    // The JS client renames it, and waits for the tag the Rust device adds.
    let js = std::thread::spawn({
        let (base, ana, url) = (server.base.clone(), ana.clone(), id.to_url());
        move || node("js/account_peer.mjs", &[&base, &ana, &url], "")
    });
    assert!(
        phone.run_until(WAIT, |d| {
            d.node
                .document(&id)
                .and_then(|doc| autosurgeon::hydrate::<_, Account>(doc).ok())
                .is_some_and(|a| a.name == "Lakeside Travel Ltd")
        }),
        "the JS rename reached the Rust device"
    );
    phone.node.change(&id, |doc| {
        let mut account: Account = autosurgeon::hydrate(doc).expect("account");
        account.tags.insert("vip");
        autosurgeon::reconcile(doc, &account).expect("reconcile");
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&id)));
    let seen_by_js: serde_json::Value =
        serde_json::from_str(js.join().expect("js thread").trim()).expect("json");
    assert_eq!(seen_by_js["name"], "Lakeside Travel Ltd");
    assert_eq!(seen_by_js["tags"]["vip"], true);
    assert!(phone.errors.is_empty(), "{:?}", phone.errors);
}

#[test]
fn missing_revoked_expired_and_bad_tokens_are_refused_before_the_upgrade() {
    let data = DataDir::new("tokens");
    let good = user_with_token(&data, "olga", "office", &[]);
    let revoked = token(&data, "olga", "1d");
    cli(&data, &["token", "revoke", &revoked]);
    let expired = token(&data, "olga", "0s");
    cli(&data, &["user", "add", "gone", "--role", "guide"]);
    let disabled = token(&data, "gone", "1d");
    cli(&data, &["user", "disable", "gone"]);
    let server = TestServer::start(&data, &[]);

    // The last character changed (to one it is not: a token ending in `x` stays itself with `x`).
    let last = if good.ends_with('x') { 'y' } else { 'x' };
    let tampered = format!("{}{last}", &good[..good.len() - 1]);
    for (what, token) in [
        ("revoked", revoked.as_str()),
        ("expired", expired.as_str()),
        ("disabled user", disabled.as_str()),
        ("tampered", tampered.as_str()),
        ("empty", ""),
    ] {
        match Device::connect(&server.sync_url(), token, "p") {
            Err(ConnectError::Status(status)) => assert_eq!(status, 401, "{what} token"),
            other => panic!("{what} token was not refused: {other:?}"),
        }
    }
    assert_eq!(
        http_get(&format!("{}/sync", server.base), None).0,
        401,
        "no token at all"
    );
    assert!(Device::connect(&server.sync_url(), &good, "p").is_ok());
    assert!(!server.log().contains(&good), "a token reached the log");
}

#[test]
fn a_guide_cannot_see_an_invoice_and_reps_cannot_write_what_is_not_theirs() {
    let data = DataDir::new("access");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let (invoice, booking, other_account) = (new_id(10), new_id(11), new_id(12));

    let mut office = Device::connect(&server.sync_url(), &olga, "olga-laptop").expect("connect");
    office.node.insert(
        invoice,
        record(
            2,
            &Invoice {
                provisional_number: "OLGA-1".into(),
                customer: "x".into(),
                ..Default::default()
            },
        ),
    );
    office.node.insert(
        booking,
        record(
            2,
            &Booking {
                rep: "sam".into(),
                departure: "d".into(),
                ..Default::default()
            },
        ),
    );
    office.node.insert(
        other_account,
        record(
            2,
            &Account {
                name: "Not Sam's".into(),
                owner: "sofia".into(),
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| {
        [invoice, booking, other_account]
            .iter()
            .all(|id| d.acknowledged(id))
    }));

    // The guide asks for the invoice: unavailable, exactly like a document that does not exist.
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    guide.node.find(invoice);
    assert!(guide.run_until(WAIT, |d| {
        d.events
            .contains(&itinera_core::sync::Event::DocumentUnavailable(invoice))
    }));
    assert!(guide.node.document(&invoice).is_none());

    // The rep may read his booking but not confirm it himself, nor touch another rep's account.
    let mut rep = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    rep.node.find(booking);
    assert!(rep.run_until(WAIT, |d| d.node.document(&booking).is_some()));
    rep.node.change(&booking, |doc| {
        let mut b: Booking = autosurgeon::hydrate(doc).expect("booking");
        b.status = BookingStatus::Confirmed;
        autosurgeon::reconcile(doc, &b).expect("reconcile");
    });
    assert!(
        rep.run_until(WAIT, |d| d.errors.iter().any(|e| e.contains("/status"))),
        "errors: {:?}",
        rep.errors
    );
    let (_, on_server) = server.document(&olga, &booking);
    assert_eq!(
        on_server["record"]["status"], "draft",
        "the status change was not merged"
    );

    // A stranger's copy of another rep's account is refused outright.
    let mut forged = record(
        9,
        &Account {
            name: "Not Sam's".into(),
            owner: "sofia".into(),
            ..Default::default()
        },
    );
    forged.put(ROOT, "name", "Sam was here").expect("put");
    let mut sneaky = Device::connect(&server.sync_url(), &sam, "sam-tablet").expect("connect");
    sneaky.node.insert(other_account, forged);
    assert!(
        sneaky.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("may not write"))),
        "errors: {:?}",
        sneaky.errors
    );
    let (_, on_server) = server.document(&olga, &other_account);
    assert_eq!(on_server["record"]["name"], "Not Sam's");

    // Sam's account is handed to Sofia while Sam is offline: his offline edit is refused.
    let sams = new_id(13);
    office.node.insert(
        sams,
        record(
            2,
            &Account {
                name: "Was Sam's".into(),
                owner: "sam".into(),
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&sams)));
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone-2").expect("connect");
    phone.node.find(sams);
    assert!(phone.run_until(WAIT, |d| d.node.document(&sams).is_some()));
    phone.disconnect();
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{sams}", server.base),
        Some(&olga),
        Some(r#"{"owner":"sofia"}"#),
    );
    assert_eq!(status, 200, "{body}");
    phone.node.change(&sams, |doc| {
        doc.put(ROOT, "name", "Sam was here").expect("put")
    });
    phone
        .reconnect(&server.sync_url(), &sam)
        .expect("reconnect");
    assert!(
        phone.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("may not write"))),
        "errors: {:?}",
        phone.errors
    );
    let (_, on_server) = server.document(&olga, &sams);
    assert_eq!(on_server["record"]["name"], "Was Sam's");
    assert_eq!(on_server["record"]["owner"], "sofia");
}

#[test]
fn every_acknowledged_change_survives_a_kill_9() {
    let data = DataDir::new("kill9");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let mut server = TestServer::start(&data, &[]);
    let id = new_id(20);
    let mut doc = AutoCommit::new().with_actor(ActorId::from([3u8; 16]));
    doc.put(ROOT, "title", "ledger of writes").expect("put");
    doc.commit();
    let mut device = Device::connect(&server.sync_url(), &olga, "writer").expect("connect");
    device.node.insert(id, doc);

    let mut acknowledged = 0u32;
    let mut written = 0u32;
    for n in 1..=200u32 {
        device.node.change(&id, |doc| {
            doc.put(ROOT, format!("w{n}"), i64::from(n)).expect("put")
        });
        written = n;
        device.run_until(Duration::from_millis(50), |d| d.acknowledged(&id));
        if device.acknowledged(&id) {
            acknowledged = n;
        }
        if n == 120 {
            server.kill9();
            break;
        }
    }
    assert!(
        acknowledged > 10,
        "too few writes were acknowledged before the kill ({acknowledged})"
    );
    device.disconnect();

    let server = TestServer::start(&data, &[]);
    let (status, view) = server.document(&olga, &id);
    assert_eq!(status, 200);
    for n in 1..=acknowledged {
        assert_eq!(
            view["record"][format!("w{n}")],
            n,
            "acknowledged write {n} of {written} lost"
        );
    }
}

#[test]
fn an_idle_document_is_unloaded_and_loads_again_intact() {
    let data = DataDir::new("idle");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &["--idle-unload-ms", "200"]);
    let id = new_id(30);
    let account = Account {
        name: "Harbour Tours".into(),
        owner: "olga".into(),
        ..Default::default()
    };
    let mut device = Device::connect(&server.sync_url(), &olga, "laptop").expect("connect");
    device.node.insert(id, record(4, &account));
    assert!(device.run_until(WAIT, |d| d.acknowledged(&id)));
    device.disconnect();

    let deadline = std::time::Instant::now() + WAIT;
    while server.metric("itinera_open_documents").unwrap_or(1.0) > 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the document was never unloaded"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut other = Device::connect(&server.sync_url(), &olga, "desktop").expect("connect");
    other.node.find(id);
    assert!(other.run_until(WAIT, |d| d.node.document(&id).is_some()));
    let loaded: Account =
        autosurgeon::hydrate(other.node.document(&id).expect("doc")).expect("account");
    assert_eq!(loaded.name, "Harbour Tours");
}

#[test]
fn bad_frames_close_only_their_connection() {
    let data = DataDir::new("bad-frames");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let id = new_id(40);
    let mut good = Device::connect(&server.sync_url(), &olga, "good").expect("connect");
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "n", 0i64).expect("put");
    doc.commit();
    good.node.insert(id, doc);
    assert!(good.run_until(WAIT, |d| d.acknowledged(&id)));

    let mut bad = Device::connect(&server.sync_url(), &olga, "bad").expect("connect");
    bad.send_raw(b"\xff\x00 this is not CBOR".to_vec());
    assert!(
        bad.run_until(WAIT, |d| d.closed),
        "the bad connection was not closed"
    );
    assert!(
        bad.errors.iter().any(|e| e.contains("bad frame")),
        "{:?}",
        bad.errors
    );

    good.node
        .change(&id, |doc| doc.put(ROOT, "n", 1i64).expect("put"));
    assert!(
        good.run_until(WAIT, |d| d.acknowledged(&id)),
        "the good connection stopped syncing"
    );
    let (_, view) = server.document(&olga, &id);
    assert_eq!(view["record"]["n"], 1);
    let _ = DecodeLimits::default();
}

#[test]
fn the_rest_api_creates_and_updates_records_that_phones_receive() {
    let data = DataDir::new("rest");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/records/account", server.base),
        Some(&olga),
        Some(r#"{"name":"Summit Schools","owner":"olga","territory":"south"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("json");
    let id = DocumentId::parse(created["id"].as_str().expect("id")).expect("document id");

    let mut phone = Device::connect(&server.sync_url(), &olga, "phone").expect("connect");
    phone.node.find(id);
    assert!(phone.run_until(WAIT, |d| d.node.document(&id).is_some()));
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&olga),
        Some(r#"{"notes":"Prefers rail."}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(phone.run_until(WAIT, |d| {
        d.node
            .document(&id)
            .and_then(|doc| autosurgeon::hydrate::<_, Account>(doc).ok())
            .is_some_and(|a| a.notes.as_str() == "Prefers rail.")
    }));
    let (status, _) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(&olga),
        Some(r#"{"name": 42}"#),
    );
    assert_eq!(status, 403, "a schema-breaking patch is refused");
    let (status, _) = http(
        "GET",
        &format!("{}/api/v1/records?kind=account", server.base),
        None,
        None,
    );
    assert_eq!(status, 401);
    let (status, body) = http(
        "GET",
        &format!("{}/api/v1/records?kind=account", server.base),
        Some(&olga),
        None,
    );
    assert_eq!(status, 200);
    assert!(body.contains("Summit Schools"));
    let doc_value = phone
        .node
        .document(&id)
        .expect("doc")
        .get(ROOT, "territory")
        .expect("get")
        .map(|(v, _)| v.to_string());
    assert_eq!(doc_value.as_deref(), Some("\"south\""));
}

#[test]
fn sigterm_and_sigint_flush_even_relaxed_writes_and_exit_cleanly() {
    type Stop = fn(&mut TestServer) -> std::process::ExitStatus;
    let stops: [(&str, Stop); 2] = [
        ("sigterm", TestServer::terminate),
        ("sigint", TestServer::interrupt),
    ];
    for (n, (name, stop)) in (50u8..).zip(stops) {
        let data = DataDir::new(name);
        let olga = user_with_token(&data, "olga", "office", &[]);
        let mut server = TestServer::start(&data, &["--relaxed-durability"]);
        let id = new_id(n);
        let mut device = Device::connect(&server.sync_url(), &olga, "laptop").expect("connect");
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "title", "written before shutdown")
            .expect("put");
        doc.commit();
        device.node.insert(id, doc);
        for n in 0..20i64 {
            device
                .node
                .change(&id, |doc| doc.put(ROOT, format!("k{n}"), n).expect("put"));
        }
        assert!(device.run_until(WAIT, |d| d.acknowledged(&id)));
        device.disconnect();
        let status = stop(&mut server);
        assert!(
            status.success(),
            "{name}: exit status {status}: {}",
            server.log()
        );
        assert!(
            server.log().contains(&name.to_uppercase()),
            "{name}: the log names it"
        );
        assert!(server.log().contains("the store is flushed"), "{name}");

        let server = TestServer::start(&data, &[]);
        let (status, view) = server.document(&olga, &id);
        assert_eq!(status, 200, "{name}");
        assert_eq!(view["record"]["k19"], 19, "{name}");
    }
}

#[test]
fn a_generic_document_is_its_creators_until_shared() {
    let data = DataDir::new("sharing");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    // Passwords never travel as flags (the process list shows them): from a file here.
    let password = data.path().join("pat-password");
    std::fs::write(&password, "s3cret\n").expect("password file");
    cli(
        &data,
        &[
            "user",
            "add",
            "pat",
            "--role",
            "office",
            "--password-file",
            password.to_str().expect("utf-8"),
        ],
    );
    let server = TestServer::start(&data, &[]);
    let id = new_id(60);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "shopping", "bread, water").expect("put");
    doc.commit();
    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    phone.node.insert(id, doc);
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&id)));

    let mut other = Device::connect(&server.sync_url(), &ben, "ben-phone").expect("connect");
    other.node.find(id);
    assert!(other.run_until(WAIT, |d| {
        d.events
            .contains(&itinera_core::sync::Event::DocumentUnavailable(id))
    }));
    assert_eq!(server.document(&ben, &id).0, 404);

    // Only the owner may share; then Ben sees it.
    let share = format!("{}/api/v1/documents/{id}/shares/ben", server.base);
    assert_eq!(http("PUT", &share, Some(&ben), None).0, 404);
    assert_eq!(http("PUT", &share, Some(&ana), None).0, 204);
    let mut again = Device::connect(&server.sync_url(), &ben, "ben-laptop").expect("connect");
    again.node.find(id);
    assert!(again.run_until(WAIT, |d| d.node.document(&id).is_some()));

    // An office user logs in with a password; office does not see private generic documents.
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/login", server.base),
        None,
        Some(r#"{"user":"pat","password":"s3cret"}"#),
    );
    assert_eq!(status, 200, "{body}");
    let login: serde_json::Value = serde_json::from_str(&body).expect("json");
    let pat = login["token"].as_str().expect("token").to_owned();
    assert_eq!(server.document(&pat, &id).0, 404);
    let (status, _) = http(
        "POST",
        &format!("{}/api/v1/login", server.base),
        None,
        Some(r#"{"user":"pat","password":"wrong"}"#),
    );
    assert_eq!(status, 401);
}

#[test]
fn oversize_frames_slow_readers_and_silent_clients_are_disconnected() {
    let data = DataDir::new("limits");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(
        &data,
        &[
            "--max-frame-bytes",
            "65536",
            "--max-outgoing-bytes",
            "2000",
            "--ping-interval-ms",
            "50",
            "--client-timeout-ms",
            "300",
        ],
    );
    // A frame over the limit ends that connection.
    let mut big = Device::connect(&server.sync_url(), &olga, "big").expect("connect");
    big.send_raw(vec![0xa0; 100_000]);
    assert!(
        big.run_until(WAIT, |d| d.closed),
        "an oversize frame did not close the connection"
    );

    // A document larger than the outgoing limit cannot be queued for a client: it is dropped.
    let id = new_id(70);
    let mut writer = Device::connect(&server.sync_url(), &olga, "writer").expect("connect");
    let mut doc = AutoCommit::new();
    // Scattered numbers: automerge compresses repetitive columns, and this must stay large.
    for i in 0..600u64 {
        doc.put(
            ROOT,
            format!("k{i}"),
            i.wrapping_mul(0x9e37_79b9_7f4a_7c15) as i64,
        )
        .expect("put");
    }
    doc.commit();
    writer.node.insert(id, doc);
    assert!(writer.run_until(WAIT, |d| d.acknowledged(&id)));
    let mut reader = Device::connect(&server.sync_url(), &olga, "reader").expect("connect");
    reader.node.find(id);
    assert!(
        reader.run_until(WAIT, |d| d.closed),
        "the slow reader was kept"
    );
    assert!(
        server
            .metric("itinera_slow_clients_disconnected_total")
            .unwrap_or(0.0)
            >= 1.0
    );

    // Clients that never answer pings (this one, and the writer, now that nobody polls it) are
    // dropped after the timeout.
    let silent = Device::connect(&server.sync_url(), &olga, "silent").expect("connect");
    let deadline = std::time::Instant::now() + WAIT;
    while server.metric("itinera_connections").unwrap_or(1.0) > 0.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "silent clients were never dropped"
        );
        std::thread::sleep(Duration::from_millis(25));
    }
    drop((silent, writer));
}

#[test]
fn ephemeral_messages_reach_the_other_readers_once() {
    let data = DataDir::new("ephemeral");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let id = new_id(80);
    let mut a = Device::connect(&server.sync_url(), &olga, "laptop").expect("connect");
    a.node.insert(
        id,
        record(
            5,
            &Account {
                name: "Presence".into(),
                owner: "olga".into(),
                ..Default::default()
            },
        ),
    );
    assert!(a.run_until(WAIT, |d| d.acknowledged(&id)));
    let mut b = Device::connect(&server.sync_url(), &olga, "desktop").expect("connect");
    b.node.find(id);
    assert!(b.run_until(WAIT, |d| d.node.document(&id).is_some()));
    // A guide asks for it too: he may not read accounts, so he must not see the cursor either.
    let mut outsider = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    outsider.node.find(id);
    assert!(outsider.run_until(WAIT, |d| {
        d.events
            .contains(&itinera_core::sync::Event::DocumentUnavailable(id))
    }));

    a.node
        .broadcast_ephemeral(&id, b"cursor: contacts/c-1".to_vec());
    a.run_until(Duration::from_millis(100), |_| false);
    let received = |d: &Device| {
        d.events
            .iter()
            .filter(|e| matches!(e, itinera_core::sync::Event::Ephemeral { .. }))
            .count()
    };
    assert!(b.run_until(WAIT, |d| received(d) == 1));
    b.run_until(Duration::from_millis(200), |_| false);
    outsider.run_until(Duration::from_millis(200), |_| false);
    assert_eq!(received(&b), 1, "delivered once");
    assert_eq!(
        received(&outsider),
        0,
        "not to a user who may not read the document"
    );
}

/// Polls `probe` until it holds or `WAIT` passes (the server applies what it decided a moment
/// after it answered).
fn eventually(mut probe: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        if probe() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    probe()
}

/// The documents `user`'s index lists, read through the REST API as `user`.
fn index_of(server: &TestServer, token: &str, user: &str) -> Vec<String> {
    let (status, body) = server.document(token, &DocumentId::index_of(user));
    if status != 200 {
        return Vec::new();
    }
    body["record"]["documents"]
        .as_object()
        .map(|documents| documents.keys().cloned().collect())
        .unwrap_or_default()
}

#[test]
fn a_document_shared_with_a_user_enters_their_index_at_once_and_after_a_restart() {
    let data = DataDir::new("share-index");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let mut server = TestServer::start(&data, &[]);
    let id = new_id(70);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "name", "Rooming list").expect("put");
    doc.commit();
    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    phone.node.insert(id, doc);
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&id)));
    assert!(!index_of(&server, &ben, "ben").contains(&id.to_string()));

    let share = format!("{}/api/v1/documents/{id}/shares/ben", server.base);
    assert_eq!(http("PUT", &share, Some(&ana), None).0, 204);
    assert!(
        eventually(|| index_of(&server, &ben, "ben").contains(&id.to_string())),
        "the shared document entered Ben's index"
    );

    // After a restart the index is rebuilt from the store: the share is still there. A new
    // account of Ben's entering the index shows the rebuild has run.
    assert!(server.terminate().success());
    let server = TestServer::start(&data, &[]);
    let account = create_account(
        &server,
        &ben,
        r#"{"name": "Harbour Schools", "owner": "ben"}"#,
    );
    assert!(
        eventually(|| index_of(&server, &ben, "ben").contains(&account)),
        "the new account entered Ben's index"
    );
    assert!(
        index_of(&server, &ben, "ben").contains(&id.to_string()),
        "the shared document is still in Ben's index after the restart"
    );
    let mut laptop = Device::connect(&server.sync_url(), &ben, "ben-laptop").expect("connect");
    laptop.node.find(id);
    assert!(laptop.run_until(WAIT, |d| d.node.document(&id).is_some()));
}

/// Creates an account through the REST API as the holder of `token`; its id.
fn create_account(server: &TestServer, token: &str, json: &str) -> String {
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/records/account", server.base),
        Some(token),
        Some(json),
    );
    assert_eq!(status, 201, "{body}");
    let created: serde_json::Value = serde_json::from_str(&body).expect("json");
    created["id"]
        .as_str()
        .and_then(|url| url.strip_prefix("automerge:"))
        .expect("an id")
        .to_owned()
}

/// The documents the server holds loaded, from `/metrics`.
fn open_documents(server: &TestServer) -> Option<u64> {
    let (_, text) = http_get(&format!("{}/metrics", server.base), None);
    text.lines()
        .find(|line| {
            line.starts_with("itinera_open_documents") || line.starts_with("open_documents")
        })
        .and_then(|line| line.split_whitespace().last())
        .and_then(|value| value.parse().ok())
}

/// Starts the server on `data` again and checks that its start-up loaded no document: every
/// index already lists what it should.
fn restarted_loading_nothing(data: &DataDir) -> TestServer {
    let server = TestServer::start(data, &[]);
    server.wait_ready();
    assert_eq!(
        open_documents(&server),
        Some(0),
        "no document loaded after a restart with nothing to change:\n{}",
        server.log()
    );
    server
}

#[test]
fn a_restart_loads_only_the_indexes_that_must_change() {
    let data = DataDir::new("index-digest");
    let ana = user_with_token(&data, "ana", "admin", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let mut server = TestServer::start(&data, &[]);
    let account = create_account(
        &server,
        &ana,
        r#"{"name": "Fjord Cruises", "owner": "ana"}"#,
    );
    assert!(eventually(
        || index_of(&server, &ana, "ana").contains(&account)
    ));
    server.wait_ready();
    assert!(server.terminate().success());

    // Nothing changed while it was stopped: every index already lists what it should, so the
    // start-up loads none of them.
    let mut server = restarted_loading_nothing(&data);
    assert!(server.terminate().success());

    // Ben became an admin while the server was stopped: his index must be written again.
    cli(&data, &["user", "set-role", "ben", "admin"]);
    let mut server = TestServer::start(&data, &[]);
    server.wait_ready();
    assert!(
        index_of(&server, &ben, "ben").contains(&account),
        "Ben's index lists the account once he is an admin"
    );
    assert!(
        index_of(&server, &ana, "ana").contains(&account),
        "Ana's index still lists it"
    );
    assert!(server.terminate().success());
}

#[test]
fn a_graceful_stop_leaves_no_index_to_write_again() {
    // As a_restart_loads_only_the_indexes_that_must_change, with the accounts created the way
    // phones create them (over sync, by the reps who own them), and a title still waiting for
    // its quiet period when the server is told to stop.
    let data = DataDir::new("index-digest-phones");
    let ana = user_with_token(&data, "ana", "admin", &[]);
    let sam = user_with_token(&data, "sam", "sales", &["territory:north"]);
    let server = TestServer::start(&data, &[]);
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let ids: Vec<DocumentId> = (0..5).map(|n| new_id(90 + n)).collect();
    for (n, id) in ids.iter().enumerate() {
        let account = Account {
            name: format!("Harbour Tours {n}"),
            owner: "sam".into(),
            territory: "north".into(),
            ..Default::default()
        };
        phone.node.insert(*id, record(90 + n as u8, &account));
    }
    assert!(
        phone.run_until(WAIT, |d| ids.iter().all(|id| d.acknowledged(id))),
        "the server acknowledged the phone's accounts"
    );
    assert!(eventually(|| {
        let listed = index_of(&server, &ana, "ana");
        ids.iter().all(|id| listed.contains(&id.to_string()))
    }));
    assert!(eventually(|| {
        let listed = index_of(&server, &sam, "sam");
        ids.iter().all(|id| listed.contains(&id.to_string()))
    }));
    drop(phone);
    // Renamed twice: the second title waits for the first's quiet period (a minute) before
    // the indexes take it.
    let patch = format!("{}/api/v1/documents/{}", server.base, ids[0]);
    for name in ["Harbour Tours Ltd", "Harbour Tours Group"] {
        let body = format!(r#"{{"name": "{name}"}}"#);
        assert_eq!(http("PATCH", &patch, Some(&ana), Some(&body)).0, 200);
    }
    server.wait_ready();
    let mut server = server;
    assert!(server.terminate().success());

    let mut server = restarted_loading_nothing(&data);
    let title = |server: &TestServer, token: &str, user: &str| {
        let (_, body) = server.document(token, &DocumentId::index_of(user));
        body["record"]["documents"][ids[0].to_string()]["title"].clone()
    };
    assert_eq!(title(&server, &ana, "ana"), "Harbour Tours Group");
    assert_eq!(title(&server, &sam, "sam"), "Harbour Tours Group");
    assert!(server.terminate().success());
}

#[test]
fn a_damaged_document_stops_nothing_else_and_busy_documents_are_compacted() {
    use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};

    let data = DataDir::new("damaged");
    let ana = user_with_token(&data, "ana", "admin", &[]);
    let damaged = new_id(80);
    {
        // Bytes automerge panics on when it loads them, stored as if a document.
        let crasher = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fuzz/crashers/document/bundle-chunk-with-bad-delta-column"),
        )
        .expect("the kept crasher");
        let store = RedbStore::open(data.path().join("itinera.redb")).expect("store");
        let mut batch = WriteBatch::new();
        batch.append_changes(damaged, crasher.clone(), DocumentMeta::default());
        batch.append_changes(damaged, crasher, DocumentMeta::default());
        store.commit(batch, Durability::Immediate).expect("stored");
        store.close().expect("closed");
    }
    let mut server = TestServer::start(&data, &[]);
    assert_eq!(server.document(&ana, &damaged).0, 404);
    let mut reader = Device::connect(&server.sync_url(), &ana, "ana-laptop").expect("connect");
    reader.node.find(damaged);
    assert!(
        reader.run_until(WAIT, |d| !d.errors.is_empty()),
        "the reader is told the document cannot be used"
    );

    // Meanwhile every write to another document is stored and acknowledged, and a document
    // written often is folded into a snapshot by its engine.
    let busy = new_id(81);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "count", 0i64).expect("put");
    doc.commit();
    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    phone.node.insert(busy, doc);
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&busy)));
    for n in 1..=80i64 {
        phone.node.change(&busy, |doc| {
            doc.put(ROOT, "count", n).expect("put");
        });
        assert!(
            phone.run_until(WAIT, |d| d.acknowledged(&busy)),
            "change {n}"
        );
    }
    assert!(server.terminate().success());
    let store = RedbStore::open(data.path().join("itinera.redb")).expect("store");
    let meta = store.meta(busy).expect("meta").expect("stored");
    assert!(
        meta.incremental_chunks < 64,
        "{} increments after 81 writes",
        meta.incremental_chunks
    );
    let bytes = store.load(busy).expect("load").expect("stored");
    let stored = itinera_core::document::load_bytes(&bytes).expect("loads");
    assert_eq!(
        stored
            .get(ROOT, "count")
            .expect("get")
            .map(|(v, _)| v.as_i64()),
        Some(Some(80))
    );
    assert!(
        store.load(damaged).expect("load").is_some(),
        "left for an operator"
    );
}
