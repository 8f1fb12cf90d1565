//! Each user's budget of document history over time: changes, and new writers (actors), the
//! two things that make a document slower to load, merge and sync for everyone.

use std::time::{Duration, Instant};

use itinera_core::engine::HistoryBudget;

use crate::rate::{Buckets, Rate};

/// Changes one user may add: 50,000 at once (a week offline is far less), then 50 a second.
pub const CHANGES: Rate = Rate {
    burst: 50_000,
    every: Duration::from_millis(20),
};

/// New writers one user may add: 1,000 (each app install, each browser reload of a page that
/// edits), then one every two seconds.
pub const ACTORS: Rate = Rate {
    burst: 1_000,
    every: Duration::from_secs(2),
};

/// The server's [`HistoryBudget`]: two budgets per user, shared by all their sessions.
#[derive(Debug)]
pub struct UserHistory {
    changes: Buckets<String>,
    actors: Buckets<String>,
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
        Self::new(CHANGES, ACTORS)
    }
}

impl HistoryBudget for UserHistory {
    fn spend(&self, user: &str, changes: u64, actors: u64) -> Result<(), String> {
        let (user, now) = (user.to_owned(), Instant::now());
        let wait = self
            .changes
            .wait(&user, changes, now)
            .max(self.actors.wait(&user, actors, now));
        if !wait.is_zero() {
            return Err(format!(
                "{user} has added more history ({changes} changes, {actors} new writers) than \
                 the server takes for now; try again in {} s",
                wait.as_secs().max(1)
            ));
        }
        self.changes.take(&user, changes, now);
        self.actors.take(&user, actors, now);
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
        assert_eq!(budget.spend("gus", 90, 1), Ok(()));
        let refused = budget.spend("gus", 20, 0).expect_err("over the changes");
        assert!(refused.contains("try again in"), "{refused}");
        assert_eq!(budget.spend("gus", 10, 1), Ok(()));
        assert!(budget.spend("gus", 0, 1).is_err(), "over the writers");
        assert_eq!(budget.spend("ana", 100, 2), Ok(()));
    }
}
