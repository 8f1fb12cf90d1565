//! Serde for the model's stored-text enums ([`Stage`], [`BookingStatus`]…).
//!
//! The record types carry no serde of their own (they map to Automerge through autosurgeon), so
//! summaries and reports write each of these enums as the very string the document stores:
//! `#[serde(with = "crate::reports::stored_text")]` on a field. A reader of a report sees
//! `"proposal"` where a phone's document holds `"proposal"`.
//!
//! ```text
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Row {
//!     #[serde(with = "crate::reports::stored_text")]
//!     stage: itinera_core::model::Stage,
//! }
//! ```

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use crate::model::{
    AssignmentStatus, BookingStatus, DepartureStatus, InvoiceStatus, KitBasis, LeadStatus,
    LocationKind, Stage, TicketPriority, TicketStatus,
};

/// An enum stored in documents as one of a fixed set of strings.
pub(crate) trait StoredText: Copy + Sized {
    /// The string stored in the document.
    fn text(self) -> &'static str;
    /// The value stored as `text`, if it is one.
    fn from_text(text: &str) -> Option<Self>;
}

macro_rules! stored_text {
    ($($ty:ty),+ $(,)?) => {
        $(
            impl StoredText for $ty {
                fn text(self) -> &'static str {
                    self.as_str()
                }

                fn from_text(text: &str) -> Option<Self> {
                    Self::parse(text)
                }
            }
        )+
    };
}

stored_text!(
    AssignmentStatus,
    BookingStatus,
    DepartureStatus,
    InvoiceStatus,
    KitBasis,
    LeadStatus,
    LocationKind,
    Stage,
    TicketPriority,
    TicketStatus,
);

/// Writes `value` as its stored string.
pub(crate) fn serialize<T: StoredText, S: Serializer>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(value.text())
}

/// Reads a stored string back; an unknown string is an error, not a default.
pub(crate) fn deserialize<'de, T: StoredText, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    let text = String::deserialize(deserializer)?;
    T::from_text(&text).ok_or_else(|| D::Error::custom(format!("unknown value {text:?}")))
}
