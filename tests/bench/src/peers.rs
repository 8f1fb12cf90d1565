//! The servers under test, each started as a process in a data folder of its own: Itinera
//! (durable and relaxed), the Node automerge-repo sync server and a samod server.
//!
//! ```ignore
//! let server = Server::start(Peer::Node, &paths, &dir)?;
//! let cpu = server.cpu_seconds();
//! server.stop();
//! ```

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a server may take to say it listens.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// One of the servers compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// Itinera with its default: every change fsynced before it is acknowledged.
    ItineraDurable,
    /// Itinera with `--relaxed-durability`: commits without fsync, like the peers.
    ItineraRelaxed,
    /// npm `@automerge/automerge-repo` 2.5.6, websocket + nodefs adapters.
    Node,
    /// samod 0.16 with its tokio filesystem storage.
    Samod,
    /// Itinera durable on a PostgreSQL store (`--store postgres://…`), one node.
    ItineraPostgres,
    /// Two Itinera nodes on one PostgreSQL store; clients are dealt to them in turn.
    ItineraTwoNodes,
}

impl Peer {
    pub const ALL: [Peer; 4] = [
        Peer::ItineraDurable,
        Peer::ItineraRelaxed,
        Peer::Node,
        Peer::Samod,
    ];

    /// Every peer `--peers` may name: the default four, and Itinera on PostgreSQL (which
    /// needs a database: see [`postgres_url`]).
    pub const KNOWN: [Peer; 6] = [
        Peer::ItineraDurable,
        Peer::ItineraRelaxed,
        Peer::Node,
        Peer::Samod,
        Peer::ItineraPostgres,
        Peer::ItineraTwoNodes,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Peer::ItineraDurable => "Itinera durable",
            Peer::ItineraRelaxed => "Itinera relaxed",
            Peer::Node => "Node",
            Peer::Samod => "samod",
            Peer::ItineraPostgres => "Itinera on PostgreSQL",
            Peer::ItineraTwoNodes => "Itinera, 2 nodes on PostgreSQL",
        }
    }

    pub fn short(self) -> &'static str {
        match self {
            Peer::ItineraDurable => "durable",
            Peer::ItineraRelaxed => "relaxed",
            Peer::Node => "node",
            Peer::Samod => "samod",
            Peer::ItineraPostgres => "pg",
            Peer::ItineraTwoNodes => "pg2",
        }
    }

    pub fn parse(text: &str) -> Option<Peer> {
        Peer::KNOWN.into_iter().find(|p| p.short() == text)
    }

    pub fn is_itinera(self) -> bool {
        !matches!(self, Peer::Node | Peer::Samod)
    }

    /// Whether the peer keeps its data in PostgreSQL rather than its data folder.
    pub fn on_postgres(self) -> bool {
        matches!(self, Peer::ItineraPostgres | Peer::ItineraTwoNodes)
    }

    fn nodes(self) -> usize {
        if self == Peer::ItineraTwoNodes { 2 } else { 1 }
    }
}

/// The database the PostgreSQL peers use: `ITINERA_BENCH_POSTGRES`, else the test suite's
/// private cluster (`source tests/postgres.sh && start_private_postgres`). Each run gets a
/// schema of its own in it.
pub fn postgres_url() -> Result<String, String> {
    std::env::var("ITINERA_BENCH_POSTGRES")
        .or_else(|_| std::env::var("ITINERA_TEST_POSTGRES_URL"))
        .map_err(|_| {
            "the PostgreSQL peers need a database: set ITINERA_BENCH_POSTGRES=postgres://…, or \
             `source tests/postgres.sh && start_private_postgres` first"
                .to_string()
        })
}

/// A fresh schema in the database at `url`, created and migrated; the `--store` URL of it.
fn fresh_store(url: &str, data: &Path) -> Result<String, String> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let name: String = data
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_lowercase())
        .take(20)
        .collect();
    let schema = format!(
        "bench_{nanos}_{}_{name}",
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    itinera_store_postgres::PgStore::create_schema(url, &schema)
        .map_err(|err| format!("PostgreSQL schema {schema}: {err}"))
}

/// Where the programs are.
#[derive(Debug, Clone)]
pub struct Programs {
    pub itinera: PathBuf,
    pub samod: PathBuf,
    pub node_script: PathBuf,
    /// `tests/`, where `node_modules` is.
    pub tests_dir: PathBuf,
}

