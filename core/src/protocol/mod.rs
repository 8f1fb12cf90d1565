//! The automerge-repo WebSocket protocol, version "1": one CBOR map per binary frame.
//!
//! [`Message::decode`] is strict and bounded ([`DecodeLimits`]): a frame over the size limit,
//! malformed CBOR, nesting too deep, a field of the wrong type, an unknown message type, a
//! document id that is not bs58check, or sync data that is not an Automerge sync message each
//! give a [`FrameError`]; nothing panics. [`Message::encode`] writes what the JS client's cbor-x
//! reads.
//!
//! ```
//! use itinera_core::protocol::{DecodeLimits, Message, PeerId, PeerMetadata};
//!
//! let join = Message::Join {
//!     sender_id: PeerId::new("phone-17"),
//!     peer_metadata: PeerMetadata::default(),
//!     supported_protocol_versions: Some(vec!["1".into()]),
//! };
//! let frame = join.encode();
//! assert_eq!(Message::decode(&frame, &DecodeLimits::default())?, join);
//! # Ok::<(), itinera_core::protocol::FrameError>(())
//! ```

mod cbor;
mod changes_page;
mod error;
mod message;
mod peer_id;
mod sync_data;

pub use changes_page::{ChangedDocument, ChangesPage};
pub use error::FrameError;
pub use message::{Message, PeerMetadata, RemoteHeads};
pub use peer_id::{PeerId, StorageId};
pub use sync_data::{SyncData, decode_sync_message};

/// The only protocol version there is.
pub const PROTOCOL_VERSION: &str = "1";

/// Bounds on what a decoder accepts from a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeLimits {
    /// The largest frame, in bytes. A first sync of a large document can be several MiB.
    pub max_frame_bytes: usize,
    /// The deepest nesting of maps and arrays; protocol messages need four.
    pub max_depth: usize,
    /// The most items in one map or array.
    pub max_items: usize,
    /// The most that the deflated parts of one sync message may inflate to (automerge would
    /// inflate them without a limit).
    pub max_inflated_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024 * 1024,
            max_depth: 8,
            max_items: 100_000,
            max_inflated_bytes: crate::document::MAX_INFLATED_BYTES,
        }
    }
}
