//! The per-user `index:{user}` documents: which documents each user's device should hold.
//!
//! A device syncs its index first and then everything it lists. The [`Indexer`] keeps one entry
//! per document the server knows (its scope, shares included, and its title), taken from the
//! committed events and, at start-up, from the store's metadata; when a document's scope or
//! title changes, or a user's role or grants do, it recomputes who may read what and writes the
//! differences into the affected users' index documents, through the hub like any other change,
//! so phones receive them live.
//!
//! The entries a burst of commits changes (an import of 10,000 accounts, a seed) are gathered per
//! user and written as one change per user a moment later ([`ENTRIES_GATHERED_FOR`]), not one
//! change per document and user: each index write is a change to a document of thousands of
//! entries that every reader's devices sync.
//!
//! A title that changes again within `index_title_quiet` of its last write to the indexes waits
//! until the quiet period ends, and only its latest value is written: every write stays in the
//! history of every reader's index, which each of their devices syncs first, so renaming a
//! document in a loop must not grow other users' indexes at the loop's pace.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix::prelude::*;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ReadDoc};
use itinera_core::DocumentId;
use itinera_core::engine::{EditError, ServerEdit};
use itinera_core::model::{AccessLevel, DocumentKind, IndexEntry};
use itinera_core::policy::{DocumentScope, Principal, access};
use itinera_core::store::{DocumentStore, WriteBatch};
use itinera_core::sync::Access;

use crate::actors::{EditDocument, Hub};
use crate::events::{CommittedEvent, UserChanged};
use crate::index_digest::IndexDigest;
use crate::read_model::ReadModel;
use crate::readiness::StartupWork;
use crate::services::Services;
use crate::store_writer::StoreWriter;

pub use crate::server_documents::index_document_id;

/// How long changed entries gather before they are written to the users' indexes. Entries still
/// gathering when the server stops are not lost: the start-up scan writes every index again.
const ENTRIES_GATHERED_FOR: Duration = Duration::from_millis(20);

/// The documents found in the store at start-up, and the start-up work that stays unfinished
/// (the server unready) until every user's index is written again from them.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Scanned(Vec<(DocumentId, DocumentScope, String)>, StartupWork);

/// The server is stopping: the indexer writes what it gathered now (the entries of the last
/// moment, and titles still waiting for their quiet period), and answers once every index
/// write asked for has finished and its digest is handed to the store writer, which the stop's
/// final flush then makes durable. The next start finds every index as its digest says and
/// loads none of them.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct FlushBeforeStop;

/// A write to `user`'s index finished; `digest` is what the index lists once it succeeded.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct IndexWritten {
    user: String,
    digest: IndexDigest,
    /// Whether the write held every entry of the index (a rebuild).
    whole: bool,
    ok: bool,
}

/// Keeps every user's index document up to date.
pub struct Indexer {
    services: Arc<Services>,
    hub: Addr<Hub>,
    documents: HashMap<DocumentId, (DocumentScope, String)>,
    /// Whether the start-up scan has reported; until then users' indexes are not rebuilt.
    scanned: bool,
    /// When each document's title was last written to the indexes.
    titled_at: HashMap<DocumentId, Instant>,
    /// Titles waiting for their document's quiet period to end.
    pending_titles: HashMap<DocumentId, String>,
    /// Whether a write of the pending titles is scheduled.
    flush_scheduled: bool,
    /// Entries changed and not written yet, per user (`None`: remove).
    pending_entries: BTreeMap<String, BTreeMap<DocumentId, Option<IndexEntry>>>,
    /// Whether a write of the pending entries is scheduled.
    entries_scheduled: bool,
    /// What each user's index lists once every entry written and gathered is in it.
    digests: HashMap<String, IndexDigest>,
    /// Users one of whose index writes failed: their stored digest is gone until a rebuild
    /// succeeds, so that a restart writes their index again.
    unsure: std::collections::HashSet<String>,
    /// Index writes asked for and not finished yet.
    writing: usize,
    /// Who waits for the writes to finish (a stop; see [`FlushBeforeStop`]).
    waiting_for_writes: Vec<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("documents", &self.documents.len())
            .finish_non_exhaustive()
    }
}

/// What `principal`'s index says of a document with `scope` and `title`; `None` if they may not
/// see it.
fn entry_for(principal: &Principal, scope: &DocumentScope, title: &str) -> Option<IndexEntry> {
    let level = match access(principal, scope) {
        Access::None => return None,
        Access::Read => AccessLevel::Read,
        Access::Write => AccessLevel::Write,
    };
    Some(IndexEntry {
        kind: scope
            .kind
            .map_or_else(|| "generic".to_owned(), |k| k.as_str().to_owned()),
        title: title.to_owned(),
        access: level,
    })
}

