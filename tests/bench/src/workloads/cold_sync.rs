//! Workload a: an empty client asks for every stored account at once; timed until all are there.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Wire;
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, fetch, seed_and_restart};

const SPACE: u32 = 1;

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let wire = Arc::new(Wire::default());
    // Every server starts cold: the accounts are on disk, none in memory.
    seed_and_restart(server, &wire, SPACE, sizes.cold_docs).await?;
    let url = server.url();
    let ids: Vec<_> = (0..sizes.cold_docs)
        .map(|n| records::doc_id(SPACE, n))
        .collect();
    let meter = Meter::start(server, &wire);
    let mut outcome = Outcome::default();
    let mut client = fetch(&url, &wire, "cold-client", &ids, Duration::from_secs(1800)).await?;
    let wall = meter.elapsed();
    meter.finish(server, &mut outcome, wall);
    outcome.push(
        Figure::new(
            "documents per second",
            Unit::PerSecond,
            f64::from(sizes.cold_docs) / wall.as_secs_f64(),
        )
        .higher_is_better(),
    );
    // Every account arrived whole: its tag from the seeding is there.
    let missing = ids
        .iter()
        .filter(|id| {
            client
                .node
                .document(id)
                .is_none_or(|doc| !records::tags(doc).contains("prospect"))
        })
        .count();
    if missing > 0 {
        outcome.fail(format!("{missing} accounts arrived incomplete"));
    }
    client.disconnect().await;
    Ok(outcome)
}
