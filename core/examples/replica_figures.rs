//! Figures for the phone's replica: the cost of an edit on a large account (2,000 contacts and
//! 5,000 activities), and opening a replica of 10,000 records (time, resident memory).
//!
//! ```text
//! cargo run --release -p itinera-core --features redb --example replica_figures
//! ```
//!
//! Works in a fresh folder under the system temp dir, removed at the end.
#![allow(clippy::print_stdout)]

use std::collections::BTreeMap;
use std::error::Error;
use std::time::Instant;

use automerge::ActorId;
use itinera_core::model::{Account, Activity, ActivityKind, Contact, Log, LogKey};
use itinera_core::replica::Replica;
use itinera_core::{Document, DocumentId};

type Outcome<T = ()> = Result<T, Box<dyn Error>>;

fn main() -> Outcome {
    // Run again by `open_large` in a process of its own, so that the memory is the open's.
    if let (Some(mode), Some(path)) = (std::env::args().nth(1), std::env::args().nth(2)) {
        if mode == "open" {
            return open_and_measure(std::path::Path::new(&path));
        }
    }
    let dir = std::env::temp_dir().join(format!("itinera-replica-figures-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = edits(&dir).and_then(|()| open_large(&dir));
    std::fs::remove_dir_all(&dir)?;
    result
}

/// The time of `log_activity` on an account of 2,000 contacts and 5,000 activities.
fn edits(dir: &std::path::Path) -> Outcome {
    let mut account = Account {
        name: "Big account".into(),
        owner: "ana".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let mut contacts = BTreeMap::new();
    for n in 0..2_000 {
        contacts.insert(
            format!("c-{n:05}"),
            Contact {
                first_name: format!("First {n}"),
                last_name: format!("Last {n}"),
                ..Default::default()
            },
        );
    }
    account.contacts = contacts;
    let mut activities = Log::new();
    for n in 0..5_000i64 {
        let entry = Activity {
            activity_kind: ActivityKind::Call,
            subject: format!("Call {n}"),
            body: String::new(),
            actor: "ana".into(),
            at: 1_700_000_000_000 + n,
            related: None,
            due: None,
            done: false,
        };
        activities
            .append(LogKey::new(1_700_000_000_000 + n, "seed"), entry)
            .map_err(|e| format!("{e:?}"))?;
    }
    account.activities = activities;
    let id = DocumentId::new_v7(1_700_000_000_000, [7; 10]);
    let mut doc = Document::create(ActorId::from([9u8; 16]), 0, &account)?.into_automerge();
    let mut replica = Replica::open(dir.join("edits.redb"), "ana", ActorId::from([1u8; 16]))?;
    replica.merge_remote(id, &mut doc)?;
    // The first edit loads the document.
    replica.log_activity(
        id,
        ActivityKind::Note,
        "warm".into(),
        String::new(),
        None,
        1,
        "w",
    )?;
    let rounds = 200u32;
    let started = Instant::now();
    for n in 0..rounds {
        replica.log_activity(
            id,
            ActivityKind::Call,
            format!("Call {n}"),
            "Wants 3 days in May".into(),
            None,
            1_800_000_000_000,
            &format!("u{n}"),
        )?;
    }
    let per_edit = started.elapsed() / rounds;
    println!(
        "log_activity on 2,000 contacts and 5,000 activities: {:.2} ms per edit (durable), {rounds} edits",
        per_edit.as_secs_f64() * 1e3
    );
    Ok(())
}

/// Opening a replica of 10,000 records: time and the process's resident memory after.
fn open_large(dir: &std::path::Path) -> Outcome {
    let path = dir.join("large.redb");
    {
        let mut replica = Replica::open(&path, "ana", ActorId::from([1u8; 16]))?;
        for n in 0..10_000u32 {
            let mut random = [3u8; 10];
            random[6..].copy_from_slice(&n.to_be_bytes());
            let id = DocumentId::new_v7(1_764_000_000_000, random);
            let account = Account {
                name: format!("Account {n}"),
                owner: "ana".into(),
                territory: "north".into(),
                ..Default::default()
            };
            let mut doc = Document::create(ActorId::from([5u8; 16]), 0, &account)?.into_automerge();
            replica.merge_remote(id, &mut doc)?;
        }
        replica.close()?;
    }
    let status = std::process::Command::new(std::env::current_exe()?)
        .arg("open")
        .arg(&path)
        .status()?;
    if !status.success() {
        return Err("the open in a process of its own failed".into());
    }
    Ok(())
}

/// Opens the replica at `path` in this fresh process and prints its time and memory.
fn open_and_measure(path: &std::path::Path) -> Outcome {
    let before = resident_kb();
    let started = Instant::now();
    let replica = Replica::open(path, "ana", ActorId::from([1u8; 16]))?;
    let elapsed = started.elapsed();
    let after = resident_kb();
    println!(
        "open a replica of {} records in a fresh process: {:.1} ms; resident memory {:.1} MB (+{:.1} MB for the open)",
        replica.document_ids().len(),
        elapsed.as_secs_f64() * 1e3,
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / 1024.0
    );
    Ok(())
}

/// The process's resident memory in KiB (`VmRSS` of `/proc/self/status`; 0 elsewhere).
fn resident_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}
