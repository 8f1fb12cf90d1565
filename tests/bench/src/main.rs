//! Itinera side by side with the Node automerge-repo sync server and samod: one load generator
//! speaking the automerge-repo protocol drives each server in turn with the same workloads, and
//! prints a table of figures with the ratio of Itinera to each peer.
//!
//! ```sh
//! cargo run --release -p itinera-bench -- quick            # small sizes, a few minutes
//! cargo run --release -p itinera-bench -- full             # the plan's sizes
//! cargo run --release -p itinera-bench -- quick --only a,c --peers durable,node
//! # Itinera on PostgreSQL, one node and two (a database in ITINERA_BENCH_POSTGRES, or the
//! # private cluster of `source tests/postgres.sh && start_private_postgres`)
//! cargo run --release -p itinera-bench -- quick --only a,b,c,h --peers durable,pg,pg2
//! cargo run --release -p itinera-bench -- load --clients 1000 --seconds 60   # Itinera alone
//! cargo run --release -p itinera-bench -- attacks      # memory and /healthz under attack
//! ```
//!
//! Not a test: it reports figures; a workload that loses edits or does not converge reports
//! FAILED instead of a figure.

#![allow(clippy::print_stdout)]

mod client;
mod company;
mod peers;
mod records;
mod report;
mod wire_proxy;
mod workloads;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use peers::{Peer, Programs, Server};
use report::Table;
use workloads::Sizes;

const USAGE: &str = "usage: itinera-bench quick|full [--only a,b,..] [--peers durable,relaxed,node,samod,pg,pg2] [--out FILE] [--workdir DIR] [--server PATH-TO-ITINERA-SERVER]";

struct Options {
    mode: &'static str,
    sizes: Sizes,
    only: Vec<char>,
    peers: Vec<Peer>,
    out: Option<PathBuf>,
    workdir: PathBuf,
    /// Another build of the server to measure (an older release, to compare), instead of this
    /// tree's.
    server: Option<PathBuf>,
}

fn parse(root: &std::path::Path) -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let (mode, sizes) = match args.next().as_deref() {
        Some("quick") => ("quick", Sizes::quick()),
        Some("full") => ("full", Sizes::full()),
        _ => return Err(USAGE.into()),
    };
    let mut options = Options {
        mode,
        sizes,
        only: workloads::ALL.to_vec(),
        peers: Peer::ALL.to_vec(),
        out: None,
        workdir: root.join("target/itinera-bench"),
        server: None,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(USAGE)?;
        match flag.as_str() {
            "--only" => {
                options.only = value
                    .split(',')
                    .filter_map(|w| w.trim().chars().next())
                    .filter(|w| workloads::ALL.contains(w))
                    .collect();
            }
            "--peers" => {
                options.peers = value
                    .split(',')
                    .map(|p| Peer::parse(p.trim()).ok_or(format!("unknown peer {p}")))
                    .collect::<Result<_, _>>()?;
            }
            "--out" => options.out = Some(PathBuf::from(value)),
            "--workdir" => options.workdir = PathBuf::from(value),
            "--server" => options.server = Some(PathBuf::from(value)),
            _ => return Err(USAGE.into()),
        }
    }
    Ok(options)
}

/// The workspace root: this crate lives in `tests/bench`.
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .and_then(|tests| tests.parent())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}

