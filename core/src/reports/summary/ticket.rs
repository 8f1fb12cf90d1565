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
    /// The customer's account document id (bare bs58).
    #[serde(default)]
    pub account: String,
    /// Unix ms of its first message: when the customer asked.
    #[serde(default)]
    pub opened_at: Option<i64>,
    /// Unix ms when it was resolved.
    #[serde(default)]
    pub resolved_at: Option<i64>,
}

impl From<&Ticket> for TicketSummary {
    fn from(ticket: &Ticket) -> Self {
        Self {
            status: ticket.status,
            priority: ticket.priority,
            account: crate::reports::reference::reference(&ticket.account),
            opened_at: ticket.messages.iter().next().map(|(_, message)| message.at),
            resolved_at: ticket.resolved_at,
        }
    }
}
