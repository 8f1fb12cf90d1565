use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Record};

string_enum! {
    /// Where a lead stands.
    #[derive(Default)]
    pub enum LeadStatus {
        #[default]
        New = "new",
        Contacted = "contacted",
        Qualified = "qualified",
        Disqualified = "disqualified",
        Converted = "converted",
    }
}

record! {
    /// Someone who might buy, before they are an account (`lead:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Lead {
        /// Where the lead came from: `web`, `fair`, `referral`…
        pub source: String,
        pub campaign: Option<String>,
        pub name: String,
        pub company: String,
        pub email: String,
        pub phone: String,
        pub status: LeadStatus,
        pub owner: String,
        pub notes: Text,
        /// The account it became; set once.
        pub converted_to: Option<String>,
        pub archived_at: Option<i64>,
    }
}

impl Record for Lead {
    const KIND: DocumentKind = DocumentKind::Lead;
}
