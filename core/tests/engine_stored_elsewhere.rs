//! Changes another server process committed to the store both share reach a document's engine
//! as `Input::StoredElsewhere`: the engine merges them, counts them durable (they are stored
//! already) and writes nothing of them again.

mod common;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ChangeHash, ROOT};
use common::doc_id;
use itinera_core::engine::{DocumentEngine, EngineConfig, Input, Output, StoredDocument};
use itinera_core::protocol::PeerId;

fn sorted(heads: &[ChangeHash]) -> Vec<ChangeHash> {
    let mut heads = heads.to_vec();
    heads.sort();
    heads
}

fn writes(outputs: &[Output]) -> usize {
    outputs
        .iter()
        .filter(|output| matches!(output, Output::Write { .. } | Output::WriteDetached { .. }))
        .count()
}

#[test]
fn changes_another_node_stored_are_merged_as_durable_and_not_written_again() {
    let id = doc_id(1);
    let mut stored = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
    stored.put(ROOT, "created_by", 0i64).expect("put");
    stored.commit();
    let config = EngineConfig::new(PeerId::new("node-a"), ActorId::from([0xaa; 16]));
    let mut engine = DocumentEngine::load(
        config,
        id,
        StoredDocument {
            bytes: Ok(Some(stored.save())),
            ..StoredDocument::default()
        },
    );
    assert_eq!(sorted(engine.durable_heads()), sorted(&stored.get_heads()));

    // The other node commits a change of its own to the shared store.
    let mut elsewhere = stored.fork().with_actor(ActorId::from([2u8; 16]));
    elsewhere.put(ROOT, "city", "Graz").expect("put");
    elsewhere.commit();
    let heads = elsewhere.get_heads();
    assert!(!engine.holds(&heads));
    engine.handle(
        1_000,
        Input::StoredElsewhere {
            bytes: elsewhere.save(),
            heads: heads.clone(),
            creator: None,
        },
    );
    let outputs = engine.take_outputs();
    assert!(engine.holds(&heads), "the change was merged");
    assert_eq!(
        sorted(engine.durable_heads()),
        sorted(&heads),
        "what the other node stored is durable as it comes"
    );
    assert_eq!(writes(&outputs), 0, "nothing is written again: {outputs:?}");

    // Hearing of the same commit again (a notice after a reconnect's catch-up) changes nothing.
    engine.handle(
        1_001,
        Input::StoredElsewhere {
            bytes: elsewhere.save(),
            heads: heads.clone(),
            creator: None,
        },
    );
    let again = engine.take_outputs();
    assert_eq!(writes(&again), 0, "{again:?}");
    assert_eq!(sorted(engine.durable_heads()), sorted(&heads));
}
