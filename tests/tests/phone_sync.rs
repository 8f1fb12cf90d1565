//! Phones in the field, through the SDK's Rust API (what Kotlin, Swift and Python wrap), over
//! `wss://` with a certificate authority made by the test (a TLS proxy in front of the server,
//! which records what the devices send): a reconnect syncs only what changed and resumes from
//! persisted states after a server restart, changes reach an open phone without a sync call,
//! a revoked token is replaced through the app's provider, a replica synced with another
//! user's token is refused, a listener that throws stops nothing, a damaged replica is never
//! opened as empty, and discarding never deletes what the server never had without saying so.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use itinera::{
    ItineraError, Replica, SyncClient, SyncListener, SyncOptions, SyncStatus, TokenProvider,
};
use itinera_core::DocumentId;
use itinera_tests::server::{DataDir, TestServer, http, token, user_with_token};
use itinera_tests::tls::TestCa;
use itinera_tests::tls_proxy::TlsProxy;

const WAIT: Duration = Duration::from_secs(60);

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// A server behind a TLS proxy, with the authority the phones pin.
struct Field {
    data: DataDir,
    server: TestServer,
    ca: TestCa,
    proxy: TlsProxy,
}

impl Field {
    /// Starts the server on `data` (users are added before, while no server holds the store).
    fn new(data: DataDir) -> Self {
        let ca = TestCa::new(data.path(), "field");
        let server = TestServer::start(&data, &[]);
        let proxy = TlsProxy::start(&ca, TlsProxy::address_of(&server.base));
        Self {
            data,
            server,
            ca,
            proxy,
        }
    }

    fn phone(&self, name: &str, user: &str, token: &str) -> (Arc<Replica>, Arc<SyncClient>) {
        let path = self.data.path().join(format!("{name}.redb"));
        let replica = Replica::open(path.display().to_string(), user.into()).expect("replica");
        let client = SyncClient::with_options(
            replica.clone(),
            self.proxy.url.clone(),
            token.into(),
            SyncOptions {
                pinned_ca_pem: Some(self.ca.ca_pem.clone()),
            },
        )
        .expect("client");
        (replica, client)
    }

    fn restart(&mut self) {
        self.server.kill9();
        self.server = TestServer::start(&self.data, &[]);
        self.server.wait_ready();
        self.proxy
            .set_upstream(TlsProxy::address_of(&self.server.base));
    }
}

fn until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_reconnect_syncs_only_what_changed_and_resumes_after_a_server_restart() {
    let data = DataDir::new("phone-reconnect");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let tablet_token = token(&data, "olga", "1d");
    let mut field = Field::new(data);
    let (office, office_client) = field.phone("office", "olga", &olga);
    let accounts: Vec<String> = (0..30)
        .map(|n| {
            office
                .create_account(format!("Account {n}"), "north".into())
                .expect("account")
        })
        .collect();
    block(office_client.sync_now()).expect("office sync");

    // First sync of an empty phone: the documents arrive whole in the feed's pages.
    let (tablet, client) = field.phone("tablet", "olga", &tablet_token);
    field.proxy.clear();
    let first = block(client.sync_now()).expect("first sync");
    assert!(first.documents_received >= 30, "{first:?}");
    assert_eq!(tablet.my_accounts().expect("accounts").len(), 30);
    assert!(
        field.proxy.sent().iter().all(|sent| !sent.bloom),
        "a first sync sends no Bloom filter"
    );

    // The server restarts; nothing changed: the phone says join and asks the feed, nothing more.
    field.restart();
    field.proxy.clear();
    let idle = block(client.sync_now()).expect("idle reconnect");
    let kinds: Vec<String> = field.proxy.sent().iter().map(|s| s.kind.clone()).collect();
    assert_eq!(
        kinds,
        vec!["join".to_owned(), "itinera-changes-since".to_owned()],
        "{idle:?}"
    );
    assert_eq!(idle.documents_synced, 0);

    // Three accounts change at the office: only those are synced, from persisted states.
    let mut changed: BTreeSet<DocumentId> = accounts[..3]
        .iter()
        .map(|account| {
            office
                .update_account(
                    account.clone(),
                    Some(format!("{account} renamed")),
                    None,
                    None,
                )
                .expect("rename");
            DocumentId::parse(account).expect("id")
        })
        .collect();
    // The new names are new titles in the user's index, which the server changed too.
    changed.insert(DocumentId::index_of("olga"));
    block(office_client.sync_now()).expect("office sync");
    field.restart();
    field.proxy.clear();
    let report = block(client.sync_now()).expect("reconnect");
    let named: BTreeSet<DocumentId> = field
        .proxy
        .sent()
        .iter()
        .filter_map(|sent| sent.document)
        .collect();
    assert_eq!(named, changed, "only the changed documents are synced");
    assert!(
        field
            .proxy
            .sent()
            .iter()
            .all(|sent| !sent.bloom || sent.document.is_some_and(|d| changed.contains(&d))),
        "no Bloom filter for an unchanged document"
    );
    assert_eq!(report.documents_received, 4, "{report:?}");
    let renamed = tablet
        .account(accounts[0].clone())
        .expect("read")
        .expect("held");
    assert!(renamed.name.ends_with("renamed"), "{renamed:?}");
}

