//! The writes one evaluation of the authority decided, carried out one after another, and the
//! outbox entries the evaluation settles.

use itinera_core::DocumentId;
use itinera_core::engine::{OutboxEntry, ServerEdit};
use itinera_core::store::WriteBatch;

/// One decision: a server edit of a document, and writes durable in the same transaction.
#[derive(Debug)]
pub struct Decision {
    pub document: DocumentId,
    pub edit: ServerEdit,
    pub with: WriteBatch,
}

/// The decisions of one evaluation, in the order they must be written.
#[derive(Debug, Default)]
pub struct Plan {
    decisions: Vec<Decision>,
    /// Outbox entries this evaluation decided.
    settles: Vec<OutboxEntry>,
}

impl Plan {
    /// Adds an edit of `document`.
    pub fn edit(&mut self, document: DocumentId, edit: ServerEdit) {
        self.with(document, edit, WriteBatch::new());
    }

    /// Adds an edit of `document` with writes that must be durable together with it.
    pub fn with(&mut self, document: DocumentId, edit: ServerEdit, with: WriteBatch) {
        self.decisions.push(Decision {
            document,
            edit,
            with,
        });
    }

    /// The evaluation settles the outbox entry `entry`: it is deleted with the last decision.
    pub fn settles(&mut self, entry: OutboxEntry) {
        self.settles.push(entry);
    }

    /// The outbox entries the evaluation settles.
    pub fn settled(&self) -> &[OutboxEntry] {
        &self.settles
    }

    /// Whether nothing was decided and nothing settled.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.settles.is_empty()
    }

    /// How many writes were decided.
    pub fn len(&self) -> usize {
        self.decisions.len()
    }

    /// The decisions, in order; the last one carries the deletion of the settled outbox
    /// entries. With no decision, the deletion is the one write returned alone.
    pub fn into_writes(self) -> (Vec<Decision>, Option<WriteBatch>) {
        let mut decisions = self.decisions;
        if self.settles.is_empty() {
            return (decisions, None);
        }
        let mut deletes = WriteBatch::new();
        for entry in &self.settles {
            deletes.delete_value(&entry.key);
        }
        match decisions.last_mut() {
            Some(last) => {
                last.with.extend(deletes);
                (decisions, None)
            }
            None => (decisions, Some(deletes)),
        }
    }
}
