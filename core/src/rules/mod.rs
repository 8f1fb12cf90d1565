//! The authority's rules: what the server checks after merges, because a CRDT merge cannot
//! keep it (DOMAIN.md, "Rules a merge cannot keep"), and what it decides.
//!
//! Every function here is pure and deterministic: records in, findings and decisions out, no
//! IO, no clock (time is an argument), no randomness. The same records give the same decision
//! whatever order their changes arrived in, so replaying a server's evaluations, or running
//! them twice, changes nothing. The server's authority actor loads documents, calls these
//! functions, and writes the decisions back as ordinary changes; a [`Finding`] becomes an alert
//! in the `alerts` document under its deterministic [`Finding::key`].
//!
//! | Rule | Functions |
//! |---|---|
//! | 1 stock below zero or the reorder point | [`stock_findings`], [`recount`], [`counter_drift`] |
//! | 2 seats, bookings on cancelled departures | [`decide_seats`] → [`SeatPlan`] |
//! | 3 guide double-booked | [`guide_conflicts`] → [`GuidePlan`] |
//! | 4 invoice numbering | [`needs_legal_number`], [`invoice_year`], [`sequence_key`], [`legal_number`], [`issue_date`] |
//! | 5 balanced ledger | [`journal_entries_for_invoice`], [`journal_period`], [`unbalanced_entries`] |
//! | 6 opportunity stage conflicts | [`stage_findings`] |
//! | 7 edits of archived records | [`edits_after_archive`], [`archived_reference_findings`] |
//! | 8 duplicate contacts | [`duplicate_contacts`], [`merge_contacts`], [`normalise_email`], [`normalise_phone`] |
//! | transfers never received | [`transfer_findings`] |
//!
//! ```
//! use itinera_core::DocumentId;
//! use itinera_core::model::{AlertRule, Quantity, StockLocation};
//! use itinera_core::rules::stock_findings;
//!
//! let kit_id = DocumentId::from_bytes([1; 16]);
//! let mut kit = StockLocation { name: "Gus's kit".into(), ..Default::default() };
//! kit.on_hand.insert("water".into(), Quantity::new(-3));
//!
//! let findings = stock_findings(&kit_id, &kit, None);
//! assert_eq!(findings.len(), 1);
//! assert_eq!(findings[0].rule, AlertRule::NegativeStock);
//! // The same finding tomorrow is the same alert.
//! assert_eq!(findings, stock_findings(&kit_id, &kit, None));
//! let alert = findings[0].to_alert(1_700_000_000_000);
//! assert_eq!(alert.document, kit_id.to_string());
//! ```

mod archived_reference;
mod company_calendar;
mod contact_identity;
mod contact_merge;
pub(crate) mod duplicate_across;
mod duplicate_contact;
mod edit_after_archive;
mod finding;
mod guide_plan;
mod invoice_number;
mod ledger;
mod opportunity_stage;
mod seat_plan;
mod stock;
mod transfer_overdue;

pub use archived_reference::archived_reference_findings;
pub use company_calendar::{CalendarError, CompanyCalendar, next_period, period_of_date};
pub use contact_identity::{normalise_email, normalise_phone, normalise_phone_in};
pub use contact_merge::merge_contacts;
pub use duplicate_across::{DuplicateCustomers, account_keys, contact_keys};
pub use duplicate_contact::{DuplicateProposal, duplicate_contacts, duplicate_contacts_in};
pub use edit_after_archive::{edits_after_archive, edits_after_archive_in};
pub use finding::Finding;
pub use guide_plan::{AssignmentRef, GuidePlan, guide_conflicts};
pub use invoice_number::{
    invoice_year, invoice_year_in, issue_date, legal_number, needs_legal_number, sequence_key,
};
pub use ledger::{
    BANK_ACCOUNT, RECEIVABLES_ACCOUNT, REVENUE_ACCOUNT, VAT_PAYABLE_ACCOUNT,
    journal_entries_for_invoice, journal_entries_in, journal_period, unbalanced_entries,
};
pub use opportunity_stage::{stage_findings, stage_findings_in};
pub use seat_plan::{SeatPlan, decide_seats, receive};
pub use stock::{counter_drift, recount, stock_findings};
pub use transfer_overdue::transfer_findings;
