//! The server terminates TLS itself (`serve --tls-cert --tls-key`, rustls): the unmodified JS
//! automerge-repo client and a Rust device sync over `wss://` trusting a certificate authority
//! made by the test, and a client that trusts another authority is refused with a clear error.

use std::time::Duration;

use automerge::transaction::Transactable;
use automerge::{AutoCommit, ROOT};
use itinera_core::DocumentId;
use itinera_tests::device::{ConnectError, Device};
use itinera_tests::js::node_with_env;
use itinera_tests::server::{DataDir, TestServer, token, user_with_token};
use itinera_tests::tls::TestCa;

const WAIT: Duration = Duration::from_secs(20);

fn tls_server(data: &DataDir, ca: &TestCa) -> TestServer {
    let cert = ca.cert.to_str().expect("utf-8 path");
    let key = ca.key.to_str().expect("utf-8 path");
    TestServer::start(data, &["--tls-cert", cert, "--tls-key", key])
}

#[test]
fn clients_sync_over_tls_and_a_wrong_authority_is_refused() {
    let data = DataDir::new("tls");
    let ana = user_with_token(&data, "ana", "sales", &[]);
    let ana_second = token(&data, "ana", "1d");
    let ben = user_with_token(&data, "ben", "sales", &[]);
    let ca = TestCa::new(data.path(), "itinera");
    let server = tls_server(&data, &ca);
    assert!(server.base.starts_with("https://"), "{}", server.base);
    assert!(server.sync_url().starts_with("wss://"));

    // A Rust device.
    let mut phone = Device::connect_tls(&server.sync_url(), &ana, "ana-phone", ca.client_config())
        .expect("a TLS connection");
    let id = DocumentId::new_v7(1_764_000_000_000, [4; 10]);
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "title", "over TLS").expect("put");
    doc.commit();
    phone.node.insert(id, doc);
    assert!(
        phone.run_until(WAIT, |d| d.acknowledged(&id)),
        "synced over wss://"
    );

    // The unmodified JS client, trusting the test's authority through Node's own setting.
    let ca_file = ca.write_ca(data.path());
    let out = node_with_env(
        "js/e2e_generic.mjs",
        &[&server.base, &ana, &ana_second, &ben],
        "",
        &[("NODE_EXTRA_CA_CERTS", ca_file.to_str().expect("utf-8 path"))],
    );
    let result: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(
        result["a"], result["b"],
        "both JS clients converged over TLS"
    );
    assert_eq!(result["third"], "unavailable");

    // A client that trusts another authority does not connect, and says why.
    let stranger = TestCa::new(data.path(), "stranger");
    match Device::connect_tls(
        &server.sync_url(),
        &ana,
        "ana-laptop",
        stranger.client_config(),
    ) {
        Ok(_) => panic!("a server certificate from an unknown authority was accepted"),
        Err(ConnectError::Other(reason)) => assert!(
            reason.contains("certificate") && reason.contains("UnknownIssuer"),
            "{reason}"
        ),
        Err(other) => panic!("refused for another reason: {other:?}"),
    }
}
