//! Workload b: many clients edit shared accounts offline, then all reconnect within one
//! second. Timed until every client holds the server's final heads; every edit is counted on a
//! fresh copy from the server, and one lost edit fails the workload.
//!
//! The rows `p50/p99 per client` count from the start of the storm, so they include the second
//! over which the clients are spread. The rows `p50/p99 from reconnect to caught up` time each
//! client from the moment it starts to reconnect until it is caught up: for every account it
//! edits, it holds the offline edit of every client that reconnects no later than it does (the
//! clients reconnect in the order of their numbers, its own edit included), and the server
//! has said it holds the client's own edits (the server's heads include them). Edits of
//! clients that reconnect later are not waited for, so the spread does not count; an edit of
//! an earlier client that the server has not taken in yet does.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use automerge::{ChangeHash, ReadDoc};
use itinera_core::DocumentId;
use tokio::sync::Barrier;
use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, fetch, percentile, seed, writers};

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

/// Every client's offline edit of each account: the change it made, by client number.
type Edits = Arc<Mutex<HashMap<DocumentId, Vec<(u32, ChangeHash)>>>>;

/// What one client saw after the storm began.
struct ClientTimes {
    /// When the server had all of this client's edits and it had the server's.
    synced: Duration,
    catch_up: CatchUp,
    client: Client,
}

/// When one client was caught up (see the module's doc): what it must hold, and since when it
/// reconnects.
struct CatchUp {
    /// For each account it edits, the edits of the clients that reconnect no later than it.
    wanted: Vec<(DocumentId, Vec<ChangeHash>)>,
    reconnecting: Instant,
    after: Option<Duration>,
}

impl CatchUp {
    fn new(c: u32, ids: &[DocumentId], edits: &Edits, reconnecting: Instant) -> Self {
        let edits = edits.lock().map(|edits| edits.clone()).unwrap_or_default();
        let wanted = ids
            .iter()
            .map(|id| {
                let hashes = edits
                    .get(id)
                    .map(|made| {
                        made.iter()
                            .filter(|(by, _)| *by <= c)
                            .map(|(_, hash)| *hash)
                            .collect()
                    })
                    .unwrap_or_default();
                (*id, hashes)
            })
            .collect();
        Self {
            wanted,
            reconnecting,
            after: None,
        }
    }

    /// Notes the time if `client` is caught up now and was not before.
    fn check(&mut self, client: &mut Client) {
        if self.after.is_some() {
            return;
        }
        let holds_all = self.wanted.iter().all(|(id, hashes)| {
            client.node.document(id).is_some_and(|doc| {
                hashes
                    .iter()
                    .all(|hash| doc.get_change_by_hash(hash).is_some())
            })
        });
        if holds_all && self.wanted.iter().all(|(id, _)| client.acknowledged(id)) {
            self.after = Some(self.reconnecting.elapsed());
        }
    }
}

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    seed(writers(server, 4, 1).await?, &wire, SPACE, sizes.storm_docs).await?;

    // Every client fetches its accounts, goes offline and edits each of them once.
    let online = Arc::new(Barrier::new(sizes.storm_clients as usize + 1));
    let storm = Arc::new(Barrier::new(sizes.storm_clients as usize + 1));
    let edits: Edits = Arc::default();
    let mut tasks = Vec::new();
    for c in 0..sizes.storm_clients {
        let (url, wire, sizes) = (url.clone(), wire.clone(), sizes.clone());
        let (online, storm, edits) = (online.clone(), storm.clone(), edits.clone());
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
                // The edit is the only head: it follows everything the client held.
                let made = client.node.heads(id).unwrap_or_default();
                if let Ok(mut edits) = edits.lock() {
                    let of_account = edits.entry(*id).or_default();
                    of_account.extend(made.into_iter().map(|hash| (c, hash)));
                }
            }
            storm.wait().await;
            let started = Instant::now();
            // Spread over one second, the same spread for every server.
            let offset =
                Duration::from_micros(u64::from(c) * 1_000_000 / u64::from(sizes.storm_clients));
            tokio::time::sleep(offset).await;
            // Every client made its edits before the storm began.
            let mut catch_up = CatchUp::new(c, &ids, &edits, Instant::now());
            client.reconnect(&url).await?;
            let mut pending = ids.clone();
            let synced = client
                .run_until(Instant::now() + TIMEOUT, |cl| {
                    catch_up.check(cl);
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
                catch_up,
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
            let (mut client, mut catch_up) = (times.client, times.catch_up);
            let mut reached_at = None;
            let done = client
                .run_until(Instant::now() + TIMEOUT, |cl| {
                    catch_up.check(cl);
                    let equal = ids.iter().zip(&finals).all(|(id, want)| {
                        let mut heads = cl.node.heads(id).unwrap_or_default();
                        heads.sort();
                        heads == *want
                    });
                    if equal && reached_at.is_none() {
                        reached_at = Some(started.elapsed());
                    }
                    // The final heads hold every edit; the server's word on the client's own
                    // may come a message later.
                    equal && catch_up.after.is_some()
                })
                .await;
            client.disconnect().await;
            (done, times.synced, reached_at, catch_up.after)
        }));
    }
    let mut not_converged = 0;
    let mut caught_up = Vec::new();
    for wait in waits {
        let (done, synced, reached, after) =
            wait.await.map_err(|err| format!("wait task: {err}"))?;
        if !done {
            not_converged += 1;
        }
        per_client.push(synced.max(reached.unwrap_or(synced)).as_secs_f64());
        // A client that is done was caught up (its predicate waits for it).
        if let Some(after) = after {
            caught_up.push(after.as_secs_f64());
        }
    }
    caught_up.sort_by(f64::total_cmp);
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
    outcome.push(Figure::new(
        "p50 from reconnect to caught up",
        Unit::Seconds,
        percentile(&caught_up, 0.5),
    ));
    outcome.push(Figure::new(
        "p99 from reconnect to caught up",
        Unit::Seconds,
        percentile(&caught_up, 0.99),
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
