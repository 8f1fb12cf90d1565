//! The Kotlin bindings on the JVM: the generated Kotlin and the idiomatic layer
//! (`mobile/kotlin`) compiled with the npm package `kotlin-compiler`, run on Java with JNA from
//! Debian's `libjna-java`, against the real server (`mobile/jvm-tests`).

use std::path::Path;
use std::process::Command;

use itinera_tests::server::{DataDir, TestServer, token, user_with_token};
use itinera_tests::tls::TestCa;
use itinera_tests::tls_proxy::TlsProxy;

#[test]
fn the_kotlin_sdk_runs_a_reps_scenario_on_the_jvm_against_the_server() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let generated = root.join("mobile/kotlin/generated");
    let kotlinc = root.join("tests/node_modules/kotlin-compiler/bin/kotlinc");
    let lib = root.join("tests/node_modules/kotlin-compiler/lib");
    let jna = Path::new("/usr/share/java/jna.jar");
    for (path, how) in [
        (
            generated.join("com/itinera/sdk/itinera.kt"),
            "run `bash mobile/kotlin/build.sh`",
        ),
        (
            kotlinc.clone(),
            "run `npm install` in tests/ (kotlin-compiler)",
        ),
        (jna.to_path_buf(), "install Debian's libjna-java"),
    ] {
        assert!(
            path.exists(),
            "{} is missing: {how} (tests/run.sh does)",
            path.display()
        );
    }
    let coroutines = lib.join("kotlinx-coroutines-core-jvm.jar");
    let stdlib = lib.join("kotlin-stdlib.jar");
    let jar = root.join("target/kotlin-sdk-tests.jar");
    let compiled = Command::new(&kotlinc)
        .arg(generated.join("com/itinera/sdk/itinera.kt"))
        .arg(root.join("mobile/kotlin/src/com/itinera/sdk/Flows.kt"))
        .arg(root.join("mobile/jvm-tests/RepScenario.kt"))
        .arg("-cp")
        .arg(format!("{}:{}", coroutines.display(), jna.display()))
        .arg("-nowarn")
        .arg("-d")
        .arg(&jar)
        .output()
        .expect("kotlinc runs");
    assert!(
        compiled.status.success(),
        "kotlinc failed:\n{}",
        String::from_utf8_lossy(&compiled.stderr)
    );

    let data = DataDir::new("kotlin-sdk");
    let admin = user_with_token(&data, "root", "admin", &[]);
    let phone = user_with_token(&data, "ana", "sales", &[]);
    let tablet = token(&data, "ana", "1d");
    let revoked = token(&data, "ana", "1d");
    let fresh = token(&data, "ana", "1d");
    let server = TestServer::start(&data, &[]);
    let ca = TestCa::new(data.path(), "kotlin");
    let proxy = TlsProxy::start(&ca, TlsProxy::address_of(&server.base));
    let work = data.path().join("devices");
    std::fs::create_dir_all(&work).expect("work folder");
    let run = Command::new("java")
        .arg(format!(
            "-Djna.library.path={}",
            generated.join("lib").display()
        ))
        .arg("-cp")
        .arg(format!(
            "{}:{}:{}:{}",
            jar.display(),
            stdlib.display(),
            coroutines.display(),
            jna.display()
        ))
        .arg("RepScenarioKt")
        .env("ITINERA_SYNC_URL", server.sync_url())
        .env("ITINERA_WSS_URL", &proxy.url)
        .env("ITINERA_CA_PEM", &ca.ca_pem)
        .env("ITINERA_HTTP_BASE", &server.base)
        .env("ITINERA_ADMIN_TOKEN", &admin)
        .env("ITINERA_TOKEN_REVOKED", &revoked)
        .env("ITINERA_TOKEN_FRESH", &fresh)
        .env("ITINERA_TOKEN_PHONE", &phone)
        .env("ITINERA_TOKEN_TABLET", &tablet)
        .env("ITINERA_WORKDIR", &work)
        .output()
        .expect("java runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        run.status.success(),
        "the Kotlin scenario failed:\n{report}\nserver log:\n{}",
        server.log()
    );
    assert!(report.contains("4 passed, 0 failed"), "{report}");
}
