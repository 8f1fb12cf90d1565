//! Workload b: many clients edit shared accounts offline, then all reconnect within one
//! second. Timed until every client holds the server's final heads; every edit is counted on a
//! fresh copy from the server, and one lost edit fails the workload.

use std::sync::Arc;
use std::time::Duration;

use itinera_core::DocumentId;
use tokio::sync::Barrier;
use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, fetch, percentile, seed};

const SPACE: u32 = 2;
const TIMEOUT: Duration = Duration::from_secs(1800);

/// The accounts client `c` holds and edits: its own run of consecutive ones, so each account
/// is shared by clients × edits ÷ documents clients.
fn held(c: u32, sizes: &Sizes) -> Vec<DocumentId> {
    (0..sizes.storm_edits)
        .map(|k| records::doc_id(SPACE, (c * sizes.storm_edits + k) % sizes.storm_docs))
        .collect()
}

fn tag(c: u32, k: u32) -> String {
    format!("storm-{c}-{k}")
}

/// What one client saw after the storm began.
struct ClientTimes {
    /// When the server had all of this client's edits and it had the server's.
    synced: Duration,
    client: Client,
}

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    seed(&url, &wire, SPACE, sizes.storm_docs, 4).await?;

    // Every client fetches its accounts, goes offline and edits each of them once.
    let online = Arc::new(Barrier::new(sizes.storm_clients as usize + 1));
    let storm = Arc::new(Barrier::new(sizes.storm_clients as usize + 1));
    let mut tasks = Vec::new();
    for c in 0..sizes.storm_clients {
        let (url, wire, sizes) = (url.clone(), wire.clone(), sizes.clone());
        let (online, storm) = (online.clone(), storm.clone());
        tasks.push(tokio::spawn(async move {
            let ids = held(c, &sizes);
            let prepared = prepare(&url, &wire, c, &ids).await;
            online.wait().await;
            let mut client = match prepared {
                Ok(client) => client,
                Err(why) => {
                    storm.wait().await;
                    return Err(why);
                }
            };
            for (k, id) in ids.iter().enumerate() {
                let member = tag(c, k as u32);
                let actor = records::actor(c, SPACE);
                client.node.change(id, |doc| {
                    doc.set_actor(actor);
                    records::add_tag(doc, &member);
                });
            }
            storm.wait().await;
            let started = Instant::now();
            // Spread over one second, the same spread for every server.
            let offset =
                Duration::from_micros(u64::from(c) * 1_000_000 / u64::from(sizes.storm_clients));
            tokio::time::sleep(offset).await;
            client.reconnect(&url).await?;
            let mut pending = ids.clone();
            let synced = client
                .run_until(Instant::now() + TIMEOUT, |cl| {
                    pending.retain(|id| !cl.in_sync(id));
                    pending.is_empty()
                })
                .await;
            if !synced {
                return Err(format!(
                    "client {c}: {} accounts never in sync",
                    pending.len()
                ));
            }
            Ok::<_, String>(ClientTimes {
                synced: started.elapsed(),
                client,
            })
        }));
    }
    online.wait().await;
    let meter = Meter::start(server, &wire);
    storm.wait().await;
    let storm_started = Instant::now();
    let mut clients = Vec::new();
    let mut outcome = Outcome::default();
    for task in tasks {
        match task.await.map_err(|err| format!("storm task: {err}"))? {
            Ok(times) => clients.push(times),
            Err(why) => outcome.fail(why),
        }
    }
    if outcome.failure.is_some() {
        return Ok(outcome);
    }
    // Every edit is on the server now; its final heads are what each client must reach.
    let all: Vec<DocumentId> = (0..sizes.storm_docs)
        .map(|n| records::doc_id(SPACE, n))
        .collect();
    let mut verifier = fetch(&url, &wire, "storm-verifier", &all, TIMEOUT).await?;
    let mut lost = 0u64;
    for c in 0..sizes.storm_clients {
        for (k, id) in held(c, sizes).iter().enumerate() {
            let present = verifier
                .node
                .document(id)
                .is_some_and(|doc| records::tags(doc).contains(&tag(c, k as u32)));
            if !present {
                lost += 1;
            }
        }
    }
    // Each client keeps syncing until it holds those heads; the last client to get there ends
    // the storm.
    let mut per_client = Vec::new();
    let mut waits = Vec::new();
    for (c, times) in clients.into_iter().enumerate() {
        let ids = held(c as u32, sizes);
        let finals: Vec<_> = ids
            .iter()
            .map(|id| {
                let mut heads = verifier.node.heads(id).unwrap_or_default();
                heads.sort();
                heads
            })
            .collect();
        let started = storm_started;
        waits.push(tokio::spawn(async move {
            let mut client = times.client;
            let mut reached_at = None;
            let done = client
                .run_until(Instant::now() + TIMEOUT, |cl| {
                    let equal = ids.iter().zip(&finals).all(|(id, want)| {
                        let mut heads = cl.node.heads(id).unwrap_or_default();
                        heads.sort();
                        heads == *want
                    });
                    if equal && reached_at.is_none() {
                        reached_at = Some(started.elapsed());
                    }
                    equal
                })
                .await;
            client.disconnect().await;
            (done, times.synced, reached_at)
        }));
    }
    let mut not_converged = 0;
    for wait in waits {
        let (done, synced, reached) = wait.await.map_err(|err| format!("wait task: {err}"))?;
        if !done {
            not_converged += 1;
        }
        per_client.push(synced.max(reached.unwrap_or(synced)).as_secs_f64());
    }
    let wall = per_client.iter().copied().fold(0.0, f64::max);
    per_client.sort_by(f64::total_cmp);
    meter.finish(server, &mut outcome, Duration::from_secs_f64(wall));
    outcome.push(Figure::new(
        "p50 per client",
        Unit::Seconds,
        percentile(&per_client, 0.5),
    ));
    outcome.push(Figure::new(
        "p99 per client",
        Unit::Seconds,
        percentile(&per_client, 0.99),
    ));
    outcome.push(Figure::new("edits lost", Unit::Count, lost as f64));
    if lost > 0 {
        outcome.fail(format!("{lost} edits lost"));
    }
    if not_converged > 0 {
        outcome.fail(format!(
            "{not_converged} clients never reached the server's heads"
        ));
    }
    verifier.disconnect().await;
    Ok(outcome)
}

/// Connects client `c`, fetches its accounts and disconnects.
async fn prepare(
    url: &str,
    wire: &Arc<Wire>,
    c: u32,
    ids: &[DocumentId],
) -> Result<Client, String> {
    let mut client = fetch(url, wire, &format!("storm-{c}"), ids, TIMEOUT).await?;
    client.disconnect().await;
    Ok(client)
}
