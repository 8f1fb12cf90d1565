//! The business records of a tour operator, one Automerge document per aggregate.
//!
//! Each type maps to Automerge through autosurgeon, field by field, with the merge behaviour
//! DOMAIN.md gives it: plain fields are registers (last writer wins, losers kept as conflicts),
//! stock quantities are [`Quantity`] counters (over [`autosurgeon::Counter`]), notes are [`autosurgeon::Text`], sets are
//! [`Set`]s (maps of member → `true`), logs are [`Log`]s keyed by time, and sub-records live in
//! maps keyed by id, never in positional lists. Deletion is a soft `archived_at`.
//!
//! The root of every document also carries `kind` and `schema`; [`crate::Document`] writes and
//! checks them, so the record types hold business fields only.
//!
//! ```
//! use itinera_core::model::{Account, Contact};
//!
//! let mut account = Account { name: "Alpine Schools Ltd".into(), ..Default::default() };
//! account.contacts.insert("c-1".into(), Contact { first_name: "Mira".into(), ..Default::default() });
//! account.contacts.get_mut("c-1").unwrap().emails.insert("mira@alpine.example");
//! assert!(account.contacts["c-1"].emails.contains("mira@alpine.example"));
//! ```

mod account;
mod alerts;
mod booking;
mod campaign;
mod catalog;
mod departure;
mod employee;
mod field_log;
mod field_path;
mod hr_record;
mod invoice;
mod journal;
mod lead;
mod log;
mod manifest;
mod map_entries;
mod purchase_order;
mod quantity;
mod record_value;
mod set;
pub(crate) mod shape;
mod stock_location;
mod ticket;
mod transfer;
mod user_index;

use std::fmt::Debug;

use autosurgeon::{Hydrate, Reconcile};

pub use account::{
    Account, AccountKind, Activity, ActivityKind, Address, ConsentEvent, Contact, Opportunity,
    PurchaseSummary, Stage, StageChange,
};
pub use alerts::{Alert, AlertRule, AlertSeverity, AlertStatus, Alerts};
pub use booking::{Booking, BookingStatus, Passenger, PassengerCategory, Seating};
pub use campaign::{Campaign, CampaignResponse, CampaignStatus};
pub use catalog::{
    Catalog, InventoryItem, ItineraryStop, KitBasis, KitRequirement, PriceOption, Tour,
};
pub use departure::{AssignmentStatus, Departure, DepartureStatus, GuideAssignment, GuideRole};
pub use employee::{Employee, EmploymentStatus, Leave, Licence};
pub use field_log::{AssignmentResponse, FieldLog, Incident, Severity};
pub use field_path::{FieldPath, PathSegment};
pub use hr_record::HrRecord;
pub use invoice::{Invoice, InvoiceLine, InvoiceStatus, InvoiceTotals, Payment};
pub use journal::{Journal, JournalEntry, JournalLine};
pub use lead::{Lead, LeadStatus};
pub use log::{DuplicateEntry, Log, LogKey};
pub use manifest::{Manifest, ManifestEntry};
pub use purchase_order::{PurchaseLine, PurchaseOrder, PurchaseOrderStatus};
pub use quantity::Quantity;
pub use record_value::RecordValue;
pub(crate) use record_value::hydrate_record;
pub use set::Set;
pub use shape::{
    Fields, MAX_ENTRIES, MAX_KEY_BYTES, MAX_STRING_BYTES, MAX_TEXT_CHARS, Shape, ShapeError,
};
pub use stock_location::{LocationKind, MovementReason, StockLocation, StockMovement};
pub use ticket::{Ticket, TicketMessage, TicketPriority, TicketStatus};
pub use transfer::{Transfer, TransferLine, TransferStatus};
pub use user_index::{AccessLevel, IndexEntry, UserIndex};

