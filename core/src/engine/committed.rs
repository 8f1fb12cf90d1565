//! The one event every durable commit of a document publishes.

use std::sync::Arc;

use automerge::{AutoCommit, ChangeHash};

use super::OutboxEntry;
use crate::DocumentId;
use crate::document::Touched;
use crate::model::{DocumentKind, RecordValue};
use crate::policy::DocumentScope;
use crate::reports::Summary;

/// Who made the changes of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Author {
    /// The server itself (the authority's decisions, index documents).
    Server,
    /// A signed-in user, through a device or the REST API.
    User(String),
}

impl Author {
    /// The user's name, or `None` for the server.
    pub fn user(&self) -> Option<&str> {
        match self {
            Self::Server => None,
            Self::User(user) => Some(user),
        }
    }
}

/// A document's changes became durable: published once per commit, after the store said so.
///
/// It carries what its subscribers need, so that none of them reads the document again: the
/// indexer the scope and title, the read model the summary, the authority the document itself
/// (when the engine was configured to carry it for the document's kind).
#[derive(Debug, Clone)]
pub struct Committed {
    /// The document.
    pub document: DocumentId,
    /// Its kind; `None` for a generic automerge-repo document.
    pub kind: Option<DocumentKind>,
    /// The heads now durable.
    pub heads: Vec<ChangeHash>,
    /// The heads durable before this commit (empty when the commit created the document). Equal
    /// to `heads` when only who may see the document changed (a share).
    pub previous_heads: Vec<ChangeHash>,
    /// Who made the changes, each once, in the order they arrived (several peers' changes that
    /// arrived during one write are made durable by the next, together). Empty when nobody
    /// changed the content (the server wrote the document's metadata only).
    pub authors: Vec<Author>,
    /// The root fields the commit's changes wrote ([`Touched::Everything`] for a new document,
    /// the server's edits, and commits whose changes could not all be traced to a field).
    pub written: Touched,
    /// Who may see the document, shares included.
    pub scope: DocumentScope,
    /// Its short title.
    pub title: String,
    /// Its report summary, if its kind has one.
    pub summary: Option<Summary>,
    /// The document as committed, for kinds the engine was asked to carry it for.
    pub content: Option<Arc<AutoCommit>>,
    /// The record as committed, read once for its summary, for the lists and the authority to
    /// read instead of the document (`None` for kinds without a summary, and journals).
    pub record: Option<RecordValue>,
    /// The decision this commit is waiting for, written in the same transaction, for kinds
    /// the engine was told the server decides: the decision deletes it.
    pub outbox: Option<OutboxEntry>,
}

impl Committed {
    /// Whether the commit changed the document's content (not only who may see it).
    pub fn changed_content(&self) -> bool {
        self.heads != self.previous_heads
    }

    /// Whether only the server changed the document in this commit.
    pub fn by_server_only(&self) -> bool {
        self.authors.iter().all(|author| *author == Author::Server)
    }

    /// Whether the commit created the document.
    pub fn created(&self) -> bool {
        self.previous_heads.is_empty() && !self.heads.is_empty()
    }
}
