//! The writes one evaluation of the authority decided, carried out one after another, and the
//! outbox entries the evaluation settles.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::engine::{OutboxEntry, ServerEdit};
use itinera_core::model::JournalEntry;
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
    /// Journal entries to append, by period: written as one edit per period at the end of the
    /// plan, or, while the authority recovers, gathered over many plans (see `Deferred`).
    journal: BTreeMap<String, Vec<(String, JournalEntry)>>,
}

/// Journal entries and outbox entries held back while the authority recovers pending
/// decisions: thousands of invoices of one month would otherwise each write (and copy) that
/// month's journal. Written together every so often; the outbox entries they settle are
/// deleted with them, so a crash before then decides those invoices again.
#[derive(Debug, Default)]
pub struct Deferred {
    journal: BTreeMap<String, Vec<(String, JournalEntry)>>,
    settles: Vec<OutboxEntry>,
    entries: usize,
}

impl Deferred {
    /// How many journal entries wait.
    pub fn waiting(&self) -> usize {
        self.entries
    }

    /// Takes the plan's journal entries and what it settles.
    pub fn take_from(&mut self, plan: &mut Plan) {
        for (period, entries) in std::mem::take(&mut plan.journal) {
            self.entries += entries.len();
            self.journal.entry(period).or_default().extend(entries);
        }
        self.settles.append(&mut plan.settles);
    }

    /// A plan that writes what waits.
    pub fn into_plan(self) -> Plan {
        Plan {
            journal: self.journal,
            settles: self.settles,
            ..Plan::default()
        }
    }
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

    /// Appends `entries` to the journal of `period`.
    pub fn journal(&mut self, period: String, entries: Vec<(String, JournalEntry)>) {
        self.journal.entry(period).or_default().extend(entries);
    }

    /// Whether the plan books journal entries.
    pub fn books(&self) -> bool {
        !self.journal.is_empty()
    }

    /// Whether nothing was decided and nothing settled.
    pub fn is_empty(&self) -> bool {
        self.decisions.is_empty() && self.settles.is_empty() && self.journal.is_empty()
    }

    /// The decisions, in order; the last one carries the deletion of the settled outbox
    /// entries. With no decision, the deletion is the one write returned alone.
    pub fn into_writes(self) -> (Vec<Decision>, Option<WriteBatch>) {
        let mut decisions = self.decisions;
        for (period, entries) in self.journal {
            decisions.push(Decision {
                document: crate::server_documents::journal_document_id(&period),
                edit: super::invoices::append_entries(period, entries),
                with: WriteBatch::new(),
            });
        }
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