shape::string_enum! {
    /// Every kind of Itinera document, as stored in the root's `kind` field.
    pub enum DocumentKind {
        Catalog = "catalog",
        Stock = "stock",
        Transfer = "transfer",
        PurchaseOrder = "po",
        Departure = "departure",
        FieldLog = "fieldlog",
        Booking = "booking",
        Invoice = "invoice",
        Journal = "journal",
        Employee = "employee",
        Hr = "hr",
        Account = "account",
        Lead = "lead",
        Campaign = "campaign",
        Ticket = "ticket",
        Index = "index",
        Alerts = "alerts",
        Manifest = "manifest",
    }
}

/// A record type that is the root of one kind of document.
pub trait Record: Reconcile + Hydrate + Fields + Clone + Debug + PartialEq {
    /// The `kind` written in the document root.
    const KIND: DocumentKind;
    /// The newest `schema` version this build reads and writes.
    const SCHEMA: u64 = 1;
}

/// An operation on a record that the record refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The operation's input breaks a rule of the record.
    #[error("{0}")]
    Invalid(String),
    /// The sub-record named does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// A log entry would be rewritten.
    #[error(transparent)]
    DuplicateEntry(#[from] DuplicateEntry),
}

/// Runs `$body` with `$record` naming the record type of `$kind`.
macro_rules! with_record_type {
    ($kind:expr, $record:ident => $body:expr) => {
        match $kind {
            $crate::model::DocumentKind::Catalog => {
                type $record = $crate::model::Catalog;
                $body
            }
            $crate::model::DocumentKind::Stock => {
                type $record = $crate::model::StockLocation;
                $body
            }
            $crate::model::DocumentKind::Transfer => {
                type $record = $crate::model::Transfer;
                $body
            }
            $crate::model::DocumentKind::PurchaseOrder => {
                type $record = $crate::model::PurchaseOrder;
                $body
            }
            $crate::model::DocumentKind::Departure => {
                type $record = $crate::model::Departure;
                $body
            }
            $crate::model::DocumentKind::FieldLog => {
                type $record = $crate::model::FieldLog;
                $body
            }
            $crate::model::DocumentKind::Booking => {
                type $record = $crate::model::Booking;
                $body
            }
            $crate::model::DocumentKind::Invoice => {
                type $record = $crate::model::Invoice;
                $body
            }
            $crate::model::DocumentKind::Journal => {
                type $record = $crate::model::Journal;
                $body
            }
            $crate::model::DocumentKind::Employee => {
                type $record = $crate::model::Employee;
                $body
            }
            $crate::model::DocumentKind::Hr => {
                type $record = $crate::model::HrRecord;
                $body
            }
            $crate::model::DocumentKind::Account => {
                type $record = $crate::model::Account;
                $body
            }
            $crate::model::DocumentKind::Lead => {
                type $record = $crate::model::Lead;
                $body
            }
            $crate::model::DocumentKind::Campaign => {
                type $record = $crate::model::Campaign;
                $body
            }
            $crate::model::DocumentKind::Ticket => {
                type $record = $crate::model::Ticket;
                $body
            }
            $crate::model::DocumentKind::Index => {
                type $record = $crate::model::UserIndex;
                $body
            }
            $crate::model::DocumentKind::Alerts => {
                type $record = $crate::model::Alerts;
                $body
            }
            $crate::model::DocumentKind::Manifest => {
                type $record = $crate::model::Manifest;
                $body
            }
        }
    };
}

pub(crate) use with_record_type;

/// Checks the fields under the root of `doc` that `written` names against the record type of
/// `kind`.
pub(crate) fn check_root_fields<D: autosurgeon::ReadDoc>(
    kind: DocumentKind,
    doc: &D,
    written: &dyn Fn(&str) -> bool,
) -> Result<(), ShapeError> {
    with_record_type!(kind, R => R::check_written_fields(doc, &automerge::ROOT, &mut FieldPath::root(), written))
}

/// The newest schema version of `kind` this build reads.
pub(crate) fn supported_schema(kind: DocumentKind) -> u64 {
    with_record_type!(kind, R => R::SCHEMA)
}
