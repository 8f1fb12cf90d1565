//! The Python package (a wheel built with maturin into its own virtual environment by
//! `mobile/python/build.sh`) runs a rep's scenarios (their records, and the server's decisions as
//! their two devices see them) and the phone-in-the-field scenarios against the real server, over
//! `ws://` and over `wss://` through a TLS proxy with a certificate authority made by the test
//! (`mobile/python/tests`, unittest).

use std::process::Command;

use itinera_tests::server::{DataDir, TestServer, token, user_with_token};
use itinera_tests::tls::TestCa;
use itinera_tests::tls_proxy::TlsProxy;

#[test]
fn the_python_sdk_runs_its_scenarios_against_the_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let package = root.join("mobile/python");
    let python = root.join("target/python-venv/bin/python");
    assert!(
        python.exists(),
        "the Python wheel is not built: run `bash mobile/python/build.sh` (tests/run.sh does)"
    );
    let data = DataDir::new("python-sdk");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let phone = user_with_token(&data, "ana", "sales", &[]);
    let tablet = token(&data, "ana", "1d");
    let revoked = token(&data, "ana", "1d");
    let fresh = token(&data, "ana", "1d");
    let server = TestServer::start(&data, &[]);
    let ca = TestCa::new(data.path(), "python");
    let proxy = TlsProxy::start(&ca, TlsProxy::address_of(&server.base));
    let work = data.path().join("devices");
    std::fs::create_dir_all(&work).expect("work folder");
    let output = Command::new(&python)
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .current_dir(&package)
        // The installed wheel, not the source folder, is what the tests import.
        .env_remove("PYTHONPATH")
        .env("PYTHONSAFEPATH", "1")
        .env("ITINERA_SYNC_URL", server.sync_url())
        .env("ITINERA_WSS_URL", &proxy.url)
        .env("ITINERA_CA_PEM", &ca.ca_pem)
        .env("ITINERA_HTTP_BASE", &server.base)
        .env("ITINERA_ADMIN_TOKEN", &admin)
        .env("ITINERA_TOKEN_PHONE", &phone)
        .env("ITINERA_TOKEN_TABLET", &tablet)
        .env("ITINERA_TOKEN_REVOKED", &revoked)
        .env("ITINERA_TOKEN_FRESH", &fresh)
        .env("ITINERA_WORKDIR", &work)
        .output()
        .expect("python runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "python tests failed:\n{report}\nserver log:\n{}",
        server.log()
    );
    assert!(report.contains("Ran 6 tests"), "{report}");
}