/// Sets `user`'s entries for the given documents (`None`: remove). Only the entries that change
/// are written: reading and reconciling the whole index made each new document cost time in
/// proportion to all the user's documents (an admin's index lists every document).
fn index_edit(user: String, entries: BTreeMap<DocumentId, Option<IndexEntry>>) -> ServerEdit {
    ServerEdit::new(move |doc: &mut AutoCommit| {
        autosurgeon::reconcile_prop(doc, automerge::ROOT, "user", user.as_str())?;
        let documents = match doc.get(automerge::ROOT, "documents")? {
            Some((automerge::Value::Object(automerge::ObjType::Map), id)) => id,
            _ => {
                return Err(EditError::Invalid(
                    "the index document has no documents map".into(),
                ));
            }
        };
        for (id, entry) in entries {
            let key = id.to_string();
            match entry {
                Some(entry) => autosurgeon::reconcile_prop(doc, &documents, key.as_str(), &entry)?,
                None => {
                    if doc.get(&documents, key.as_str())?.is_some() {
                        doc.delete(&documents, key.as_str())?;
                    }
                }
            }
        }
        Ok(())
    })
    .or_create(DocumentKind::Index)
}

impl Indexer {
    pub fn new(services: Arc<Services>, hub: Addr<Hub>) -> Self {
        Self {
            services,
            hub,
            documents: HashMap::new(),
            scanned: false,
            titled_at: HashMap::new(),
            pending_titles: HashMap::new(),
            flush_scheduled: false,
            pending_entries: BTreeMap::new(),
            entries_scheduled: false,
            digests: HashMap::new(),
            unsure: std::collections::HashSet::new(),
            writing: 0,
            waiting_for_writes: Vec::new(),
        }
    }

    /// Writes `entries` into `user`'s index; with nothing to write, only a rebuild (`whole`)
    /// writes, so that every user has an index even before they may see anything. `startup`,
    /// if given, is held until the write is durable; then the index's digest is stored.
    fn write_entries(
        &mut self,
        user: &str,
        entries: BTreeMap<DocumentId, Option<IndexEntry>>,
        whole: bool,
        startup: Option<Arc<StartupWork>>,
        me: Addr<Self>,
    ) {
        if entries.is_empty() && !whole {
            return;
        }
        let digest = self.digests.get(user).copied().unwrap_or_default();
        self.writing += 1;
        let edit = index_edit(user.to_owned(), entries);
        let request = self
            .hub
            .send(EditDocument::by_server(index_document_id(user), edit));
        let user = user.to_owned();
        actix::spawn(async move {
            let ok = match request.await {
                Ok(Ok(_)) => true,
                Ok(Err(err)) => {
                    tracing::error!(error = %err, "index document not updated");
                    false
                }
                Err(_) => false,
            };
            me.do_send(IndexWritten {
                user,
                digest,
                whole,
                ok,
            });
            drop(startup);
        });
    }

    /// Writes `user`'s whole index from what is known now; with `unless_stored`, not if the
    /// digest stored beside it says it lists exactly that already (a restart).
    fn rebuild(
        &mut self,
        user: &str,
        startup: Option<Arc<StartupWork>>,
        unless_stored: bool,
        ctx: &mut Context<Self>,
    ) {
        // The whole index is written from what is known now: entries gathered before, perhaps
        // under the user's former role, must not follow it.
        self.pending_entries.remove(user);
        let Some(user) = self.services.directory.user(user) else {
            return;
        };
        let principal = user.principal();
        let mut digest = IndexDigest::default();
        let entries: BTreeMap<DocumentId, Option<IndexEntry>> = self
            .documents
            .iter()
            .map(|(id, (scope, title))| {
                let entry = if user.disabled {
                    None
                } else {
                    entry_for(&principal, scope, title)
                };
                digest.add(id, entry.as_ref());
                (*id, entry)
            })
            .collect();
        self.digests.insert(user.name.clone(), digest);
        if unless_stored && IndexDigest::stored(&*self.services.store, &user.name) == Some(digest) {
            return;
        }
        self.write_entries(&user.name, entries, true, startup, ctx.address());
    }

