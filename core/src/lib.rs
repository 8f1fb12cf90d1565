//! `itinera-core`: the records, documents and rules that Itinera's server and phones share.
//!
//! Nothing here touches files, sockets, clocks, threads or randomness of its own: time and
//! random bytes are arguments, so every behaviour can be replayed in a test.
//!
//! - [`id`]: [`DocumentId`], printed and parsed exactly as automerge-repo does.
//! - [`model`]: every record of a tour operator's ERP and CRM, mapped to Automerge with the
//!   merge behaviour each field needs.
//! - [`document`]: [`Document<R>`], a typed handle over one Automerge document, with
//!   validation and the conflicts of any field.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, model::{StockLocation, StockMovement, MovementReason, LogKey}};
//!
//! let mut kit = Document::create(ActorId::from([7u8; 16]), 0, &StockLocation::default())?;
//! kit.change(1, |kit| {
//!     let water = StockMovement {
//!         item: "water".into(), quantity: 24, reason: MovementReason::Receipt,
//!         reference: None, actor: "office".into(), at: 1,
//!     };
//!     kit.post_movement(LogKey::new(1, "office-1"), water)
//! })?;
//! assert_eq!(kit.record()?.quantity("water"), 24);
//! # Ok::<(), itinera_core::Error>(())
//! ```

mod civil_date;
#[cfg(feature = "redb")]
pub mod device;
pub mod document;
pub mod engine;
mod error;
pub mod id;
pub mod model;
pub mod policy;
pub mod protocol;
#[cfg(feature = "redb")]
pub mod replica;
pub mod reports;
pub mod rules;
pub mod store;
pub mod sync;

pub use document::{Document, DocumentHeader};
pub use error::{Error, Result};
pub use id::{DocumentId, IdError};
pub use model::{DocumentKind, FieldPath, Record};

impl std::str::FromStr for FieldPath {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        Ok(Self::parse(text))
    }
}
