//! The device's side of syncing (feature `redb`): a [`DeviceSession`] is one connection of a
//! phone to the server, as a state machine over the device's [`Replica`](crate::replica::Replica).
//!
//! Like matrix-rust-sdk's sync service under its FFI, everything a phone does to sync lives
//! here, under the bindings: the changes feed and its checkpoint, first-sync bodies, the
//! documents that need the automerge protocol and the sync states they resume from, the index
//! walk, acknowledged heads, and the one durable commit per burst of messages. The phone SDK's
//! client, the tests' devices and the benchmark's clients only move frames between a socket
//! and the session, and events to the app.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::device::{DeviceSession, SessionConfig, SessionOutput};
//! use itinera_core::protocol::{DecodeLimits, Message, PeerId, StorageId};
//! use itinera_core::replica::Replica;
//!
//! let mut replica = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let mut session = DeviceSession::new(SessionConfig {
//!     peer_id: PeerId::new("ana-phone-1"),
//!     storage_id: StorageId::new("ana-phone"),
//!     live: true,
//!     limits: DecodeLimits::default(),
//!     ephemeral_session: "s1".into(),
//! });
//! session.connected(&mut replica)?;
//! let outputs: [SessionOutput; 1] = session.take_outputs().try_into().expect("one frame");
//! let [SessionOutput::Send(join)] = outputs else {
//!     panic!("a join first");
//! };
//! assert!(matches!(Message::decode(&join, &DecodeLimits::default()), Ok(Message::Join { .. })));
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

mod device_session;
mod session_output;
mod sync_report;

pub use device_session::{DeviceSession, SessionConfig};
pub use session_output::{SessionEvent, SessionOutput};
pub use sync_report::SyncReport;
