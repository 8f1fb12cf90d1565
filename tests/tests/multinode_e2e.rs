//! Several server nodes on one PostgreSQL database (`serve --store postgres://…` twice): a
//! change committed through one reaches the devices of the other, a node killed with SIGKILL
//! under a write load loses nothing its clients were told was stored (they carry on through
//! the other), the authority runs on one node at a time and the next one takes over when it
//! dies (legal numbers gapless, every journal entry once), and a revoked token closes the
//! user's connections on every node.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_core::model::{Account, Departure};
use itinera_tests::decision_crash_loop::{
    booking, check_books, created, id_of, invoice, wait_for_decisions,
};
use itinera_tests::device::{Device, record};
use itinera_tests::js::node;
use itinera_tests::server::{Backend, DataDir, TestServer, http, request};

const WAIT: Duration = Duration::from_secs(20);

/// Two nodes on one fresh schema, each with a data folder of its own; the first one started
/// leads.
struct Cluster {
    backend: Backend,
    data: [DataDir; 2],
}

impl Cluster {
    fn new(test: &str) -> Self {
        Self {
            backend: Backend::postgres(test),
            data: [
                DataDir::new(&format!("{test}-a")),
                DataDir::new(&format!("{test}-b")),
            ],
        }
    }

    fn user(&self, name: &str, role: &str) -> String {
        self.backend.user_with_token(&self.data[0], name, role, &[])
    }

    fn start(&self, node: usize) -> TestServer {
        self.backend.start(&self.data[node], &[])
    }
}

/// Whether the node's log says it leads.
fn leads(server: &TestServer) -> bool {
    server.log().contains("this node leads")
}

#[test]
fn a_js_client_on_each_node_and_both_converge() {
    let cluster = Cluster::new("converge");
    let ana = cluster.user("ana", "sales");
    let a = cluster.start(0);
    let b = cluster.start(1);

    let account_id = DocumentId::new_v7(1_764_000_000_101, [1; 10]);
    let account = Account {
        name: "Lakeside Travel".into(),
        owner: "ana".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let mut phone = Device::connect(&a.sync_url(), &ana, "ana-phone").expect("connect");
    phone.node.insert(account_id, record(1, &account));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account_id)));
    phone.disconnect();

    // The JS client on node A renames and waits for the tag the JS client on node B writes
    // once it saw the rename: each hears the other only through the shared store.
    let renamer = std::thread::spawn({
        let (base, ana, url) = (a.base.clone(), ana.clone(), account_id.to_url());
        move || node("js/account_peer.mjs", &[&base, &ana, &url], "")
    });
    let tagger = std::thread::spawn({
        let (base, ana, url) = (b.base.clone(), ana.clone(), account_id.to_url());
        move || node("js/tag_peer.mjs", &[&base, &ana, &url], "")
    });
    let seen_on_a: serde_json::Value =
        serde_json::from_str(renamer.join().expect("js on a").trim()).expect("json");
    assert_eq!(seen_on_a["name"], "Lakeside Travel Ltd");
    assert_eq!(seen_on_a["tags"]["vip"], true, "B's tag reached A's client");

    // Written through node A's REST API, heard by the client on node B.
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{account_id}", a.base),
        Some(&ana),
        Some(r#"{"tags": {"both": true}}"#),
    );
    assert_eq!(status, 200, "{body}");
    let seen_on_b: serde_json::Value =
        serde_json::from_str(tagger.join().expect("js on b").trim()).expect("json");
    assert_eq!(
        seen_on_b["name"], "Lakeside Travel Ltd",
        "A's rename reached B's client"
    );
    assert_eq!(seen_on_b["tags"]["vip"], true);

    let on_a = a.document(&ana, &account_id);
    a.eventually("both nodes serve the same account", || {
        b.document(&ana, &account_id) == on_a
    });
    assert_eq!(on_a.1["record"]["tags"]["both"], true);
}

/// Writes `count` keys `{prefix}{n}` into `doc` one after the other, each waited for a short
/// while; returns the last one acknowledged.
fn write_keys(device: &mut Device, doc: &DocumentId, prefix: &str, count: u32) -> u32 {
    let mut acknowledged = 0;
    for n in 1..=count {
        if device.closed {
            break;
        }
        device.node.change(doc, |d| {
            d.put(ROOT, format!("{prefix}{n}"), i64::from(n))
                .expect("put")
        });
        device.run_until(Duration::from_millis(50), |d| {
            d.closed || d.acknowledged(doc)
        });
        if !device.closed && device.acknowledged(doc) {
            acknowledged = n;
        }
    }
    acknowledged
}

