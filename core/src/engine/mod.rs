//! The server's per-document protocol as a state machine with no IO.
//!
//! A [`DocumentEngine`] holds one document, every peer syncing it, and the rule the server lives
//! by: nothing is acknowledged before it is durable, and nothing refused is merged. It takes
//! [`Input`]s (a peer's message, a server edit, a write that finished, a peer that came or left,
//! a tick) with the time, and returns [`Output`]s (writes to make durable, messages to send,
//! [`Committed`] events, answers to edits). The server's actors only carry the outputs out; the
//! simulation in core's tests drives the same engine with a store that fails and crashes.
//!
//! ```
//! use std::sync::Arc;
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::engine::{DocumentEngine, EngineConfig, Input, Output, ServerEdit, StoredDocument};
//! use itinera_core::model::DocumentKind;
//! use itinera_core::protocol::PeerId;
//! use itinera_core::store::WriteBatch;
//!
//! let config = EngineConfig::new(PeerId::new("server"), ActorId::from([1u8; 16]));
//! let mut engine = DocumentEngine::load(config, DocumentId::from_bytes([2; 16]), StoredDocument::default());
//!
//! // The server creates its alerts document; the engine asks for it to be written first.
//! let edit = ServerEdit::new(|_| Ok(())).or_create(DocumentKind::Alerts);
//! engine.handle(1_000, Input::Edit { edit_id: 7, author: None, edit, with: WriteBatch::new() });
//! let outputs = engine.take_outputs();
//! let Some(Output::Write { write, .. }) = outputs.first() else { panic!("a write first") };
//! assert_eq!(outputs.len(), 1, "nothing is answered before the write is durable");
//!
//! // The store says it is durable: the edit is answered and a committed event published.
//! engine.handle(1_001, Input::WriteFinished { write: *write, result: Ok(()) });
//! let outputs = engine.take_outputs();
//! assert!(outputs.iter().any(|o| matches!(o, Output::Committed(c) if c.kind == Some(DocumentKind::Alerts))));
//! assert!(outputs.iter().any(|o| matches!(o, Output::EditDone { edit_id: 7, result: Ok(_) })));
//! ```

mod committed;
mod compaction_policy;
mod creation;
mod document_engine;
mod engine_peer;
mod history;
mod input;
mod last_record;
mod outbox;
mod output;
mod server_edit;

pub use committed::{Author, Committed};
pub use compaction_policy::{CompactionPolicy, StoredSize};
pub use creation::Creation;
pub use document_engine::{DocumentEngine, EngineConfig, MAX_ERROR_CHARS, StoredDocument, clip};
pub use engine_peer::{EnginePeer, SessionId};
pub use history::{HistoryBudget, MAX_CHANGES_PER_MESSAGE, MAX_NEW_ACTORS_PER_MESSAGE};
pub use input::{EditId, Input, WriteFailed, WriteId};
pub use outbox::{OUTBOX_PREFIX, OutboxEntry};
pub use output::Output;
pub use server_edit::{EditError, ServerEdit};
