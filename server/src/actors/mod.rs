//! The actors of the sync service: thin shells around core's engines that turn messages into
//! engine inputs and carry out what the engines return.
//!
//! - [`Session`]: one per WebSocket; the handshake, frame decoding, the bounded outgoing queue,
//!   heartbeats; it reads and writes a tokio-tungstenite [`Socket`].
//! - [`Hub`]: knows which documents are loaded, starts a [`DocActor`] on first use and stops it
//!   when no peer has touched it for a while, so memory follows the working set.
//! - [`DocActor`]: one per open document; runs its [`itinera_core::engine::DocumentEngine`]
//!   (which checks every change against the access policy on a fork and acknowledges it only
//!   once durable) and carries out its writes, messages, committed events and answers.

mod changes_feed;
mod doc_actor;
mod hub;
mod messages;
mod session;
mod socket;

pub use doc_actor::DocActor;
pub use hub::Hub;
pub use messages::*;
pub use session::{Session, SessionStart};
pub use socket::{ByteStream, READ_BUFFER_BYTES, Socket, socket_config};
