//! Attacks a signed-in outsider tried against the real server, one test per class, each
//! asserting what must hold instead (SECURITY.md lists them).

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT, ReadDoc};
use itinera_core::DocumentId;
use itinera_core::store::{DocumentMeta, DocumentStore, Durability, RedbStore, WriteBatch};
use itinera_tests::device::Device;
use itinera_tests::server::{DataDir, TestServer, http, user_with_token};

const WAIT: Duration = Duration::from_secs(20);

/// A plain automerge document, as any client could create one.
fn squatter_document(text: &str) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "note", text).expect("put");
    doc.commit();
    doc
}

/// The alerts head office sees.
fn alerts(server: &TestServer, token: &str) -> Vec<serde_json::Value> {
    let (status, body) = http(
        "GET",
        &format!("{}/api/v1/alerts", server.base),
        Some(token),
        None,
    );
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// Class 1: the ids of the server's own documents (alerts, journals, users' indexes, those of
/// users added later included) cannot be taken by a client, whatever the timing.
#[test]
fn no_client_can_create_a_document_at_an_id_the_server_reserves() {
    let data = DataDir::new("squat");
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let admin = user_with_token(&data, "root", "admin", &[]);
    let server = TestServer::start(&data, &[]);

    let targets = [
        DocumentId::named("alerts"),
        DocumentId::named("journal:2026-12"),
        DocumentId::index_of("newbie"),
        DocumentId::index_of("root"),
    ];
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    for id in targets {
        guide.node.insert(id, squatter_document("mine now"));
    }
    // Each is refused the same way, whether the server holds the document yet or not.
    assert!(
        guide.run_until(WAIT, |d| d.errors.len() >= targets.len()),
        "every creation is refused: {:?}",
        guide.errors
    );
    assert!(
        guide
            .errors
            .iter()
            .all(|error| error.contains("you may not write this document")),
        "{:?}",
        guide.errors
    );
    for id in targets {
        assert!(!guide.acknowledged(&id), "the server took the guide's {id}");
        // Absent, or the server's own: never the guide's content.
        let (status, body) = server.document(&admin, &id);
        assert!(
            status == 404 || (status == 200 && body["record"].get("note").is_none()),
            "{id}: {status} {body}"
        );
    }

    // A user added later gets the server's index, not the guide's document.
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/users", server.base),
        Some(&admin),
        Some(r#"{"name": "newbie", "role": "office", "password": "long enough password"}"#),
    );
    assert_eq!(status, 201, "{body}");
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/users/newbie/tokens", server.base),
        Some(&admin),
        Some("{}"),
    );
    assert_eq!(status, 201, "{body}");
    let newbie: serde_json::Value = serde_json::from_str(&body).expect("json");
    let newbie = newbie["token"].as_str().expect("token").to_owned();
    let index = DocumentId::index_of("newbie");
    let deadline = std::time::Instant::now() + WAIT;
    let record = loop {
        let (status, body) = server.document(&newbie, &index);
        if status == 200 || std::time::Instant::now() > deadline {
            assert_eq!(status, 200, "{body}");
            break body["record"].clone();
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(record["kind"], "index");
    assert_eq!(record["user"], "newbie");
    assert!(record.get("note").is_none(), "nothing of the guide's in it");
}

/// Class 1, older stores: documents a client created at the ids the server used to compute are
/// removed at start-up with an alert; the server's own move to their reserved ids.
#[test]
fn a_store_holding_a_squatted_server_id_is_repaired_at_start_with_an_alert() {
    let data = DataDir::new("squat-repair");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let _gus = user_with_token(&data, "gus", "guide", &[]);
    let squatted = DocumentId::legacy_named("alerts");
    let journal = DocumentId::legacy_named("journal:2026-10");
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).expect("store");
        let mut batch = WriteBatch::new();
        let mut guide_doc = squatter_document("the guide's");
        batch.put_snapshot(
            squatted,
            guide_doc.save(),
            DocumentMeta::describe(&squatted, &mut guide_doc, Some("gus"), 1),
        );
        let mut ledger = itinera_core::document::new_record(
            itinera_core::DocumentKind::Journal,
            automerge::ActorId::from([9u8; 16]),
            1,
        )
        .expect("journal");
        ledger.put(ROOT, "period", "2026-10").expect("put");
        ledger.commit();
        batch.put_snapshot(
            journal,
            ledger.save(),
            DocumentMeta::describe(&journal, &mut ledger, None, 1),
        );
        store.commit(batch, Durability::Immediate).expect("stored");
        store.close().expect("closed");
    }
    let server = TestServer::start(&data, &[]);
    let deadline = std::time::Instant::now() + WAIT;
    let raised = loop {
        let raised = alerts(&server, &olga);
        if !raised.is_empty() || std::time::Instant::now() > deadline {
            break raised;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(
        raised
            .iter()
            .any(|alert| alert["rule"] == "reserved_id_taken"
                && alert["message"].as_str().is_some_and(|m| m.contains("gus"))),
        "{raised:?}"
    );
    assert_eq!(
        server.document(&olga, &squatted).0,
        404,
        "the guide's copy is gone"
    );
    let (status, moved) = server.document(&olga, &DocumentId::named("journal:2026-10"));
    assert_eq!(status, 200, "the server's journal moved to its reserved id");
    assert_eq!(moved["record"]["period"], "2026-10");
}

/// POSTs `body` to `path` as `token`; the status and body.
fn post(server: &TestServer, path: &str, token: &str, body: &str) -> (u16, String) {
    http(
        "POST",
        &format!("{}/api/v1{path}", server.base),
        Some(token),
        Some(body),
    )
}

/// The id of a record created through the REST API.
fn created_id(body: &str) -> DocumentId {
    let created: serde_json::Value = serde_json::from_str(body).expect("json");
    created["id"]
        .as_str()
        .and_then(|url| DocumentId::parse(url).ok())
        .expect("an id")
}

/// Class 2: a revoked token, a disabled user and a removed grant reach sockets that are already
/// open, at once: the first two close with an error, the third stops the document flowing and
/// refuses writes to it.
#[test]
#[allow(clippy::print_stdout)] // how long the revocation took, for the record
fn revocation_reaches_open_sockets() {
    let data = DataDir::new("revoke");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let olga = user_with_token(&data, "olga", "office", &[]);
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    // Every user's index exists once the server is ready; a phone that asks for its index
    // before then is told it is unavailable (and asks again at its next sync).
    server.wait_ready();

    let mut ana_phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    ana_phone.node.find(DocumentId::index_of("ana"));
    assert!(ana_phone.run_until(WAIT, |d| {
        d.node.document(&DocumentId::index_of("ana")).is_some()
    }));
    let started = std::time::Instant::now();
    let (status, body) = post(
        &server,
        "/tokens/revoke",
        &admin,
        &format!(r#"{{"token": "{ana}"}}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        ana_phone.run_until(WAIT, |d| d.closed),
        "the revoked token's socket closes"
    );
    println!(
        "revoked token: socket closed {:?} after the revocation",
        started.elapsed()
    );
    assert!(
        ana_phone.errors.iter().any(|e| e.contains("revoked")),
        "{:?}",
        ana_phone.errors
    );

    let mut ben_phone = Device::connect(&server.sync_url(), &ben, "ben-phone").expect("connect");
    ben_phone.node.find(DocumentId::index_of("ben"));
    assert!(ben_phone.run_until(WAIT, |d| {
        d.node.document(&DocumentId::index_of("ben")).is_some()
    }));
    let started = std::time::Instant::now();
    assert_eq!(post(&server, "/users/ben/disable", &admin, "{}").0, 200);
    assert!(
        ben_phone.run_until(WAIT, |d| d.closed),
        "the disabled user's socket closes"
    );
    println!(
        "disabled user: socket closed {:?} after the change",
        started.elapsed()
    );
    assert!(
        ben_phone.errors.iter().any(|e| e.contains("disabled")),
        "{:?}",
        ben_phone.errors
    );

    // A guide whose stock grant is removed keeps his socket, but the kit stops flowing to him
    // and his writes to it are refused.
    let (status, body) = post(
        &server,
        "/records/stock",
        &olga,
        r#"{"name": "Tour kit 9", "custodian": "olga"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let kit = created_id(&body);
    let gus = {
        let (status, body) = post(
            &server,
            "/users",
            &admin,
            &format!(r#"{{"name": "gus", "role": "guide", "grants": ["stock:{kit}"]}}"#),
        );
        assert_eq!(status, 201, "{body}");
        let (status, body) = post(&server, "/users/gus/tokens", &admin, "{}");
        assert_eq!(status, 201, "{body}");
        let token: serde_json::Value = serde_json::from_str(&body).expect("json");
        token["token"].as_str().expect("token").to_owned()
    };
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    guide.node.find(kit);
    assert!(
        guide.run_until(WAIT, |d| d.node.document(&kit).is_some()),
        "the grant lets him sync the kit"
    );
    let (status, body) = http(
        "PUT",
        &format!("{}/api/v1/users/gus/grants", server.base),
        Some(&admin),
        Some(r#"{"grants": []}"#),
    );
    assert_eq!(status, 200, "{body}");
    let patch = format!("{}/api/v1/documents/{kit}", server.base);
    assert_eq!(
        http(
            "PATCH",
            &patch,
            Some(&olga),
            Some(r#"{"name": "Tour kit 9 (spare)"}"#)
        )
        .0,
        200
    );
    guide.node.change(&kit, |doc| {
        doc.put(
            ROOT,
            "name",
            automerge::ScalarValue::Str("gus's kit".into()),
        )
        .expect("put");
    });
    assert!(
        guide.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("may not write"))),
        "his write is refused: {:?}",
        guide.errors
    );
    assert!(!guide.closed, "a changed grant does not close the socket");
    let name = guide
        .node
        .document(&kit)
        .and_then(|doc| doc.get(ROOT, "name").ok().flatten())
        .map(|(value, _)| value.to_string());
    assert_ne!(
        name.as_deref(),
        Some("\"Tour kit 9 (spare)\""),
        "office's edit after the grant was removed did not reach him"
    );
    let (_, kit_now) = server.document(&olga, &kit);
    assert_eq!(
        kit_now["record"]["name"], "Tour kit 9 (spare)",
        "his write was not taken"
    );
}

/// The server's resident memory, in bytes.
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Class 3: one signed-in user cannot exhaust the server. Requests for ids that do not exist
/// create nothing that outlives the answer; a connection holds a bounded number of documents and
/// sends a bounded number of messages a second; every cap answers with a clear error.
#[test]
#[allow(clippy::print_stdout)] // the memory figures, for the record
fn one_signed_in_user_cannot_exhaust_the_server() {
    let data = DataDir::new("exhaust");
    let ana = user_with_token(&data, "ana", "admin", &[]);
    let server = TestServer::start(
        &data,
        &[
            "--max-documents-per-session",
            "50",
            "--max-messages-per-second",
            "2000",
        ],
    );
    let before = rss_of(server.pid());
    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    const RANDOM_IDS: u32 = 15_000;
    for n in 0..RANDOM_IDS {
        let mut random = [0u8; 10];
        random[..4].copy_from_slice(&n.to_be_bytes());
        phone
            .node
            .find(DocumentId::new_v7(1_700_000_000_000, random));
    }
    let answered = |d: &mut Device| {
        d.events
            .iter()
            .filter(|event| matches!(event, itinera_core::sync::Event::DocumentUnavailable(_)))
            .count()
    };
    assert!(
        phone.run_until(WAIT, |d| answered(d) == RANDOM_IDS as usize),
        "every request is answered doc-unavailable ({} of {RANDOM_IDS})",
        answered(&mut phone)
    );
    // Only the server's own (the user's index) are open: none for the ids that do not exist.
    let open = server.metric("itinera_open_documents").expect("the metric");
    assert!(
        open <= 2.0,
        "{open} documents open after {RANDOM_IDS} requests"
    );
    let after = rss_of(server.pid());
    println!(
        "{RANDOM_IDS} requests for unknown ids: server memory {:.1} MiB before, {:.1} MiB after",
        before as f64 / 1_048_576.0,
        after as f64 / 1_048_576.0
    );
    assert!(!phone.closed, "the connection keeps working");

    // A connection opens at most 50 documents; the 51st is refused, and the others still sync.
    for n in 0..51u8 {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, "n", i64::from(n)).expect("put");
        doc.commit();
        phone
            .node
            .insert(DocumentId::new_v7(1_764_000_000_000, [n; 10]), doc);
    }
    assert!(
        phone.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("documents open"))),
        "the 51st document is refused: {:?}",
        phone.errors
    );
    let first = DocumentId::new_v7(1_764_000_000_000, [0; 10]);
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&first)));

    // A client sending faster than allowed is disconnected with an error; others carry on.
    drop(phone);
    drop(server);
    let server = TestServer::start(&data, &["--max-messages-per-second", "200"]);
    let mut flood = Device::connect(&server.sync_url(), &ana, "flood").expect("connect");
    assert!(flood.run_until(WAIT, |d| !d.events.is_empty()), "joined");
    for n in 0..10_000u32 {
        let mut random = [1u8; 10];
        random[..4].copy_from_slice(&n.to_be_bytes());
        flood
            .node
            .find(DocumentId::new_v7(1_600_000_000_000, random));
    }
    assert!(flood.run_until(WAIT, |d| d.closed), "the flood is cut off");
    assert!(
        flood.errors.iter().any(|e| e.contains("messages a second")),
        "{:?}",
        flood.errors
    );
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "after", 1i64).expect("put");
    doc.commit();
    let mut bystander = Device::connect(&server.sync_url(), &ana, "bystander").expect("connect");
    let id = DocumentId::new_v7(1_764_000_000_001, [9; 10]);
    bystander.node.insert(id, doc);
    assert!(
        bystander.run_until(WAIT, |d| d.acknowledged(&id)),
        "others keep working"
    );
}