#[test]
fn an_open_phone_hears_changes_and_its_watch_emits_without_a_sync_call() {
    let data = DataDir::new("phone-live");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ana_tablet = token(&data, "ana", "1d");
    let field = Field::new(data);
    let (phone, phone_client) = field.phone("phone", "ana", &ana);
    let (tablet, tablet_client) = field.phone("tablet", "ana", &ana_tablet);
    let watch = tablet.clone().watch_my_accounts();
    assert!(block(watch.next()).expect("first").is_empty());
    tablet_client.start();
    until("the tablet going online", || {
        tablet_client.status() == SyncStatus::Online
    });

    // A local write on the tablet: the watch emits.
    tablet
        .create_account("Written here".into(), "north".into())
        .expect("account");
    let local = block(watch.next()).expect("after a local write");
    assert_eq!(local.len(), 1);

    // A write on the phone reaches the open tablet, which never calls sync.
    let account = phone
        .create_account("Written elsewhere".into(), "north".into())
        .expect("account");
    block(phone_client.sync_now()).expect("phone sync");
    let deadline = Instant::now() + WAIT;
    loop {
        let accounts =
            block(async { tokio::time::timeout(Duration::from_secs(5), watch.next()).await });
        if let Ok(Ok(accounts)) = accounts {
            if accounts.iter().any(|a| a.id == account) {
                break;
            }
        }
        assert!(Instant::now() < deadline, "the change never arrived");
    }
    tablet_client.stop();
}

struct Provider {
    fresh: Mutex<Option<String>>,
    asked: AtomicUsize,
}

impl TokenProvider for Provider {
    fn refresh_token(&self, _reason: String) -> Option<String> {
        self.asked.fetch_add(1, Ordering::SeqCst);
        self.fresh.lock().expect("lock").take()
    }
}

#[test]
fn a_revoked_token_is_replaced_through_the_apps_provider() {
    let data = DataDir::new("phone-refresh");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let renewed = token(&data, "ana", "1d");
    let field = Field::new(data);
    let (phone, client) = field.phone("phone", "ana", &ana);
    let provider = Arc::new(Provider {
        fresh: Mutex::new(Some(renewed)),
        asked: AtomicUsize::new(0),
    });
    client.set_token_provider(provider.clone());
    client.start();
    until("going online", || client.status() == SyncStatus::Online);

    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/tokens/revoke", field.server.base),
        Some(&admin),
        Some(&format!(r#"{{"token":"{ana}"}}"#)),
    );
    assert_eq!(status, 200, "{body}");
    until("the provider being asked", || {
        provider.asked.load(Ordering::SeqCst) == 1
    });
    until("online again with the new token", || {
        client.status() == SyncStatus::Online
    });
    let account = phone
        .create_account("After the new token".into(), "north".into())
        .expect("account");
    until("the change acknowledged", || {
        !phone
            .pending_documents()
            .expect("pending")
            .contains(&account)
    });

    // With no token to give, the client signs out instead of retrying forever.
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/tokens/revoke", field.server.base),
        Some(&admin),
        Some(r#"{"user":"ana"}"#),
    );
    assert_eq!(status, 200, "{body}");
    until("signed out", || client.status() == SyncStatus::SignedOut);
    assert_eq!(provider.asked.load(Ordering::SeqCst), 2);
}

#[test]
fn a_replica_synced_with_another_users_token_is_refused_at_connect() {
    let data = DataDir::new("phone-wrong-user");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let field = Field::new(data);
    let (replica, _) = field.phone("ana", "ana", &ana);
    let unsynced = replica
        .create_account("Ana's lead".into(), "north".into())
        .expect("account");
    let wrong = SyncClient::with_options(
        replica.clone(),
        field.proxy.url.clone(),
        sam,
        SyncOptions {
            pinned_ca_pem: Some(field.ca.ca_pem.clone()),
        },
    )
    .expect("client");
    let err = block(wrong.sync_now()).expect_err("refused");
    assert!(
        matches!(&err, ItineraError::WrongUser { reason } if reason.contains("belongs to ana")),
        "{err:?}"
    );
    // Following the docs after that deletes nothing the server never had.
    let err = replica
        .discard_local_changes(unsynced.clone())
        .expect_err("refused");
    assert!(matches!(err, ItineraError::NeverSynced { .. }), "{err:?}");
    assert!(replica.account(unsynced.clone()).expect("read").is_some());
    replica
        .delete_unsynced_document(unsynced.clone())
        .expect("deleted when asked explicitly");
    assert!(replica.account(unsynced).expect("read").is_none());
}

#[test]
fn a_server_signed_by_another_authority_is_refused_with_a_clear_error() {
    let data = DataDir::new("phone-wrong-ca");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let field = Field::new(data);
    let stranger = TestCa::new(field.data.path(), "stranger");
    let replica = Replica::open(
        field.data.path().join("phone.redb").display().to_string(),
        "ana".into(),
    )
    .expect("replica");
    let client = SyncClient::with_options(
        replica,
        field.proxy.url.clone(),
        ana,
        SyncOptions {
            pinned_ca_pem: Some(stranger.ca_pem.clone()),
        },
    )
    .expect("client");
    let err = block(client.sync_now()).expect_err("refused");
    assert!(
        matches!(&err, ItineraError::Offline { reason } if reason.contains("certificate is not trusted")),
        "{err:?}"
    );
}

struct Throwing {
    calls: AtomicUsize,
}

impl SyncListener for Throwing {
    fn records_changed(&self, _: Vec<String>) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        panic!("the app's listener failed");
    }
    fn status_changed(&self, _: SyncStatus) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        panic!("the app's listener failed");
    }
    fn document_rejected(&self, _: String, _: String) {
        panic!("the app's listener failed");
    }
}

