use std::collections::BTreeMap;

use autosurgeon::{Hydrate, Reconcile, Text};

use super::shape::{record, string_enum};
use super::{DocumentKind, Log, LogKey, ModelError, Record, Set};

string_enum! {
    /// Whether the account buys from or sells to the company.
    #[derive(Default)]
    pub enum AccountKind {
        #[default]
        Customer = "customer",
        Supplier = "supplier",
        Partner = "partner",
    }
}

record! {
    /// A customer or supplier with its contacts, opportunities and activities (`account:{id}`).
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Account {
        pub name: String,
        pub account_kind: AccountKind,
        pub territory: String,
        /// The owning sales rep's user id.
        pub owner: String,
        pub vat_number: Option<String>,
        pub address: Address,
        pub roles: Set,
        pub tags: Set,
        pub notes: Text,
        /// Soft delete: Unix ms when archived.
        pub archived_at: Option<i64>,
        /// The surviving account when this one was merged into another.
        pub merged_into: Option<String>,
        /// Contacts by contact id.
        pub contacts: BTreeMap<String, Contact>,
        /// Opportunities by opportunity id.
        pub opportunities: BTreeMap<String, Opportunity>,
        pub activities: Log<Activity>,
        /// Written by the server from bookings and invoices.
        pub purchase_summary: PurchaseSummary,
    }
}

impl Record for Account {
    const KIND: DocumentKind = DocumentKind::Account;
}

record! {
    /// A postal address; each line merges on its own.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Address {
        pub line1: String,
        pub line2: String,
        pub city: String,
        pub postcode: String,
        /// ISO 3166 alpha-2.
        pub country: String,
    }
}

record! {
    /// A person at an account.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Contact {
        pub first_name: String,
        pub last_name: String,
        pub title: String,
        pub language: String,
        /// Lower-cased addresses.
        pub emails: Set,
        /// E.164 numbers.
        pub phones: Set,
        pub consent: Log<ConsentEvent>,
        pub preferences: Set,
        pub archived_at: Option<i64>,
        pub merged_into: Option<String>,
    }
}

record! {
    /// A contact granting or withdrawing consent to be contacted on a channel.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct ConsentEvent {
        pub channel: String,
        pub granted: bool,
        pub source: String,
        pub at: i64,
    }
}

string_enum! {
    /// The sales pipeline.
    #[derive(Default)]
    pub enum Stage {
        #[default]
        Prospecting = "prospecting",
        Qualification = "qualification",
        Proposal = "proposal",
        Negotiation = "negotiation",
        Won = "won",
        Lost = "lost",
    }
}

record! {
    /// A sale being worked on.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Opportunity {
        pub name: String,
        pub stage: Stage,
        pub amount_minor: i64,
        pub currency: String,
        pub expected_close: Option<String>,
        /// Percent, 0 to 100.
        pub probability: i64,
        pub lost_reason: Option<String>,
        pub owner: String,
        pub stage_history: Log<StageChange>,
        /// Tour ids the customer is interested in.
        pub tours: Set,
        /// The booking that won it.
        pub booking: Option<String>,
        pub archived_at: Option<i64>,
    }
}

impl Opportunity {
    /// Moves the opportunity to `to`, keeping the move in its stage history under `key`; a
    /// move to the stage it is at changes nothing.
    pub fn move_to(
        &mut self,
        to: Stage,
        key: LogKey,
        actor: &str,
        at: i64,
    ) -> Result<(), ModelError> {
        if self.stage == to {
            return Ok(());
        }
        let change = StageChange {
            from: self.stage,
            to,
            actor: actor.to_owned(),
            at,
        };
        self.stage_history.append(key, change)?;
        self.stage = to;
        Ok(())
    }
}

record! {
    /// One move through the pipeline.
    #[derive(Debug, Clone, PartialEq, Reconcile, Hydrate)]
    pub struct StageChange {
        pub from: Stage,
        pub to: Stage,
        pub actor: String,
        pub at: i64,
    }
}

string_enum! {
    /// What kind of interaction an activity records.
    #[derive(Default)]
    pub enum ActivityKind {
        #[default]
        Call = "call",
        Email = "email",
        Meeting = "meeting",
        Note = "note",
        Task = "task",
    }
}

record! {
    /// An interaction with the customer. Entries are not edited, except a task's `due` and `done`.
    #[derive(Debug, Clone, Default, PartialEq, Reconcile, Hydrate)]
    pub struct Activity {
        pub activity_kind: ActivityKind,
        pub subject: String,
        pub body: String,
        pub actor: String,
        pub at: i64,
        /// A contact, opportunity, booking or ticket this is about.
        pub related: Option<String>,
        pub due: Option<i64>,
        pub done: bool,
    }
}

record! {
    /// What the customer has bought, kept by the server.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Reconcile, Hydrate)]
    pub struct PurchaseSummary {
        pub bookings: i64,
        pub revenue_minor: i64,
        pub last_booking_at: Option<i64>,
        /// The currency of `revenue_minor`: the one most of the revenue is in.
        #[autosurgeon(missing = "Default::default")]
        pub currency: String,
        /// Revenue of confirmed bookings per currency, in minor units.
        #[autosurgeon(missing = "Default::default")]
        pub revenue_by_currency: BTreeMap<String, i64>,
        /// When the last trip (a confirmed booking's departure) starts or started, unix ms.
        #[autosurgeon(missing = "Default::default")]
        pub last_trip_at: Option<i64>,
        /// That departure's id.
        #[autosurgeon(missing = "Default::default")]
        pub last_trip_departure: Option<String>,
    }
}

impl Account {
    /// Moves an opportunity to `to`, recording the change in its stage history.
    pub fn move_opportunity(
        &mut self,
        opportunity: &str,
        to: Stage,
        key: LogKey,
        actor: &str,
        at: i64,
    ) -> Result<(), ModelError> {
        self.opportunities
            .get_mut(opportunity)
            .ok_or_else(|| ModelError::NotFound(format!("opportunity {opportunity}")))?
            .move_to(to, key, actor, at)
    }

    /// Archives the account; its history stays.
    pub fn archive(&mut self, at: i64) {
        self.archived_at.get_or_insert(at);
    }
}
