//! The load run (`itinera-bench load`): many devices hold a connection to Itinera and edit for a
//! set time, each timing every acknowledgement, as a company's sales force would.
//!
//! The devices belong to sales reps, two to a rep (his phone and his tablet), each rep signing
//! in with a token of his own; reps are five to a territory (a `territory:NAME` grant). Each rep
//! owns one shared account in his territory: only he may write it, and the other reps of the
//! territory read it. Every device holds open the shared accounts of its territory (so each
//! shared account is held by the ten devices of its territory and every change to it fans out
//! to the other nine) and an account of its own, owned by its rep. Each device edits its own
//! account, and one edit in five its rep's shared account. The users and tokens are created
//! through the admin REST API before the run (timed apart). At the end an office user, who
//! reads everything, checks that every acknowledged edit is in the history the server hands a
//! fresh device; the server's memory is sampled throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::company::{self, Company};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, fetch, percentile};

/// The document family of the load run.
const SPACE: u32 = 7;
/// A rep's devices: his phone and his tablet.
const DEVICES_PER_REP: u32 = 2;
/// Reps who sell in one territory.
const REPS_PER_TERRITORY: u32 = 5;
/// How many devices hold each shared account open: every device of its territory (fewer in
/// the last territory when the devices do not fill it).
const DEVICES_PER_SHARED_ACCOUNT: u32 = DEVICES_PER_REP * REPS_PER_TERRITORY;
/// The shared accounts' numbers start here, apart from the devices' own.
const SHARED_BASE: u32 = 1_000_000;

/// How long a device waits for one acknowledgement before it counts the edit as late (it keeps
/// waiting for it until the end).
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
/// The goal for an acknowledgement's p99; seconds slower than it are listed.
const SLOW_MS: f64 = 50.0;
/// Devices that connect at once while the load builds up.
const CONNECT_BATCH: usize = 50;

/// How the load run is shaped.
#[derive(Debug, Clone)]
pub struct LoadSizes {
    pub clients: u32,
    pub seconds: u64,
    /// Each device edits once per period (at a random phase).
    pub edit_every: Duration,
}

/// What one device did.
#[derive(Debug, Default)]
struct DeviceRun {
    latencies_ms: Vec<f64>,
    /// Those of the edits to its rep's shared account, which nine other devices hold open.
    shared_latencies_ms: Vec<f64>,
    /// Every acknowledged edit: when it was written (Unix seconds), and its latency (ms).
    timeline: Vec<(f64, f64)>,
    /// Every acknowledged edit: the document and the change.
    acknowledged: Vec<(itinera_core::DocumentId, automerge::ChangeHash)>,
    written: usize,
    unacknowledged: usize,
    errors: Vec<String>,
}

/// Who device `c` is and what it holds open.
#[derive(Debug, Clone)]
struct Device {
    c: u32,
    /// Its rep's number.
    rep: u32,
    /// The shared accounts of its territory, its rep's among them.
    territory_shared: Vec<itinera_core::DocumentId>,
}

impl Device {
    fn new(c: u32, reps: u32) -> Self {
        let rep = c / DEVICES_PER_REP;
        let first = rep / REPS_PER_TERRITORY * REPS_PER_TERRITORY;
        let last = (first + REPS_PER_TERRITORY).min(reps);
        Self {
            c,
            rep,
            territory_shared: (first..last).map(shared_id).collect(),
        }
    }

    fn own(&self) -> itinera_core::DocumentId {
        records::doc_id(SPACE, self.c)
    }

    fn shared(&self) -> itinera_core::DocumentId {
        shared_id(self.rep)
    }
}

/// Rep `r`'s shared account.
fn shared_id(r: u32) -> itinera_core::DocumentId {
    records::doc_id(SPACE, SHARED_BASE + r)
}

/// How many reps hold `clients` devices.
fn reps(clients: u32) -> u32 {
    clients.div_ceil(DEVICES_PER_REP).max(1)
}

