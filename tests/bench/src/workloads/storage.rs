//! Workload e: accounts with long histories (many edits from two writers, synced as they go),
//! then the bytes each server keeps on disk per account.

use std::sync::Arc;
use std::time::Duration;

use itinera_core::DocumentId;
use tokio::time::Instant;

use crate::client::{Client, Wire};
use crate::peers::Server;
use crate::records;
use crate::report::{Figure, Outcome, Unit};

use super::{Meter, Sizes, fetch};

const SPACE: u32 = 5;
const TIMEOUT: Duration = Duration::from_secs(1800);
/// Edits a writer makes to each account between two syncs.
const BATCH: u32 = 10;

pub async fn run(server: &mut Server, sizes: &Sizes) -> Result<Outcome, String> {
    let url = server.url();
    let wire = Arc::new(Wire::default());
    let disk = |server: &Server| {
        server.disk_bytes().ok_or(
            "this workload measures the data folder, and this server keeps its data in PostgreSQL",
        )
    };
    let baseline = settled_disk(server, disk).await?;
    let ids: Vec<DocumentId> = (0..sizes.storage_records)
        .map(|n| records::doc_id(SPACE, n))
        .collect();
    let meter = Meter::start(server, &wire);
    let mut first = Client::connect(&url, "storage-writer-0", wire.clone()).await?;
    for (n, id) in ids.iter().enumerate() {
        first.insert(*id, records::account(n as u32));
    }
    let mut pending = ids.clone();
    if !first
        .run_until(Instant::now() + TIMEOUT, |c| {
            pending.retain(|id| !c.in_sync(id));
            pending.is_empty()
        })
        .await
    {
        return Err("accounts never acknowledged".into());
    }
    let second = fetch(&url, &wire, "storage-writer-1", &ids, TIMEOUT).await?;

    let per_writer = sizes.storage_edits / 2;
    let mut writers = Vec::new();
    for (w, client) in [first, second].into_iter().enumerate() {
        let ids = ids.clone();
        writers.push(tokio::spawn(write(client, w as u32, ids, per_writer)));
    }
    let mut clients = Vec::new();
    for writer in writers {
        clients.push(writer.await.map_err(|err| format!("writer: {err}"))??);
    }
    // Both writers end with the same heads as the server.
    for client in &mut clients {
        let mut pending = ids.clone();
        if !client
            .run_until(Instant::now() + TIMEOUT, |c| {
                pending.retain(|id| !c.in_sync(id));
                pending.is_empty()
            })
            .await
        {
            return Err("writers never converged".into());
        }
    }
    let wall = meter.elapsed();
    for client in &mut clients {
        client.disconnect().await;
    }

    let mut outcome = Outcome::default();
    let mut verifier = fetch(&url, &wire, "storage-verifier", &ids, TIMEOUT).await?;
    let mut lost = 0u64;
    let mut saved = 0usize;
    for id in &ids {
        let Some(doc) = verifier.node.document(id) else {
            lost += u64::from(per_writer) * 2;
            continue;
        };
        let tags = records::tags(doc);
        for w in 0..2 {
            for e in (1..per_writer).step_by(2) {
                if !tags.contains(&format!("w{w}-{e}")) {
                    lost += 1;
                }
            }
        }
        saved += doc.clone().save().len();
    }
    verifier.disconnect().await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    meter.finish(server, &mut outcome, wall);
    let records = f64::from(sizes.storage_records);
    let stored = disk(server)?.saturating_sub(baseline) as f64 / records;
    server.restart()?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after_restart = disk(server)?.saturating_sub(baseline) as f64 / records;
    outcome.push(Figure::new("disk per account", Unit::Bytes, stored));
    outcome.push(Figure::new(
        "disk per account after a restart",
        Unit::Bytes,
        after_restart,
    ));
    outcome.push(Figure::new(
        "automerge save() per account (compacted reference)",
        Unit::Bytes,
        saved as f64 / records,
    ));
    outcome.push(Figure::new("edits lost", Unit::Count, lost as f64));
    if lost > 0 {
        outcome.fail(format!("{lost} edits lost"));
    }
    Ok(outcome)
}

/// The bytes on disk of the started, empty server once they stopped changing (what it writes
/// at start, and gives back once idle): read every 100 ms until five reads in a row agree, at
/// most 5 s, so that the accounts are measured against the server's settled file and not
/// against one caught while it writes its first records.
async fn settled_disk(
    server: &Server,
    disk: impl Fn(&Server) -> Result<u64, &'static str>,
) -> Result<u64, String> {
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut last = disk(server)?;
    let mut same = 0;
    while same < 5 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = disk(server)?;
        same = if now == last { same + 1 } else { 0 };
        last = now;
    }
    Ok(last)
}

/// One writer: `edits` changes to every account, alternately a new tag and an overwritten
/// address line, synced every few edits while the other writer does the same.
async fn write(
    mut client: Client,
    w: u32,
    ids: Vec<DocumentId>,
    edits: u32,
) -> Result<Client, String> {
    let actor = records::actor(w, SPACE);
    let mut e = 0;
    while e < edits {
        let batch = BATCH.min(edits - e);
        for id in &ids {
            for k in e..e + batch {
                let actor = actor.clone();
                client.node.change(id, |doc| {
                    doc.set_actor(actor);
                    if k % 2 == 1 {
                        records::add_tag(doc, &format!("w{w}-{k}"));
                    } else {
                        records::set_address_line(doc, "line1", &format!("{k} Ringstrasse"));
                    }
                });
            }
        }
        e += batch;
        let mut pending = ids.clone();
        if !client
            .run_until(Instant::now() + TIMEOUT, |c| {
                pending.retain(|id| !c.acknowledged(id));
                pending.is_empty()
            })
            .await
        {
            return Err(format!(
                "writer {w}: edits never acknowledged ({} of {} documents; errors: {:?})",
                pending.len(),
                ids.len(),
                client.errors
            ));
        }
    }
    Ok(client)
}
