//! The real server on the PostgreSQL store (`serve --store postgres://…`): a JS automerge-repo
//! client and a Rust device sync through it, the server is killed with SIGKILL under a write
//! load and started again, and every acknowledged change is still there, for the devices and
//! for a JS client that comes afterwards.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_core::model::Account;
use itinera_tests::device::{Device, record};
use itinera_tests::js::node;
use itinera_tests::postgres::fresh_store_url;
use itinera_tests::server::{DataDir, TestServer, cli};

const WAIT: Duration = Duration::from_secs(20);

/// Adds a user through the CLI on the PostgreSQL store and returns a token for them.
fn user_on(store: &str, data: &DataDir, name: &str, role: &str) -> String {
    cli(
        data,
        &["--store", store, "user", "add", name, "--role", role],
    );
    let out = cli(
        data,
        &["--store", store, "token", "issue", name, "--ttl", "1d"],
    );
    out.lines().last().expect("a token line").trim().to_owned()
}

#[test]
fn a_js_client_and_a_rust_device_lose_no_acknowledged_change_across_a_kill_9() {
    let store = fresh_store_url("kill9");
    let data = DataDir::new("postgres-kill9");
    let ana = user_on(&store, &data, "ana", "sales");
    let olga = user_on(&store, &data, "olga", "office");
    let mut server = TestServer::start(&data, &["--store", &store]);

    // The Rust device creates an account; the JS client renames it, the device tags it.
    let account_id = DocumentId::new_v7(1_764_000_000_001, [1; 10]);
    let account = Account {
        name: "Lakeside Travel".into(),
        owner: "ana".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let mut phone = Device::connect(&server.sync_url(), &ana, "ana-phone").expect("connect");
    phone.node.insert(account_id, record(1, &account));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account_id)));
    let js = std::thread::spawn({
        let (base, ana, url) = (server.base.clone(), ana.clone(), account_id.to_url());
        move || node("js/account_peer.mjs", &[&base, &ana, &url], "")
    });
    assert!(
        phone.run_until(WAIT, |d| {
            d.node
                .document(&account_id)
                .and_then(|doc| autosurgeon::hydrate::<_, Account>(doc).ok())
                .is_some_and(|a| a.name == "Lakeside Travel Ltd")
        }),
        "the JS rename reached the Rust device"
    );
    phone.node.change(&account_id, |doc| {
        let mut account: Account = autosurgeon::hydrate(doc).expect("account");
        account.tags.insert("vip");
        autosurgeon::reconcile(doc, &account).expect("reconcile");
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account_id)));
    let seen_by_js: serde_json::Value =
        serde_json::from_str(js.join().expect("js thread").trim()).expect("json");
    assert_eq!(seen_by_js["tags"]["vip"], true);
    phone.disconnect();

    // A device writes as fast as the server acknowledges; the server dies mid-stream.
    let ledger = DocumentId::new_v7(1_764_000_000_002, [2; 10]);
    let mut doc = AutoCommit::new().with_actor(ActorId::from([3u8; 16]));
    doc.put(ROOT, "title", "ledger of writes").expect("put");
    doc.commit();
    let mut writer = Device::connect(&server.sync_url(), &olga, "writer").expect("connect");
    writer.node.insert(ledger, doc);
    let mut acknowledged = 0u32;
    for n in 1..=120u32 {
        writer.node.change(&ledger, |doc| {
            doc.put(ROOT, format!("w{n}"), i64::from(n)).expect("put")
        });
        writer.run_until(Duration::from_millis(50), |d| d.acknowledged(&ledger));
        if writer.acknowledged(&ledger) {
            acknowledged = n;
        }
    }
    server.kill9();
    writer.disconnect();
    assert!(
        acknowledged > 10,
        "too few writes acknowledged ({acknowledged})"
    );
    assert!(
        !data.path().join("itinera.redb").exists(),
        "the server wrote a redb file although it was given PostgreSQL"
    );

    let server = TestServer::start(&data, &["--store", &store]);
    let (status, view) = server.document(&olga, &ledger);
    assert_eq!(status, 200);
    for n in 1..=acknowledged {
        assert_eq!(
            view["record"][format!("w{n}")],
            n,
            "acknowledged write {n} lost"
        );
    }
    let last = format!("w{acknowledged}");
    let ledger_in_js: serde_json::Value = serde_json::from_str(
        node(
            "js/read_document.mjs",
            &[&server.base, &olga, &ledger.to_url(), &last],
            "",
        )
        .trim(),
    )
    .expect("json");
    for n in 1..=acknowledged {
        assert_eq!(
            ledger_in_js[format!("w{n}")],
            n,
            "write {n} missing for a JS client"
        );
    }
    let account_in_js: serde_json::Value = serde_json::from_str(
        node(
            "js/read_document.mjs",
            &[&server.base, &ana, &account_id.to_url(), "tags"],
            "",
        )
        .trim(),
    )
    .expect("json");
    assert_eq!(account_in_js["name"], "Lakeside Travel Ltd");
    assert_eq!(account_in_js["tags"]["vip"], true);
}
