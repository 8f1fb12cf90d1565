//! A seeded simulation: several phones and a hub, random edits, random delivery order and
//! dropped connections, run until quiet; every replica ends with the same heads.
//!
//! A failing seed is printed; replay it with `ITINERA_SIM_SEED=<seed> cargo test -p itinera-core
//! --test sync_simulation`.

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use common::{Rng, Sim, doc_id};
use itinera_core::sync::NodeRole;

const PHONES: usize = 4;
const DOCUMENTS: u8 = 6;
const STEPS: usize = 400;

fn run(seed: u64) -> Result<(), String> {
    let mut rng = Rng::new(seed);
    let mut sim = Sim::new();
    let hub = sim.add("hub", NodeRole::Server);
    let phones: Vec<usize> = (0..PHONES)
        .map(|i| sim.add(&format!("phone-{i}"), NodeRole::Client))
        .collect();
    let mut link_of: Vec<usize> = phones.iter().map(|&p| sim.connect(p, hub)).collect();

    // Each document starts on one phone; the others ask for it.
    for n in 0..DOCUMENTS {
        let owner = phones[usize::from(n) % PHONES];
        let mut doc = AutoCommit::new().with_actor(ActorId::from([n + 1; 16]));
        doc.put(ROOT, "created_by", owner as i64)
            .map_err(|e| e.to_string())?;
        doc.commit();
        sim.nodes[owner].insert(doc_id(n), doc);
        sim.collect(owner);
        for &phone in &phones {
            if phone != owner {
                sim.nodes[phone].find(doc_id(n));
                sim.collect(phone);
            }
        }
    }

    let mut edits = 0u64;
    for _ in 0..STEPS {
        match rng.below(10) {
            0..=2 => {
                let phone = phones[rng.below(PHONES)];
                let id = doc_id(rng.below(usize::from(DOCUMENTS)) as u8);
                edits += 1;
                let key = format!("k{}", rng.below(5));
                let value = edits as i64;
                sim.nodes[phone].change(&id, |doc| {
                    if !doc.get_heads().is_empty() {
                        let _ = doc.put(ROOT, key.as_str(), value);
                    }
                });
                sim.collect(phone);
            }
            3 => {
                let which = rng.below(PHONES);
                if rng.chance(50) {
                    sim.cut(link_of[which]);
                } else if !sim.links[link_of[which]].up {
                    link_of[which] = sim.connect(phones[which], hub);
                }
            }
            _ => {
                let busy: Vec<(usize, bool)> = sim
                    .links
                    .iter()
                    .enumerate()
                    .flat_map(|(i, l)| {
                        [
                            (i, true, !l.to_hub.is_empty()),
                            (i, false, !l.to_client.is_empty()),
                        ]
                    })
                    .filter(|(_, _, has)| *has)
                    .map(|(i, dir, _)| (i, dir))
                    .collect();
                if !busy.is_empty() {
                    let (link, to_hub) = busy[rng.below(busy.len())];
                    sim.deliver(link, to_hub);
                }
            }
        }
    }

    // Everyone comes back online and the network settles.
    for which in 0..PHONES {
        if !sim.links[link_of[which]].up {
            link_of[which] = sim.connect(phones[which], hub);
        }
    }
    sim.run_until_quiet(&mut rng);

    for n in 0..DOCUMENTS {
        let id = doc_id(n);
        let expected = sim
            .heads(hub, &id)
            .ok_or(format!("hub lacks document {n}"))?;
        for &phone in &phones {
            let heads = sim
                .heads(phone, &id)
                .ok_or(format!("phone {phone} lacks document {n}"))?;
            if heads != expected {
                return Err(format!(
                    "document {n}: phone {phone} has {heads:?}, hub has {expected:?}"
                ));
            }
        }
        let stored = sim.stores[hub].get_mut(&id).map(|doc| doc.get_heads());
        if stored.as_ref() != Some(&expected) {
            return Err(format!(
                "document {n}: hub stored {stored:?}, holds {expected:?}"
            ));
        }
    }
    for (node, observed) in sim.observed.iter().enumerate() {
        if !observed.protocol_errors.is_empty() {
            return Err(format!(
                "node {node} saw protocol errors: {:?}",
                observed.protocol_errors
            ));
        }
    }
    Ok(())
}

#[test]
fn replicas_converge_whatever_the_order_and_the_outages() {
    let seeds: Vec<u64> = match std::env::var("ITINERA_SIM_SEED") {
        Ok(seed) => vec![seed.parse().expect("ITINERA_SIM_SEED is a number")],
        Err(_) => (1..=40).collect(),
    };
    for seed in seeds {
        if let Err(failure) = run(seed) {
            panic!("simulation seed {seed} failed: {failure}\nreplay with ITINERA_SIM_SEED={seed}");
        }
    }
}
