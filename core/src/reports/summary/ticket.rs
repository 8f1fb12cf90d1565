//! What reports need of a support ticket: where it stands and how urgent it is.
//!
//! ```
//! use itinera_core::model::{Ticket, TicketStatus};
//! use itinera_core::reports::TicketSummary;
//!
//! let ticket = Ticket { status: TicketStatus::Resolved, ..Default::default() };
//! assert_eq!(TicketSummary::from(&ticket).status, TicketStatus::Resolved);
//! ```

use serde::{Deserialize, Serialize};

use crate::model::{Ticket, TicketPriority, TicketStatus};

/// A ticket without its messages or notes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketSummary {
    /// Where it stands.
    #[serde(with = "crate::reports::stored_text")]
    pub status: TicketStatus,
    /// How urgent it is.
    #[serde(with = "crate::reports::stored_text")]
    pub priority: TicketPriority,
}

impl From<&Ticket> for TicketSummary {
    fn from(ticket: &Ticket) -> Self {
        Self {
            status: ticket.status,
            priority: ticket.priority,
        }
    }
}
