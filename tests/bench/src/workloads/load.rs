//! The load run (`itinera-bench load`): many devices hold a connection to Itinera and edit for a
//! set time, each timing every acknowledgement. Every device edits an account of its own and,
//! one edit in five, an account it shares with a few other devices (so changes also fan out).
//! At the end every acknowledged edit must be in the history the server hands a fresh device;
//! the server's memory is sampled throughout.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, fetch, percentile};

/// The document family of the load run.
const SPACE: u32 = 7;
/// How many devices share each shared account (a territory's accounts, worked on by a few
/// reps): device `c` also works on shared account `c mod (devices / 10)`, whatever the number
/// of devices.
const DEVICES_PER_SHARED_ACCOUNT: u32 = 10;

/// How many shared accounts a run of `clients` devices has.
fn shared_accounts(clients: u32) -> u32 {
    (clients / DEVICES_PER_SHARED_ACCOUNT).max(1)
}
/// How long a device waits for one acknowledgement before it counts the edit as late (it keeps
/// waiting for it until the end).
const ACK_TIMEOUT: Duration = Duration::from_secs(30);
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
    /// Every acknowledged edit: the document and the change.
    acknowledged: Vec<(itinera_core::DocumentId, automerge::ChangeHash)>,
    written: usize,
    unacknowledged: usize,
    errors: Vec<String>,
}

fn shared_id(n: u32) -> itinera_core::DocumentId {
    records::doc_id(SPACE, 1_000_000 + n)
}

pub async fn run(server: &mut Server, sizes: &LoadSizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    let rss_idle = server.rss_bytes();
    let shared_count = shared_accounts(sizes.clients);

    // The shared accounts, created by one device.
    let mut creator = Client::connect(&url, "load-creator", wire.clone()).await?;
    for n in 0..shared_count {
        creator.insert(shared_id(n), records::account(n));
    }
    let ids: Vec<_> = (0..shared_count).map(shared_id).collect();
    if !creator
        .run_until(Instant::now() + ACK_TIMEOUT, |c| {
            ids.iter().all(|id| c.in_sync(id))
        })
        .await
    {
        return Err("the shared accounts were not acknowledged".into());
    }
    creator.disconnect().await;

    // Devices connect in batches, each with its account and one shared account.
    let mut devices = Vec::new();
    for batch in (0..sizes.clients).collect::<Vec<_>>().chunks(CONNECT_BATCH) {
        let mut connecting = Vec::new();
        for &c in batch {
            let (url, wire) = (url.clone(), wire.clone());
            connecting.push(tokio::spawn(async move {
                let mut client = fetch(
                    &url,
                    &wire,
                    &format!("load-{c}"),
                    &[shared_id(c % shared_count)],
                    ACK_TIMEOUT,
                )
                .await?;
                let own = records::doc_id(SPACE, c);
                client.insert(own, records::account(c));
                if client
                    .run_until(Instant::now() + ACK_TIMEOUT, |cl| cl.in_sync(&own))
                    .await
                {
                    Ok(client)
                } else {
                    Err(format!("device {c}: its account was not acknowledged"))
                }
            }));
        }
        for task in connecting {
            devices.push(task.await.map_err(|err| format!("connect: {err}"))??);
        }
    }
    let rss_connected = server.rss_bytes();
    eprint!(" [{} devices connected]", devices.len());

    // The load: every device edits once per period until the time is up.
    let meter = Meter::start(server, &wire);
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
    let mut tasks = Vec::new();
    for (c, mut client) in devices.into_iter().enumerate() {
        let c = u32::try_from(c).unwrap_or(u32::MAX);
        let period = sizes.edit_every;
        tasks.push(tokio::spawn(async move {
            let own = records::doc_id(SPACE, c);
            let shared = shared_id(c % shared_count);
            let mut run = DeviceRun::default();
            // A random phase, so edits spread over the period.
            let phase = period.mul_f64(f64::from(c.wrapping_mul(2_654_435_761) % 1000) / 1000.0);
            let mut next = Instant::now() + phase;
            let mut seq = 0u32;
            while next < stop_at {
                client.run_until(next, |_| false).await;
                seq += 1;
                let (id, field) = if seq % 5 == 0 {
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
                    run.latencies_ms.push(written.elapsed().as_secs_f64() * 1e3);
                    run.acknowledged.push((id, change));
                } else {
                    run.unacknowledged += 1;
                }
                next += period;
            }
            run.errors.extend(client.errors.iter().cloned());
            client.disconnect().await;
            run
        }));
    }
    let mut runs = Vec::new();
    for task in tasks {
        runs.push(task.await.map_err(|err| format!("device: {err}"))?);
    }
    let wall = meter.elapsed();
    sampling.store(false, Ordering::Relaxed);
    let _ = pid_rss.await;

    // Every acknowledged edit is on the server.
    let mut check_ids: Vec<_> = (0..sizes.clients)
        .map(|c| records::doc_id(SPACE, c))
        .collect();
    check_ids.extend((0..shared_count).map(shared_id));
    let mut checker = fetch(&url, &wire, "load-checker", &check_ids, ACK_TIMEOUT * 4).await?;
    let mut by_document: std::collections::BTreeMap<_, Vec<automerge::ChangeHash>> =
        std::collections::BTreeMap::new();
    for run in &runs {
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