fn main() {
    let root = workspace_root();
    if std::env::args().nth(1).as_deref() == Some("attacks") {
        std::process::exit(attacks_main(&root));
    }
    if std::env::args().nth(1).as_deref() == Some("load") {
        std::process::exit(load_main(&root));
    }
    let mut options = match parse(&root) {
        Ok(options) => options,
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(2);
        }
    };
    eprintln!("building the servers…");
    let samod = options.peers.contains(&Peer::Samod);
    let (programs, runtime) = match prepare(&root, samod, options.server.take()) {
        Ok(prepared) => prepared,
        Err(why) => {
            eprintln!("{why}");
            std::process::exit(1);
        }
    };
    eprintln!("measuring {} as Itinera", programs.itinera.display());
    let started = Instant::now();
    let mut table = Table::default();
    for &workload in &options.only {
        for &peer in &options.peers {
            let data = options.workdir.join(format!("{workload}-{}", peer.short()));
            let began = Instant::now();
            eprint!("{workload} on {:<16}", peer.label());
            let outcome = match Server::start(peer, &programs, &data) {
                Ok(mut server) => {
                    let outcome =
                        runtime.block_on(workloads::run(workload, &mut server, &options.sizes));
                    server.stop();
                    outcome
                }
                Err(why) => {
                    let mut outcome = report::Outcome::default();
                    outcome.fail(why);
                    outcome
                }
            };
            eprintln!(
                " {:>6.1} s{}",
                began.elapsed().as_secs_f64(),
                outcome
                    .failure
                    .as_ref()
                    .map(|w| format!("  FAILED: {w}"))
                    .unwrap_or_default()
            );
            table.add(peer, workload, outcome);
            let _ = std::fs::remove_dir_all(&data);
            // What is done so far, so a long run that is stopped still leaves its figures.
            if let Some(out) = &options.out {
                let _ = std::fs::write(out, render(&options, &table, started.elapsed()));
            }
        }
    }
    let elapsed = started.elapsed();
    let text = render(&options, &table, elapsed);
    println!("{text}");
    if let Some(out) = &options.out {
        if let Err(err) = std::fs::write(out, &text) {
            eprintln!("cannot write {}: {err}", out.display());
        }
    }
}

fn render(options: &Options, table: &Table, elapsed: std::time::Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Itinera benchmark, {} mode, {:.0} s in all, on {}\n",
        options.mode,
        elapsed.as_secs_f64(),
        machine()
    );
    for &w in &options.only {
        let _ = writeln!(out, "- {w}: {}", workloads::describe(w, &options.sizes));
    }
    let _ = writeln!(
        out,
        "\nRatios are Itinera ÷ peer: below 1 Itinera is faster or smaller, except rows marked ↑ \
         (higher is better). Itinera durable fsyncs every change before acknowledging it; \
         Itinera relaxed, Node and samod do not fsync. Node and samod run with their default \
         100 ms sync/save throttles (Node) and no announcing (sharePolicy false).\n"
    );
    out.push_str(&table.render(&options.peers));
    out.push('\n');
    out.push_str(&goals(table));
    out
}

/// Whether each goal of the performance plan is met, for both Itinera runs.
fn goals(table: &Table) -> String {
    let mut out = String::from("Goals:\n");
    for itinera in [Peer::ItineraDurable, Peer::ItineraRelaxed] {
        let v = |w: char, m: &str| table.value(itinera, w, m);
        let node = |w: char, m: &str| table.value(Peer::Node, w, m);
        let mut line = |goal: &str, met: Option<bool>, detail: String| {
            let verdict = match met {
                Some(true) => "met",
                Some(false) => "NOT met",
                None => "not measured",
            };
            let _ = writeln!(out, "- {} — {goal}: {verdict} ({detail})", itinera.label());
        };
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => Some(a / b),
            _ => None,
        };
        let r = ratio(v('a', "wall time"), node('a', "wall time"));
        line(
            "a: cold sync ≤ 1/5 of Node's time",
            r.map(|r| r <= 0.2),
            format!("{:.2}× Node", r.unwrap_or(f64::NAN)),
        );
        let r = ratio(
            v('b', "p99 from reconnect to caught up"),
            node('b', "p99 from reconnect to caught up"),
        );
        let lost = v('b', "edits lost");
        line(
            "b: p99 from reconnect to caught up ≤ 1/5 of Node's, no edit lost",
            r.zip(lost).map(|(r, lost)| r <= 0.2 && lost == 0.0),
            format!("{:.2}× Node", r.unwrap_or(f64::NAN)),
        );
        let p99 = v('c', "p99 at 100/s");
        line(
            "c: p99 ≤ 20 ms at 100 subscribers and 100 edits a second",
            p99.map(|p| p <= 20.0),
            format!("{:.1} ms", p99.unwrap_or(f64::NAN)),
        );
        let ready = "ready: listening and first account served";
        let r = ratio(v('d', ready), table.value(Peer::Samod, 'd', ready));
        line(
            "d: ready within 2× samod's",
            r.map(|r| r <= 2.0),
            format!("{:.2}× samod", r.unwrap_or(f64::NAN)),
        );
        let r = ratio(v('e', "disk per account"), node('e', "disk per account"));
        line(
            "e: disk ≤ 1/3 of Node's",
            r.map(|r| r <= 1.0 / 3.0),
            format!("{:.2}× Node", r.unwrap_or(f64::NAN)),
        );
        let per = v('f', "memory per connection");
        line(
            "f: ≤ 10 KB per idle connection",
            per.map(|b| b <= 10_240.0),
            format!("{:.0} B", per.unwrap_or(f64::NAN)),
        );
        let acks = v('h', "acknowledged changes per second");
        line(
            "h: ≥ 10,000 acknowledged changes per second",
            acks.map(|a| a >= 10_000.0),
            format!("{:.0}/s", acks.unwrap_or(f64::NAN)),
        );
    }
    out
}

