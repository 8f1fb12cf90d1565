//! Workload d: a server with many stored accounts restarts; timed from the start of the new
//! process until it accepts a connection and serves the first account (the old process's
//! stop, a graceful shutdown with a final flush, is a row of its own), then its memory once
//! some are touched. The old process has done its start-up work before it is stopped, as a
//! server that ran a while has (stopped in the middle of it, it leaves the next start that work
//! to do again).

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use crate::client::Wire;
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Sizes, fetch, seed_and_restart};

const SPACE: u32 = 4;
const TIMEOUT: Duration = Duration::from_secs(1800);

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let wire = Arc::new(Wire::default());
    let seeded_in = seed_and_restart(server, &wire, SPACE, sizes.restart_docs).await?;
    let disk = server.disk_bytes();
    server.wait_settled(TIMEOUT)?;

    let stopping = Instant::now();
    server.stop();
    let stopped_in = stopping.elapsed();
    let started = Instant::now();
    server.start_again()?;
    let listening = server.started_in;
    let first = records::doc_id(SPACE, sizes.restart_docs / 2);
    let mut client = fetch(&server.url(), &wire, "restart-first", &[first], TIMEOUT).await?;
    let ready = started.elapsed();
    client.disconnect().await;
    let memory_ready = server.rss_bytes();

    let step = (sizes.restart_docs / sizes.restart_touched.max(1)).max(1);
    let touched: Vec<_> = (0..sizes.restart_touched)
        .map(|n| records::doc_id(SPACE, (n * step) % sizes.restart_docs))
        .collect();
    let touching = Instant::now();
    let mut reader = fetch(&server.url(), &wire, "restart-reader", &touched, TIMEOUT).await?;
    let touched_in = touching.elapsed();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let memory_touched = server.rss_bytes();
    reader.disconnect().await;

    let mut outcome = Outcome::default();
    outcome.push(Figure::new(
        "ready: listening and first account served",
        Unit::Seconds,
        ready.as_secs_f64(),
    ));
    outcome.push(Figure::new(
        "listening after",
        Unit::Seconds,
        listening.as_secs_f64(),
    ));
    outcome.push(Figure::new(
        "stopping: signal to exit",
        Unit::Seconds,
        stopped_in.as_secs_f64(),
    ));
    outcome.push(Figure::new(
        format!("time to serve {} accounts", sizes.restart_touched),
        Unit::Seconds,
        touched_in.as_secs_f64(),
    ));
    outcome.push(Figure::new(
        "server CPU since restart",
        Unit::Seconds,
        server.cpu_seconds(),
    ));
    outcome.push(Figure::new(
        "memory when ready",
        Unit::Bytes,
        memory_ready as f64,
    ));
    outcome.push(Figure::new(
        format!("memory after {} touched", sizes.restart_touched),
        Unit::Bytes,
        memory_touched as f64,
    ));
    outcome.push(Figure::new(
        "peak server memory since restart",
        Unit::Bytes,
        server.peak_bytes() as f64,
    ));
    outcome.push(Figure::new(
        "bytes on the wire (all)",
        Unit::Bytes,
        wire.total() as f64,
    ));
    if let Some(disk) = disk {
        outcome.push(Figure::new("bytes on disk", Unit::Bytes, disk as f64));
    }
    if server.peer.is_itinera() {
        // The peers' folders are written directly, so only Itinera's intake is a figure.
        outcome.push(Figure::new(
            format!(
                "storing {} accounts through the protocol",
                sizes.restart_docs
            ),
            Unit::Seconds,
            seeded_in.as_secs_f64(),
        ));
    }
    Ok(outcome)
}