    /// A document's scope or title is now `scope` and `title`: write what changes for each user,
    /// but a title changed again too soon, which waits (see the module's documentation).
    fn described(
        &mut self,
        document: DocumentId,
        scope: DocumentScope,
        title: String,
        ctx: &mut Context<Self>,
    ) {
        if scope.kind == Some(DocumentKind::Index) {
            return;
        }
        let retitled = self
            .documents
            .get(&document)
            .is_some_and(|(was_scope, was_title)| *was_scope == scope && *was_title != title);
        if retitled && self.scanned {
            let quiet = self.services.config.index_title_quiet;
            let now = Instant::now();
            if self
                .titled_at
                .get(&document)
                .is_some_and(|at| now.duration_since(*at) < quiet)
            {
                self.pending_titles.insert(document, title);
                if !self.flush_scheduled {
                    self.flush_scheduled = true;
                    ctx.run_later(quiet, |indexer, ctx| indexer.flush_titles(ctx));
                }
                return;
            }
            self.titled_at.insert(document, now);
        }
        self.pending_titles.remove(&document);
        self.write_described(document, scope, title);
        if !self.pending_entries.is_empty() && !self.entries_scheduled {
            self.entries_scheduled = true;
            ctx.run_later(ENTRIES_GATHERED_FOR, |indexer, ctx| {
                indexer.flush_entries(ctx)
            });
        }
    }

    /// Writes the gathered entries, one change per user.
    fn flush_entries(&mut self, ctx: &mut Context<Self>) {
        self.entries_scheduled = false;
        for (user, entries) in std::mem::take(&mut self.pending_entries) {
            self.write_entries(&user, entries, false, None, ctx.address());
        }
    }

    /// Writes the titles whose quiet period has ended.
    fn flush_titles(&mut self, ctx: &mut Context<Self>) {
        self.flush_scheduled = false;
        let quiet = self.services.config.index_title_quiet;
        let now = Instant::now();
        self.titled_at
            .retain(|_, at| now.duration_since(*at) < quiet);
        for (document, title) in std::mem::take(&mut self.pending_titles) {
            if let Some((scope, _)) = self.documents.get(&document).cloned() {
                self.described(document, scope, title, ctx);
            }
        }
    }

    fn write_described(&mut self, document: DocumentId, scope: DocumentScope, title: String) {
        let previous = self
            .documents
            .insert(document, (scope.clone(), title.clone()));
        if previous.as_ref() == Some(&(scope.clone(), title.clone())) || !self.scanned {
            return;
        }
        for user in self.services.directory.users() {
            if user.disabled {
                continue;
            }
            let principal = user.principal();
            let before = previous
                .as_ref()
                .and_then(|(scope, title)| entry_for(&principal, scope, title));
            let after = entry_for(&principal, &scope, &title);
            if before != after {
                let digest = self.digests.entry(user.name.clone()).or_default();
                digest.remove(&document, before.as_ref());
                digest.add(&document, after.as_ref());
                self.pending_entries
                    .entry(user.name.clone())
                    .or_default()
                    .insert(document, after);
            }
        }
    }
}

/// Reads every document's scope and title from the store's metadata. Documents stored before the
/// metadata kept them (or without a report summary) are loaded once, and what they lacked is
/// written back through the store writer.
fn scan(
    store: &dyn DocumentStore,
    writer: &StoreWriter,
    read_model: &ReadModel,
) -> Vec<(DocumentId, DocumentScope, String)> {
    let documents = match store.documents() {
        Ok(documents) => documents,
        Err(err) => {
            tracing::error!(error = %err, "documents could not be listed for the indexes");
            return Vec::new();
        }
    };
    let mut found = Vec::with_capacity(documents.len());
    let mut backfill = WriteBatch::new();
    for (id, mut meta) in documents {
        if meta.kind.as_deref() == Some(DocumentKind::Index.as_str()) {
            continue;
        }
        // Moved out, not copied: the scan holds every document's metadata until it is done.
        if let Some(scope) = meta.scope.take() {
            found.push((id, scope, std::mem::take(&mut meta.title)));
            continue;
        }
        let Some((scope, title)) = backfill_one(store, read_model, id, meta, &mut backfill) else {
            continue;
        };
        found.push((id, scope, title));
    }
    if !backfill.is_empty() {
        if let Err(err) = crate::store_writer::DurableWrites::write_and_wait(writer, backfill) {
            tracing::error!(error = %err, "document scopes and summaries not backfilled");
        }
    }
    found
}

