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
//!
//! The server listens before it has read the summaries ([`ReadModel::loading`]): until
//! [`load_in_background`] has finished, every read waits, so no report, no authority and no
//! index scan sees a model with only some of the documents in it. The commits that arrive
//! meanwhile are taken in at once and win over what the load read, which is older.
//!
//! ```
//! use itinera_server::read_model::ReadModel;
//!
//! let model = ReadModel::loading();
//! assert!(!model.is_loaded());
//! // `load_in_background(model, store, startup)` reads every summary and opens it to readers.
//! ```

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use itinera_core::DocumentId;
use itinera_core::engine::Committed;
use itinera_core::model::DocumentKind;
use itinera_core::reports::{ReportAggregates, Summary};
use itinera_core::store::{DocumentStore, StoreResult};

use crate::readiness::StartupWork;

/// Summaries in report order: one kind after another, as [`ReadModel::report_input`] asked.
pub type ReportInput = Arc<Vec<(DocumentId, Summary)>>;

#[derive(Debug, Default)]
struct Kept {
    /// The summaries of each kind's documents: each summary is kept here and only here.
    by_kind: HashMap<DocumentKind, HashMap<DocumentId, Summary>>,
    /// The kind of every document with a summary, to find it in `by_kind`.
    kind_of: HashMap<DocumentId, DocumentKind>,
    /// Snapshots of sets of kinds, dropped when one of their kinds changes.
    snapshots: HashMap<Vec<DocumentKind>, ReportInput>,
    /// The reports kept as running totals.
    aggregates: ReportAggregates,
    /// Changes so far, and the count at each kind's last change.
    changes: u64,
    changed_at: HashMap<DocumentKind, u64>,
    /// While the load runs: the documents a commit put since it began, whose stored summary
    /// the load may have read before that commit.
    put_while_loading: Option<HashSet<DocumentId>>,
}

impl Kept {
    fn put(&mut self, id: DocumentId, summary: Option<Summary>) {
        if let Some(put) = &mut self.put_while_loading {
            put.insert(id);
        }
        self.replace(id, summary);
    }

    /// Takes in what the load read, except where a commit came first.
    fn put_loaded(&mut self, summaries: Vec<(DocumentId, Summary)>) {
        let newer = self.put_while_loading.take().unwrap_or_default();
        // The maps are made their final size at once, not grown (see `ListModel::load`).
        self.kind_of.reserve(summaries.len());
        let mut sizes: HashMap<DocumentKind, usize> = HashMap::new();
        for (_, summary) in &summaries {
            *sizes.entry(summary.kind()).or_default() += 1;
        }
        for (kind, size) in sizes {
            self.by_kind.entry(kind).or_default().reserve(size);
        }
        for (id, summary) in summaries {
            if !newer.contains(&id) {
                self.replace(id, Some(summary));
            }
        }
    }

    fn replace(&mut self, id: DocumentId, summary: Option<Summary>) {
        let old = self
            .kind_of
            .remove(&id)
            .and_then(|kind| self.by_kind.get_mut(&kind)?.remove(&id));
        self.aggregates.put(id, old.as_ref(), summary.as_ref());
        if let Some(old) = old {
            self.changed(old.kind());
        }
        if let Some(summary) = summary {
            let kind = summary.kind();
            self.kind_of.insert(id, kind);
            self.by_kind.entry(kind).or_default().insert(id, summary);
            self.changed(kind);
        }
    }

