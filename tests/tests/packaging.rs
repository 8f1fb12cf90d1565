//! The container image builds from `deploy/Dockerfile` wherever a Docker engine runs. Where
//! none does, the test says so on its output (`tests/run.sh` runs it with `--nocapture`)
//! instead of passing as if it had built something.

use std::path::PathBuf;
use std::process::Command;

#[test]
// The reason a build was skipped belongs on the test's output, where the run shows it.
#[allow(clippy::print_stdout)]
fn docker_image_builds_or_prints_why_it_cannot() {
    let info = Command::new("docker").arg("info").output();
    let reason = match &info {
        Err(err) => Some(err.to_string()),
        Ok(output) if !output.status.success() => Some(
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("no reason given")
                .trim()
                .to_owned(),
        ),
        Ok(_) => None,
    };
    if let Some(reason) = reason {
        println!("skipped: no Docker engine (docker info failed: {reason})");
        return;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the repository")
        .to_path_buf();
    let status = Command::new("docker")
        .args([
            "build",
            "--file",
            "deploy/Dockerfile",
            "--tag",
            "itinera-server:test",
            ".",
        ])
        .current_dir(&root)
        .status()
        .expect("docker build runs");
    assert!(status.success(), "docker build failed");
    let output = Command::new("docker")
        .args(["run", "--rm", "itinera-server:test", "--version"])
        .output()
        .expect("docker run runs");
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("itinera-server"),
        "{output:?}"
    );
}
