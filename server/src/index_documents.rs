//! The per-user `index:{user}` documents: which documents each user's device should hold.
//!
//! A device syncs its index first and then everything it lists. The [`Indexer`] keeps one entry
//! per document the server knows (its scope and title); when a document's scope changes, or a
//! user's role or grants do, it recomputes who may read what and writes the differences into the
//! affected users' index documents, through the hub like any other change, so phones receive
//! them live.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use actix::prelude::*;
use automerge::transaction::Transactable;
use automerge::{AutoCommit, ReadDoc};
use itinera_core::model::{AccessLevel, IndexEntry};
use itinera_core::policy::{DocumentScope, access};
use itinera_core::sync::Access;
use itinera_core::{DocumentId, DocumentKind};

use crate::actors::{Hub, LocalChange};
use crate::services::Services;

/// The id of a user's index document: derived from the name, so the server and the user's
/// devices agree on it without asking.
pub fn index_document_id(user: &str) -> DocumentId {
    DocumentId::index_of(user)
}

/// A document's scope changed (or it was created).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Described {
    pub document: DocumentId,
    pub scope: DocumentScope,
    pub title: String,
}

/// A user was added or their role, grants or status changed: rebuild their index.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct UserChanged {
    pub user: String,
}

/// The documents found in the store at start-up.
#[derive(Debug, Message)]
#[rtype(result = "()")]
struct Scanned(Vec<(DocumentId, DocumentScope, String)>);

/// Keeps every user's index document up to date.
pub struct Indexer {
    services: Arc<Services>,
    hub: Addr<Hub>,
    documents: HashMap<DocumentId, (DocumentScope, String)>,
}

impl std::fmt::Debug for Indexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Indexer")
            .field("documents", &self.documents.len())
            .finish_non_exhaustive()
    }
}

impl Indexer {
    pub fn new(services: Arc<Services>, hub: Addr<Hub>) -> Self {
        Self {
            services,
            hub,
            documents: HashMap::new(),
        }
    }

    /// Sets `user`'s entries for the given documents (`None`: remove).
    fn write_entries(&self, user: &str, entries: BTreeMap<DocumentId, Option<IndexEntry>>) {
        if entries.is_empty() {
            return;
        }
        let owner = user.to_owned();
        let actor = self.services.actor.clone();
        let now = self.services.now_ms();
        let edit = Box::new(move |doc: &mut AutoCommit| {
            if doc.get_heads().is_empty() {
                let mut template =
                    itinera_core::document::new_record(DocumentKind::Index, actor, now)
                        .map_err(|e| e.to_string())?;
                doc.merge(&mut template).map_err(|e| e.to_string())?;
            }
            // Only the entries that changed are written: reading and reconciling the whole
            // index made each new document cost time in proportion to all the user's documents
            // (an admin's index lists every document).
            autosurgeon::reconcile_prop(doc, automerge::ROOT, "user", owner.as_str())
                .map_err(|e| e.to_string())?;
            let documents = match doc.get(automerge::ROOT, "documents") {
                Ok(Some((automerge::Value::Object(automerge::ObjType::Map), id))) => id,
                _ => return Err("the index document has no documents map".to_string()),
            };
            for (id, entry) in entries {
                let key = id.to_string();
                match entry {
                    Some(entry) => {
                        autosurgeon::reconcile_prop(doc, &documents, key.as_str(), &entry)
                            .map_err(|e| e.to_string())?
                    }
                    None => {
                        if doc.get(&documents, key.as_str()).ok().flatten().is_some() {
                            doc.delete(&documents, key.as_str())
                                .map_err(|e| e.to_string())?;
                        }
                    }
                }
            }
            Ok(())
        });
        let request = self.hub.send(LocalChange {
            document: index_document_id(user),
            author: None,
            edit,
            with: None,
        });
        actix::spawn(async move {
            if let Ok(Err(err)) = request.await {
                tracing::error!(error = %err, "index document not updated");
            }
        });
    }

    fn entry_for(
        principal: &itinera_core::policy::Principal,
        scope: &DocumentScope,
        title: &str,
    ) -> Option<IndexEntry> {
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

    fn rebuild(&self, user: &str) {
        let Some(user) = self.services.directory.user(user) else {
            return;
        };
        let principal = user.principal();
        let entries = self
            .documents
            .iter()
            .map(|(id, (scope, title))| {
                let entry = if user.disabled {
                    None
                } else {
                    Self::entry_for(&principal, scope, title)
                };
                (*id, entry)
            })
            .collect();
        self.write_entries(&user.name, entries);
    }
}

impl Actor for Indexer {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        let store = self.services.store.clone();
        let me = ctx.address();
        // Unready (`/readyz`) until the scan is done.
        let startup = self
            .services
            .metrics
            .readiness
            .begin_startup("document scan");
        // Reading every document takes time; the server serves meanwhile.
        std::thread::spawn(move || {
            let _startup = startup;
            let mut found = Vec::new();
            // Documents stored before the read model existed get their report summary now.
            let mut summaries = itinera_core::store::WriteBatch::new();
            if let Ok(documents) = store.documents() {
                for (id, meta) in documents {
                    if meta.kind.as_deref() == Some("index") {
                        continue;
                    }
                    let Ok(Some(bytes)) = store.load(id) else {
                        continue;
                    };
                    let Ok(doc) = itinera_core::document::load_bytes(&bytes) else {
                        continue;
                    };
                    if let Ok(scope) = DocumentScope::describe(&id, &doc, meta.owner.as_deref()) {
                        found.push((id, scope, itinera_core::document::title_of(&doc)));
                    }
                    let key = crate::authority::summary_key(&id);
                    if matches!(store.value(&key), Ok(None)) {
                        if let Ok(Some(summary)) = itinera_core::reports::summarize(&id, &doc) {
                            if let Ok(bytes) = serde_json::to_vec(&summary) {
                                summaries.put_value(&key, bytes);
                            }
                        }
                    }
                }
            }
            if !summaries.is_empty() {
                if let Err(err) =
                    store.commit(summaries, itinera_core::store::Durability::Immediate)
                {
                    tracing::error!(error = %err, "report summaries not backfilled");
                }
            }
            me.do_send(Scanned(found));
        });
    }
}

impl Handler<Scanned> for Indexer {
    type Result = ();

    fn handle(&mut self, scanned: Scanned, _: &mut Self::Context) {
        for (id, scope, title) in scanned.0 {
            self.documents.entry(id).or_insert((scope, title));
        }
        for user in self.services.directory.users() {
            self.rebuild(&user.name);
        }
    }
}

impl Handler<Described> for Indexer {
    type Result = ();

    fn handle(&mut self, described: Described, _: &mut Self::Context) {
        if described.scope.kind == Some(DocumentKind::Index) {
            return;
        }
        let previous = self.documents.insert(
            described.document,
            (described.scope.clone(), described.title.clone()),
        );
        for user in self.services.directory.users() {
            if user.disabled {
                continue;
            }
            let principal = user.principal();
            let before = previous
                .as_ref()
                .and_then(|(scope, title)| Self::entry_for(&principal, scope, title));
            let after = Self::entry_for(&principal, &described.scope, &described.title);
            if before != after {
                self.write_entries(&user.name, BTreeMap::from([(described.document, after)]));
            }
        }
    }
}

impl Handler<UserChanged> for Indexer {
    type Result = ();

    fn handle(&mut self, changed: UserChanged, _: &mut Self::Context) {
        self.rebuild(&changed.user);
    }
}