/// Class 7: a record refuses fields its kind does not define, naming the path; who resolved an
/// alert and when is written by the server from the session, never taken from the client.
#[test]
fn records_refuse_unknown_fields_and_alert_resolutions_are_stamped_by_the_server() {
    let data = DataDir::new("integrity");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let (status, body) = post(
        &server,
        "/records/account",
        &sam,
        r#"{"name": "Lakeside", "owner": "sam"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let account = created_id(&body);
    let patch = format!("{}/api/v1/documents/{account}", server.base);
    let (status, body) = http(
        "PATCH",
        &patch,
        Some(&sam),
        Some(r#"{"address": {"smuggled": "x"}}"#),
    );
    assert_eq!(status, 403, "{body}");
    assert!(
        body.contains("/address/smuggled"),
        "the error names the path: {body}"
    );

    // Over the protocol too.
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    phone.node.find(account);
    assert!(phone.run_until(WAIT, |d| d.node.document(&account).is_some()));
    phone.node.change(&account, |doc| {
        doc.put(ROOT, "loyalty_points", 1_000_000i64).expect("put");
    });
    assert!(
        phone.run_until(WAIT, |d| d
            .errors
            .iter()
            .any(|e| e.contains("/loyalty_points"))),
        "{:?}",
        phone.errors
    );

    // An alert: raised by the server (a stock location below zero), resolved by office.
    let (status, body) = post(
        &server,
        "/records/stock",
        &olga,
        r#"{"name": "Depot", "custodian": "olga"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let depot = created_id(&body);
    let mut kit = Device::connect(&server.sync_url(), &olga, "olga-laptop").expect("connect");
    kit.node.find(depot);
    assert!(kit.run_until(WAIT, |d| d.node.document(&depot).is_some()));
    kit.node.change(&depot, |doc| {
        let mut location: itinera_core::model::StockLocation =
            autosurgeon::hydrate(doc).expect("hydrate");
        location
            .post_movement(
                itinera_core::model::LogKey::new(1, "olga-1"),
                itinera_core::model::StockMovement {
                    item: "water".into(),
                    quantity: -5,
                    reason: itinera_core::model::MovementReason::Consumption,
                    reference: None,
                    actor: "olga".into(),
                    at: 1,
                },
            )
            .expect("movement");
        autosurgeon::reconcile(doc, &location).expect("reconcile");
    });
    assert!(kit.run_until(WAIT, |d| d.acknowledged(&depot)));
    let deadline = std::time::Instant::now() + WAIT;
    let key = loop {
        if let Some(alert) = alerts(&server, &olga)
            .into_iter()
            .find(|a| a["rule"] == "negative_stock")
        {
            break alert["key"].as_str().expect("key").to_owned();
        }
        assert!(std::time::Instant::now() < deadline, "the alert was raised");
        std::thread::sleep(Duration::from_millis(50));
    };
    // Office cannot write the alerts document itself (it would say who and when)...
    let alerts_id = DocumentId::named("alerts");
    let raw = format!(
        r#"{{"alerts": {{"{key}": {{"status": "resolved", "resolved_by": "admin", "resolved_at": 0}}}}}}"#
    );
    let (status, _) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{alerts_id}", server.base),
        Some(&olga),
        Some(&raw),
    );
    assert_eq!(status, 403, "the alerts document is the server's");
    // ...it resolves through the API, and the server says who and when.
    let (status, body) = post(&server, &format!("/alerts/{key}/resolve"), &olga, "{}");
    assert_eq!(status, 200, "{body}");
    let resolved = alerts(&server, &olga)
        .into_iter()
        .find(|a| a["key"] == key.as_str())
        .expect("the alert");
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolved_by"], "olga");
    assert!(
        resolved["resolved_at"].as_i64().unwrap_or(0) > 1_700_000_000_000,
        "{resolved}"
    );
    // A rep cannot resolve anything.
    assert_eq!(
        post(&server, &format!("/alerts/{key}/acknowledge"), &sam, "{}").0,
        404
    );
}

/// Class 5: a peer id belongs to one session of one user at a time; a newer connection of the
/// same user takes it over.
#[test]
fn a_peer_id_belongs_to_one_session_of_one_user() {
    let data = DataDir::new("peer-ids");
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let mut first = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    assert!(first.run_until(WAIT, |d| !d.events.is_empty()), "joined");

    let mut impostor = Device::connect(&server.sync_url(), &gus, "sam-phone").expect("connect");
    assert!(
        impostor.run_until(WAIT, |d| d.closed),
        "another user's join is refused"
    );
    assert!(
        impostor
            .errors
            .iter()
            .any(|e| e.contains("in use by another user")),
        "{:?}",
        impostor.errors
    );
    assert!(!first.closed);

    let mut second = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let id = DocumentId::new_v7(1_764_000_000_000, [5; 10]);
    second.node.insert(id, squatter_document("sam's own"));
    assert!(
        second.run_until(WAIT, |d| d.acknowledged(&id)),
        "the newer connection works"
    );
    assert!(
        first.run_until(WAIT, |d| d.closed),
        "the older one is closed"
    );
}

/// Class 6: to a user who may not read, a missing document and an unreadable one look the same,
/// over REST and over the protocol; sharing does not tell which user names exist.
#[test]
fn missing_and_unreadable_documents_look_the_same() {
    let data = DataDir::new("oracle");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let (status, body) = post(&server, "/records/invoice", &olga, r#"{"customer": "x"}"#);
    assert_eq!(status, 201, "{body}");
    let unreadable = created_id(&body);
    let missing = DocumentId::new_v7(1_764_000_000_000, [8; 10]);

    let answer = |id: &DocumentId| {
        let url = format!("{}/api/v1/documents/{id}", server.base);
        (
            http("GET", &url, Some(&gus), None),
            http("PATCH", &url, Some(&gus), Some(r#"{"customer": "y"}"#)),
        )
    };
    assert_eq!(answer(&unreadable), answer(&missing), "REST answers alike");
    assert_eq!(answer(&missing).1.0, 404);

    // Over the protocol: the index of a user who exists and of one who does not.
    let existing = DocumentId::index_of("sam");
    let nobody = DocumentId::index_of("no-such-user");
    let mut probe = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    probe.node.find(existing);
    probe.node.find(nobody);
    let unavailable = |d: &Device, id: &DocumentId| {
        d.events
            .iter()
            .any(|e| matches!(e, itinera_core::sync::Event::DocumentUnavailable(u) if u == id))
    };
    assert!(
        probe.run_until(WAIT, |d| unavailable(d, &existing)
            && unavailable(d, &nobody)),
        "both are unavailable"
    );
    let mut offer = Device::connect(&server.sync_url(), &gus, "gus-laptop").expect("connect");
    offer.node.insert(existing, squatter_document("a"));
    offer.node.insert(nobody, squatter_document("b"));
    assert!(
        offer.run_until(WAIT, |d| d.errors.len() >= 2),
        "{:?}",
        offer.errors
    );
    let texts: Vec<String> = offer
        .errors
        .iter()
        .map(|e| {
            e.replace(&existing.to_string(), "ID")
                .replace(&nobody.to_string(), "ID")
        })
        .collect();
    assert_eq!(texts[0], texts[1], "the same answer for both");

    // Sharing a document with a user name that exists and one that does not.
    let mut owner = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let notes = DocumentId::new_v7(1_764_000_000_000, [6; 10]);
    owner.node.insert(notes, squatter_document("sam's notes"));
    assert!(owner.run_until(WAIT, |d| d.acknowledged(&notes)));
    let share = |by: &str, with: &str| {
        http(
            "PUT",
            &format!("{}/api/v1/documents/{notes}/shares/{with}", server.base),
            Some(by),
            None,
        )
        .0
    };
    assert_eq!(
        share(&gus, "olga"),
        share(&gus, "no-such-user"),
        "a stranger learns nothing"
    );
    assert_eq!(share(&gus, "olga"), 404);
    assert_eq!(share(&sam, "olga"), share(&sam, "no-such-user"));
    assert_eq!(share(&sam, "no-such-user"), 204);
}

/// Adds a user who signs in with `password` (read from a file, never from the command line).
fn user_with_password(data: &DataDir, name: &str, role: &str, password: &str) {
    let file = data.path().join(format!("{name}.password"));
    std::fs::write(&file, password).expect("password file");
    let file = file.to_str().expect("utf-8");
    itinera_tests::server::cli(
        data,
        &["user", "add", name, "--role", role, "--password-file", file],
    );
    std::fs::remove_file(file).expect("remove");
}

fn login(server: &TestServer, user: &str, password: &str) -> itinera_tests::server::Response {
    let body = serde_json::json!({ "user": user, "password": password }).to_string();
    itinera_tests::server::request(
        "POST",
        &format!("{}/api/v1/login", server.base),
        None,
        Some(&body),
        &[],
    )
}

/// Class 4: an unknown user, a disabled user with the right password and a wrong password are
/// answered alike, so a login tells nobody which names exist or who was let go.
#[test]
fn unknown_and_disabled_users_are_answered_like_a_wrong_password() {
    let data = DataDir::new("login-oracle");
    user_with_password(&data, "olga", "office", "right one");
    user_with_password(&data, "leaver", "sales", "still right");
    itinera_tests::server::cli(&data, &["user", "disable", "leaver"]);
    let server = TestServer::start(&data, &[]);

    let wrong = login(&server, "olga", "wrong one");
    let unknown = login(&server, "nobody", "right one");
    let disabled = login(&server, "leaver", "still right");
    for answer in [&wrong, &unknown, &disabled] {
        assert_eq!(answer.status, 401, "{answer:?}");
        assert_eq!(answer.body, wrong.body, "{answer:?}");
    }
    assert!(
        wrong.body.contains("wrong user name or password"),
        "{}",
        wrong.body
    );
    assert_eq!(login(&server, "olga", "right one").status, 200);
}

/// Class 4: guesses at one user name run out, whoever sends them, and the answer says when to
/// come back; other users still sign in.
#[test]
fn login_attempts_are_limited_per_user_name() {
    let data = DataDir::new("login-limit");
    user_with_password(&data, "olga", "office", "right one");
    user_with_password(&data, "ana", "sales", "hers");
    let server = TestServer::start(&data, &[]);

    let limited = (0..20)
        .map(|n| login(&server, "olga", &format!("guess {n}")))
        .find(|answer| answer.status != 401)
        .expect("the guesses are cut off");
    assert_eq!(limited.status, 429, "{limited:?}");
    let wait: u64 = limited
        .header("retry-after")
        .and_then(|value| value.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    // The right password waits too: the limit is on the name, not on wrong answers.
    assert_eq!(login(&server, "olga", "right one").status, 429);
    assert_eq!(login(&server, "ana", "hers").status, 200);
}

/// Class 4: one address runs out of attempts whatever names it tries; behind a proxy, the
/// address is the one the proxy appended, not one the client claims.
#[test]
fn login_attempts_are_limited_per_address() {
    let data = DataDir::new("login-address");
    user_with_password(&data, "olga", "office", "right one");
    let server = TestServer::start(&data, &["--behind-proxy"]);
    let attempt = |name: &str, forwarded: &str| {
        let body = serde_json::json!({ "user": name, "password": "guess" }).to_string();
        itinera_tests::server::request(
            "POST",
            &format!("{}/api/v1/login", server.base),
            None,
            Some(&body),
            &[("X-Forwarded-For", forwarded)],
        )
        .status
    };
    // The client claims a new address each time; the proxy appended the real one last. The
    // address's thirty attempts are answered, then it is cut off (budgets refill with time,
    // so a few more may pass first).
    let first_refused = (0..200)
        .map(|n| {
            attempt(
                &format!("name{n}"),
                &format!("10.1.{}.{}, 203.0.113.7", n / 200, n % 200),
            )
        })
        .position(|status| status != 401)
        .expect("the address is cut off");
    assert!(first_refused >= 30, "{first_refused}");
    assert_eq!(attempt("name0", "10.9.9.9, 203.0.113.7"), 429);
    // Another client of the same proxy is not held back.
    assert_eq!(attempt("olga", "198.51.100.9"), 401);
}

fn mode_of(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

/// Class 8: the store file (password and token hashes, every record) and backups are readable
/// by their owner only, an older world-readable store is tightened at start, and token
/// lifetimes are parsed as durations with out-of-range ones refused.
#[test]
fn store_files_and_backups_are_private_and_lifetimes_are_bounded() {
    use itinera_tests::server::cli;
    let data = DataDir::new("files");
    user_with_token(&data, "root", "admin", &[]);
    let store_files: Vec<std::path::PathBuf> = std::fs::read_dir(data.path())
        .expect("folder")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    assert!(!store_files.is_empty());
    for file in &store_files {
        assert_eq!(mode_of(file), 0o600, "{}", file.display());
        std::fs::set_permissions(file, std::os::unix::fs::PermissionsExt::from_mode(0o644))
            .expect("loosen");
    }
    let server = TestServer::start(&data, &[]);
    drop(server);
    for file in &store_files {
        assert_eq!(mode_of(file), 0o600, "tightened: {}", file.display());
    }
    let backup = data.path().join("copy.bak");
    cli(&data, &["backup", backup.to_str().expect("utf-8")]);
    assert_eq!(mode_of(&backup), 0o600);

    let run = |ttl: &str| {
        std::process::Command::new(itinera_tests::server::binary())
            .arg("--data")
            .arg(data.path())
            .args(["token", "issue", "root", "--ttl", ttl])
            .output()
            .expect("runs")
    };
    for bad in ["99999999999999999999d", "5000y", "12 parsecs"] {
        let out = run(bad);
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(bad), "{bad}: {stderr}");
    }
    for good in ["90d", "12h 30m", "0s"] {
        assert!(run(good).status.success(), "{good}");
    }
}

/// Bytes nothing compresses (automerge deflates what it stores and sends).
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// Class 10, slow clients: a session that never reads is disconnected once the bytes queued
/// for it pass the cap, frames handed to the WebSocket layer included, while they are answered
/// one at a time (the counting itself is tested beside the session's writer).
#[test]
fn a_client_that_never_reads_is_cut_off_by_every_byte_queued_for_it() {
    let data = DataDir::new("never-reads");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let ids: Vec<DocumentId> = (0..30u8)
        .map(|n| DocumentId::new_v7(1_764_300_000_000 + u64::from(n), [n; 10]))
        .collect();
    {
        let store = RedbStore::open(data.path().join("itinera.redb")).expect("store");
        let mut batch = WriteBatch::new();
        for (n, id) in ids.iter().enumerate() {
            let mut doc = AutoCommit::new();
            doc.put(ROOT, "scan", noise(n as u64 + 1, 1 << 20))
                .expect("put");
            doc.commit();
            batch.put_snapshot(
                *id,
                doc.save(),
                DocumentMeta::describe(id, &mut doc, Some("olga"), 1),
            );
        }
        store.commit(batch, Durability::Immediate).expect("stored");
        store.close().expect("closed");
    }
    let server = TestServer::start(&data, &["--max-outgoing-bytes", "4194304"]);

    let mut device = Device::connect(&server.sync_url(), &olga, "never-reads").expect("connect");
    let joined = |d: &mut Device| {
        d.events
            .iter()
            .any(|e| matches!(e, itinera_core::sync::Event::PeerJoined { .. }))
    };
    assert!(device.run_until(WAIT, joined), "joined");
    // One request at a time, each answered (a 1 MiB frame handed to the WebSocket layer)
    // before the next; the device reads nothing.
    let slow = |server: &TestServer| {
        server
            .metric("itinera_slow_clients_disconnected_total")
            .unwrap_or(0.0)
            >= 1.0
    };
    let handed = |server: &TestServer| server.metric("itinera_bytes_out_total").unwrap_or(0.0);
    for id in &ids {
        let before = handed(&server);
        device.node.find(*id);
        device.run_until(Duration::ZERO, |_| true);
        let deadline = std::time::Instant::now() + WAIT;
        while handed(&server) < before + 1_000_000.0 && !slow(&server) {
            assert!(std::time::Instant::now() < deadline, "{id} was never sent");
            std::thread::sleep(Duration::from_millis(10));
        }
        if slow(&server) {
            break;
        }
    }
    assert!(
        slow(&server),
        "30 MiB were handed to a client that reads nothing, against a 4 MiB cap"
    );
    drop(device);
}

/// Sends a request head (and `body_start` of its body) on a fresh connection and reads the
/// answer, if one comes within `wait`.
fn half_request(server: &TestServer, head: &str, body_start: &[u8], wait: Duration) -> String {
    use std::io::{Read, Write};
    let host = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(wait)).expect("timeout");
    stream.write_all(head.as_bytes()).expect("head");
    stream.write_all(body_start).expect("body start");
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    String::from_utf8_lossy(&answer).into_owned()
}

/// Class 3 and 10: a body is read only for a valid token (anyone else is answered before the
/// body is sent), a login body is small, and a body that stalls is cut off with 408.
#[test]
fn bodies_are_read_only_for_valid_tokens_and_only_while_they_keep_coming() {
    let data = DataDir::new("bodies");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);

    // 900 KB announced, nothing sent: the answer comes without the body.
    for auth in ["", "Authorization: Bearer itn_not-a-token\r\n"] {
        let answer = half_request(
            &server,
            &format!(
                "POST /api/v1/records/account HTTP/1.1\r\nHost: x\r\n{auth}\
                 Content-Type: application/json\r\nContent-Length: 900000\r\n\r\n"
            ),
            b"",
            WAIT,
        );
        assert!(answer.starts_with("HTTP/1.1 401"), "{auth:?}: {answer}");
    }

    let answer = half_request(
        &server,
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: 100000\r\n\r\n",
        b"",
        WAIT,
    );
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");

    // A signed-in client that stops sending its body mid-way is answered 408.
    let answer = half_request(
        &server,
        &format!(
            "POST /api/v1/records/account HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {olga}\r\n\
             Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
        ),
        br#"{"name":"#,
        WAIT,
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("stalled"), "{answer}");

    // Meanwhile the server serves everyone else.
    let (status, _) = http(
        "GET",
        &format!("{}/api/v1/me", server.base),
        Some(&olga),
        None,
    );
    assert_eq!(status, 200);
}

/// Class 10, history bombs: one message may not add thousands of writers to a document (each
/// makes every later load and merge of it slower); the refusal is an error to that device, and
/// a normal edit still goes through.
#[test]
fn a_message_adding_thousands_of_writers_is_refused() {
    let data = DataDir::new("history-bomb");
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let mut device = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");

    let mut bomb = AutoCommit::new();
    for writer in 0..2_000u32 {
        bomb.set_actor(automerge::ActorId::from(writer.to_be_bytes().repeat(4)));
        bomb.put(ROOT, "n", i64::from(writer)).expect("put");
        bomb.commit();
    }
    let bomb_id = DocumentId::new_v7(1_764_400_000_000, [1; 10]);
    device.node.insert(bomb_id, bomb);
    assert!(
        device.run_until(WAIT, |d| !d.errors.is_empty()),
        "the bomb was taken"
    );
    assert!(
        device.errors[0].contains("2000 new writers in one message"),
        "{:?}",
        device.errors
    );
    assert!(!device.acknowledged(&bomb_id));

    let plain_id = DocumentId::new_v7(1_764_400_000_001, [2; 10]);
    device.node.insert(plain_id, squatter_document("a note"));
    assert!(device.run_until(WAIT, |d| d.acknowledged(&plain_id)));
}

/// Class 3: one user holds a bounded number of connections; one more is answered 429 before
/// the upgrade, and a connection closed frees its place.
#[test]
fn one_user_holds_a_bounded_number_of_connections() {
    let data = DataDir::new("sessions-cap");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let server = TestServer::start(&data, &["--max-sessions-per-user", "2"]);
    let connections = || server.metric("itinera_connections").unwrap_or(0.0);
    let wait_for = |count: f64| {
        let deadline = std::time::Instant::now() + WAIT;
        while connections() != count {
            assert!(
                std::time::Instant::now() < deadline,
                "{} connections",
                connections()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    let first = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("first");
    let _second = Device::connect(&server.sync_url(), &ana, "ana-tablet").expect("second");
    wait_for(2.0);
    match Device::connect(&server.sync_url(), &ana, "ana-laptop") {
        Err(itinera_tests::device::ConnectError::Status(429)) => {}
        other => panic!("a third connection: {other:?}"),
    }
    let _bens = Device::connect(&server.sync_url(), &ben, "ben-phone").expect("another user");
    wait_for(3.0);
    drop(first);
    wait_for(2.0);
    Device::connect(&server.sync_url(), &ana, "ana-laptop").expect("a place was freed");
}

/// Class 10, derived documents stay bounded: renaming a record in a loop writes its title into
/// other users' indexes (whose whole history every device syncs first) once per quiet period,
/// with the latest title, not once per rename.
#[test]
fn renaming_in_a_loop_grows_other_users_indexes_by_a_bounded_amount() {
    let data = DataDir::new("rename-loop");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let ben = user_with_token(&data, "ben", "office", &[]);
    let server = TestServer::start(&data, &["--index-title-quiet-ms", "1000"]);
    let (status, body) = post(
        &server,
        "/records/account",
        &olga,
        r#"{"name": "Lakeside"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let account = created_id(&body);

    let index_id = DocumentId::index_of("ben");
    let mut phone = Device::connect(&server.sync_url(), &ben, "ben-phone").expect("connect");
    phone.node.find(index_id);
    let title_in_index = |device: &mut Device| {
        let doc = device.node.document(&index_id)?;
        let index: itinera_core::model::UserIndex = autosurgeon::hydrate(doc).ok()?;
        index
            .documents
            .get(&account.to_string())
            .map(|entry| entry.title.clone())
    };
    let history = |device: &mut Device| {
        device
            .node
            .document(&index_id)
            .map_or(0, |doc| doc.clone().get_changes(&[]).len())
    };
    assert!(phone.run_until(WAIT, |d| title_in_index(d).as_deref() == Some("Lakeside")));
    let before = history(&mut phone);

    let patch = format!("{}/api/v1/documents/{account}", server.base);
    for n in 0..40 {
        let body = format!(r#"{{"name": "Lakeside {n}"}}"#);
        assert_eq!(http("PATCH", &patch, Some(&olga), Some(&body)).0, 200);
    }
    assert!(
        phone.run_until(WAIT, |d| title_in_index(d).as_deref()
            == Some("Lakeside 39")),
        "the latest title reaches the index: {:?}",
        title_in_index(&mut phone)
    );
    let grown = history(&mut phone) - before;
    assert!(
        (1..=3).contains(&grown),
        "40 renames wrote {grown} changes into another user's index"
    );
}

fn typed<R: itinera_core::model::Record>(actor: u8, record: &R) -> AutoCommit {
    itinera_core::Document::create(automerge::ActorId::from([actor; 16]), 0, record)
        .expect("create")
        .into_automerge()
}

fn edit_record<R: itinera_core::model::Record>(
    device: &mut Device,
    id: &DocumentId,
    change: impl FnOnce(&mut R),
) {
    device.node.change(id, |doc| {
        let mut record: R = autosurgeon::hydrate(doc).expect("hydrate");
        change(&mut record);
        autosurgeon::reconcile(doc, &record).expect("reconcile");
    });
}

/// Runs until the server refuses the device's last change, and returns the refusal.
fn refused(device: &mut Device) -> String {
    let seen = device.errors.len();
    assert!(
        device.run_until(WAIT, |d| d.errors.len() > seen),
        "the change was taken"
    );
    device.errors[seen].clone()
}

/// Class 10, scope fields: a guide granted a location for a while cannot make himself its
/// custodian (and so keep it after the grant ends), a custodian cannot hand his kit to someone
/// else, and a rep cannot give her account away or move it to another territory. Office can.
#[test]
fn who_holds_a_record_changes_only_as_head_office_decides() {
    use itinera_core::model::StockLocation;
    let data = DataDir::new("custody");
    let kit = DocumentId::new_v7(1_764_500_000_000, [5; 10]);
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[&format!("stock:{kit}")]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);

    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        kit,
        typed(
            1,
            &StockLocation {
                name: "Tour kit 3".into(),
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));

    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    guide.node.find(kit);
    assert!(guide.run_until(WAIT, |d| d.node.document(&kit).is_some()));
    edit_record::<StockLocation>(&mut guide, &kit, |k| k.custodian = Some("gus".into()));
    let error = refused(&mut guide);
    assert!(
        error.contains("may not change who holds this stock"),
        "{error}"
    );

    // Office makes him the custodian; he still cannot hand the kit on.
    edit_record::<StockLocation>(&mut office, &kit, |k| k.custodian = Some("gus".into()));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone-2").expect("connect");
    guide.node.find(kit);
    assert!(guide.run_until(WAIT, |d| {
        d.node
            .document(&kit)
            .and_then(|doc| autosurgeon::hydrate::<_, StockLocation>(doc).ok())
            .is_some_and(|k| k.custodian.as_deref() == Some("gus"))
    }));
    edit_record::<StockLocation>(&mut guide, &kit, |k| k.custodian = Some("ida".into()));
    let error = refused(&mut guide);
    assert!(
        error.contains("may not change who holds this stock"),
        "{error}"
    );

    // A rep's account stays hers and in its territory.
    let (status, body) = post(
        &server,
        "/records/account",
        &sam,
        r#"{"name": "Lakeside", "owner": "sam", "territory": "north"}"#,
    );
    assert_eq!(status, 201, "{body}");
    let account = created_id(&body);
    let patch = format!("{}/api/v1/documents/{account}", server.base);
    for change in [r#"{"owner": "sofia"}"#, r#"{"territory": "south"}"#] {
        let (status, body) = http("PATCH", &patch, Some(&sam), Some(change));
        assert_eq!(status, 403, "{change}: {body}");
    }
    let (status, body) = post(
        &server,
        "/records/account",
        &sam,
        r#"{"name": "For Sofia", "owner": "sofia"}"#,
    );
    assert_eq!(status, 403, "created for another rep: {body}");
    let (status, body) = http("PATCH", &patch, Some(&olga), Some(r#"{"owner": "sofia"}"#));
    assert_eq!(status, 200, "office reassigns: {body}");
}

/// Class 10, append-only logs: an activity cannot be written in another user's name, a consent
/// event cannot be rewritten or erased, an incident cannot be removed from a field log.
#[test]
fn log_entries_are_never_rewritten_and_name_who_wrote_them() {
    use itinera_core::model::{
        Account, Activity, ActivityKind, ConsentEvent, Contact, FieldLog, Incident, LogKey,
        Severity,
    };
    let data = DataDir::new("logs");
    let departure = DocumentId::new_v7(1_764_500_000_100, [6; 10]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[&format!("departure:{departure}")]);
    let server = TestServer::start(&data, &[]);

    let account = DocumentId::new_v7(1_764_500_000_200, [7; 10]);
    let mut lakeside = Account {
        name: "Lakeside".into(),
        owner: "sam".into(),
        ..Default::default()
    };
    let mut ilona = Contact {
        first_name: "Ilona".into(),
        ..Default::default()
    };
    ilona
        .consent
        .append(
            LogKey::new(1, "sam"),
            ConsentEvent {
                channel: "email".into(),
                granted: false,
                source: "phone call".into(),
                at: 1,
            },
        )
        .expect("append");
    lakeside.contacts.insert("c-1".into(), ilona);
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    phone.node.insert(account, typed(2, &lakeside));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account)));

    let as_olga = Activity {
        activity_kind: ActivityKind::Meeting,
        subject: "Approved the discount".into(),
        actor: "olga".into(),
        at: 2,
        ..Default::default()
    };
    edit_record::<Account>(&mut phone, &account, |a| {
        a.activities
            .append(LogKey::new(2, "sam"), as_olga)
            .expect("append");
    });
    let error = refused(&mut phone);
    assert!(error.contains("cannot name \"olga\""), "{error}");

    for rewrite in [true, false] {
        let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone-2").expect("connect");
        phone.node.find(account);
        assert!(phone.run_until(WAIT, |d| {
            d.node
                .document(&account)
                .and_then(|doc| autosurgeon::hydrate::<_, Account>(doc).ok())
                .is_some_and(|a| a.contacts.contains_key("c-1"))
        }));
        edit_record::<Account>(&mut phone, &account, |a| {
            let contact = a.contacts.get_mut("c-1").expect("contact");
            if rewrite {
                if let Some(event) = contact.consent.get_mut(LogKey::new(1, "sam").as_str()) {
                    event.granted = true;
                }
            } else {
                contact.consent = Default::default();
            }
        });
        let error = refused(&mut phone);
        assert!(error.contains("never rewritten or removed"), "{error}");
    }

    let log_id = DocumentId::new_v7(1_764_500_000_300, [8; 10]);
    let mut log = FieldLog {
        departure: departure.to_string(),
        ..Default::default()
    };
    log.incidents
        .append(
            LogKey::new(3, "gus"),
            Incident {
                severity: Severity::default(),
                summary: "Coach broke down".into(),
                actor: "gus".into(),
                at: 3,
            },
        )
        .expect("append");
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    guide.node.insert(log_id, typed(3, &log));
    assert!(guide.run_until(WAIT, |d| d.acknowledged(&log_id)));
    edit_record::<FieldLog>(&mut guide, &log_id, |l| l.incidents = Default::default());
    let error = refused(&mut guide);
    assert!(error.contains("never rewritten or removed"), "{error}");
}

/// Class 10, personal data: a departure's passengers (names, dietary and health notes) are read
/// by head office and the guides assigned to it, never by the reps who read the departure to
/// sell seats; a rep's own passengers are on his own bookings.
#[test]
fn a_departures_passengers_are_read_by_head_office_and_its_guides_only() {
    use itinera_core::model::{
        AssignmentStatus, Booking, BookingStatus, Departure, GuideAssignment, GuideRole, Manifest,
        Passenger, UserIndex,
    };
    let data = DataDir::new("manifest");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let gina = user_with_token(&data, "gina", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let (departure, booking) = (
        DocumentId::new_v7(1_764_500_000_000, [7; 10]),
        DocumentId::new_v7(1_764_500_000_001, [8; 10]),
    );
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let mut planned = Departure {
        tour: "db3".into(),
        capacity: 10,
        starts_at: 1_800_000_000_000,
        ends_at: 1_800_086_400_000,
        ..Default::default()
    };
    planned.assignments.insert(
        "a-1".into(),
        GuideAssignment {
            employee: "gus".into(),
            role: GuideRole::Lead,
            status: AssignmentStatus::Accepted,
            hours: 8.0,
        },
    );
    office.node.insert(departure, typed(1, &planned));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&departure)));

    let mut phone = Device::connect(&server.sync_url(), &sam, "sam").expect("connect");
    let mut sold = Booking {
        departure: departure.to_string(),
        account: "acc".into(),
        rep: "sam".into(),
        submitted_at: Some(1_000),
        ..Default::default()
    };
    sold.passengers.insert(
        "p-1".into(),
        Passenger {
            name: "Ilona Kertész".into(),
            dietary: "coeliac; carries an adrenaline pen".into(),
            ..Default::default()
        },
    );
    phone.node.insert(booking, typed(2, &sold));
    assert!(phone.run_until(WAIT, |d| {
        d.node
            .document(&booking)
            .and_then(|doc| autosurgeon::hydrate::<_, Booking>(doc).ok())
            .is_some_and(|b| b.status == BookingStatus::Confirmed)
    }));

    // Head office reads the manifest the server wrote.
    let manifest = Manifest::document_id(&departure);
    let mut listed = serde_json::Value::Null;
    server.eventually("the manifest", || {
        listed = server.document(&olga, &manifest).1["record"].clone();
        listed["passengers"]
            .as_object()
            .is_some_and(|p| !p.is_empty())
    });
    assert!(listed.to_string().contains("Ilona Kertész"), "{listed}");

    // The departure every rep reads names no passenger; the manifest is not theirs to read.
    for (rep, token) in [("sofia", &sofia), ("sam", &sam)] {
        let (status, read) = server.document(token, &departure);
        assert_eq!(status, 200, "{rep} reads the departure to sell seats");
        assert!(!read.to_string().contains("Kertész"), "{rep} read {read}");
        let (status, _) = server.document(token, &manifest);
        assert_eq!(status, 404, "{rep} read the manifest");
        let (status, _) = itinera_tests::server::http_get(
            &format!("{}/api/v1/departures/{departure}/manifest", server.base),
            Some(token),
        );
        assert_eq!(status, 404, "{rep} read the manifest by its departure");
    }
    let mut sofia_phone = Device::connect(&server.sync_url(), &sofia, "sofia").expect("connect");
    sofia_phone.node.find(manifest);
    sofia_phone.node.find(departure);
    assert!(sofia_phone.run_until(WAIT, |d| d.node.document(&departure).is_some()));
    assert!(sofia_phone.run_until(WAIT, |d| {
        d.events.iter().any(|event| {
            matches!(event, itinera_core::sync::Event::DocumentUnavailable(id) if *id == manifest)
        })
    }));
    assert!(sofia_phone.node.document(&manifest).is_none());

    // The guide assigned finds it in his index and reads it; another guide does not.
    let (status, read) = server.document(&gus, &manifest);
    assert_eq!(status, 200, "{read}");
    assert!(read.to_string().contains("adrenaline"), "{read}");
    assert_eq!(server.document(&gina, &manifest).0, 404);
    let mut guide = Device::connect(&server.sync_url(), &gus, "gus").expect("connect");
    let index = DocumentId::index_of("gus");
    guide.node.find(index);
    assert!(guide.run_until(WAIT, |d| {
        d.node
            .document(&index)
            .and_then(|doc| autosurgeon::hydrate::<_, UserIndex>(doc).ok())
            .is_some_and(|i| i.documents.contains_key(&manifest.to_string()))
    }));
}

/// Class 10, derived documents stay bounded: contacts sharing one e-mail address inside an
/// account, and accounts sharing one phone number across reps, raise one merge proposal per
/// group of look-alikes, not one per pair (150 contacts were 11,175 alerts).
#[test]
fn look_alikes_raise_one_alert_per_group_not_per_pair() {
    use itinera_core::model::{Account, Contact};
    let data = DataDir::new("look-alikes");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let mut lakeside = Account {
        name: "Lakeside Schools".into(),
        owner: "olga".into(),
        ..Default::default()
    };
    for n in 0..150 {
        let mut guest = Contact {
            first_name: format!("Guest {n}"),
            last_name: "Trips".into(),
            ..Default::default()
        };
        guest.emails.insert("trips@lakeside.example");
        lakeside.contacts.insert(format!("c-{n:03}"), guest);
    }
    let mut ids = vec![DocumentId::new_v7(1_764_500_000_000, [9; 10])];
    office.node.insert(ids[0], typed(1, &lakeside));
    for n in 0..20u8 {
        let mut school = Account {
            name: format!("School {n}"),
            owner: "olga".into(),
            ..Default::default()
        };
        let mut head = Contact {
            first_name: "Head".into(),
            last_name: format!("Teacher {n}"),
            ..Default::default()
        };
        head.phones.insert("+36 30 123 4567");
        school.contacts.insert("c-1".into(), head);
        let id = DocumentId::new_v7(1_764_500_000_001 + u64::from(n), [n; 10]);
        office.node.insert(id, typed(1, &school));
        ids.push(id);
    }
    assert!(office.run_until(WAIT, |d| ids.iter().all(|id| d.acknowledged(id))));
    let open = |rule: &str| {
        alerts(&server, &olga)
            .into_iter()
            .filter(|a| a["rule"] == rule && a["status"] == "open")
            .count()
    };
    server.eventually("both merge proposals", || {
        open("duplicate_contact") > 0 && open("duplicate_account") > 0
    });
    // Every account is decided by now (the last one's decision raised the group's proposal).
    server.eventually("the proposal naming the whole group", || {
        alerts(&server, &olga).iter().any(|a| {
            a["rule"] == "duplicate_account"
                && a["status"] == "open"
                && a["message"].as_str().is_some_and(|m| m.contains("15 more"))
        })
    });
    assert_eq!(open("duplicate_contact"), 1, "one group of 150 contacts");
    let groups: Vec<_> = alerts(&server, &olga)
        .into_iter()
        .filter(|a| a["rule"] == "duplicate_account" && a["status"] == "open")
        .collect();
    assert_eq!(groups.len(), 1, "one group of 20 accounts: {groups:#?}");
}

/// The head of a WebSocket upgrade request for `path`.
fn upgrade_head(server: &TestServer, path: &str, token: &str) -> String {
    let host = server.base.trim_start_matches("http://");
    format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )
}

/// A client's binary frame (masked, as RFC 6455 requires of clients) holding `payload`.
fn client_frame(payload: &[u8]) -> Vec<u8> {
    let mask = [0x37, 0xfa, 0x21, 0x3d];
    let mut frame = vec![0x82];
    match u16::try_from(payload.len()) {
        Ok(len) if len < 126 => frame.push(0x80 | len as u8),
        Ok(len) => {
            frame.push(0x80 | 126);
            frame.extend(len.to_be_bytes());
        }
        Err(_) => panic!("a test frame is small"),
    }
    frame.extend(mask);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    frame
}

/// Class 3: only `/sync` upgrades; an upgrade asked for anywhere else is answered with an error
/// and the connection closed, whatever the path serves otherwise.
#[test]
fn only_sync_upgrades_to_a_websocket() {
    let data = DataDir::new("upgrade-elsewhere");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    for path in ["/", "/healthz", "/api/v1/alerts"] {
        let answer = half_request(&server, &upgrade_head(&server, path, &olga), b"", WAIT);
        assert!(answer.starts_with("HTTP/1.1 404"), "{path}: {answer}");
        assert!(
            answer.contains("WebSockets connect to /sync"),
            "{path}: {answer}"
        );
    }
    // Without a token the upgrade is refused as before, with its reason.
    let answer = half_request(
        &server,
        &upgrade_head(&server, "/sync", "itn_nope"),
        b"",
        WAIT,
    );
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("\"error\""), "{answer}");
}

/// A client may send its first frame in the same packet as its upgrade request, without waiting
/// for the 101: the frame reaches the session all the same and is answered.
#[test]
fn a_join_sent_with_the_upgrade_request_is_answered() {
    use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata};
    use std::io::{Read, Write};

    let data = DataDir::new("eager-join");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let join = Message::Join {
        sender_id: PeerId::new("eager-phone".to_owned()),
        peer_metadata: PeerMetadata::default(),
        supported_protocol_versions: Some(vec!["1".into()]),
    };
    let mut request = upgrade_head(&server, "/sync", &olga).into_bytes();
    request.extend(client_frame(&join.encode()));
    let host = server.base.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream.set_read_timeout(Some(WAIT)).expect("timeout");
    stream.write_all(&request).expect("one write");

    let mut answer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let read = stream.read(&mut chunk).expect("the answer");
        assert!(read > 0, "closed: {}", String::from_utf8_lossy(&answer));
        answer.extend(&chunk[..read]);
        if let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
    };
    let head = String::from_utf8_lossy(&answer[..head_end]).into_owned();
    assert!(head.starts_with("HTTP/1.1 101"), "{head}");
    // The server's first frame: binary, unmasked, its length in the header.
    let mut frame = answer[head_end..].to_vec();
    let complete = |frame: &[u8]| -> Option<(usize, usize)> {
        let short = usize::from(*frame.get(1)? & 0x7f);
        match short {
            126 => Some((
                4,
                usize::from(u16::from_be_bytes([*frame.get(2)?, *frame.get(3)?])),
            )),
            127 => None,
            len => Some((2, len)),
        }
        .filter(|(start, len)| frame.len() >= start + len)
    };
    let (start, len) = loop {
        if let Some(found) = complete(&frame) {
            break found;
        }
        let read = stream.read(&mut chunk).expect("the first frame");
        assert!(read > 0, "closed before the first frame");
        frame.extend(&chunk[..read]);
    };
    assert_eq!(frame[0], 0x82, "a binary frame");
    let reply = Message::decode(&frame[start..start + len], &DecodeLimits::default())
        .expect("a protocol message");
    assert!(
        matches!(reply, Message::Peer { ref target_id, .. } if target_id.as_str() == "eager-phone"),
        "{reply:?}"
    );
}

/// A browser signed in with its session cookie keeps its `/sync` session through the heartbeats,
/// which sign the session in again with the cookie it opened with; signing out ends it.
#[test]
fn a_sync_session_opened_with_the_session_cookie_outlives_its_heartbeats() {
    let data = DataDir::new("cookie-sync");
    user_with_password(&data, "olga", "office", "right one");
    let server = TestServer::start(&data, &["--ping-interval-ms", "50"]);
    let body = serde_json::json!({ "user": "olga", "password": "right one" }).to_string();
    let session = format!("{}/api/v1/session", server.base);
    let signed_in = itinera_tests::server::request("POST", &session, None, Some(&body), &[]);
    assert_eq!(signed_in.status, 200, "{signed_in:?}");
    let cookie = signed_in
        .header("set-cookie")
        .and_then(|value| value.split(';').next())
        .expect("the session cookie")
        .to_owned();
    let answer: serde_json::Value = serde_json::from_str(&signed_in.body).expect("json");
    let csrf = answer["csrf_token"]
        .as_str()
        .expect("csrf token")
        .to_owned();

    let mut browser =
        Device::connect_with_cookie(&server.sync_url(), &cookie, "browser").expect("connect");
    let id = DocumentId::new_v7(1_764_100_000_000, [9; 10]);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "note", "kept").expect("put");
    doc.commit();
    browser.node.insert(id, doc);
    assert!(browser.run_until(WAIT, |d| d.acknowledged(&id)));
    // Every heartbeat signs the session in again.
    assert!(browser.run_until(WAIT, |d| d.pings >= 5 || d.closed));
    assert!(!browser.closed, "the session ended: {:?}", browser.errors);
    assert!(browser.errors.is_empty(), "{:?}", browser.errors);

    let headers = [("Cookie", cookie.as_str()), ("X-CSRF-Token", csrf.as_str())];
    let signed_out = itinera_tests::server::request("DELETE", &session, None, None, &headers);
    assert_eq!(signed_out.status, 204, "{signed_out:?}");
    assert!(browser.run_until(WAIT, |d| d.closed));
    assert!(
        browser
            .errors
            .iter()
            .any(|e| e.contains("access has ended")),
        "{:?}",
        browser.errors
    );
}