pub async fn run(server: &mut Server, sizes: &LoadSizes) -> Result<Outcome, String> {
    let wire = Arc::new(Wire::default());
    let rss_idle = server.rss_bytes();
    let reps = reps(sizes.clients);
    let (base, admin) = (server.http_url(), server.token().to_owned());
    let (company, checker_token) = tokio::task::spawn_blocking(move || {
        let checker = company::add_checker(&base, &admin)?;
        Company::create(&base, &admin, reps, REPS_PER_TERRITORY).map(|reps| (reps, checker))
    })
    .await
    .map_err(|err| format!("set-up: {err}"))??;
    eprint!(
        " [{reps} reps (territories of {DEVICES_PER_SHARED_ACCOUNT} devices) and an office user \
         with their tokens in {:.1} s]",
        company.set_up.as_secs_f64()
    );
    create_shared(server, &wire, &company).await?;
    let connecting = Instant::now();
    let devices = connect_devices(server, &wire, &company, sizes.clients).await?;
    let connected_in = connecting.elapsed();
    let rss_connected = server.rss_bytes();
    eprint!(
        " [{} devices connected in {:.1} s]",
        devices.len(),
        connected_in.as_secs_f64()
    );

    // The load: every device edits once per period until the time is up.
    let meter = Meter::start(server, &wire);
    let generator_cpu = crate::peers::cpu_seconds(std::process::id());
    let stop_at = Instant::now() + Duration::from_secs(sizes.seconds);
    let samples = Arc::new(Mutex::new(Vec::new()));
    let sampling = Arc::new(AtomicBool::new(true));
    let pid_rss = {
        let (samples, sampling) = (samples.clone(), sampling.clone());
        let pid = server.pid;
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                if let Ok(mut samples) = samples.lock() {
                    samples.push(crate::peers::rss_of(pid));
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        })
    };
    let tasks: Vec<_> = devices
        .into_iter()
        .map(|(device, client)| tokio::spawn(edit(device, client, sizes.edit_every, stop_at)))
        .collect();
    let mut runs = Vec::new();
    for task in tasks {
        runs.push(task.await.map_err(|err| format!("device: {err}"))?);
    }
    let wall = meter.elapsed();
    let generator_cpu = crate::peers::cpu_seconds(std::process::id()) - generator_cpu;
    sampling.store(false, Ordering::Relaxed);
    let _ = pid_rss.await;

    // Every acknowledged edit is on the server, read by the office user.
    let mut check_ids: Vec<_> = (0..sizes.clients)
        .map(|c| records::doc_id(SPACE, c))
        .collect();
    check_ids.extend((0..reps).map(shared_id));
    let url = server.sync_url(&checker_token);
    let mut checker = fetch(&url, &wire, company::CHECKER, &check_ids, ACK_TIMEOUT * 4).await?;
    let lost = lost_edits(&mut checker, &runs);

    print_slow_seconds(&runs);
    let mut outcome = Outcome::default();
    meter.finish(server, &mut outcome, wall);
    let mut latencies: Vec<f64> = runs.iter().flat_map(|r| r.latencies_ms.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    let written: usize = runs.iter().map(|r| r.written).sum();
    let unacknowledged: usize = runs.iter().map(|r| r.unacknowledged).sum();
    let peak_sampled = samples
        .lock()
        .map(|s| s.iter().copied().max().unwrap_or(0))
        .unwrap_or(0);
    outcome.push(Figure::new(
        "devices held",
        Unit::Count,
        f64::from(sizes.clients),
    ));
    // The simulated devices share the machine with the server: what they cost it.
    outcome.push(Figure::new(
        "load generator CPU",
        Unit::Seconds,
        generator_cpu,
    ));
    outcome.push(Figure::new("sales reps", Unit::Count, f64::from(reps)));
    // Set-up, before the timed part: none of the figures below count it.
    outcome.push(Figure::new(
        "set-up: reps and tokens through the REST API",
        Unit::Seconds,
        company.set_up.as_secs_f64(),
    ));
    outcome.push(Figure::new(
        "set-up: devices connected, accounts opened",
        Unit::Seconds,
        connected_in.as_secs_f64(),
    ));
    outcome.push(Figure::new("edits written", Unit::Count, written as f64));
    outcome.push(Figure::new(
        "edits acknowledged per second",
        Unit::PerSecond,
        latencies.len() as f64 / wall.as_secs_f64().max(1e-9),
    ));
    outcome.push(Figure::new(
        "ack p50",
        Unit::Millis,
        percentile(&latencies, 0.5),
    ));
    outcome.push(Figure::new(
        "ack p95",
        Unit::Millis,
        percentile(&latencies, 0.95),
    ));
    outcome.push(Figure::new(
        "ack p99",
        Unit::Millis,
        percentile(&latencies, 0.99),
    ));
    let mut shared: Vec<f64> = runs
        .iter()
        .flat_map(|r| r.shared_latencies_ms.clone())
        .collect();
    shared.sort_by(f64::total_cmp);
    outcome.push(Figure::new(
        "ack p99 of edits to shared accounts",
        Unit::Millis,
        percentile(&shared, 0.99),
    ));
    outcome.push(Figure::new(
        "ack max",
        Unit::Millis,
        latencies.last().copied().unwrap_or(f64::NAN),
    ));
    outcome.push(Figure::new(
        "edits not acknowledged within 30 s",
        Unit::Count,
        unacknowledged as f64,
    ));
    outcome.push(Figure::new(
        "acknowledged edits lost",
        Unit::Count,
        lost as f64,
    ));
    outcome.push(Figure::new(
        "server memory idle",
        Unit::Bytes,
        rss_idle as f64,
    ));
    outcome.push(Figure::new(
        "server memory, devices connected",
        Unit::Bytes,
        rss_connected as f64,
    ));
    outcome.push(Figure::new(
        "server memory, highest sample under load",
        Unit::Bytes,
        peak_sampled as f64,
    ));
    outcome.push(Figure::new(
        "server memory at the end",
        Unit::Bytes,
        server.rss_bytes() as f64,
    ));
    let errors: usize = runs.iter().map(|r| r.errors.len()).sum();
    if errors > 0 {
        outcome.push(Figure::new("protocol errors", Unit::Count, errors as f64));
        // What the server said: one of them names the cause.
        if let Some(first) = runs.iter().flat_map(|r| &r.errors).next() {
            eprintln!("{errors} protocol errors, the first: {first}");
        }
    }
    if lost > 0 {
        outcome.fail(format!("{lost} acknowledged edits are not on the server"));
    } else if unacknowledged > 0 {
        outcome.fail(format!("{unacknowledged} edits were never acknowledged"));
    }
    Ok(outcome)
}

