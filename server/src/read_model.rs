//! The read model: every document's report summary, in memory, kept current by the committed
//! events and loaded from the store (where each commit also writes its summary) at start-up.
//! Reports run over it without reading a document.
//!
//! The reports that read every summary of their kinds (pipeline, conversion, revenue, invoices,
//! customers) are kept as running totals ([`ReportAggregates`]): each change takes the
//! document's old summary out of them and puts its new one in, so such a report answers in
//! what its rows cost, after a change as before. The others read a shared snapshot of only the
//! kinds they read ([`ReadModel::report_input`]), built once after a change of one of its kinds
//! and then shared by every report until the next one.
//!
//! Every change of a kind moves a version ([`ReadModel::version`]): a report kept from an
//! earlier version of the kinds it reads is out of date.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use itinera_core::DocumentId;
use itinera_core::engine::Committed;
use itinera_core::model::DocumentKind;
use itinera_core::reports::{ReportAggregates, Summary};
use itinera_core::store::{DocumentStore, StoreResult};

/// Summaries in report order: one kind after another, as [`ReadModel::report_input`] asked.
pub type ReportInput = Arc<Vec<(DocumentId, Summary)>>;

#[derive(Debug, Default)]
struct Kept {
    /// Every summary, by document.
    all: HashMap<DocumentId, Summary>,
    /// The documents of each kind.
    by_kind: HashMap<DocumentKind, HashMap<DocumentId, Summary>>,
    /// Snapshots of sets of kinds, dropped when one of their kinds changes.
    snapshots: HashMap<Vec<DocumentKind>, ReportInput>,
    /// The reports kept as running totals.
    aggregates: ReportAggregates,
    /// Changes so far, and the count at each kind's last change.
    changes: u64,
    changed_at: HashMap<DocumentKind, u64>,
}

impl Kept {
    fn put(&mut self, id: DocumentId, summary: Option<Summary>) {
        let old = match &summary {
            Some(summary) => self.all.insert(id, summary.clone()),
            None => self.all.remove(&id),
        };
        self.aggregates.put(id, old.as_ref(), summary.as_ref());
        if let Some(old) = old {
            let kind = old.kind();
            if let Some(of_kind) = self.by_kind.get_mut(&kind) {
                of_kind.remove(&id);
            }
            self.changed(kind);
        }
        if let Some(summary) = summary {
            let kind = summary.kind();
            self.by_kind.entry(kind).or_default().insert(id, summary);
            self.changed(kind);
        }
    }

    fn changed(&mut self, kind: DocumentKind) {
        self.snapshots.retain(|kinds, _| !kinds.contains(&kind));
        self.changes += 1;
        self.changed_at.insert(kind, self.changes);
    }

    fn version(&self, kinds: &[DocumentKind]) -> u64 {
        kinds
            .iter()
            .filter_map(|kind| self.changed_at.get(kind))
            .max()
            .copied()
            .unwrap_or(0)
    }

    fn snapshot(&self, kinds: &[DocumentKind]) -> Vec<(DocumentId, Summary)> {
        kinds
            .iter()
            .filter_map(|kind| self.by_kind.get(kind))
            .flat_map(|of_kind| of_kind.iter().map(|(id, summary)| (*id, summary.clone())))
            .collect()
    }
}

/// The summaries of every document that has one.
#[derive(Debug, Default)]
pub struct ReadModel {
    kept: RwLock<Kept>,
}

impl ReadModel {
    /// Loads every summary the store holds; an unreadable one is left out (and logged).
    pub fn load(store: &dyn DocumentStore) -> StoreResult<Self> {
        let model = Self::default();
        model.load_from(store)?;
        Ok(model)
    }

    /// Adds every summary the store holds (after the demo company was seeded, say).
    pub fn load_from(&self, store: &dyn DocumentStore) -> StoreResult<()> {
        let mut summaries = Vec::new();
        for (key, bytes) in store.values_with_prefix(itinera_core::reports::SUMMARY_PREFIX)? {
            let Some(id) = key
                .strip_prefix(itinera_core::reports::SUMMARY_PREFIX)
                .and_then(|id| DocumentId::parse(id).ok())
            else {
                continue;
            };
            match serde_json::from_slice::<Summary>(&bytes) {
                Ok(summary) => summaries.push((id, summary)),
                Err(err) => {
                    tracing::warn!(document = %id, error = %err, "report summary unreadable")
                }
            }
        }
        if let Ok(mut kept) = self.kept.write() {
            for (id, summary) in summaries {
                kept.put(id, Some(summary));
            }
        }
        Ok(())
    }

