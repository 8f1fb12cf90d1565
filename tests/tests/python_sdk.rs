//! The Python bindings, generated from the built library, run a rep's scenarios (their records,
//! and the server's decisions as their two devices see them) against the real
//! server (`mobile/python/tests`, unittest).

use std::process::Command;

use itinera_tests::server::{DataDir, TestServer, token, user_with_token};

#[test]
fn the_python_sdk_runs_a_reps_scenario_against_the_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let package = root.join("mobile/python");
    assert!(
        package.join("itinera/itinera.py").exists()
            && package.join("itinera/libitinera.so").exists(),
        "the Python bindings are not generated: run `bash mobile/python/build.sh` (tests/run.sh does)"
    );
    let data = DataDir::new("python-sdk");
    let phone = user_with_token(&data, "ana", "sales", &[]);
    let tablet = token(&data, "ana", "1d");
    let server = TestServer::start(&data, &[]);
    let work = data.path().join("devices");
    std::fs::create_dir_all(&work).expect("work folder");
    let output = Command::new("python3")
        .args(["-m", "unittest", "discover", "-s", "tests", "-v"])
        .current_dir(&package)
        .env("PYTHONPATH", &package)
        .env("ITINERA_SYNC_URL", server.sync_url())
        .env("ITINERA_TOKEN_PHONE", &phone)
        .env("ITINERA_TOKEN_TABLET", &tablet)
        .env("ITINERA_WORKDIR", &work)
        .output()
        .expect("python3 runs");
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
    assert!(report.contains("Ran 3 tests"), "{report}");
}