/// One device's part of the load: an edit per period (at a random phase, so edits spread over
/// the period), each timed until the server acknowledges it; one edit in five goes to its
/// rep's shared account, the others to its own.
async fn edit(device: Device, mut client: Client, period: Duration, stop_at: Instant) -> DeviceRun {
    let c = device.c;
    let (own, shared) = (device.own(), device.shared());
    let mut run = DeviceRun::default();
    let phase = period.mul_f64(f64::from(c.wrapping_mul(2_654_435_761) % 1000) / 1000.0);
    let mut next = Instant::now() + phase;
    let mut seq = 0u32;
    while next < stop_at {
        client.run_until(next, |_| false).await;
        seq += 1;
        // Each device's turn for the shared account falls at a phase of its own, so the
        // shared edits (and their fan-out) spread evenly over the run.
        let (id, field) = if (seq + c) % 5 == 0 {
            (shared, "line1")
        } else {
            (own, "line2")
        };
        let value = format!("d{c}-{seq}");
        let change = client.node.change(&id, |doc| {
            doc.set_actor(records::actor(c, SPACE));
            records::set_address_line(doc, field, &value);
            doc.get_last_local_change().map(|change| change.hash())
        });
        let Some(Some(change)) = change else {
            run.errors.push(format!("device {c} could not edit {id}"));
            break;
        };
        let written = Instant::now();
        run.written += 1;
        if client
            .run_until(written + ACK_TIMEOUT, |cl| cl.acknowledged(&id))
            .await
        {
            let latency = written.elapsed().as_secs_f64() * 1e3;
            run.latencies_ms.push(latency);
            let at = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
                - latency / 1e3;
            run.timeline.push((at, latency));
            if id == shared {
                run.shared_latencies_ms.push(latency);
            }
            run.acknowledged.push((id, change));
        } else {
            run.unacknowledged += 1;
        }
        next += period;
    }
    run.errors.extend(client.errors.iter().cloned());
    client.disconnect().await;
    run
}

