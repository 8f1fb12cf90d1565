//! The automerge-repo sync protocol as a state machine with no IO.
//!
//! Bytes and events go in, bytes to send and events come out; there is no socket, clock, thread
//! or random number in here, so the server's actors, the phone's client and a seeded test
//! simulation all run the same code.
//!
//! - [`Connection`]: the handshake of one connection (`join` / `peer`, version selection).
//! - [`DocSync`]: one document and an `automerge::sync::State` per peer; `request`,
//!   `doc-unavailable`, read-only peers, and a check hook that sees changes on a fork before
//!   they are accepted.
//! - [`EphemeralRelay`]: duplicate suppression of relayed ephemeral messages.
//! - [`Node`]: all of it composed into one peer with many connections and documents.
//! - [`AccessPolicy`]: the caller's decision, per peer and document, of none / read / write,
//!   consulted before anything about a document is sent or applied.
//!
//! ```
//! use automerge::{AutoCommit, transaction::Transactable};
//! use itinera_core::DocumentId;
//! use itinera_core::protocol::{DecodeLimits, PeerId, PeerMetadata};
//! use itinera_core::sync::{AllowAll, Input, Node, NodeConfig, NodeRole, Output};
//!
//! let config = |name: &str, role| NodeConfig {
//!     peer_id: PeerId::new(name), metadata: PeerMetadata::default(), role,
//!     limits: DecodeLimits::default(), session_id: format!("{name}-session"),
//! };
//! let mut server = Node::new(config("server", NodeRole::Server), AllowAll);
//! let mut phone = Node::new(config("phone", NodeRole::Client), AllowAll);
//! let id = DocumentId::from_bytes([3; 16]);
//! let mut doc = AutoCommit::new();
//! doc.put(automerge::ROOT, "stage", "proposal")?;
//! phone.insert(id, doc);
//!
//! server.handle(Input::Connected(1));
//! phone.handle(Input::Connected(1));
//! // Shuttle frames until both are quiet; the server has no storage, so it loads nothing.
//! loop {
//!     let mut moved = false;
//!     for output in phone.take_outputs() {
//!         if let Output::Send { frame, .. } = output { server.handle(Input::Frame(1, frame)); moved = true; }
//!     }
//!     for output in server.take_outputs() {
//!         match output {
//!             Output::Send { frame, .. } => { phone.handle(Input::Frame(1, frame)); moved = true; }
//!             Output::Event(itinera_core::sync::Event::LoadRequested(id)) => { server.handle(Input::Loaded(id, None)); moved = true; }
//!             _ => {}
//!         }
//!     }
//!     if !moved { break; }
//! }
//! assert!(server.document(&id).is_some());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access;
mod acknowledgement;
mod connection;
mod doc_sync;
mod ephemeral_relay;
mod error;
mod node;

pub use access::{Access, AccessPolicy, AllowAll};
pub use connection::{Connection, Handshake, Violation};
pub use doc_sync::{ChangeCheck, DocSync, Incoming, PeerStatus, Received};
pub use ephemeral_relay::EphemeralRelay;
pub use error::SyncError;
pub use node::{ConnectionId, Event, Input, Node, NodeConfig, NodeRole, Output};
