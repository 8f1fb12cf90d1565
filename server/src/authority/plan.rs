//! The writes one evaluation of the authority decided, carried out one after another.

use itinera_core::DocumentId;
use itinera_core::engine::ServerEdit;
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

    /// Whether nothing was decided.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty()
    }

    /// The decisions, in order.
    pub fn into_decisions(self) -> Vec<Decision> {
        self.decisions
    }
}