/// Describes a document stored before the metadata kept its scope and title (and summarises
/// it if it has no summary), adding what it lacked to `backfill`.
fn backfill_one(
    store: &dyn DocumentStore,
    read_model: &ReadModel,
    id: DocumentId,
    meta: itinera_core::store::DocumentMeta,
    backfill: &mut WriteBatch,
) -> Option<(DocumentScope, String)> {
    let bytes = store.load(id).ok()??;
    let doc = itinera_core::document::load_bytes(&bytes).ok()?;
    let mut scope = DocumentScope::describe(&id, &doc, meta.creator.as_deref()).ok()?;
    if let Ok(Some(shared)) = store.value(&format!("share:{id}")) {
        scope.shared_with = serde_json::from_slice(&shared).unwrap_or_default();
    }
    let title = itinera_core::document::title_of(&doc);
    backfill.update_meta(
        id,
        itinera_core::store::DocumentMeta {
            scope: Some(scope.clone()),
            title: title.clone(),
            ..meta
        },
    );
    if read_model.summary(&id).is_none() {
        if let Ok(Some(summary)) = itinera_core::reports::summarize(&id, &doc) {
            if let Ok(bytes) = serde_json::to_vec(&summary) {
                backfill.put_value(&itinera_core::reports::summary_key(&id), bytes);
            }
            read_model.insert(id, summary);
        }
    }
    Some((scope, title))
}

impl Actor for Indexer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let services = self.services.clone();
        let me = ctx.address();
        // Unready (`/readyz`) until the scan is done and every index written again from it.
        let startup = self
            .services
            .metrics
            .readiness
            .begin_startup("document scan");
        // Reading every document's metadata takes time; the server serves meanwhile.
        std::thread::spawn(move || {
            startup.run_behind_devices();
            let found = scan(&*services.store, &services.writer, &services.read_model);
            me.do_send(Scanned(found, startup));
        });
    }
}

impl Handler<Scanned> for Indexer {
    type Result = ();

    fn handle(&mut self, scanned: Scanned, ctx: &mut Self::Context) {
        // What committed meanwhile is newer than what the scan read. The map is made its
        // final size at once, not grown (see `ListModel::load`).
        self.documents.reserve(scanned.0.len());
        for (id, scope, title) in scanned.0 {
            self.documents.entry(id).or_insert((scope, title));
        }
        self.scanned = true;
        // Entries gathered before a kill were lost with the process: until every index is
        // written again, a device could read an index that misses them, so the server stays
        // unready until the last of these writes is durable.
        // An index whose stored digest says it lists what it should is not loaded at all: an
        // admin's lists every document.
        let startup = Arc::new(scanned.1);
        for user in self.services.directory.users() {
            self.rebuild(&user.name, Some(startup.clone()), true, ctx);
        }
    }
}

impl Handler<IndexWritten> for Indexer {
    type Result = ();

    /// Stores the digest of what the index lists after a write, unless a write to it failed
    /// since its last rebuild (then the digest is removed, and the next start writes it
    /// whole). Writes to one index finish in the order they were asked for.
    fn handle(&mut self, written: IndexWritten, _: &mut Self::Context) {
        let mut batch = WriteBatch::new();
        if !written.ok {
            self.unsure.insert(written.user.clone());
            batch.delete_value(&IndexDigest::key(&written.user));
        } else if written.whole || !self.unsure.contains(&written.user) {
            self.unsure.remove(&written.user);
            written.digest.store_in(&mut batch, &written.user);
        }
        if !batch.is_empty() {
            self.services.writer.write_detached(batch);
        }
        self.writing = self.writing.saturating_sub(1);
        if self.writing == 0 {
            for waiting in self.waiting_for_writes.drain(..) {
                let _ = waiting.send(());
            }
        }
    }
}

impl Handler<FlushBeforeStop> for Indexer {
    type Result = ResponseFuture<()>;

    fn handle(&mut self, _: FlushBeforeStop, ctx: &mut Self::Context) -> Self::Result {
        if self.scanned {
            // The quiet period is over: the latest titles go in with the rest.
            for (document, title) in std::mem::take(&mut self.pending_titles) {
                if let Some((scope, _)) = self.documents.get(&document).cloned() {
                    self.write_described(document, scope, title);
                }
            }
            self.flush_entries(ctx);
        }
        let (done, finished) = tokio::sync::oneshot::channel();
        if self.writing == 0 {
            let _ = done.send(());
        } else {
            self.waiting_for_writes.push(done);
        }
        Box::pin(async move {
            let _ = finished.await;
        })
    }
}

impl Handler<CommittedEvent> for Indexer {
    type Result = ();

    fn handle(&mut self, event: CommittedEvent, ctx: &mut Self::Context) {
        let committed = &event.0;
        self.described(
            committed.document,
            committed.scope.clone(),
            committed.title.clone(),
            ctx,
        );
    }
}

impl Handler<UserChanged> for Indexer {
    type Result = ();

    fn handle(&mut self, changed: UserChanged, ctx: &mut Self::Context) {
        if self.scanned {
            self.rebuild(&changed.user, None, false, ctx);
        }
    }
}
