//! How much history a user's message may add to a document.
//!
//! Every change and every writer (actor) a document holds is paid for by every later load,
//! merge and sync of it, on the thread it shares with other documents and in the authority
//! that reads it. So a message may carry at most [`MAX_CHANGES_PER_MESSAGE`] new changes by at
//! most [`MAX_NEW_ACTORS_PER_MESSAGE`] new writers, and over time each user spends from a
//! [`HistoryBudget`] the server keeps: changes per user, and writers per user and document.
//! Writers are counted per document because their cost is: a document with thousands of
//! writers is slow for everyone, while a client that writes each new document as a writer of
//! its own (as automerge-repo's JavaScript does) costs each document one.

use std::collections::BTreeSet;

use automerge::AutoCommit;

use crate::DocumentId;

/// The most changes one message may add to a document: a device offline for weeks stays far
/// below it.
pub const MAX_CHANGES_PER_MESSAGE: u64 = 50_000;

/// The most writers one message may add: a device writes as one actor, or a few after
/// reinstalls; thousands are an attack on the document's size.
pub const MAX_NEW_ACTORS_PER_MESSAGE: u64 = 32;

/// A budget of history per user over time, kept by whoever runs the engines.
pub trait HistoryBudget: std::fmt::Debug + Send + Sync {
    /// Spends `changes` new changes by `actors` writers new to `document` for `user`, or says
    /// why not (and spends nothing).
    fn spend(
        &self,
        user: &str,
        document: &DocumentId,
        changes: u64,
        actors: u64,
    ) -> Result<(), String>;
}

/// What a message added: its new changes, and the writers among them the document did not
/// have (a writer's first change has sequence number 1).
pub(crate) fn added(before: &mut AutoCommit, after: &mut AutoCommit) -> (u64, u64) {
    let new = after.document().get_changes_meta(&before.get_heads());
    let fresh: BTreeSet<_> = new
        .iter()
        .filter(|change| change.seq == 1)
        .map(|change| change.actor.clone())
        .collect();
    (new.len() as u64, fresh.len() as u64)
}

/// Checks what a message added against the per-message limits and the user's budget.
pub(crate) fn admit(
    budget: Option<&dyn HistoryBudget>,
    user: &str,
    document: &DocumentId,
    before: &mut AutoCommit,
    after: &mut AutoCommit,
) -> Result<(), String> {
    let (changes, actors) = added(before, after);
    if changes > MAX_CHANGES_PER_MESSAGE {
        return Err(format!(
            "{changes} changes in one message; at most {MAX_CHANGES_PER_MESSAGE}"
        ));
    }
    if actors > MAX_NEW_ACTORS_PER_MESSAGE {
        return Err(format!(
            "{actors} new writers in one message; at most {MAX_NEW_ACTORS_PER_MESSAGE}"
        ));
    }
    match budget {
        Some(budget) if changes > 0 => budget.spend(user, document, changes, actors),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    use super::*;

    fn edits(doc: &mut AutoCommit, actors: u8, each: u64) {
        for a in 0..actors {
            doc.set_actor(ActorId::from([a + 1; 16]));
            for n in 0..each {
                // Distinct values: putting the value a key already has adds no change.
                doc.put(ROOT, "n", i64::from(a) * 1_000 + n as i64)
                    .expect("put");
                doc.commit();
            }
        }
    }

    #[test]
    fn new_changes_and_new_writers_are_counted() {
        let mut before = AutoCommit::new().with_actor(ActorId::from([1u8; 16]));
        edits(&mut before, 1, 3);
        let mut after = before.fork().with_actor(ActorId::from([1u8; 16]));
        // The known writer adds two, three new writers add two each.
        edits(&mut after, 4, 2);
        assert_eq!(added(&mut before, &mut after), (8, 3));
    }

    #[test]
    fn a_message_with_too_many_writers_is_refused() {
        let mut before = AutoCommit::new();
        let mut after = before.fork();
        edits(&mut after, 40, 1);
        let refused = admit(None, "gus", &DOC, &mut before, &mut after).expect_err("40 writers");
        assert!(refused.contains("40 new writers"), "{refused}");
    }

    #[derive(Debug)]
    struct Empty;
    impl HistoryBudget for Empty {
        fn spend(&self, user: &str, _: &DocumentId, changes: u64, _: u64) -> Result<(), String> {
            Err(format!("{user} spent {changes}"))
        }
    }

    const DOC: DocumentId = DocumentId::from_bytes([7; 16]);

    #[test]
    fn the_budget_is_asked_only_for_messages_that_add_changes() {
        let mut before = AutoCommit::new();
        let mut same = before.clone();
        assert_eq!(
            admit(Some(&Empty), "gus", &DOC, &mut before, &mut same),
            Ok(())
        );
        let mut after = before.fork();
        edits(&mut after, 1, 5);
        assert_eq!(
            admit(Some(&Empty), "gus", &DOC, &mut before, &mut after),
            Err("gus spent 5".into())
        );
    }
}
