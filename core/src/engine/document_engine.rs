//! The server's protocol for one document, with no IO: see [`DocumentEngine`].

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use automerge::{ActorId, AutoCommit, ChangeHash};

use super::history;
use super::last_record::LastRecord;
use super::{
    Author, Committed, CompactionPolicy, EditError, EditId, EnginePeer, HistoryBudget, Input,
    OutboxEntry, Output, ServerEdit, SessionId, StoredSize, WriteFailed, WriteId,
};
use crate::DocumentId;
use crate::document::Touched;
use crate::model::{DocumentKind, RecordValue};
use crate::policy::{
    DocumentScope, Principal, Role, access, check_scoped_change, check_shared_change,
};
use crate::protocol::{Message, PeerId};
use crate::store::{DocumentMeta, WriteBatch};
use crate::sync::{Access, DocSync, EphemeralRelay, Incoming};

/// How long a peer held back for its acknowledgement (see [`DocSync::hold_unacknowledged`]) may
/// wait before it is sent what it is owed anyway (milliseconds).
const HOLD_LIMIT_MS: i64 = 1_000;

/// The most characters of an error sent to a peer: a refusal may quote what the peer sent, and
/// that can be megabytes.
pub const MAX_ERROR_CHARS: usize = 1_000;

/// `text` cut to `max` characters (ending in `…` when cut).
pub fn clip(text: String, max: usize) -> String {
    if text.chars().count() <= max {
        return text;
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// How a document's engine is set up; the same for every document of a server but
/// `clients_may_create`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The server's peer id, the sender of everything it sends.
    pub local: PeerId,
    /// The actor id of the server's own changes.
    pub actor: ActorId,
    /// When a write stores the document as one snapshot in place of its increments.
    pub compaction: CompactionPolicy,
    /// How long after a failed write the engine asks its peers again (milliseconds).
    pub retry_after_ms: i64,
    /// Whether a client may create the document when nobody has yet. `false` for the ids the
    /// server reserves for its own documents: nobody else may ever hold them.
    pub clients_may_create: bool,
    /// For which commits the committed events carry the document itself (what the authority
    /// reads), asked of the commit's event before the document is put in; the others carry its
    /// scope, title, summary, record and written fields only. Carrying costs a copy of the whole
    /// document.
    pub carry_content: fn(&Committed) -> bool,
    /// Each user's budget of history over time; `None` holds messages to the per-message
    /// limits only.
    pub history: Option<Arc<dyn HistoryBudget>>,
    /// For which kinds a user's commit needs a decision of the server: the commit's write then
    /// also writes an [`OutboxEntry`], and its committed event names it.
    pub decides: fn(Option<DocumentKind>) -> bool,
}

impl EngineConfig {
    /// A configuration with the defaults the server uses: the default [`CompactionPolicy`], a
    /// retry a second after a failed write, creation open to clients, no content carried.
    pub fn new(local: PeerId, actor: ActorId) -> Self {
        Self {
            local,
            actor,
            compaction: CompactionPolicy::default(),
            retry_after_ms: 1_000,
            clients_may_create: true,
            carry_content: |_| false,
            history: None,
            decides: |_| false,
        }
    }
}

/// What the store holds of a document, read by the shell before the engine starts.
#[derive(Debug, Clone)]
pub struct StoredDocument {
    /// The saved bytes (`None`: the store does not hold the document), or why they could not
    /// be read.
    pub bytes: Result<Option<Vec<u8>>, String>,
    /// The user who created it.
    pub creator: Option<String>,
    /// The users a generic document is shared with.
    pub shared_with: BTreeSet<String>,
    /// How the store holds it: a snapshot and increments.
    pub size: StoredSize,
}

impl Default for StoredDocument {
    /// A document the store does not hold.
    fn default() -> Self {
        Self {
            bytes: Ok(None),
            creator: None,
            shared_with: BTreeSet::new(),
            size: StoredSize::default(),
        }
    }
}

/// The metadata a commit writes beside a document: its kind, creator, scope (shares included),
/// title and heads, at `now`.
pub(super) fn commit_meta(
    scope: &DocumentScope,
    creator: Option<&str>,
    title: &str,
    heads: Vec<ChangeHash>,
    now: i64,
) -> DocumentMeta {
    DocumentMeta {
        kind: scope.kind.map(|kind| kind.as_str().to_owned()),
        creator: creator.map(str::to_owned),
        scope: Some(scope.clone()),
        title: title.to_owned(),
        heads,
        last_change_at: now,
        ..DocumentMeta::default()
    }
}

/// How a commit stores a document's content.
pub(super) enum Body {
    /// The changes since the last write, after what is stored.
    Increment(Vec<u8>),
    /// The whole document, in place of everything stored.
    Snapshot(Vec<u8>),
}

impl Body {
    /// What the store holds once `self` is written over `before`.
    fn stored_after(&self, before: StoredSize) -> StoredSize {
        match self {
            Body::Increment(bytes) => before.appended(bytes.len()),
            Body::Snapshot(bytes) => StoredSize::folded(bytes.len()),
        }
    }
}

/// Adds the writes of a commit that changed a document's content to `batch`: the content
/// with the metadata, and the report summary in the same transaction.
pub(super) fn write_changes(
    batch: &mut WriteBatch,
    id: DocumentId,
    body: Body,
    meta: DocumentMeta,
    summary: Option<&crate::reports::Summary>,
) {
    match body {
        Body::Increment(changes) => batch.append_changes(id, changes, meta),
        Body::Snapshot(snapshot) => batch.put_snapshot(id, snapshot, meta),
    };
    if let Some(summary) = summary {
        if let Ok(bytes) = serde_json::to_vec(summary) {
            batch.put_value(&crate::reports::summary_key(&id), bytes);
        }
    }
}

/// What to do once the write in flight is durable, or failed.
#[derive(Debug)]
enum Pending {
    /// A peer's changes: on failure it is told to keep them.
    PeerChanges(EnginePeer),
    /// An edit or a share to answer.
    Answer(EditId),
}

/// The write the engine waits for.
#[derive(Debug)]
struct InFlight {
    write: WriteId,
    heads: Vec<ChangeHash>,
    pending: Vec<Pending>,
    authors: Vec<Author>,
    written: Touched,
    scope: DocumentScope,
    title: String,
    summary: Option<crate::reports::Summary>,
    record: Option<RecordValue>,
    outbox: Option<OutboxEntry>,
    /// What the store holds of the document once this write is durable.
    stored: StoredSize,
}

/// One document and everyone syncing it, on the server: the rule that nothing is acknowledged
/// before it is durable, in one sans-IO state machine.
///
/// Inputs come in through [`DocumentEngine::handle`] with the time; the IO to carry out comes out
/// of [`DocumentEngine::take_outputs`]: writes to make durable, messages to send, events to
/// publish, answers to edits. The engine
///
/// - checks a peer's changes on a fork against the access policy and the schema before it takes
///   them in; a refused message leaves no trace, and its sender gets an `error`;
/// - asks for every change to be written, and sends nothing that reveals it (replies, heads,
///   the change itself to other peers) until the write is reported durable; inputs that arrive
///   meanwhile wait, and all of them go into the next write together;
/// - after a failed write goes back to the durable version, restarts every peer's sync so the
///   devices that hold the dropped changes send them again, and asks again after
///   [`EngineConfig::retry_after_ms`];
/// - publishes one [`Committed`] per durable write, and stores the document as one snapshot
///   instead of an increment when [`EngineConfig::compaction`] says so;
/// - decides every peer's access from the document's [`DocumentScope`], shares included, and
///   recomputes it when the content or the shares change.
///
/// The server's `DocActor` runs one per open document; core's simulation drives it with a fake
/// store that fails and crashes.
#[derive(Debug)]
pub struct DocumentEngine {
    config: EngineConfig,
    id: DocumentId,
    sync: DocSync,
    creator: Option<String>,
    scope: DocumentScope,
    /// Whether `scope` was described from the document as it is now (not while the document
    /// is missing or does not read): the check of a user's change takes it as the scope before
    /// the change instead of reading it again.
    described: bool,
    title: String,
    /// The record read for the last write's summary, for the next to update.
    last_record: LastRecord,
    peers: HashMap<PeerId, EnginePeer>,
    relay: EphemeralRelay,
    /// The heads of the last durable write: changes after them are not yet safe.
    durable_heads: Vec<ChangeHash>,
    /// Why the stored document cannot be used; such a document is never written.
    broken: Option<String>,
    /// How the store holds the document (as of the last durable write).
    stored: StoredSize,
    /// Whether who may see the document changed since the last write (a share).
    scope_dirty: bool,
    /// Whether the store's metadata and summary describe fewer changes than are durable: this
    /// process merged changes another one stored while it held durable changes of its own
    /// that the other's commit lacked. The next write stores the metadata of both.
    stored_meta_behind: bool,
    in_flight: Option<InFlight>,
    /// Inputs that arrived while a write was in flight, in order.
    waiting: VecDeque<Input>,
    /// What the next write settles.
    pending: Vec<Pending>,
    authors: Vec<Author>,
    /// The root fields the changes the next write settles wrote.
    written: Touched,
    with: WriteBatch,
    next_write: WriteId,
    retry_at: Option<i64>,
    /// When the peers held back for their acknowledgements are sent their changes anyway.
    release_at: Option<i64>,
    now: i64,
    outputs: Vec<Output>,
}

impl DocumentEngine {
    /// The engine of document `id`, from what the store holds of it.
    pub fn load(config: EngineConfig, id: DocumentId, stored: StoredDocument) -> Self {
        let mut broken = None;
        let sync = match stored.bytes {
            Ok(Some(bytes)) => match crate::document::load_bytes(&bytes) {
                Ok(doc) => DocSync::new(config.local.clone(), id, doc),
                Err(err) => {
                    broken = Some(format!("the stored document does not load: {err}"));
                    DocSync::empty(config.local.clone(), id)
                }
            },
            Ok(None) => DocSync::empty(config.local.clone(), id),
            Err(reason) => {
                broken = Some(format!("the store could not be read: {reason}"));
                DocSync::empty(config.local.clone(), id)
            }
        };
        let mut engine = Self {
            config,
            id,
            sync,
            creator: stored.creator,
            scope: DocumentScope {
                shared_with: stored.shared_with,
                ..DocumentScope::default()
            },
            described: false,
            title: String::new(),
            last_record: LastRecord::default(),
            peers: HashMap::new(),
            relay: EphemeralRelay::new(),
            durable_heads: Vec::new(),
            broken,
            stored: stored.size,
            scope_dirty: false,
            stored_meta_behind: false,
            in_flight: None,
            waiting: VecDeque::new(),
            pending: Vec::new(),
            authors: Vec::new(),
            written: Touched::nothing(),
            with: WriteBatch::new(),
            next_write: 1,
            retry_at: None,
            release_at: None,
            now: 0,
            outputs: Vec::new(),
        };
        engine.sync.hold_unacknowledged();
        engine.durable_heads = engine.sync.heads();
        engine.rescope();
        engine
    }

    /// The document's id.
    pub fn id(&self) -> DocumentId {
        self.id
    }

    /// Who may see the document, as the engine last described it.
    pub fn scope(&self) -> &DocumentScope {
        &self.scope
    }

    /// The heads the store holds.
    pub fn durable_heads(&self) -> &[ChangeHash] {
        &self.durable_heads
    }

    /// Whether the document in memory holds every change `heads` name.
    pub fn holds(&mut self, heads: &[ChangeHash]) -> bool {
        self.sync.holds(heads)
    }

    /// Whether the document exists (some of it is stored or being stored).
    pub fn exists(&mut self) -> bool {
        self.sync.is_present()
    }

    /// Whether `peer` on `session` joined already (else the shell sends
    /// [`Input::PeerJoined`] with its stored sync state first).
    pub fn has_peer(&self, peer: &PeerId, session: SessionId) -> bool {
        self.peers
            .get(peer)
            .is_some_and(|known| known.session == session)
            || self.waiting.iter().any(|input| {
                matches!(input, Input::PeerJoined { peer: joining, .. }
                    if &joining.peer_id == peer && joining.session == session)
            })
    }

    /// Whether nothing is in flight or waiting and everything in memory is stored: the shell may
    /// unload the document.
    pub fn is_idle(&mut self) -> bool {
        self.waiting.is_empty() && self.settled()
    }

    /// Whether no write is in flight and everything in memory is durable: what a peer is sent
    /// now reveals nothing unstored.
    fn settled(&mut self) -> bool {
        self.in_flight.is_none() && self.sync.heads() == self.durable_heads
    }

    /// The document as the store holds it, for `reader` (REST reads): what is not durable yet
    /// is not shown. [`EditError::NotFound`] if it does not exist or `reader` may not see it.
    pub fn read(&mut self, reader: &Principal) -> Result<Vec<u8>, EditError> {
        // A document whose first write is still in flight does not exist yet.
        if self.durable_heads.is_empty() || self.broken.is_some() {
            return Err(EditError::NotFound);
        }
        if access(reader, &self.scope) == Access::None {
            return Err(EditError::NotFound);
        }
        if self.sync.heads() == self.durable_heads {
            return Ok(self.sync.save());
        }
        let mut durable = self
            .sync
            .fork_at(&self.durable_heads)
            .map_err(|err| EditError::Broken(err.to_string()))?;
        Ok(durable.save())
    }

    /// Takes what the engine wants done, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.outputs)
    }

    /// Takes one input at time `now` (unix ms).
    pub fn handle(&mut self, now: i64, input: Input) {
        self.handle_together(now, [input]);
    }

    /// Takes inputs that arrived together at time `now` (a peer joining and its first
    /// message), and only then writes or sends what they call for: a message to a joining peer
    /// before its own was read is a round trip for nothing (a cold sync of 1,000 documents
    /// sent three messages a document instead of one).
    pub fn handle_together(&mut self, now: i64, inputs: impl IntoIterator<Item = Input>) {
        self.now = now;
        for input in inputs {
            match input {
                Input::WriteFinished { write, result } => self.write_finished(write, result),
                Input::Tick => self.tick(),
                Input::Message { from, message }
                    if matches!(message, Message::Ephemeral { .. }) =>
                {
                    // Relayed, never stored: nothing to wait for.
                    self.ephemeral(&from, &message);
                }
                other if self.in_flight.is_some() => self.waiting.push_back(other),
                other => self.process(other),
            }
        }
        self.drain();
    }

    /// Takes the inputs that waited for a write, then writes what they changed (all of them in
    /// one write), or, with nothing to write, sends what the peers are owed.
    fn drain(&mut self) {
        while self.in_flight.is_none() {
            let Some(input) = self.waiting.pop_front() else {
                break;
            };
            self.process(input);
        }
        if self.in_flight.is_none() {
            self.settle();
        }
    }

    fn process(&mut self, input: Input) {
        match input {
            Input::PeerJoined { peer, stored_state } => self.join(peer, stored_state),
            Input::Message { from, message } => self.receive(from, message),
            Input::PeerLeft { peer, session } => self.leave(&peer, session),
            Input::PeerUpdated { peer } => self.update_peer(peer),
            Input::Edit {
                edit_id,
                author,
                edit,
                with,
            } => self.edit(edit_id, author, edit, with),
            Input::Share {
                edit_id,
                by,
                user,
                share,
            } => self.share(edit_id, &by, user, share),
            Input::StoredElsewhere {
                bytes,
                heads,
                creator,
            } => self.merge_stored(&bytes, heads, creator),
            Input::WriteFinished { write, result } => self.write_finished(write, result),
            Input::Tick => self.tick(),
        }
    }

    /// Takes in changes another process stored: they are durable as they come, so the durable
    /// heads move with them and nothing of them is written again. The peers hear of them at
    /// the next flush, as of any durable change.
    fn merge_stored(
        &mut self,
        bytes: &[u8],
        mut stored_heads: Vec<ChangeHash>,
        creator: Option<String>,
    ) {
        if self.broken.is_some() || self.sync.holds(&stored_heads) {
            return;
        }
        // Bytes that do not load were stored by a build that checked them: nothing to take.
        let Ok(mut stored) = crate::document::load_bytes(bytes) else {
            return;
        };
        let all_durable = self.sync.heads() == self.durable_heads;
        let durable = if all_durable {
            None
        } else {
            // Changes taken in since the last write are not durable; the merge must not count
            // them as such.
            let Ok(mut fork) = self.sync.fork_at(&self.durable_heads) else {
                return;
            };
            if fork.merge(&mut stored.clone()).is_err() {
                return;
            }
            Some(fork.get_heads())
        };
        if self.sync.document_mut().merge(&mut stored).is_err() {
            return;
        }
        crate::document::forget_applied(self.sync.document_mut());
        let mut durable = durable.unwrap_or_else(|| self.sync.heads());
        durable.sort();
        stored_heads.sort();
        self.stored_meta_behind |= durable != stored_heads;
        self.durable_heads = durable;
        // Changes another process stored are not counted as written.
        self.last_record.forget();
        if self.creator.is_none() {
            self.creator = creator;
        }
        self.rescope();
    }

    /// Starts the write of everything changed since the last durable write; with nothing to
    /// write, answers what waited and sends what the peers are owed.
    fn settle(&mut self) {
        let heads = self.sync.heads();
        if heads != self.durable_heads || self.scope_dirty || self.stored_meta_behind {
            self.start_write(heads);
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        self.authors.clear();
        self.written = Touched::nothing();
        self.with = WriteBatch::new();
        for done in pending {
            if let Pending::Answer(edit_id) = done {
                self.outputs.push(Output::EditDone {
                    edit_id,
                    result: Ok(heads.clone()),
                });
            }
        }
        self.flush();
    }

    fn start_write(&mut self, heads: Vec<ChangeHash>) {
        let write = self.next_write;
        self.next_write += 1;
        let (summary, record) =
            self.last_record
                .summarize(self.sync.document(), &heads, &self.written);
        let meta = self.meta(heads.clone());
        let mut batch = WriteBatch::new();
        let mut outbox = None;
        let mut stored = self.stored;
        if heads == self.durable_heads {
            batch.update_meta(self.id, meta);
            if self.stored_meta_behind {
                if let Some(bytes) = summary.as_ref().and_then(|s| serde_json::to_vec(s).ok()) {
                    batch.put_value(&crate::reports::summary_key(&self.id), bytes);
                }
            }
        } else {
            if (self.config.decides)(self.scope.kind)
                && self.authors.iter().any(|author| *author != Author::Server)
            {
                // The need for a decision is durable with the change itself.
                let entry = OutboxEntry::new(self.id, &heads, self.now);
                batch.put_value(&entry.key, entry.value());
                outbox = Some(entry);
            }
            let body = self.body();
            stored = body.stored_after(self.stored);
            write_changes(&mut batch, self.id, body, meta, summary.as_ref());
        }
        batch.extend(std::mem::take(&mut self.with));
        self.scope_dirty = false;
        self.stored_meta_behind = false;
        self.in_flight = Some(InFlight {
            write,
            heads,
            pending: std::mem::take(&mut self.pending),
            authors: std::mem::take(&mut self.authors),
            written: std::mem::replace(&mut self.written, Touched::nothing()),
            scope: self.scope.clone(),
            title: self.title.clone(),
            summary,
            record,
            outbox,
            stored,
        });
        self.outputs.push(Output::Write { write, batch });
    }

    /// What a write of everything since the last durable write stores: the changes after what
    /// is stored, or the whole document in its place when the policy folds.
    fn body(&mut self) -> Body {
        if !self.config.compaction.folds(self.stored) {
            return Body::Increment(self.sync.save_after(&self.durable_heads));
        }
        let snapshot = self.sync.save();
        #[cfg(debug_assertions)]
        self.check_snapshot(&snapshot);
        Body::Snapshot(snapshot)
    }

    /// Debug builds check that the snapshot stands for what it replaces: what is stored plus
    /// the new changes, nothing more and nothing less.
    #[cfg(debug_assertions)]
    fn check_snapshot(&mut self, snapshot: &[u8]) {
        let Ok(mut durable) = self.sync.fork_at(&self.durable_heads) else {
            return;
        };
        let Ok(mut folded) = crate::document::load_bytes(snapshot) else {
            panic!("a snapshot the engine saved does not load");
        };
        let Ok(mut merged) = crate::document::load_bytes(
            &[durable.save(), self.sync.save_after(&self.durable_heads)].concat(),
        ) else {
            panic!("the stored document and its new changes do not load");
        };
        assert_eq!(folded.get_heads(), merged.get_heads());
        assert_eq!(folded.get_heads(), self.sync.heads());
    }

    fn meta(&self, heads: Vec<ChangeHash>) -> DocumentMeta {
        commit_meta(
            &self.scope,
            self.creator.as_deref(),
            &self.title,
            heads,
            self.now,
        )
    }

    fn write_finished(&mut self, write: WriteId, result: Result<(), WriteFailed>) {
        let Some(in_flight) = self.in_flight.take_if(|in_flight| in_flight.write == write) else {
            return;
        };
        match result {
            Ok(()) => self.durable(in_flight),
            Err(failure) => self.failed(in_flight, &failure),
        }
    }

    fn durable(&mut self, done: InFlight) {
        let previous_heads = std::mem::replace(&mut self.durable_heads, done.heads.clone());
        let changed_content = previous_heads != done.heads;
        let mut committed = Committed {
            document: self.id,
            kind: done.scope.kind,
            heads: done.heads.clone(),
            previous_heads,
            authors: done.authors,
            written: done.written,
            scope: done.scope,
            title: done.title,
            summary: done.summary,
            content: None,
            record: done.record,
            outbox: done.outbox,
        };
        if changed_content && (self.config.carry_content)(&committed) {
            committed.content = Some(Arc::new(self.sync.document().clone()));
        }
        self.outputs.push(Output::Committed(Arc::new(committed)));
        for pending in done.pending {
            if let Pending::Answer(edit_id) = pending {
                self.outputs.push(Output::EditDone {
                    edit_id,
                    result: Ok(done.heads.clone()),
                });
            }
        }
        if changed_content {
            self.stored = done.stored;
        }
        self.flush();
    }

    /// Goes back to the last durable version after a failed write. Nothing the store refused
    /// stays in memory, so nothing of it can be acknowledged or relayed; the devices that sent
    /// it still hold it and send it again when the sync restarts.
    fn failed(&mut self, failed: InFlight, failure: &WriteFailed) {
        let durable = self.durable_heads.clone();
        if durable.is_empty() {
            // The document was never stored: whoever sent it first is not its creator yet.
            self.creator = None;
        }
        if let Err(err) = self.sync.rewind(&durable) {
            self.broken = Some(format!(
                "the document could not go back to its stored version: {err}"
            ));
        }
        // A share that was not stored did not happen.
        self.scope_dirty = false;
        self.last_record.forget();
        self.rescope();
        for pending in failed.pending {
            match pending {
                Pending::PeerChanges(peer) => {
                    let text = format!(
                        "the server could not store your changes ({failure}); keep them: \
                         the server asks for them again until it can store them"
                    );
                    self.send_error(&peer, text);
                }
                Pending::Answer(edit_id) => self.outputs.push(Output::EditDone {
                    edit_id,
                    result: Err(EditError::Store(failure.0.clone())),
                }),
            }
        }
        let retry_at = self.now + self.config.retry_after_ms;
        self.retry_at = Some(retry_at);
        self.outputs.push(Output::WakeAt(retry_at));
    }

    fn tick(&mut self) {
        if self.release_at.is_some_and(|at| at <= self.now) {
            self.release_at = None;
            // Sent only what is durable; a write in flight flushes (and holds again) when done.
            if self.settled() {
                self.sync.release_held();
                self.flush();
            }
        }
        if self.retry_at.is_some_and(|at| at <= self.now) {
            self.retry_at = None;
            if self.settled() {
                self.flush();
            }
        }
    }

    fn join(&mut self, peer: EnginePeer, stored_state: Option<Vec<u8>>) {
        if let Some(known) = self.peers.get(&peer.peer_id) {
            if known.session == peer.session {
                return;
            }
            // The same peer on a new session: the old one is gone.
            self.sync.remove_peer(&peer.peer_id);
        }
        let state = stored_state.and_then(|bytes| automerge::sync::State::decode(&bytes).ok());
        let access = self.access_for(&peer.principal);
        self.sync.add_peer(peer.peer_id.clone(), access, state);
        self.peers.insert(peer.peer_id.clone(), peer);
    }

    fn update_peer(&mut self, peer: EnginePeer) {
        let Some(known) = self.peers.get_mut(&peer.peer_id) else {
            return;
        };
        if known.session != peer.session {
            return;
        }
        known.principal = peer.principal.clone();
        let access = self.access_for(&peer.principal);
        self.sync.set_access(&peer.peer_id, access);
    }

    fn leave(&mut self, peer: &PeerId, session: SessionId) {
        if self
            .peers
            .get(peer)
            .is_none_or(|known| known.session != session)
        {
            return;
        }
        let handle = self.peers.remove(peer);
        let state = self.sync.remove_peer(peer);
        if let (Some(handle), Some(state)) = (handle, state) {
            if let Some(storage) = handle.storage_id.filter(|_| !state.shared_heads.is_empty()) {
                let mut batch = WriteBatch::new();
                batch.put_sync_state(self.id, storage.as_str(), state.encode());
                self.outputs.push(Output::WriteDetached { batch });
            }
        }
    }

    /// What `principal` may do: decided from the scope once the document exists; before that,
    /// anyone signed in may create it (its first change is checked like any other) unless the
    /// server reserves the id.
    fn access_for(&mut self, principal: &Principal) -> Access {
        if !self.sync.is_present() {
            return if self.config.clients_may_create {
                Access::Write
            } else {
                Access::None
            };
        }
        access(principal, &self.scope)
    }

    /// Recomputes what the document says about itself, and every peer's access with it.
    fn rescope(&mut self) {
        let described = self
            .sync
            .is_present()
            .then(|| {
                DocumentScope::describe(&self.id, self.sync.document(), self.creator.as_deref())
            })
            .and_then(Result::ok);
        self.rescope_as(described);
    }

    /// Takes `described`, the scope of the document as it is now (`None` when it is missing or
    /// does not read: the scope stays), and every peer's access with it.
    fn rescope_as(&mut self, described: Option<DocumentScope>) {
        self.described = described.is_some();
        if self.sync.is_present() {
            if let Some(mut scope) = described {
                scope.shared_with = std::mem::take(&mut self.scope.shared_with);
                self.scope = scope;
            }
            self.title = crate::document::title_of(self.sync.document());
        } else {
            let shared_with = std::mem::take(&mut self.scope.shared_with);
            self.scope = DocumentScope {
                shared_with,
                ..DocumentScope::default()
            };
            self.title.clear();
        }
        let principals: Vec<(PeerId, Arc<Principal>)> = self
            .peers
            .iter()
            .map(|(peer, handle)| (peer.clone(), handle.principal.clone()))
            .collect();
        for (peer, principal) in principals {
            let access = self.access_for(&principal);
            self.sync.set_access(&peer, access);
        }
    }

    /// Debug builds: the scope the check of a change read is the one the document describes.
    #[cfg(debug_assertions)]
    fn agrees_with_described(&self, checked: Option<&DocumentScope>) {
        let Some(checked) = checked else { return };
        let shared = |scope: DocumentScope| scope.with_shares(&self.scope.shared_with);
        let described =
            DocumentScope::describe(&self.id, self.sync.document(), self.creator.as_deref())
                .map(shared);
        let checked = shared(checked.clone());
        assert!(
            matches!(&described, Ok(scope) if *scope == checked),
            "the scope the check read, {checked:?}, is not the document's: {described:?}"
        );
    }

    fn receive(&mut self, from: EnginePeer, message: Message) {
        if let Some(reason) = self.broken.clone() {
            self.send_error(&from, reason);
            return;
        }
        if !self.has_peer(&from.peer_id, from.session) {
            self.join(from.clone(), None);
        }
        let Some(incoming) = Incoming::from_message(message) else {
            return;
        };
        let existed = self.sync.is_present();
        let creator = self
            .creator
            .clone()
            .unwrap_or_else(|| from.principal.user.clone());
        let (id, principal, budget) =
            (self.id, from.principal.clone(), self.config.history.clone());
        // The scope before the change is the engine's, when it was read from the document as it
        // is (and with the creator the check describes it with).
        let was = (self.described && self.creator.is_some()).then_some(&self.scope);
        let shared = &self.scope.shared_with;
        let checked = std::cell::RefCell::new((Touched::nothing(), None));
        let check = |before: &mut AutoCommit, after: &mut AutoCommit| {
            let written = Touched::since(after, &before.get_heads());
            let now = check_scoped_change(
                &principal,
                &id,
                existed.then_some((&*before, was)),
                after,
                Some(&creator),
                shared,
                &written,
            )
            .map_err(|refusal| refusal.to_string())?;
            history::admit(budget.as_deref(), &principal.user, &id, before, after)?;
            let mut checked = checked.borrow_mut();
            checked.0.merge(written);
            checked.1 = Some(now);
            Ok(())
        };
        let last_sent = self
            .sync
            .sync_state(&from.peer_id)
            .map(|state| state.last_sent_heads.clone());
        let result = self.sync.receive(&from.peer_id, incoming, Some(&check));
        self.forget_unstored_sent_heads(&from.peer_id, last_sent);
        self.report_pending(&from.peer_id);
        match result {
            Ok(received) if received.changed => {
                if self.creator.is_none() {
                    self.creator = Some(from.principal.user.clone());
                }
                let (written, now) = checked.into_inner();
                // The document is the one the check read: its scope is the check's.
                #[cfg(debug_assertions)]
                self.agrees_with_described(now.as_ref());
                match now {
                    Some(now) => self.rescope_as(Some(now)),
                    None => self.rescope(),
                }
                self.note_author(Author::User(from.principal.user.clone()));
                self.written.merge(written);
                self.pending.push(Pending::PeerChanges(from));
            }
            Ok(_) => {}
            Err(error) => {
                self.send_error(&from, error.to_string());
                self.outputs.push(Output::Rejected {
                    peer: from.peer_id.clone(),
                    user: from.principal.user.clone(),
                    error,
                });
            }
        }
    }

    fn edit(
        &mut self,
        edit_id: EditId,
        author: Option<Arc<Principal>>,
        edit: ServerEdit,
        with: WriteBatch,
    ) {
        match self.apply_edit(author.as_deref(), edit) {
            Ok(()) => {
                self.note_author(author.map_or(Author::Server, |a| Author::User(a.user.clone())));
                // An edit's changes are not traced to fields: they may have written anything.
                self.written.merge(Touched::Everything);
                self.with.extend(with);
                self.pending.push(Pending::Answer(edit_id));
            }
            Err(error) => self.outputs.push(Output::EditDone {
                edit_id,
                result: Err(error),
            }),
        }
    }

    /// Runs the edit on a copy, checks the result, and takes in its changes.
    fn apply_edit(
        &mut self,
        author: Option<&Principal>,
        edit: ServerEdit,
    ) -> Result<(), EditError> {
        if let Some(reason) = &self.broken {
            return Err(EditError::Broken(reason.clone()));
        }
        let existed = self.sync.is_present();
        if let Some(author) = author {
            // A document the author may not see does not exist for them, for writes as for reads.
            if existed && access(author, &self.scope) == Access::None {
                return Err(EditError::NotFound);
            }
        }
        let mut candidate = self
            .sync
            .document()
            .clone()
            .with_actor(self.config.actor.clone());
        let before_heads = candidate.get_heads();
        edit.apply(&mut candidate, &self.config.actor, self.now)?;
        // An edit that changes nothing is still checked for a user: one who may only read is
        // told so, whatever they sent.
        if candidate.get_heads() == before_heads && author.is_none() {
            return Ok(());
        }
        match author {
            Some(author) => {
                let creator = self.creator.clone().unwrap_or_else(|| author.user.clone());
                let written = Touched::since(&mut candidate, &before_heads);
                check_shared_change(
                    author,
                    &self.id,
                    existed.then(|| self.sync.document()),
                    &candidate,
                    Some(&creator),
                    &self.scope.shared_with,
                    &written,
                )?;
                if self.creator.is_none() {
                    self.creator = Some(author.user.clone());
                }
            }
            // The server's own writes are validated too, but for the per-user indexes and the
            // journals: the indexer and the authority write typed entries only, and checking
            // such a document whole on every entry cost time in proportion to the square of
            // its entries (a user's documents, a month's ledger).
            None if matches!(
                self.scope.kind,
                Some(DocumentKind::Index | DocumentKind::Journal)
            ) => {}
            None => {
                crate::document::validate(&candidate)?;
            }
        }
        self.sync.document_mut().merge(&mut candidate)?;
        crate::document::forget_applied(self.sync.document_mut());
        self.rescope();
        Ok(())
    }

    fn share(&mut self, edit_id: EditId, by: &Principal, user: String, share: bool) {
        let allowed = self.sync.is_present()
            && self.broken.is_none()
            && self.scope.kind.is_none()
            && (by.role == Role::Admin || self.creator.as_deref() == Some(by.user.as_str()));
        if !allowed {
            self.outputs.push(Output::EditDone {
                edit_id,
                result: Err(EditError::NotFound),
            });
            return;
        }
        let changed = if share {
            self.scope.shared_with.insert(user)
        } else {
            self.scope.shared_with.remove(&user)
        };
        if changed {
            self.scope_dirty = true;
            self.rescope();
            self.note_author(Author::User(by.user.clone()));
        }
        self.pending.push(Pending::Answer(edit_id));
    }

    fn note_author(&mut self, author: Author) {
        if !self.authors.contains(&author) {
            self.authors.push(author);
        }
    }

    fn ephemeral(&mut self, from: &EnginePeer, message: &Message) {
        let Message::Ephemeral {
            count, session_id, ..
        } = message
        else {
            return;
        };
        // The sender is who the server saw on the connection, whatever the message says, so
        // nobody speaks (or spends the duplicate counter) in another peer's name.
        let sender_id = &from.peer_id;
        if !self.relay.admit(sender_id, session_id, *count) {
            return;
        }
        if !self.sync.is_present() || self.access_for(&from.principal) == Access::None {
            return;
        }
        let targets: Vec<EnginePeer> = self
            .peers
            .values()
            .filter(|peer| &peer.peer_id != sender_id)
            .cloned()
            .collect();
        for target in targets {
            if self.access_for(&target.principal) == Access::None {
                continue;
            }
            let mut relayed = message.retargeted(&target.peer_id);
            if let Message::Ephemeral { sender_id, .. } = &mut relayed {
                sender_id.clone_from(&from.peer_id);
            }
            self.outputs.push(Output::Send {
                to: target.peer_id.clone(),
                session: target.session,
                message: relayed,
            });
        }
    }

    /// Sends what the sync engine has to say to each peer. Called only when everything in
    /// memory is durable.
    fn flush(&mut self) {
        for message in self.sync.outgoing() {
            let Some(target) = message.target_id() else {
                continue;
            };
            if let Some(peer) = self.peers.get(target) {
                self.outputs.push(Output::Send {
                    to: peer.peer_id.clone(),
                    session: peer.session,
                    message,
                });
            }
        }
        if self.sync.is_holding() && self.release_at.is_none() {
            let at = self.now + HOLD_LIMIT_MS;
            self.release_at = Some(at);
            self.outputs.push(Output::WakeAt(at));
        }
    }

    fn send_error(&mut self, to: &EnginePeer, text: String) {
        let text = clip(text, MAX_ERROR_CHARS);
        self.outputs.push(Output::Send {
            to: to.peer_id.clone(),
            session: to.session,
            message: Message::Error {
                sender_id: self.config.local.clone(),
                target_id: Some(to.peer_id.clone()),
                message: text,
                document_id: Some(self.id),
            },
        });
    }

    /// A message without changes whose heads are ours makes automerge count those heads as
    /// sent to the peer ("it has them, no need to tell it"). Ours may include changes not yet
    /// durable (several messages are taken in before one write), and then nothing would tell
    /// the peer, once they are stored, that the server holds them: it would wait for an
    /// acknowledgement forever. So heads counted as sent that way are forgotten unless they
    /// are durable; the peer is told them once they are.
    fn forget_unstored_sent_heads(&mut self, peer: &PeerId, before: Option<Vec<ChangeHash>>) {
        let Some(before) = before else {
            return;
        };
        let Some(now) = self
            .sync
            .sync_state(peer)
            .map(|s| s.last_sent_heads.clone())
        else {
            return;
        };
        if now != before && now != self.durable_heads {
            self.sync.set_last_sent_heads(peer, before);
        }
    }

    /// Whether `peer` still holds changes the server lacks (refused, or still arriving).
    fn report_pending(&mut self, peer: &PeerId) {
        let their_heads = self
            .sync
            .sync_state(peer)
            .and_then(|state| state.their_heads.clone())
            .unwrap_or_default();
        let pending = !self.sync.holds(&their_heads);
        self.outputs.push(Output::PeerPending {
            peer: peer.clone(),
            pending,
        });
    }
}
