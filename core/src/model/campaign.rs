use autosurgeon::{Hydrate, Reconcile};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, Record, Set};

string_enum! {
    /// Where a campaign stands.
    #[derive(Default)]
    pub enum CampaignStatus {
        #[default]
        Planned = "planned",
        Active = "active",
        Completed = "completed",
        Cancelled = "cancelled",
    }
}

record! {
    /// A marketing campaign (`campaign:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Campaign {
        pub name: String,
        pub channel: String,
        pub starts_on: Option<String>,
        pub ends_on: Option<String>,
        pub budget_minor: i64,
        pub currency: String,
        pub status: CampaignStatus,
        /// Contact and lead ids targeted.
        pub members: Set,
        pub responses: Log<CampaignResponse>,
    }
}

impl Record for Campaign {
    const KIND: DocumentKind = DocumentKind::Campaign;
}

record! {
    /// A member answering a campaign.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct CampaignResponse {
        pub member: String,
        /// `opened`, `clicked`, `replied`, `booked`…
        pub response: String,
        pub at: i64,
    }
}