impl Programs {
    /// Builds what is missing: the Itinera server (release) unless `itinera` names the build to
    /// measure, the samod server if the run compares against it (its own target folder outside
    /// the workspace: a cold build of its own dependencies, so skipped when not needed), and the
    /// npm packages from the lockfile.
    pub fn prepare(root: &Path, samod: bool, itinera: Option<PathBuf>) -> Result<Self, String> {
        let tests_dir = root.join("tests");
        let itinera = match itinera {
            Some(binary) => binary,
            None => {
                run(Command::new("cargo").current_dir(root).args([
                    "build",
                    "--release",
                    "--quiet",
                    "-p",
                    "itinera-server",
                ]))?;
                root.join("target/release/itinera-server")
            }
        };
        if samod {
            run(Command::new("cargo").current_dir(root).args([
                "build",
                "--release",
                "--quiet",
                "--manifest-path",
                "tests/bench/samod-server/Cargo.toml",
                "--target-dir",
                "target/samod",
            ]))?;
        }
        if !tests_dir
            .join("node_modules/@automerge/automerge-repo-storage-nodefs")
            .exists()
        {
            // As tests/run.sh does: npm 11's `ci` refuses a lockfile that lacks other
            // platforms' optional packages, `install` keeps to the lockfile's versions.
            run(Command::new("npm").current_dir(&tests_dir).args([
                "install",
                "--no-audit",
                "--no-fund",
            ]))?;
        }
        Ok(Self {
            itinera,
            samod: root.join("target/samod/release/itinera-bench-samod-server"),
            node_script: root.join("tests/bench/node-server.mjs"),
            tests_dir,
        })
    }
}

/// Whether `itinera-server serve` of `binary` knows `flag` (an older build may not).
pub fn serve_takes(binary: &Path, flag: &str) -> Result<bool, String> {
    let help = Command::new(binary)
        .args(["serve", "--help"])
        .output()
        .map_err(|err| format!("cannot run {}: {err}", binary.display()))?;
    Ok(String::from_utf8_lossy(&help.stdout).contains(flag))
}

