//! The workloads a to h of the benchmark plan, each run against one server at a time.
//!
//! ```ignore
//! let outcome = workloads::run('a', &mut server, &Sizes::quick()).await;
//! ```

mod acknowledged_writes;
pub mod attacks;
mod cold_sync;
mod device_reconnect;
mod fan_out;
mod idle_clients;
pub mod load;
mod reconnect_storm;
mod restart;
mod storage;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::company;
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

/// Every workload's name, in order.
pub const ALL: [char; 8] = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];

/// What each workload does, for the table's legend.
pub fn describe(workload: char, sizes: &Sizes) -> String {
    match workload {
        'a' => format!(
            "cold sync of {} small account records to an empty client",
            sizes.cold_docs
        ),
        'b' => format!(
            "reconnect storm: {} clients, each {} offline edits on {} shared accounts, all reconnecting within 1 s",
            sizes.storm_clients, sizes.storm_edits, sizes.storm_docs
        ),
        'c' => format!(
            "fan-out: 1 account, {} subscribers, one writer at {:?} edits/s ({} s each, stopping once p99 > 100 ms)",
            sizes.fan_subscribers, sizes.fan_rates, sizes.fan_seconds
        ),
        'd' => format!(
            "restart with {} stored accounts; memory after {} are touched",
            sizes.restart_docs, sizes.restart_touched
        ),
        'e' => format!(
            "storage: {} accounts, each after {} edits from 2 writers",
            sizes.storage_records, sizes.storage_edits
        ),
        'f' => format!("{} idle WebSocket clients", sizes.idle_clients),
        'g' => format!(
            "a phone holding {} accounts syncs them first, reconnects with nothing changed, then \
             after {} changed on the server (Itinera: its phone SDK; Node and samod: the JS \
             automerge-repo client with NodeFS storage); bytes counted by one TCP relay",
            sizes.device_records,
            device_reconnect::CHANGED
        ),
        'h' => format!(
            "{} clients each write one change at a time to an account of their own and wait \
             for its acknowledgement before the next, for {} s",
            sizes.ack_clients, sizes.ack_seconds
        ),
        _ => String::new(),
    }
}

/// How big each workload is.
#[derive(Debug, Clone)]
pub struct Sizes {
    pub cold_docs: u32,
    pub storm_clients: u32,
    pub storm_edits: u32,
    pub storm_docs: u32,
    pub fan_subscribers: u32,
    pub fan_rates: Vec<u32>,
    pub fan_seconds: u64,
    pub restart_docs: u32,
    pub restart_touched: u32,
    pub storage_records: u32,
    pub storage_edits: u32,
    pub idle_clients: u32,
    pub device_records: u32,
    pub ack_clients: u32,
    pub ack_seconds: u64,
}

impl Sizes {
    /// Small enough that every workload on all four servers takes under three minutes.
    pub fn quick() -> Self {
        Self {
            cold_docs: 1_000,
            storm_clients: 40,
            storm_edits: 10,
            storm_docs: 100,
            fan_subscribers: 100,
            fan_rates: vec![20, 50, 100],
            fan_seconds: 2,
            restart_docs: 2_000,
            restart_touched: 500,
            storage_records: 2,
            storage_edits: 500,
            idle_clients: 1_000,
            device_records: 1_000,
            ack_clients: 50,
            ack_seconds: 10,
        }
    }

    /// The sizes of the benchmark plan.
    pub fn full() -> Self {
        Self {
            cold_docs: 10_000,
            storm_clients: 200,
            storm_edits: 50,
            storm_docs: 1_000,
            fan_subscribers: 100,
            fan_rates: vec![20, 50, 100, 200, 400],
            fan_seconds: 5,
            restart_docs: 100_000,
            restart_touched: 1_000,
            storage_records: 10,
            storage_edits: 1_000,
            idle_clients: 10_000,
            device_records: 10_000,
            ack_clients: 50,
            ack_seconds: 10,
        }
    }
}