#[test]
fn a_listener_that_throws_never_stops_a_sync() {
    let data = DataDir::new("phone-listener");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let field = Field::new(data);
    let (phone, client) = field.phone("phone", "olga", &olga);
    let listener = Arc::new(Throwing {
        calls: AtomicUsize::new(0),
    });
    client.set_listener(listener.clone());
    let report = block(client.sync_now()).expect("a sync with a throwing listener");
    assert!(report.rejected.is_empty());
    client.start_background(60_000);
    let accounts: Vec<String> = (0..12)
        .map(|n| {
            std::thread::sleep(Duration::from_millis(30));
            phone
                .create_account(format!("Account {n}"), "north".into())
                .expect("account")
        })
        .collect();
    until("every account acknowledged", || {
        phone.pending_documents().expect("pending").is_empty()
    });
    client.stop();
    assert!(listener.calls.load(Ordering::SeqCst) > 0, "it was called");
    for account in accounts {
        let id = DocumentId::parse(&account).expect("id");
        let (status, _) = field.server.document(&olga, &id);
        assert_eq!(status, 200, "{account} reached the server");
    }
}

#[test]
fn a_truncated_replica_is_reported_and_recovered_from_the_server() {
    let data = DataDir::new("phone-truncated");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let field = Field::new(data);
    let path = field.data.path().join("phone.redb");
    let synced = {
        let (phone, client) = field.phone("phone", "olga", &olga);
        let synced = phone
            .create_account("On the server".into(), "north".into())
            .expect("account");
        block(client.sync_now()).expect("sync");
        phone
            .create_account("Never synced".into(), "north".into())
            .expect("account");
        synced
    };
    std::fs::write(&path, b"").expect("truncate");
    let err = Replica::open(path.display().to_string(), "olga".into()).expect_err("refused");
    assert!(matches!(err, ItineraError::Damaged { .. }), "{err:?}");

    let recovered = Replica::recover(path.display().to_string(), "olga".into()).expect("recover");
    let client = SyncClient::with_options(
        recovered.clone(),
        field.proxy.url.clone(),
        olga,
        SyncOptions {
            pinned_ca_pem: Some(field.ca.ca_pem.clone()),
        },
    )
    .expect("client");
    block(client.sync_now()).expect("sync");
    let names: Vec<String> = recovered
        .my_accounts()
        .expect("accounts")
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, vec!["On the server".to_owned()]);
    assert!(recovered.account(synced).expect("read").is_some());
    let aside: Vec<_> = std::fs::read_dir(field.data.path())
        .expect("folder")
        .filter_map(Result::ok)
        .filter(|entry| entry.file_name().to_string_lossy().contains(".damaged-"))
        .collect();
    assert_eq!(aside.len(), 1, "the damaged file is kept aside");
}
