//! Running the JS automerge-repo packages from a test.
//!
//! The packages come from `tests/package.json` and its lockfile. `tests/run.sh` installs them
//! before the suite; a test run on its own installs them here when they are missing. A machine
//! without Node.js fails the test with a message saying so: nothing is skipped.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Once;

/// The `tests/` folder, where `package.json` and `js/` are.
pub fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Installs the npm packages from the lockfile if `node_modules` lacks them.
pub fn ensure_packages() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let marker = tests_dir().join("node_modules/@automerge/automerge-repo/package.json");
        if marker.exists() {
            return;
        }
        let status = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund"])
            .current_dir(tests_dir())
            .status()
            .unwrap_or_else(|err| panic!("npm is required for the JS interop tests: {err}"));
        assert!(status.success(), "npm install in tests/ failed: {status}");
    });
}

/// Runs `node <script> <args>` from `tests/`, feeding `stdin`; returns stdout, panicking with
/// stderr if node fails.
pub fn node(script: &str, args: &[&str], stdin: &str) -> String {
    node_with_env(script, args, stdin, &[])
}

/// [`node`] with environment variables set (`NODE_EXTRA_CA_CERTS`, say).
pub fn node_with_env(script: &str, args: &[&str], stdin: &str, env: &[(&str, &str)]) -> String {
    ensure_packages();
    let mut child = Command::new("node")
        .arg(script)
        .args(args)
        .envs(env.iter().copied())
        .current_dir(tests_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|err| panic!("node is required for the JS interop tests: {err}"));
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_owned();
    let writer = std::thread::spawn(move || input.write_all(stdin.as_bytes()));
    let output = child.wait_with_output().expect("node runs");
    writer.join().expect("stdin writer").expect("stdin written");
    assert!(
        output.status.success(),
        "node {script} {args:?} failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("node prints UTF-8")
}

/// Lower-case hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of lower-case or upper-case `hex`.
pub fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex digits"))
        .collect()
}
