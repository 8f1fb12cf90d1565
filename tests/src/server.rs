//! The real `itinera-server` binary, run by a test in a data folder of its own.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::Duration;

/// The binary built by `cargo build -p itinera-server` (tests/run.sh builds it first).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    // target/debug/deps/<test> → target/debug/itinera-server
    let dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target directory");
    let binary = dir.join("itinera-server");
    assert!(
        binary.exists(),
        "{} is missing: run `cargo build -p itinera-server` first (tests/run.sh does)",
        binary.display()
    );
    binary
}

/// A fresh, empty data folder, removed when dropped.
#[derive(Debug)]
pub struct DataDir {
    path: PathBuf,
    /// Whether the folder is a tmpfs mount of its own (unmounted when dropped).
    mounted: bool,
}

impl DataDir {
    pub fn new(name: &str) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let path = std::env::temp_dir().join(format!(
            "itinera-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).expect("create data folder");
        Self {
            path,
            mounted: false,
        }
    }

    /// A data folder on a tmpfs of `bytes`, so that a test can fill the disk. Needs the right
    /// to mount (root, as on CI); panics with the reason otherwise.
    pub fn on_tmpfs(name: &str, bytes: u64) -> Self {
        let mut dir = Self::new(name);
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={bytes}"), "tmpfs"])
            .arg(&dir.path)
            .output()
            .expect("the mount command runs");
        assert!(
            output.status.success(),
            "mounting a {bytes}-byte tmpfs at {} failed (the disk-fault tests need to mount, \
             as root does): {}",
            dir.path.display(),
            String::from_utf8_lossy(&output.stderr)
        );
        dir.mounted = true;
        dir
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Runs a command of the CLI on `data`; returns stdout, panicking on failure.
pub fn cli(data: &DataDir, args: &[&str]) -> String {
    let output = Command::new(binary())
        .arg("--data")
        .arg(data.path())
        .args(args)
        .output()
        .expect("itinera-server runs");
    assert!(
        output.status.success(),
        "itinera-server {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("utf-8")
}

/// Adds a user and returns a token for them (the CLI prints it alone on the last line).
pub fn user_with_token(data: &DataDir, name: &str, role: &str, grants: &[&str]) -> String {
    let mut args = vec!["user", "add", name, "--role", role];
    for grant in grants {
        args.extend(["--grant", grant]);
    }
    cli(data, &args);
    token(data, name, "90d")
}

/// Issues a token with the given lifetime.
pub fn token(data: &DataDir, name: &str, ttl: &str) -> String {
    let out = cli(data, &["token", "issue", name, "--ttl", ttl]);
    out.lines().last().expect("a token line").trim().to_owned()
}

/// A running server.
#[derive(Debug)]
pub struct TestServer {
    child: Child,
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// Where its log goes.
    pub log: PathBuf,
    /// What it printed on stdout before it listened (the demo's tokens, say).
    pub banner: Vec<String>,
}

impl TestServer {
    /// Starts `serve` on a free port of loopback with `extra` flags, and waits until it listens.
    pub fn start(data: &DataDir, extra: &[&str]) -> Self {
        let log = data.path().join(format!(
            "server-{}.log",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos())
        ));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut child = Command::new(binary())
            .arg("--data")
            .arg(data.path())
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .expect("itinera-server starts");
        let stdout = child.stdout.take().expect("stdout is piped");
        let (found, address) = mpsc::channel();
        std::thread::spawn(move || {
            let mut banner = Vec::new();
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on ").nth(1) {
                    let base = rest
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_owned();
                    let _ = found.send((base, std::mem::take(&mut banner)));
                } else {
                    banner.push(line);
                }
            }
        });
        let (base, banner) = match address.recv_timeout(Duration::from_secs(30)) {
            Ok(found) => found,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "server did not start: {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
        };
        Self {
            child,
            base,
            log,
            banner,
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `ws://127.0.0.1:<port>/sync`.
    pub fn sync_url(&self) -> String {
        format!("{}/sync", self.base.replacen("http", "ws", 1))
    }

    /// Kills the process with SIGKILL: no flush, no goodbye.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops with SIGTERM (what a service manager sends) and waits for a clean exit.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        self.signal("TERM")
    }

    /// Stops with SIGINT (Ctrl-C at a terminal) and waits for the exit.
    pub fn interrupt(&mut self) -> std::process::ExitStatus {
        self.signal("INT")
    }

    fn signal(&mut self, name: &str) -> std::process::ExitStatus {
        let _ = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status();
        self.child.wait().expect("server exits")
    }

    /// Waits until `/readyz` answers 200: start-up work (the index rebuild after a kill, say) is
    /// done, as a load balancer would wait before sending devices.
    pub fn wait_ready(&self) {
        self.eventually("the server is ready", || {
            http_get(&format!("{}/readyz", self.base), None).0 == 200
        });
    }

    /// What the server logged.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits until `check` holds (20 s at most, a generous bound rather than a timing
    /// assertion); panics naming `what`, with the server's log, if it never does.
    pub fn eventually(&self, what: &str, mut check: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !check() {
            assert!(
                std::time::Instant::now() < deadline,
                "{what} never happened; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// A document as the server holds it, through the REST API: the status and the JSON view
    /// (`Null` if the body is not JSON).
    pub fn document(&self, token: &str, id: &itinera_core::DocumentId) -> (u16, serde_json::Value) {
        let (status, body) = http_get(&format!("{}/api/v1/documents/{id}", self.base), Some(token));
        (status, serde_json::from_str(&body).unwrap_or_default())
    }

    /// One value of `/metrics`.
    pub fn metric(&self, name: &str) -> Option<f64> {
        let body = http_get(&format!("{}/metrics", self.base), None).1;
        body.lines()
            .find(|line| line.split_whitespace().next() == Some(name))
            .and_then(|line| line.split_whitespace().nth(1))
            .and_then(|value| value.parse().ok())
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A minimal HTTP/1.1 request over loopback: `(status, body)`.
pub fn http(method: &str, url: &str, token: Option<&str>, body: Option<&str>) -> (u16, String) {
    let response = request(method, url, token, body, &[]);
    (response.status, response.body)
}

/// An HTTP answer: the status, the header lines (lower-cased names) and the body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// An HTTP/1.1 request with more header lines (`(name, value)`), on a fresh connection.
pub fn request(
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&str>,
    headers: &[(&str, &str)],
) -> Response {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http url");
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut stream = std::net::TcpStream::connect(host).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(token) = token {
        request.push_str(&format!("Authorization: Bearer {token}\r\n"));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    let body = body.unwrap_or("");
    if !body.is_empty() {
        request.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("send");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let headers: Vec<(String, String)> = head
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_owned()
    };
    Response {
        status,
        headers,
        body,
    }
}

/// `GET` with an optional bearer token.
pub fn http_get(url: &str, token: Option<&str>) -> (u16, String) {
    http("GET", url, token, None)
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else {
            break;
        };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Where the server under test keeps what it stores: the redb file of its data folder (the
/// default), or a PostgreSQL schema of the test cluster (`--store`), so that one suite runs
/// against both.
#[derive(Debug, Clone, Default)]
pub enum Backend {
    #[default]
    Redb,
    /// A `--store` URL.
    Postgres(String),
}

impl Backend {
    /// A fresh schema of the test cluster, for `test`.
    pub fn postgres(test: &str) -> Self {
        Self::Postgres(crate::postgres::fresh_store_url(test))
    }

    /// The flags that choose this store.
    pub fn args(&self) -> Vec<&str> {
        match self {
            Self::Redb => Vec::new(),
            Self::Postgres(url) => vec!["--store", url],
        }
    }

    /// Runs a command of the CLI on this store; returns stdout, panicking on failure.
    pub fn cli(&self, data: &DataDir, args: &[&str]) -> String {
        let mut all = self.args();
        all.extend_from_slice(args);
        cli(data, &all)
    }

    /// Issues a token with the given lifetime.
    pub fn token(&self, data: &DataDir, name: &str, ttl: &str) -> String {
        let out = self.cli(data, &["token", "issue", name, "--ttl", ttl]);
        out.lines().last().expect("a token line").trim().to_owned()
    }

    /// Adds a user and returns a token for them.
    pub fn user_with_token(
        &self,
        data: &DataDir,
        name: &str,
        role: &str,
        grants: &[&str],
    ) -> String {
        let mut args = vec!["user", "add", name, "--role", role];
        for grant in grants {
            args.extend(["--grant", grant]);
        }
        self.cli(data, &args);
        self.token(data, name, "90d")
    }

    /// Starts `serve` on this store, with `extra` flags.
    pub fn start(&self, data: &DataDir, extra: &[&str]) -> TestServer {
        let mut all = self.args();
        all.extend_from_slice(extra);
        TestServer::start(data, &all)
    }

    /// The store itself, for a test that writes it before the server starts.
    pub fn open(&self, data: &DataDir) -> Box<dyn itinera_core::store::DocumentStore> {
        match self {
            Self::Redb => Box::new(
                itinera_core::store::RedbStore::open(data.path().join("itinera.redb"))
                    .expect("open the redb store"),
            ),
            Self::Postgres(url) => Box::new(
                itinera_store_postgres::PgStore::open(url).expect("open the PostgreSQL store"),
            ),
        }
    }
}
