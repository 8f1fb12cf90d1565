//! Workload h: many clients each write one change at a time to an account of their own and
//! wait until the server acknowledged it before writing the next; timed for a fixed period.
//! For a server that acknowledges only what is durable (Itinera durable), this is its durable
//! write throughput under concurrency; the others acknowledge what they hold in memory.
//!
//! On Itinera each writer is a sales rep of his own, signed in with his own token and writing
//! an account he owns, as 50 phones are 50 people: the server keeps a budget of history per
//! user (50,000 changes, then 50 a second), which one user writing from 50 clients at several
//! thousand changes a second spends within the run.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, Writer, fetch, percentile, writers};

const SPACE: u32 = 8;
/// Itinera's writers are reps of territories of this many.
const REPS_PER_TERRITORY: u32 = 5;
/// How long one acknowledgement may take before the run gives up on it.
const ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// What one writer did: its acknowledged changes' latencies (ms) and the last value the server
/// acknowledged.
struct Written {
    latencies: Vec<f64>,
    last: Option<String>,
}

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    let writers = writers(server, sizes.ack_clients, REPS_PER_TERRITORY).await?;
    // Everyone has connected and stored an account before the clock starts.
    let stored: Vec<_> = writers
        .into_iter()
        .enumerate()
        .map(|(w, writer)| {
            let wire = wire.clone();
            tokio::spawn(async move { store_account(writer, wire, w as u32).await })
        })
        .collect();
    let mut clients = Vec::new();
    for task in stored {
        clients.push(task.await.map_err(|err| format!("writer task: {err}"))??);
    }
    let period = Duration::from_secs(sizes.ack_seconds);
    let meter = Meter::start(server, &wire);
    let writing: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(w, client)| tokio::spawn(write_for(client, w as u32, period)))
        .collect();
    let mut written = Vec::new();
    for task in writing {
        written.push(task.await.map_err(|err| format!("writer task: {err}"))??);
    }
    let wall = meter.elapsed();
    let mut outcome = Outcome::default();
    meter.finish(server, &mut outcome, wall);
    let mut latencies: Vec<f64> = written.iter().flat_map(|w| w.latencies.clone()).collect();
    latencies.sort_by(f64::total_cmp);
    outcome.push(
        Figure::new(
            "acknowledged changes per second",
            Unit::PerSecond,
            latencies.len() as f64 / wall.as_secs_f64(),
        )
        .higher_is_better(),
    );
    outcome.push(Figure::new(
        "ack p50",
        Unit::Millis,
        percentile(&latencies, 0.5),
    ));
    outcome.push(Figure::new(
        "ack p99",
        Unit::Millis,
        percentile(&latencies, 0.99),
    ));
    let lost = lost_edits(&url, &wire, &written).await?;
    outcome.push(Figure::new("edits lost", Unit::Count, lost as f64));
    if lost > 0 {
        outcome.fail(format!("{lost} acknowledged edits are missing"));
    }
    Ok(outcome)
}

/// Connects writer `w` and stores its account.
async fn store_account(writer: Writer, wire: Arc<Wire>, w: u32) -> Result<Client, String> {
    let id = records::doc_id(SPACE, w);
    let mut client = Client::connect(&writer.url, &format!("ack-writer-{w}"), wire).await?;
    // Acknowledgements are timed as they arrive, not at the next periodic check.
    client.check_every = Duration::ZERO;
    client.insert(id, writer.account(w));
    if client
        .run_until(Instant::now() + ACK_TIMEOUT, |c| c.in_sync(&id))
        .await
    {
        Ok(client)
    } else {
        Err(format!("writer {w}: its account was never acknowledged"))
    }
}

/// Writer `w` writes and waits for each acknowledgement until `period` is over.
async fn write_for(mut client: Client, w: u32, period: Duration) -> Result<Written, String> {
    let id = records::doc_id(SPACE, w);
    let end = Instant::now() + period;
    let actor = records::actor(w + 1, SPACE);
    let mut written = Written {
        latencies: Vec::new(),
        last: None,
    };
    let mut k = 0u64;
    while Instant::now() < end {
        k += 1;
        let value = format!("{k} Ringstrasse");
        let actor = actor.clone();
        client.node.change(&id, |doc| {
            doc.set_actor(actor);
            records::set_address_line(doc, "line1", &value);
        });
        let started = Instant::now();
        // A refusal ends the wait: it will not be acknowledged.
        let answered = client
            .run_until(started + ACK_TIMEOUT, |c| {
                c.acknowledged(&id) || !c.refused.is_empty()
            })
            .await;
        if !answered || !client.refused.is_empty() {
            return Err(format!(
                "writer {w}: change {k} was never acknowledged (heard: {:?}; ours {:?}, the server's {:?})",
                client.errors,
                client.node.heads(&id).unwrap_or_default(),
                client.server_heads(&id),
            ));
        }
        written
            .latencies
            .push(started.elapsed().as_secs_f64() * 1e3);
        written.last = Some(value);
    }
    client.disconnect().await;
    Ok(written)
}

/// Acknowledged edits a fresh client does not find: each writer's last acknowledged value must
/// be its account's (each value overwrites the one before).
async fn lost_edits(url: &str, wire: &Arc<Wire>, written: &[Written]) -> Result<usize, String> {
    let ids: Vec<_> = (0..written.len() as u32)
        .map(|w| records::doc_id(SPACE, w))
        .collect();
    let mut reader = fetch(url, wire, "ack-reader", &ids, ACK_TIMEOUT).await?;
    let lost = ids
        .iter()
        .zip(written)
        .filter(|(id, w)| {
            let stored = reader
                .node
                .document(id)
                .and_then(|doc| records::address_line(doc, "line1"));
            w.last.is_some() && stored != w.last
        })
        .count();
    reader.disconnect().await;
    Ok(lost)
}