fn run(command: &mut Command) -> Result<String, String> {
    let out = command
        .output()
        .map_err(|err| format!("cannot run {command:?}: {err}"))?;
    if !out.status.success() {
        return Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The one user every Itinera client of the bench signs in as, an admin.
const BENCH_USER: &str = "bench";

/// A running server.
#[derive(Debug)]
pub struct Server {
    pub peer: Peer,
    child: Option<Child>,
    pub pid: u32,
    pub port: u16,
    pub data: PathBuf,
    /// The query string clients add to the URL (Itinera's token).
    token: String,
    programs: Programs,
    /// How long the last start took until the server said it listens.
    pub started_in: Duration,
    /// More flags for Itinera's `serve`.
    pub extra_args: Vec<String>,
    /// The second node of a two-node peer.
    second: Option<SecondNode>,
    /// Which node the next client is dealt to.
    next_node: std::sync::atomic::AtomicUsize,
    /// The PostgreSQL peers' `--store` URL.
    store: Option<String>,
}

/// The second process of a two-node peer.
#[derive(Debug)]
struct SecondNode {
    child: Child,
    pid: u32,
    port: u16,
}

impl Server {
    /// Prepares an empty data folder (a user and a token for Itinera) and starts the server.
    pub fn start(peer: Peer, programs: &Programs, data: &Path) -> Result<Self, String> {
        let _ = std::fs::remove_dir_all(data);
        std::fs::create_dir_all(data).map_err(|err| format!("{}: {err}", data.display()))?;
        let store = if peer.on_postgres() {
            Some(fresh_store(&postgres_url()?, data)?)
        } else {
            None
        };
        let mut token = String::new();
        if peer.is_itinera() {
            let dir = data.to_string_lossy().into_owned();
            let itinera = || {
                let mut command = Command::new(&programs.itinera);
                if let Some(store) = &store {
                    command.env("ITINERA_STORE", store);
                }
                command
            };
            run(itinera().args(["--data", &dir, "user", "add", BENCH_USER, "--role", "admin"]))?;
            let out =
                run(itinera().args(["--data", &dir, "token", "issue", BENCH_USER, "--ttl", "1d"]))?;
            token = out.lines().last().unwrap_or_default().trim().to_string();
        }
        let mut extra_args = Vec::new();
        if peer.is_itinera() && serve_takes(&programs.itinera, "--max-sessions-per-user")? {
            // Every client of a workload signs in as the one bench user; a company's user
            // holds a few phones, and the default cap says so.
            extra_args.extend(["--max-sessions-per-user".into(), "1000000".into()]);
        }
        let mut server = Self {
            peer,
            child: None,
            pid: 0,
            port: 0,
            data: data.to_path_buf(),
            token,
            programs: programs.clone(),
            started_in: Duration::ZERO,
            extra_args,
            second: None,
            next_node: std::sync::atomic::AtomicUsize::new(0),
            store,
        };
        server.launch()?;
        Ok(server)
    }

    /// Starts the process (both, for two nodes) and waits for each to say it listens.
    fn launch(&mut self) -> Result<(), String> {
        let started = Instant::now();
        let data = self.data.clone();
        let (child, port) = self.spawn(&data)?;
        self.pid = child.id();
        self.child = Some(child);
        self.port = port;
        if self.peer.nodes() > 1 {
            match self.spawn(&data.with_extension("node2")) {
                Ok((child, port)) => {
                    self.second = Some(SecondNode {
                        pid: child.id(),
                        child,
                        port,
                    });
                }
                Err(why) => {
                    self.kill();
                    return Err(why);
                }
            }
        }
        self.started_in = started.elapsed();
        Ok(())
    }

    /// Starts one process on a free port with its data in `data`, and waits for its
    /// "listening" line.
    fn spawn(&self, data: &Path) -> Result<(Child, u16), String> {
        std::fs::create_dir_all(data).map_err(|err| format!("{}: {err}", data.display()))?;
        let port = free_port()?;
        let addr = format!("127.0.0.1:{port}");
        let dir = data.to_string_lossy().into_owned();
        let mut command = match self.peer {
            Peer::Node => {
                let mut c = Command::new("node");
                c.current_dir(&self.programs.tests_dir);
                c.arg(&self.programs.node_script)
                    .arg(&dir)
                    .arg(port.to_string());
                c
            }
            Peer::Samod => {
                let mut c = Command::new(&self.programs.samod);
                c.arg(&dir).arg(&addr);
                c
            }
            _ => {
                let mut c = Command::new(&self.programs.itinera);
                c.args(["--data", &dir, "serve", "--listen", &addr]);
                // Benchmark clients are many and busy; the defaults suit phones.
                c.args(["--client-timeout-ms", "600000"]);
                c.args(&self.extra_args);
                if self.peer == Peer::ItineraRelaxed {
                    c.arg("--relaxed-durability");
                }
                if let Some(store) = &self.store {
                    c.env("ITINERA_STORE", store);
                }
                // Quiet unless `BENCH_SERVER_LOG` asks for more (`info`, `debug`): its log is
                // `{workload}-{peer}.stderr.log` in the work folder.
                c.env(
                    "RUST_LOG",
                    std::env::var("BENCH_SERVER_LOG").unwrap_or_else(|_| "error".into()),
                );
                c
            }
        };
        command.stdin(Stdio::null()).stdout(Stdio::piped());
        command.stderr(Stdio::from(
            std::fs::File::create(data.with_extension("stderr.log"))
                .map_err(|err| format!("log file: {err}"))?,
        ));
        let mut child = command
            .spawn()
            .map_err(|err| format!("cannot start {}: {err}", self.peer.label()))?;
        let stdout = child.stdout.take().ok_or("no stdout")?;
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut said = false;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if !said && line.contains("listening") {
                    said = true;
                    let _ = tx.send(());
                }
            }
        });
        match rx.recv_timeout(START_TIMEOUT) {
            Ok(()) => Ok((child, port)),
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(format!(
                    "{} did not start within {START_TIMEOUT:?}",
                    self.peer.label()
                ))
            }
        }
    }

    /// The WebSocket URL clients connect to.
    ///
    /// With two nodes, each call names the next node in turn, so a workload's clients are
    /// dealt to both.
    pub fn url(&self) -> String {
        self.sync_url(&self.token)
    }

    /// The WebSocket URL a client signing in with `token` connects to (Itinera); with two
    /// nodes, each call names the next node in turn.
    pub fn sync_url(&self, token: &str) -> String {
        let turn = self
            .next_node
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let port = match &self.second {
            Some(second) if turn % 2 == 1 => second.port,
            _ => self.port,
        };
        if self.peer.is_itinera() {
            format!("ws://127.0.0.1:{port}/sync?token={token}")
        } else {
            format!("ws://127.0.0.1:{port}/")
        }
    }

    /// The first node's own HTTP address (`http://127.0.0.1:PORT`), for the REST API.
    pub fn http_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The user Itinera's clients sign in as (every workload's clients are one user).
    pub fn user(&self) -> &'static str {
        BENCH_USER
    }

    /// Itinera's token for [`Server::user`] (empty for the others).
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Where the programs and the npm packages are.
    pub fn programs(&self) -> &Programs {
        &self.programs
    }

    /// Waits until Itinera has done its start-up work (`/readyz` answers 200), as a server that
    /// has run a while has; the others have none to wait for.
    pub fn wait_settled(&self, timeout: Duration) -> Result<(), String> {
        if !self.peer.is_itinera() {
            return Ok(());
        }
        let url = format!("{}/readyz", self.http_url());
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if agent.get(&url).call().is_ok_and(|r| r.status() == 200) {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("{url} did not answer 200 within {timeout:?}"))
    }

    /// Stops the server gently (SIGTERM, so it flushes) and waits for it (both nodes).
    pub fn stop(&mut self) {
        if let Some(second) = self.second.take() {
            stop_gently(second.child);
        }
        if let Some(child) = self.child.take() {
            stop_gently(child);
        }
    }

    fn kill(&mut self) {
        for mut child in [self.child.take(), self.second.take().map(|s| s.child)]
            .into_iter()
            .flatten()
        {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops and starts the server on the same data folder (a new port).
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.launch()
    }

    /// Starts a stopped server again on the same data folder (a new port).
    pub fn start_again(&mut self) -> Result<(), String> {
        self.launch()
    }

    /// The server's processes (two for two nodes).
    fn pids(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.pid).chain(self.second.as_ref().map(|s| s.pid))
    }

    /// User plus system CPU seconds of the process so far (of both nodes together).
    pub fn cpu_seconds(&self) -> f64 {
        self.pids().map(cpu_seconds).sum()
    }

    /// Resident memory now, in bytes (both nodes together).
    pub fn rss_bytes(&self) -> u64 {
        self.pids().map(rss_of).sum()
    }

    /// The highest resident memory of the process so far, in bytes (the sum of both nodes'
    /// highest).
    pub fn peak_bytes(&self) -> u64 {
        self.pids()
            .map(|pid| status_kib(pid, "VmHWM:") * 1024)
            .sum()
    }

    /// Bytes of every file under the data folder (their lengths); `None` for a server that
    /// keeps its data in PostgreSQL.
    pub fn disk_bytes(&self) -> Option<u64> {
        (!self.peer.on_postgres()).then(|| dir_bytes(&self.data))
    }
}

/// Stops a process gently (SIGTERM, so it flushes) and waits for it; kills it after 30 s.
fn stop_gently(mut child: Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> Result<u16, String> {
    let listener =
        TcpListener::bind("127.0.0.1:0").map_err(|err| format!("no free port: {err}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|err| err.to_string())
}

/// User plus system CPU seconds of process `pid` so far.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let Some(rest) = stat.rsplit_once(')').map(|(_, rest)| rest) else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 after the name.
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    ticks as f64 / clock_ticks() as f64
}

fn clock_ticks() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|out| String::from_utf8_lossy(&out.stdout).trim().parse().ok())
            .unwrap_or(100)
    })
}

/// Resident memory of process `pid` now, in bytes (0 if it is gone).
pub fn rss_of(pid: u32) -> u64 {
    status_kib(pid, "VmRSS:") * 1024
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find(|line| line.starts_with(field))
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

pub fn dir_bytes(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.file_type() {
            Ok(kind) if kind.is_dir() => dir_bytes(&entry.path()),
            Ok(_) => entry.metadata().map(|m| m.len()).unwrap_or(0),
            Err(_) => 0,
        })
        .sum()
}