/// How many acknowledged edits of `runs` are missing from what `checker` received.
fn lost_edits(checker: &mut Client, runs: &[DeviceRun]) -> usize {
    let mut by_document: std::collections::BTreeMap<_, Vec<automerge::ChangeHash>> =
        std::collections::BTreeMap::new();
    for run in runs {
        for (id, change) in &run.acknowledged {
            by_document.entry(*id).or_default().push(*change);
        }
    }
    let mut lost = 0usize;
    for (id, changes) in by_document {
        match checker.node.document(&id) {
            Some(doc) => {
                let mut doc = doc.clone();
                lost += changes
                    .iter()
                    .filter(|change| doc.get_change_by_hash(change).is_none())
                    .count();
            }
            None => lost += changes.len(),
        }
    }
    lost
}

/// The reps' shared accounts, each owned by its rep and in his territory, created by head
/// office (the bench admin) before the devices connect.
async fn create_shared(server: &Server, wire: &Arc<Wire>, company: &Company) -> Result<(), String> {
    let mut creator = Client::connect(&server.url(), "load-creator", wire.clone()).await?;
    for (r, rep) in (0u32..).zip(&company.reps) {
        creator.insert(
            shared_id(r),
            records::account_of(SHARED_BASE + r, &rep.name, &rep.territory),
        );
    }
    let ids: Vec<_> = (0u32..)
        .zip(&company.reps)
        .map(|(r, _)| shared_id(r))
        .collect();
    let deadline = Instant::now() + ACK_TIMEOUT * 4;
    if !creator
        .run_until(deadline, |c| ids.iter().all(|id| c.in_sync(id)))
        .await
    {
        return Err(format!(
            "the shared accounts were not acknowledged ({:?})",
            creator.errors.first()
        ));
    }
    creator.disconnect().await;
    Ok(())
}

/// Connects the devices in batches, each signed in as its rep, holding its territory's shared
/// accounts and its own account (created now, owned by its rep).
async fn connect_devices(
    server: &Server,
    wire: &Arc<Wire>,
    company: &Company,
    clients: u32,
) -> Result<Vec<(Device, Client)>, String> {
    let reps = u32::try_from(company.reps.len()).unwrap_or(u32::MAX);
    let mut devices = Vec::new();
    for batch in (0..clients).collect::<Vec<_>>().chunks(CONNECT_BATCH) {
        let mut connecting = Vec::new();
        for &c in batch {
            let device = Device::new(c, reps);
            let rep = company
                .reps
                .get(device.rep as usize)
                .cloned()
                .ok_or_else(|| format!("device {c} has no rep"))?;
            let (url, wire) = (server.sync_url(&rep.token), wire.clone());
            connecting.push(tokio::spawn(async move {
                let mut client = fetch(
                    &url,
                    &wire,
                    &format!("load-{c}"),
                    &device.territory_shared,
                    ACK_TIMEOUT,
                )
                .await?;
                // Its waits end on what arrives or at their deadline: no need to wake the
                // 10,000 devices ten times a second to look again.
                client.quiet_wake = ACK_TIMEOUT;
                let own = device.own();
                client.insert(own, records::account_of(c, &rep.name, &rep.territory));
                if client
                    .run_until(Instant::now() + ACK_TIMEOUT, |cl| cl.in_sync(&own))
                    .await
                {
                    Ok((device, client))
                } else {
                    Err(format!(
                        "device {c}: its account was not acknowledged ({:?})",
                        client.errors.first()
                    ))
                }
            }));
        }
        for task in connecting {
            devices.push(task.await.map_err(|err| format!("connect: {err}"))??);
        }
    }
    Ok(devices)
}

/// Prints each second of the run (Unix time) whose edits' acknowledgement p99 passed the goal
/// of [`SLOW_MS`], with how many edits were written then and their p50, p99 and max: when the
/// slow ones were, to set beside what the server did then (a store compaction, say).
fn print_slow_seconds(runs: &[DeviceRun]) {
    let mut seconds: std::collections::BTreeMap<u64, Vec<f64>> = std::collections::BTreeMap::new();
    for (at, latency) in runs.iter().flat_map(|r| &r.timeline) {
        seconds.entry(*at as u64).or_default().push(*latency);
    }
    for (second, mut latencies) in seconds {
        latencies.sort_by(f64::total_cmp);
        let p99 = percentile(&latencies, 0.99);
        if p99 > SLOW_MS {
            eprintln!(
                "\n  slow second {second}: {} edits written, ack p50 {:.1} ms, p99 {p99:.1} ms, max {:.1} ms",
                latencies.len(),
                percentile(&latencies, 0.5),
                latencies.last().copied().unwrap_or(0.0)
            );
        }
    }
}