    /// Takes in a commit's summary.
    pub fn apply(&self, committed: &Committed) {
        if !committed.changed_content() {
            return;
        }
        if let Ok(mut kept) = self.kept.write() {
            kept.put(committed.document, committed.summary.clone());
        }
    }

    /// Adds or replaces one summary (the start-up backfill of documents stored without one).
    pub fn insert(&self, id: DocumentId, summary: Summary) {
        if let Ok(mut kept) = self.kept.write() {
            kept.put(id, Some(summary));
        }
    }

    /// Every summary (a copy: reports take [`Self::report_input`] instead).
    pub fn summaries(&self) -> Vec<(DocumentId, Summary)> {
        self.kept
            .read()
            .map(|kept| {
                kept.all
                    .iter()
                    .map(|(id, summary)| (*id, summary.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The summary of one document.
    pub fn summary(&self, id: &DocumentId) -> Option<Summary> {
        self.kept.read().ok()?.all.get(id).cloned()
    }

    /// Where the summaries of `kinds` stand: it moves with every change of one of them.
    pub fn version(&self, kinds: &[DocumentKind]) -> u64 {
        self.kept
            .read()
            .map(|kept| kept.version(kinds))
            .unwrap_or(0)
    }

    /// The summaries of `kinds`, shared: built after a change of one of them, then handed to
    /// every report that asks until the next change; with their version.
    pub fn report_input(&self, kinds: &[DocumentKind]) -> (u64, ReportInput) {
        if let Ok(kept) = self.kept.read() {
            if let Some(snapshot) = kept.snapshots.get(kinds) {
                return (kept.version(kinds), snapshot.clone());
            }
        }
        let Ok(mut kept) = self.kept.write() else {
            return (0, Arc::default());
        };
        let version = kept.version(kinds);
        if let Some(snapshot) = kept.snapshots.get(kinds) {
            return (version, snapshot.clone());
        }
        let snapshot: ReportInput = Arc::new(kept.snapshot(kinds));
        kept.snapshots.insert(kinds.to_vec(), snapshot.clone());
        (version, snapshot)
    }

    /// `report` over the running totals, with the version of `kinds` it saw.
    pub fn with_aggregates<T>(
        &self,
        kinds: &[DocumentKind],
        report: impl FnOnce(&ReportAggregates) -> T,
    ) -> Option<(u64, T)> {
        let kept = self.kept.read().ok()?;
        Some((kept.version(kinds), report(&kept.aggregates)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use itinera_core::model::{LeadStatus, TicketPriority, TicketStatus};
    use itinera_core::reports::Aggregate;
    use itinera_core::reports::{LeadSummary, TicketSummary};

    fn lead() -> Summary {
        Summary::Lead(LeadSummary {
            source: "fair".into(),
            campaign: None,
            status: LeadStatus::New,
            owner: "sam".into(),
            converted_to: None,
        })
    }

    #[test]
    fn a_snapshot_is_shared_until_one_of_its_kinds_changes() {
        let model = ReadModel::default();
        let (a, b) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        model.insert(a, lead());
        let (version, first) = model.report_input(&[DocumentKind::Lead]);
        assert_eq!(first.len(), 1);
        assert!(Arc::ptr_eq(
            &first,
            &model.report_input(&[DocumentKind::Lead]).1
        ));
        // Another kind changes: the snapshot and its version stay.
        let ticket = TicketSummary {
            status: TicketStatus::Open,
            priority: TicketPriority::Normal,
            account: String::new(),
            opened_at: None,
            resolved_at: None,
        };
        model.insert(b, Summary::Ticket(ticket));
        assert!(Arc::ptr_eq(
            &first,
            &model.report_input(&[DocumentKind::Lead]).1
        ));
        assert_eq!(model.version(&[DocumentKind::Lead]), version);
        // One of its kinds changes: a new one, at a new version.
        model.insert(b, lead());
        let (moved, second) = model.report_input(&[DocumentKind::Lead]);
        assert_eq!(second.len(), 2);
        assert!(moved > version);
        assert_eq!(model.report_input(&[DocumentKind::Ticket]).1.len(), 0);
        assert_eq!(model.summaries().len(), 2);
    }

    #[test]
    fn the_running_totals_follow_every_change() {
        let model = ReadModel::default();
        let id = DocumentId::from_bytes([1; 16]);
        let leads = |model: &ReadModel| {
            model
                .with_aggregates(&[DocumentKind::Lead], |a| {
                    a.conversion().report(0, &()).leads
                })
                .map(|(_, leads)| leads)
        };
        model.insert(id, lead());
        model.insert(id, lead()); // the same document again: still one lead
        assert_eq!(leads(&model), Some(1));
        model.insert(DocumentId::from_bytes([2; 16]), lead());
        assert_eq!(leads(&model), Some(2));
    }
}
