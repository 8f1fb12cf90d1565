//! `itinera-core` does no IO: its model and sync engine must not pull in an async runtime, an
//! actor system or a database. The redb store is behind a cargo feature that only the server and
//! the bindings turn on.

use std::path::Path;
use std::process::Command;

const FORBIDDEN: [&str; 4] = ["tokio", "actix", "redb", "mio"];

#[test]
fn core_depends_on_no_runtime_actor_system_or_database() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(env!("CARGO"))
        .current_dir(&workspace)
        .args([
            "tree",
            "-p",
            "itinera-core",
            "-e",
            "normal",
            "--no-default-features",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("utf-8");
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"automerge"), "unexpected tree:\n{tree}");
    let offending: Vec<&&str> = crates
        .iter()
        .filter(|name| FORBIDDEN.iter().any(|bad| name.starts_with(bad)))
        .collect();
    assert!(
        offending.is_empty(),
        "itinera-core depends on {offending:?}"
    );
}
