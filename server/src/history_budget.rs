//! Each user's budget of document history over time: changes, and new writers (actors), the
//! two things that make a document slower to load, merge and sync for everyone. Changes are
//! counted per user; writers per user and document, since a writer costs the document it
//! writes to (a client that writes each document it creates as a writer of its own, as
//! automerge-repo's JavaScript does, adds one writer to each).

use std::time::{Duration, Instant};

use itinera_core::DocumentId;
use itinera_core::engine::HistoryBudget;

use crate::rate::{Buckets, Rate};

/// Changes one user may add: 50,000 at once (a week offline is far less), then 50 a second.
pub const CHANGES: Rate = Rate {
    burst: 50_000,
    every: Duration::from_millis(20),
};

/// New writers one user may add to one document: 100 (each app install, each browser reload of
/// a page that edits it), then one every two seconds.
pub const ACTORS_PER_DOCUMENT: Rate = Rate {
    burst: 100,
    every: Duration::from_secs(2),
};

/// The server's [`HistoryBudget`]: changes per user and writers per user and document, shared
/// by all their sessions.
#[derive(Debug)]
pub struct UserHistory {
    changes: Buckets<String>,
    actors: Buckets<(String, DocumentId)>,
}

impl UserHistory {
    pub fn new(changes: Rate, actors: Rate) -> Self {
        Self {
            changes: Buckets::new(changes),
            actors: Buckets::new(actors),
        }
    }
}

impl Default for UserHistory {
    fn default() -> Self {
        Self::new(CHANGES, ACTORS_PER_DOCUMENT)
    }
}

impl HistoryBudget for UserHistory {
    fn spend(
        &self,
        user: &str,
        document: &DocumentId,
        changes: u64,
        actors: u64,
    ) -> Result<(), String> {
        let now = Instant::now();
        let (user, writers) = (user.to_owned(), (user.to_owned(), *document));
        let wait = self
            .changes
            .wait(&user, changes, now)
            .max(self.actors.wait(&writers, actors, now));
        if !wait.is_zero() {
            return Err(format!(
                "{user} has added more history ({changes} changes, {actors} new writers of \
                 {document}) than the server takes for now; try again in {} s",
                wait.as_secs().max(1)
            ));
        }
        self.changes.take(&user, changes, now);
        self.actors.take(&writers, actors, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_who_spent_the_budget_waits_and_others_do_not() {
        let budget = UserHistory::new(
            Rate {
                burst: 100,
                every: Duration::from_secs(1),
            },
            Rate {
                burst: 2,
                every: Duration::from_secs(60),
            },
        );
        let (note, other) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        assert_eq!(budget.spend("gus", &note, 90, 1), Ok(()));
        let refused = budget
            .spend("gus", &note, 20, 0)
            .expect_err("over the changes");
        assert!(refused.contains("try again in"), "{refused}");
        assert_eq!(budget.spend("gus", &note, 10, 1), Ok(()));
        assert!(
            budget.spend("gus", &note, 0, 1).is_err(),
            "over the writers of the note"
        );
        // Writers are the document's cost: another document has its own.
        assert_eq!(budget.spend("gus", &other, 0, 2), Ok(()));
        assert_eq!(budget.spend("ana", &note, 100, 2), Ok(()));
    }
}