#[test]
fn a_node_killed_under_load_loses_nothing_and_its_clients_carry_on_through_the_other() {
    let cluster = Cluster::new("kill_node");
    let olga = cluster.user("olga", "office");
    let mut a = cluster.start(0);
    let b = cluster.start(1);

    let ledger = DocumentId::new_v7(1_764_000_000_102, [2; 10]);
    let mut doc = AutoCommit::new().with_actor(ActorId::from([3u8; 16]));
    doc.put(ROOT, "title", "ledger of writes").expect("put");
    doc.commit();
    let mut on_a = Device::connect(&a.sync_url(), &olga, "writer-a").expect("connect");
    on_a.node
        .insert(ledger, doc.fork().with_actor(ActorId::from([3u8; 16])));
    assert!(on_a.run_until(WAIT, |d| d.acknowledged(&ledger)));
    let mut on_b = Device::connect(&b.sync_url(), &olga, "writer-b").expect("connect");
    on_b.node
        .insert(ledger, doc.with_actor(ActorId::from([4u8; 16])));
    assert!(on_b.run_until(WAIT, |d| d.acknowledged(&ledger)));

    // Both write the same document at once, one through each node; node A dies mid-stream.
    let writer_b = std::thread::spawn(move || {
        let acknowledged = write_keys(&mut on_b, &ledger, "b", 80);
        (on_b, acknowledged)
    });
    let acknowledged_a = write_keys(&mut on_a, &ledger, "a", 40);
    a.kill9();
    let (mut on_b, acknowledged_b) = writer_b.join().expect("writer b");
    assert!(
        acknowledged_a > 5,
        "too few writes through A ({acknowledged_a})"
    );
    assert!(
        acknowledged_b > 5,
        "too few writes through B ({acknowledged_b})"
    );

    // A's device reconnects to B and hands over what A never acknowledged.
    on_a.reconnect(&b.sync_url(), &olga)
        .expect("reconnect to b");
    assert!(
        on_a.run_until(WAIT, |d| d.acknowledged(&ledger)),
        "A's device got everything acknowledged by B"
    );
    assert!(on_b.run_until(WAIT, |d| d.acknowledged(&ledger)));
    let (status, view) = b.document(&olga, &ledger);
    assert_eq!(status, 200);
    for (prefix, acknowledged) in [("a", acknowledged_a), ("b", acknowledged_b)] {
        for n in 1..=acknowledged {
            assert_eq!(
                view["record"][format!("{prefix}{n}")],
                n,
                "acknowledged write {prefix}{n} lost"
            );
        }
    }
    // Node A comes back and serves the same document.
    let a = cluster.start(0);
    a.eventually("the restarted node serves what B holds", || {
        a.document(&olga, &ledger) == b.document(&olga, &ledger)
    });
    on_a.disconnect();
    on_b.disconnect();
}

#[test]
fn the_authority_moves_to_the_other_node_when_its_node_is_killed() {
    let cluster = Cluster::new("authority_moves");
    let olga = cluster.user("olga", "office");
    let sam = cluster.user("sam", "sales");
    let mut a = cluster.start(0);
    a.eventually("node A leads", || leads(&a));
    let b = cluster.start(1);
    assert!(!leads(&b), "two nodes lead at once");

    let departure = id_of(0, 9);
    let mut office = Device::connect(&b.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        departure,
        created(&Departure {
            tour: "db3".into(),
            capacity: 6,
            starts_at: 1_800_000_000_000,
            ends_at: 1_800_086_400_000,
            ..Default::default()
        }),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&departure)));
    office.disconnect();

    // Sam posts invoices and submits bookings through node B; node A decides them until it
    // is killed mid-stream.
    let mut device = Device::connect(&b.sync_url(), &sam, "sam-phone").expect("connect");
    let writer = std::thread::spawn(move || {
        for n in 1..=20 {
            assert!(
                post(&mut device, &departure, n),
                "post {n} not acknowledged by B"
            );
        }
        device.disconnect();
    });
    a.eventually("node A numbered an invoice", || any_numbered(&b, &olga));
    a.kill9();
    writer.join().expect("writer");
    b.eventually("node B leads once A is gone", || leads(&b));
    wait_for_decisions(&b, &olga, &departure, 0);
    let (invoices, bookings) = check_books(&b, &olga, &departure, 0);
    assert!(
        invoices >= 3 && bookings >= 3,
        "{invoices} invoices, {bookings} bookings"
    );
}

/// Posts invoice or booking `n` (even: an invoice) through `device`; whether it was
/// acknowledged.
fn post(device: &mut Device, departure: &DocumentId, n: usize) -> bool {
    let id = if n % 2 == 0 {
        let id = id_of(n, 1);
        device.node.insert(id, created(&invoice(n)));
        id
    } else {
        let id = id_of(n, 2);
        device.node.insert(id, created(&booking(departure, n)));
        id
    };
    device.run_until(WAIT, |d| d.acknowledged(&id))
}

/// Whether any invoice has its legal number, as node `server` serves them.
fn any_numbered(server: &TestServer, token: &str) -> bool {
    let response = request(
        "GET",
        &format!("{}/api/v1/records?kind=invoice", server.base),
        Some(token),
        None,
        &[],
    );
    serde_json::from_str::<Vec<serde_json::Value>>(&response.body)
        .unwrap_or_default()
        .iter()
        .any(|invoice| !invoice["record"]["legal_number"].is_null())
}

#[test]
fn a_revoked_token_closes_the_users_connections_on_every_node() {
    let cluster = Cluster::new("revoke");
    let ana = cluster.user("ana", "sales");
    let admin = cluster.user("root", "admin");
    let a = cluster.start(0);
    let b = cluster.start(1);
    let mut on_a = Device::connect(&a.sync_url(), &ana, "ana-a").expect("connect a");
    let mut on_b = Device::connect(&b.sync_url(), &ana, "ana-b").expect("connect b");
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/tokens/revoke", a.base),
        Some(&admin),
        Some(r#"{"user": "ana"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        on_a.run_until(WAIT, |d| d.closed),
        "the socket on node A stays open"
    );
    assert!(
        on_b.run_until(WAIT, |d| d.closed),
        "the socket on node B stays open"
    );
    let me = |server: &TestServer| {
        http(
            "GET",
            &format!("{}/api/v1/me", server.base),
            Some(&ana),
            None,
        )
        .0
    };
    assert_eq!(me(&a), 401);
    assert_eq!(me(&b), 401);
}
