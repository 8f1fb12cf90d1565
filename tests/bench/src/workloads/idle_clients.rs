//! Workload f: many WebSocket clients that joined and then do nothing but answer pings; the
//! server's memory per connection.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes};

const TIMEOUT: Duration = Duration::from_secs(120);
/// Handshakes in flight at once.
const CONCURRENT_CONNECTS: usize = 200;

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = server.rss_bytes();
    let meter = Meter::start(server, &wire);
    let gate = Arc::new(Semaphore::new(CONCURRENT_CONNECTS));
    let (joined_tx, mut joined_rx) = tokio::sync::mpsc::unbounded_channel();
    let mut idle = Vec::new();
    for i in 0..sizes.idle_clients {
        let (url, wire, gate, joined_tx) =
            (url.clone(), wire.clone(), gate.clone(), joined_tx.clone());
        idle.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await;
            let connected = Client::connect(&url, &format!("idle-{i}"), wire).await;
            let mut client = match connected {
                Ok(client) => client,
                Err(why) => {
                    let _ = joined_tx.send(Err(why));
                    return;
                }
            };
            let joined = client
                .run_until(Instant::now() + TIMEOUT, |c| c.joined)
                .await;
            drop(permit);
            let _ = joined_tx.send(if joined {
                Ok(())
            } else {
                Err(format!("idle-{i} never joined"))
            });
            // Idle: only answer pings until the workload ends (the task is aborted).
            client.run_for(Duration::from_secs(3600)).await;
        }));
    }
    drop(joined_tx);
    let mut joined = 0u32;
    let mut failures = Vec::new();
    while let Some(result) = joined_rx.recv().await {
        match result {
            Ok(()) => joined += 1,
            Err(why) => failures.push(why),
        }
        if joined as usize + failures.len() == sizes.idle_clients as usize {
            break;
        }
    }
    let wall = meter.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = server.rss_bytes();
    let mut outcome = Outcome::default();
    meter.finish(server, &mut outcome, wall);
    outcome.push(Figure::new(
        "memory per connection",
        Unit::Bytes,
        (after.saturating_sub(before)) as f64 / f64::from(joined.max(1)),
    ));
    outcome.push(Figure::new("memory before", Unit::Bytes, before as f64));
    outcome.push(Figure::new(
        "memory with all idle",
        Unit::Bytes,
        after as f64,
    ));
    for task in &idle {
        task.abort();
    }
    for task in idle {
        let _ = task.await;
    }
    if !failures.is_empty() {
        outcome.fail(format!(
            "{} clients did not join: {}",
            failures.len(),
            failures[0]
        ));
    }
    Ok(outcome)
}
