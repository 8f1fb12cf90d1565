//! Workload c: one account, many subscribers, one writer at rising edit rates; each subscriber
//! times the arrival of every edit from the moment it was written.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// When each edit was written, by sequence number (from 1).
type Sent = Arc<Mutex<Vec<Instant>>>;

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
    let arrivals: Arc<Mutex<Vec<(usize, f64)>>> = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let target = Arc::new(AtomicUsize::new(0));
    let mut subscribers = Vec::new();
    for s in 0..sizes.fan_subscribers {
        let mut client = fetch(&url, &wire, &format!("fan-sub-{s}"), &[id], TIMEOUT).await?;
        client.check_every = Duration::ZERO;
        let (sent, arrivals) = (sent.clone(), arrivals.clone());
        let (stop, target) = (stop.clone(), target.clone());
        subscribers.push(tokio::spawn(async move {
            let mut seen = 0usize;
            let mut mine = Vec::new();
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
                            if let Ok(sent) = sent.lock() {
                                for seq in seen + 1..=latest {
                                    if let Some(at) = sent.get(seq - 1) {
                                        mine.push((seq, (now - *at).as_secs_f64() * 1e3));
                                    }
                                }
                            }
                            seen = latest;
                        }
                    }
                    let target = target.load(Ordering::Relaxed);
                    (target > 0 && seen >= target) || stop.load(Ordering::Relaxed)
                })
                .await;
            client.disconnect().await;
            if let Ok(mut all) = arrivals.lock() {
                all.extend(mine);
            }
            seen
        }));
    }

    let meter = Meter::start(server, &wire);
    let mut ranges = Vec::new();
    let mut seq = 0usize;
    for &rate in &sizes.fan_rates {
        let first = seq + 1;
        let interval = Duration::from_secs_f64(1.0 / f64::from(rate));
        let count = rate as usize * sizes.fan_seconds as usize;
        let start = Instant::now();
        for i in 0..count {
            let tick = start + interval * i as u32;
            writer.run_until(tick, |_| false).await;
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
        ranges.push((rate, first, seq));
        // A pause between rates, so one rate's backlog is not charged to the next.
        writer.run_for(Duration::from_millis(500)).await;
    }
    let wall = meter.elapsed();
    // Subscribers stop once they saw the last edit, or 30 s from now.
    target.store(seq, Ordering::Relaxed);
    let timer_stop = stop.clone();
    let timer = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(30)).await;
        timer_stop.store(true, Ordering::Relaxed);
    });
    let mut short = 0usize;
    for subscriber in subscribers {
        let seen = subscriber
            .await
            .map_err(|err| format!("subscriber: {err}"))?;
        short += seq - seen.min(seq);
    }
    timer.abort();
    writer.disconnect().await;

    let mut outcome = Outcome::default();
    meter.finish(server, &mut outcome, wall);
    let arrivals = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let mut by_rate: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for (s, latency) in arrivals {
        if let Some((rate, _, _)) = ranges.iter().find(|(_, a, b)| (*a..=*b).contains(&s)) {
            by_rate.entry(*rate).or_default().push(latency);
        }
    }
    let mut sustained = 0u32;
    let mut still_under = true;
    for (rate, _, _) in &ranges {
        let mut latencies = by_rate.remove(rate).unwrap_or_default();
        latencies.sort_by(f64::total_cmp);
        let p99 = percentile(&latencies, 0.99);
        outcome.push(Figure::new(
            format!("p50 at {rate}/s"),
            Unit::Millis,
            percentile(&latencies, 0.5),
        ));
        outcome.push(Figure::new(format!("p99 at {rate}/s"), Unit::Millis, p99));
        still_under &= !latencies.is_empty() && p99 <= P99_LIMIT_MS;
        if still_under {
            sustained = *rate;
        }
    }
    outcome.push(
        Figure::new(
            "highest rate with p99 ≤ 100 ms",
            Unit::PerSecond,
            f64::from(sustained),
        )
        .higher_is_better(),
    );
    outcome.push(Figure::new("edits never seen", Unit::Count, short as f64));
    if short > 0 {
        outcome.fail(format!("{short} edit arrivals missing at the subscribers"));
    }
    Ok(outcome)
}