    fn get(&self, id: &DocumentId) -> Option<&Summary> {
        self.by_kind.get(self.kind_of.get(id)?)?.get(id)
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
#[derive(Debug)]
pub struct ReadModel {
    kept: RwLock<Kept>,
    /// Whether the load has finished; readers wait on the condition until it has.
    loaded: Mutex<bool>,
    finished_loading: Condvar,
    /// How many readers wait for the load now.
    waiting: AtomicUsize,
}

/// An empty model, loaded (nothing to wait for).
impl Default for ReadModel {
    fn default() -> Self {
        Self::with_state(true)
    }
}

impl ReadModel {
    fn with_state(loaded: bool) -> Self {
        let kept = Kept {
            put_while_loading: (!loaded).then(HashSet::new),
            ..Kept::default()
        };
        Self {
            kept: RwLock::new(kept),
            loaded: Mutex::new(loaded),
            finished_loading: Condvar::new(),
            waiting: AtomicUsize::new(0),
        }
    }

    /// A model whose reads wait until [`load_in_background`] has read the store; commits are
    /// taken in meanwhile.
    pub fn loading() -> Self {
        Self::with_state(false)
    }

    /// Whether the load has finished (reads no longer wait).
    pub fn is_loaded(&self) -> bool {
        *self.loaded.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many readers are waiting for the load.
    pub fn readers_waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }

    /// Blocks until the load has finished. Every read goes through here: a reader on a
    /// blocking thread (a report, the authority's thread, the index scan) waits a moment at
    /// start-up rather than see some documents and not others.
    fn wait_loaded(&self) {
        let mut loaded = self.loaded.lock().unwrap_or_else(PoisonError::into_inner);
        if *loaded {
            return;
        }
        self.waiting.fetch_add(1, Ordering::AcqRel);
        while !*loaded {
            loaded = self
                .finished_loading
                .wait(loaded)
                .unwrap_or_else(PoisonError::into_inner);
        }
        self.waiting.fetch_sub(1, Ordering::AcqRel);
    }

    fn read(&self) -> RwLockReadGuard<'_, Kept> {
        self.wait_loaded();
        self.kept.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Kept> {
        self.kept.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes in what the load read (a commit since wins) and wakes the readers.
    fn finish_load(&self, summaries: Vec<(DocumentId, Summary)>) {
        self.write().put_loaded(summaries);
        *self.loaded.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.finished_loading.notify_all();
    }

    /// Takes in a commit's summary.
    pub fn apply(&self, committed: &Committed) {
        if !committed.changed_content() {
            return;
        }
        self.write()
            .put(committed.document, committed.summary.clone());
    }

    /// Adds or replaces one summary (the start-up backfill of documents stored without one).
    pub fn insert(&self, id: DocumentId, summary: Summary) {
        self.write().put(id, Some(summary));
    }

    /// Every summary (a copy: reports take [`Self::report_input`], the authority
    /// [`Self::for_each_summary`]).
    #[cfg(test)]
    fn summaries(&self) -> Vec<(DocumentId, Summary)> {
        self.read()
            .by_kind
            .values()
            .flat_map(|of_kind| of_kind.iter().map(|(id, summary)| (*id, summary.clone())))
            .collect()
    }

    /// Visits the summaries of `kinds` where they are kept (no copy), holding the model's read
    /// lock meanwhile: commits wait until `visit` is done.
    pub fn for_each_summary(
        &self,
        kinds: &[DocumentKind],
        mut visit: impl FnMut(&DocumentId, &Summary),
    ) {
        let kept = self.read();
        for of_kind in kinds.iter().filter_map(|kind| kept.by_kind.get(kind)) {
            for (id, summary) in of_kind {
                visit(id, summary);
            }
        }
    }

    /// The summary of one document.
    pub fn summary(&self, id: &DocumentId) -> Option<Summary> {
        self.read().get(id).cloned()
    }

    /// Where the summaries of `kinds` stand: it moves with every change of one of them.
    pub fn version(&self, kinds: &[DocumentKind]) -> u64 {
        self.read().version(kinds)
    }

    /// The summaries of `kinds`, shared: built after a change of one of them, then handed to
    /// every report that asks until the next change; with their version.
    pub fn report_input(&self, kinds: &[DocumentKind]) -> (u64, ReportInput) {
        {
            let kept = self.read();
            if let Some(snapshot) = kept.snapshots.get(kinds) {
                return (kept.version(kinds), snapshot.clone());
            }
        }
        let mut kept = self.write();
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
        let kept = self.read();
        Some((kept.version(kinds), report(&kept.aggregates)))
    }
}

/// How long the load waits before it reads the store again after the store failed.
const LOAD_RETRY: Duration = Duration::from_secs(1);

/// Loads `model` from `store` on a thread of its own, so the server listens meanwhile;
/// `startup` keeps the server unready until the load has finished. A store that fails is read
/// again a moment later: the readers keep waiting rather than see an empty model.
///
/// The summaries are read behind the devices ([`StartupWork::read_behind_devices`]); they are
/// taken in at the normal priority, since commits wait for the model's lock meanwhile.
pub fn load_in_background(
    model: Arc<ReadModel>,
    store: Arc<dyn DocumentStore>,
    startup: StartupWork,
) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("read-model-load".into())
        .spawn(move || {
            let summaries = startup.read_behind_devices(|| loop {
                match stored_summaries(&*store) {
                    Ok(summaries) => return summaries,
                    Err(err) => {
                        tracing::error!(error = %err, "the report summaries could not be read; retrying");
                        std::thread::sleep(LOAD_RETRY);
                    }
                }
            });
            model.finish_load(summaries);
            drop(startup);
        })
        .map(drop)
}

/// Every summary the store holds; an unreadable one is left out (and logged).
fn stored_summaries(store: &dyn DocumentStore) -> StoreResult<Vec<(DocumentId, Summary)>> {
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
            Err(err) => tracing::warn!(document = %id, error = %err, "report summary unreadable"),
        }
    }
    Ok(summaries)
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
    fn a_read_waits_for_the_load_and_a_commit_meanwhile_wins() {
        let model = Arc::new(ReadModel::loading());
        let (a, b) = (
            DocumentId::from_bytes([1; 16]),
            DocumentId::from_bytes([2; 16]),
        );
        let reader = {
            let model = model.clone();
            std::thread::spawn(move || model.summaries())
        };
        while !reader.is_finished() && model.readers_waiting() == 0 {
            std::thread::yield_now();
        }
        assert!(
            !reader.is_finished(),
            "a read returned before the summaries were loaded"
        );
        // A commit while the load runs: newer than what the load read of the same document.
        let ticket = Summary::Ticket(TicketSummary {
            status: TicketStatus::Open,
            priority: TicketPriority::Normal,
            account: String::new(),
            opened_at: None,
            resolved_at: None,
        });
        model.insert(a, ticket.clone());
        assert!(!model.is_loaded());
        model.finish_load(vec![(a, lead()), (b, lead())]);
        let seen = reader.join().expect("reader");
        assert_eq!(seen.len(), 2, "the reader saw every document");
        assert_eq!(model.summary(&a), Some(ticket));
        assert_eq!(model.summary(&b), Some(lead()));
        assert_eq!(model.readers_waiting(), 0);
        // After the load, a commit is taken as it comes.
        model.insert(a, lead());
        assert_eq!(model.summary(&a), Some(lead()));
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