/// Runs one workload against a freshly started server.
pub async fn run(workload: char, server: &mut Server, sizes: &Sizes) -> Outcome {
    let result = match workload {
        'a' => cold_sync::run(server, sizes).await,
        'b' => reconnect_storm::run(server, sizes).await,
        'c' => fan_out::run(server, sizes).await,
        'd' => restart::run(server, sizes).await,
        'e' => storage::run(server, sizes).await,
        'f' => idle_clients::run(server, sizes).await,
        'g' => device_reconnect::run(server, sizes).await,
        'h' => acknowledged_writes::run(server, sizes).await,
        other => Err(format!("no workload {other}")),
    };
    match result {
        Ok(outcome) => outcome,
        Err(why) => {
            let mut outcome = Outcome::default();
            outcome.fail(why);
            outcome
        }
    }
}

/// Wall time, server CPU and bytes on the wire over the timed part of a workload.
#[derive(Debug)]
pub struct Meter {
    started: Instant,
    cpu: f64,
    wire: u64,
    wire_counter: Arc<Wire>,
}

impl Meter {
    pub fn start(server: &Server, wire: &Arc<Wire>) -> Self {
        Self {
            started: Instant::now(),
            cpu: server.cpu_seconds(),
            wire: wire.total(),
            wire_counter: wire.clone(),
        }
    }

    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Adds wall time, server CPU seconds, bytes on the wire since the start; the server's
    /// peak memory and its bytes on disk now.
    pub fn finish(&self, server: &Server, outcome: &mut Outcome, wall: Duration) {
        outcome.push(Figure::new("wall time", Unit::Seconds, wall.as_secs_f64()));
        outcome.push(Figure::new(
            "server CPU",
            Unit::Seconds,
            server.cpu_seconds() - self.cpu,
        ));
        outcome.push(Figure::new(
            "peak server memory",
            Unit::Bytes,
            server.peak_bytes() as f64,
        ));
        outcome.push(Figure::new(
            "bytes on the wire",
            Unit::Bytes,
            (self.wire_counter.total() - self.wire) as f64,
        ));
        if let Some(disk) = server.disk_bytes() {
            outcome.push(Figure::new("bytes on disk", Unit::Bytes, disk as f64));
        }
        let dropped = self.wire_counter.dropped.load(Ordering::Relaxed);
        if dropped > 0 {
            outcome.push(Figure::new(
                "connections the server dropped",
                Unit::Count,
                dropped as f64,
            ));
        }
    }
}

/// Accounts a seeding client sends before it waits for their acknowledgement.
const SEED_BATCH: usize = 100;

/// A client that writes accounts of its own (a seeding client, h's writers): where it
/// connects, and whose accounts it writes.
pub struct Writer {
    url: String,
    /// `None`: the bench user's accounts ([`records::account`]).
    rep: Option<company::Rep>,
}

impl Writer {
    fn account(&self, n: u32) -> automerge::AutoCommit {
        match &self.rep {
            Some(rep) => records::account_of(n, &rep.name, &rep.territory),
            None => records::account(n),
        }
    }
}

/// `clients` writers. On Itinera each is a sales rep of his own, created through the admin
/// REST API with `reps_per_territory` reps to a territory, who writes accounts he owns: the
/// server keeps a budget of history per user (50,000 changes, then 50 a second), which one
/// user seeding full mode's 100,000 accounts, or writing from h's 50 clients, spends within
/// the run. On the others, all connect at the one URL.
pub async fn writers(
    server: &Server,
    clients: u32,
    reps_per_territory: u32,
) -> Result<Vec<Writer>, String> {
    if !server.peer.is_itinera() {
        return Ok((0..clients)
            .map(|_| Writer {
                url: server.url(),
                rep: None,
            })
            .collect());
    }
    let (base, admin) = (server.http_url(), server.token().to_owned());
    let company = tokio::task::spawn_blocking(move || {
        company::Company::create(&base, &admin, clients, reps_per_territory)
    })
    .await
    .map_err(|err| format!("set-up: {err}"))??;
    Ok(company
        .reps
        .into_iter()
        .map(|rep| Writer {
            url: server.sync_url(&rep.token),
            rep: Some(rep),
        })
        .collect())
}