/// Cores, kernel and CPU model of this machine.
fn machine() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .unwrap_or_default()
        .trim()
        .to_string();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, m)| m.trim().to_string())
        .unwrap_or_default();
    format!("{cores} cores, {cpu}, Linux {kernel}")
}

const LOAD_USAGE: &str = "usage: itinera-bench load [--clients N] [--seconds S] [--edit-every-ms MS] [--relaxed] [--workdir DIR] [--server PATH-TO-ITINERA-SERVER]";

/// `itinera-bench load`: many devices hold connections to Itinera and edit for a set time; prints
/// acknowledgement latency, memory and losses. Returns the exit code.
fn load_main(root: &std::path::Path) -> i32 {
    let mut sizes = workloads::load::LoadSizes {
        clients: 1_000,
        seconds: 60,
        edit_every: std::time::Duration::from_secs(2),
    };
    let mut peer = Peer::ItineraDurable;
    let mut workdir = root.join("target/itinera-bench");
    let mut binary = None;
    let mut args = std::env::args().skip(2);
    while let Some(flag) = args.next() {
        if flag == "--relaxed" {
            peer = Peer::ItineraRelaxed;
            continue;
        }
        let Some(value) = args.next() else {
            eprintln!("{LOAD_USAGE}");
            return 2;
        };
        let number = value.parse::<u64>();
        match (flag.as_str(), number) {
            ("--clients", Ok(n)) => sizes.clients = u32::try_from(n).unwrap_or(u32::MAX),
            ("--seconds", Ok(n)) => sizes.seconds = n,
            ("--edit-every-ms", Ok(n)) => sizes.edit_every = std::time::Duration::from_millis(n),
            ("--workdir", _) => workdir = PathBuf::from(value),
            ("--server", _) => binary = Some(PathBuf::from(value)),
            _ => {
                eprintln!("{LOAD_USAGE}");
                return 2;
            }
        }
    }
    eprintln!("building the server…");
    let (programs, runtime) = match prepare(root, false, binary) {
        Ok(prepared) => prepared,
        Err(why) => {
            eprintln!("{why}");
            return 1;
        }
    };
    let data = workdir.join("load");
    eprint!(
        "load on {}: {} devices, one edit each per {} ms, for {} s",
        peer.label(),
        sizes.clients,
        sizes.edit_every.as_millis(),
        sizes.seconds
    );
    let outcome = match Server::start(peer, &programs, &data) {
        Ok(mut server) => {
            let outcome = runtime
                .block_on(workloads::load::run(&mut server, &sizes))
                .unwrap_or_else(|why| {
                    let mut outcome = report::Outcome::default();
                    outcome.fail(why);
                    outcome
                });
            server.stop();
            outcome
        }
        Err(why) => {
            let mut outcome = report::Outcome::default();
            outcome.fail(why);
            outcome
        }
    };
    eprintln!();
    println!(
        "Itinera load run ({}, {}), {} devices for {} s, one edit each per {} ms, on {}; load \
         average at the end {}\n",
        peer.label(),
        programs.itinera.display(),
        sizes.clients,
        sizes.seconds,
        sizes.edit_every.as_millis(),
        machine(),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .trim()
    );
    for figure in &outcome.figures {
        println!(
            "{:<48} {}",
            figure.measure,
            report::format_value(figure.value, figure.unit)
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    match outcome.failure {
        Some(why) => {
            println!("FAILED: {why}");
            1
        }
        None => 0,
    }
}

const ATTACKS_USAGE: &str =
    "usage: itinera-bench attacks [--server PATH-TO-ITINERA-SERVER] [--workdir DIR]";

/// `attacks`: what a hostile user costs the server (memory, `/healthz` under a login storm).
fn attacks_main(root: &std::path::Path) -> i32 {
    let mut binary = None;
    let mut workdir = root.join("target/itinera-bench");
    let mut args = std::env::args().skip(2);
    while let Some(flag) = args.next() {
        match (flag.as_str(), args.next()) {
            ("--server", Some(path)) => binary = Some(PathBuf::from(path)),
            ("--workdir", Some(path)) => workdir = PathBuf::from(path),
            _ => {
                eprintln!("{ATTACKS_USAGE}");
                return 2;
            }
        }
    }
    eprintln!("building the server…");
    let (programs, runtime) = match prepare(root, false, binary) {
        Ok(prepared) => prepared,
        Err(why) => {
            eprintln!("{why}");
            return 1;
        }
    };
    let data = workdir.join("attacks");
    let outcome = attacks_server(&programs, &data).and_then(|(mut server, behind_proxy)| {
        eprintln!("attacking {}…", programs.itinera.display());
        let outcome = runtime.block_on(workloads::attacks::run(&mut server, behind_proxy));
        server.stop();
        outcome
    });
    let _ = std::fs::remove_dir_all(&data);
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(why) => {
            println!("FAILED: {why}");
            return 1;
        }
    };
    println!(
        "Itinera under attack ({}), on {}\n",
        programs.itinera.display(),
        machine()
    );
    for figure in &outcome.figures {
        println!(
            "{:<62} {}",
            figure.measure,
            report::format_value(figure.value, figure.unit)
        );
    }
    0
}

/// A server with the users the login storm tries (each with a password), and whether it takes
/// client addresses from `X-Forwarded-For`.
fn attacks_server(programs: &Programs, data: &std::path::Path) -> Result<(Server, bool), String> {
    use std::process::Command;
    use workloads::attacks::{LOGIN_CLIENTS, PASSWORD, USER};
    let mut server = Server::start(Peer::ItineraDurable, programs, data)?;
    server.stop();
    let dir = data.to_string_lossy().into_owned();
    let names =
        std::iter::once(USER.to_owned()).chain((0..LOGIN_CLIENTS).map(|n| format!("{USER}{n}")));
    for name in names {
        // Today's command line reads the password from the environment; older ones took it
        // as a flag.
        let add = |extra: &[&str]| {
            Command::new(&programs.itinera)
                .args(["--data", &dir, "user", "add", &name, "--role", "sales"])
                .args(extra)
                .env("ITINERA_USER_PASSWORD", PASSWORD)
                .output()
                .map_err(|err| err.to_string())
        };
        let out = add(&["--password", PASSWORD])?;
        if !out.status.success() && !add(&[])?.status.success() {
            return Err(format!("cannot add {name}"));
        }
    }
    let behind_proxy = peers::serve_takes(&programs.itinera, "--behind-proxy")?;
    if behind_proxy {
        server.extra_args.push("--behind-proxy".into());
    }
    server.restart()?;
    Ok((server, behind_proxy))
}

/// Builds the servers and the runtime the clients run on.
fn prepare(
    root: &std::path::Path,
    samod: bool,
    itinera: Option<PathBuf>,
) -> Result<(Programs, tokio::runtime::Runtime), String> {
    let programs = Programs::prepare(root, samod, itinera)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|err| format!("no runtime: {err}"))?;
    Ok((programs, runtime))
}
