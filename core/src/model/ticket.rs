use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, Record};

string_enum! {
    /// Where a support ticket stands.
    #[derive(Default)]
    pub enum TicketStatus {
        #[default]
        Open = "open",
        Pending = "pending",
        Resolved = "resolved",
        Closed = "closed",
    }
}

string_enum! {
    /// How urgent a ticket is.
    #[derive(Default)]
    pub enum TicketPriority {
        Low = "low",
        #[default]
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

record! {
    /// A customer's support request (`ticket:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Ticket {
        pub account: String,
        pub contact: String,
        /// The booking it is about; set once.
        pub booking: Option<String>,
        pub subject: String,
        pub status: TicketStatus,
        pub priority: TicketPriority,
        pub assignee: Option<String>,
        pub messages: Log<TicketMessage>,
        pub notes: Text,
        pub resolved_at: Option<i64>,
    }
}

impl Record for Ticket {
    const KIND: DocumentKind = DocumentKind::Ticket;
}

record! {
    /// One message on a ticket, from the customer or staff.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct TicketMessage {
        pub author: String,
        pub body: String,
        /// Internal notes are not sent to the customer.
        pub internal: bool,
        pub at: i64,
    }
}