/// Stores `count` new accounts (`space`, numbered from 0) on the server, spread over the
/// `seeders` (see [`writers`]), each on a connection of its own, and waits until the server
/// acknowledged all of them; a refusal ends the seeding with the server's words.
pub async fn seed(
    seeders: Vec<Writer>,
    wire: &Arc<Wire>,
    space: u32,
    count: u32,
) -> Result<(), String> {
    let seeders: Vec<Writer> = seeders.into_iter().take(count.max(1) as usize).collect();
    let clients = seeders.len().max(1) as u32;
    let mut tasks = Vec::new();
    for (c, seeder) in (0..clients).zip(seeders) {
        let wire = wire.clone();
        tasks.push(tokio::spawn(async move {
            let name = format!("seed-{space}-{c}");
            let mut client = Client::connect(&seeder.url, &name, wire).await?;
            let mine: Vec<u32> = (c..count).step_by(clients as usize).collect();
            // In batches, so no server is flooded: seeding is set-up, not the measurement.
            for batch in mine.chunks(SEED_BATCH) {
                let mut pending = Vec::new();
                for &n in batch {
                    let id = records::doc_id(space, n);
                    client.insert(id, seeder.account(n));
                    pending.push(id);
                }
                let deadline = Instant::now() + Duration::from_secs(3600);
                let done = client
                    .run_until(deadline, |c| {
                        pending.retain(|id| !c.in_sync(id));
                        pending.is_empty() || !c.refused.is_empty()
                    })
                    .await;
                if !done || !pending.is_empty() {
                    return Err(format!(
                        "seeding: {} accounts not acknowledged ({:?})",
                        pending.len(),
                        client.errors.first()
                    ));
                }
            }
            client.disconnect().await;
            Ok(())
        }));
    }
    for task in tasks {
        task.await.map_err(|err| format!("seeding task: {err}"))??;
    }
    Ok(())
}

/// Stores `count` accounts on a server that is then restarted, so every server serves them
/// from disk. Itinera takes them through the protocol (it keeps its own store); the Node and
/// samod servers share automerge-repo's file layout, so their folders are written directly
/// (one snapshot per document, as their storage would compact to), which is much faster than
/// their own intake and is not what is measured. Returns how long the seeding took.
pub async fn seed_and_restart(
    server: &mut Server,
    wire: &Arc<Wire>,
    space: u32,
    count: u32,
) -> Result<Duration, String> {
    let mut started = Instant::now();
    if server.peer.is_itinera() {
        // The seeding reps are created before the clock starts.
        // A territory each: a rep's index lists his own accounts, not the other seeders'.
        let seeders = writers(server, 8, 1).await?;
        started = Instant::now();
        seed(seeders, wire, space, count).await?;
        server.stop();
    } else {
        server.stop();
        for n in 0..count {
            write_snapshot(
                &server.data,
                &records::doc_id(space, n),
                records::account(n),
            )?;
        }
    }
    let seeded = started.elapsed();
    server.restart()?;
    Ok(seeded)
}

/// `DIR/ab/cdef…/snapshot/HEADS`: where automerge-repo's nodefs storage (and samod's
/// filesystem storage) keep a document's snapshot.
fn write_snapshot(
    dir: &std::path::Path,
    id: &itinera_core::DocumentId,
    mut doc: automerge::AutoCommit,
) -> Result<(), String> {
    let name = id.to_string();
    let (head, rest) = name.split_at(2);
    let folder = dir.join(head).join(rest).join("snapshot");
    std::fs::create_dir_all(&folder).map_err(|err| format!("{}: {err}", folder.display()))?;
    let heads: String = doc.get_heads().iter().map(|h| h.to_string()).collect();
    std::fs::write(folder.join(heads), doc.save()).map_err(|err| format!("snapshot: {err}"))
}

/// Fetches documents with a fresh client until all are present, returning it.
pub async fn fetch(
    url: &str,
    wire: &Arc<Wire>,
    peer: &str,
    ids: &[itinera_core::DocumentId],
    timeout: Duration,
) -> Result<Client, String> {
    let mut client = Client::connect(url, peer, wire.clone()).await?;
    for id in ids {
        client.find(*id);
    }
    let total = ids.len();
    let present = client
        .run_until(Instant::now() + timeout, |c| c.present_count() >= total)
        .await;
    if present {
        Ok(client)
    } else {
        Err(format!(
            "{peer}: {} of {total} documents arrived ({} unavailable, {:?})",
            client.present_count(),
            client.unavailable.len(),
            client.errors.first()
        ))
    }
}

/// The value at `q` (0 to 1) of sorted numbers.
pub fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (q * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}
