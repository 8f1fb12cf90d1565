//! Workload c: one account, many subscribers, one writer at rising edit rates; each subscriber
//! times the arrival of every edit from the moment it was written. The rate stops rising once
//! the p99 passes 100 ms.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, fetch, percentile};

const SPACE: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(600);
/// A p99 above this means the rate is too high.
const P99_LIMIT_MS: f64 = 100.0;
/// How long the last edit of a rate may take to reach every subscriber.
const DRAIN: Duration = Duration::from_secs(15);
/// Handshakes in flight at once while the subscribers connect.
const CONNECTING: usize = 20;

/// When each edit was written, by sequence number (from 1).
type Sent = Arc<Mutex<Vec<Instant>>>;
/// Every arrival at every subscriber: sequence number and latency in milliseconds.
type Arrivals = Arc<Mutex<Vec<(usize, f64)>>>;

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    let id = records::doc_id(SPACE, 0);
    let mut writer = Client::connect(&url, "fan-writer", wire.clone()).await?;
    writer.insert(id, records::account(0));
    if !writer
        .run_until(Instant::now() + TIMEOUT, |c| c.in_sync(&id))
        .await
    {
        return Err("the writer's account was never acknowledged".into());
    }

    let sent: Sent = Arc::new(Mutex::new(Vec::new()));
    let arrivals: Arrivals = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    let mut subscribers = (0..sizes.fan_subscribers).peekable();
    while subscribers.peek().is_some() {
        let batch: Vec<u32> = subscribers.by_ref().take(CONNECTING).collect();
        let fetches = batch.into_iter().map(|s| {
            let (url, wire) = (url.clone(), wire.clone());
            tokio::spawn(async move {
                fetch(&url, &wire, &format!("fan-sub-{s}"), &[id], TIMEOUT).await
            })
        });
        for fetched in fetches.collect::<Vec<_>>() {
            clients.push(
                fetched
                    .await
                    .map_err(|err| format!("subscriber: {err}"))??,
            );
        }
    }
    let mut tasks = Vec::new();
    for mut client in clients {
        client.check_every = Duration::ZERO;
        let (sent, arrivals, stop) = (sent.clone(), arrivals.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut seen = 0usize;
            client
                .run_until(Instant::now() + TIMEOUT, |c| {
                    if !c.take_changed().is_empty() {
                        let now = Instant::now();
                        let latest = c
                            .node
                            .document(&id)
                            .and_then(|doc| records::address_line(doc, "line2"))
                            .and_then(|text| text.parse::<usize>().ok())
                            .unwrap_or(0);
                        if latest > seen {
                            // Edits that arrive together arrive when the latest does.
                            let times: Vec<(usize, f64)> = match sent.lock() {
                                Ok(sent) => (seen + 1..=latest)
                                    .filter_map(|seq| {
                                        let at = sent.get(seq - 1)?;
                                        Some((seq, (now - *at).as_secs_f64() * 1e3))
                                    })
                                    .collect(),
                                Err(_) => Vec::new(),
                            };
                            if let Ok(mut all) = arrivals.lock() {
                                all.extend(times);
                            }
                            seen = latest;
                        }
                    }
                    stop.load(Ordering::Relaxed)
                })
                .await;
            client.disconnect().await;
            seen
        }));
    }

    let meter = Meter::start(server, &wire);
    let mut outcome = Outcome::default();
    let mut seq = 0usize;
    let mut sustained = 0u32;
    let mut missing = 0usize;
    for &rate in &sizes.fan_rates {
        let first = seq + 1;
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
        let count = rate as usize * sizes.fan_seconds as usize;
        let start = Instant::now();
        for i in 0..count {
            writer
                .run_until(start + interval * i as u32, |_| false)
                .await;
            seq += 1;
            let value = seq.to_string();
            if let Ok(mut sent) = sent.lock() {
                sent.push(Instant::now());
            }
            writer.node.change(&id, |doc| {
                doc.set_actor(records::actor(0, SPACE));
                records::set_address_line(doc, "line2", &value);
            });
            writer.pump().await;
        }
        // Until every subscriber has every edit of this rate, or the drain time is over.
        let expected = count * sizes.fan_subscribers as usize;
        let deadline = Instant::now() + DRAIN;
        let mut latencies = loop {
            let latencies = of_range(&arrivals, first, seq);
            if latencies.len() >= expected || Instant::now() >= deadline {
                break latencies;
            }
            writer.run_for(Duration::from_millis(50)).await;
        };
        missing += expected.saturating_sub(latencies.len());
        latencies.sort_by(f64::total_cmp);
        let p99 = percentile(&latencies, 0.99);
        outcome.push(Figure::new(
            format!("p50 at {rate}/s"),
            Unit::Millis,
            percentile(&latencies, 0.5),
        ));
        outcome.push(Figure::new(format!("p99 at {rate}/s"), Unit::Millis, p99));
        if latencies.len() < expected || p99 > P99_LIMIT_MS {
            break;
        }
        sustained = rate;
    }
    let wall = meter.elapsed();
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await.map_err(|err| format!("subscriber: {err}"))?;
    }
    writer.disconnect().await;
    meter.finish(server, &mut outcome, wall);
    outcome.push(
        Figure::new(
            "highest rate with p99 ≤ 100 ms",
            Unit::PerSecond,
            f64::from(sustained),
        )
        .higher_is_better(),
    );
    outcome.push(Figure::new(
        format!("arrivals missing after {} s", DRAIN.as_secs()),
        Unit::Count,
        missing as f64,
    ));
    Ok(outcome)
}

/// The latencies of the edits numbered `first..=last`.
fn of_range(arrivals: &Arrivals, first: usize, last: usize) -> Vec<f64> {
    arrivals
        .lock()
        .map(|all| {
            all.iter()
                .filter(|(seq, _)| (first..=last).contains(seq))
                .map(|(_, latency)| *latency)
                .collect()
        })
        .unwrap_or_default()
}
