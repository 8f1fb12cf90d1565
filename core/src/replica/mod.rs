//! The device replica: the phone's own store of documents and the typed operations a sales
//! rep and a guide perform on it, with no network.
//!
//! A [`Replica`] holds every document the device has, in a redb file
//! ([`RedbStore`](crate::store::RedbStore)), and writes each change durably, as incremental
//! Automerge changes, before the operation returns. The typed operations (accounts,
//! contacts, activities, opportunities, leads, bookings, invoices; departures, field logs,
//! stock) change records through [`Document::change`](crate::Document::change), so only what
//! changed is written and edits on different devices merge field by field. The sync client,
//! a separate driver, moves documents between the replica and the server through the
//! sync-facing methods: [`Replica::document`], [`Replica::merge_remote`],
//! [`Replica::set_acknowledged`], [`Replica::pending`], [`Replica::discard_local_changes`].
//!
//! Time and randomness are arguments, as everywhere in core: every change takes `at` (Unix
//! ms), every creation takes the new document id, and log entries take a `unique` suffix.
//! The signatures use owned strings, [`DocumentId`](crate::DocumentId)s and plain structs and
//! enums, so the phone SDK exposes them one-to-one.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::DocumentId;
//! use itinera_core::replica::{ContactInput, Replica};
//!
//! let mut phone = Replica::in_memory("ana", ActorId::from([1u8; 16]))?;
//! let account = DocumentId::new_v7(1_000, [1; 10]);
//! phone.create_account(account, "Alpine Schools".into(), "north".into(), 1_000)?;
//! phone.add_contact(account, "c-1".into(), ContactInput {
//!     first_name: "Mira".into(),
//!     last_name: "Kovács".into(),
//!     phone: Some("0036 1 234 5678".into()),
//!     ..Default::default()
//! }, 1_001)?;
//!
//! // Found by the number however it is typed.
//! let found = phone.search_accounts("+36 1 234 5678".into())?;
//! assert_eq!(found[0].id, account);
//! // Waiting for the server.
//! assert_eq!(phone.pending()?, vec![account]);
//! # Ok::<(), itinera_core::replica::ReplicaError>(())
//! ```

mod account_view;
mod accounts;
mod bookings;
mod device_file;
mod device_replica;
mod error;
mod field_work;
mod invoices;
mod leads;
mod record_info;
mod slot;
mod stock;
mod sync_facing;
mod sync_progress;

pub use account_view::{AccountView, ContactView, OpportunityView};
pub use accounts::{AccountUpdate, ContactInput};
pub use bookings::{BookingInput, BookingView, PassengerInput};
pub use device_file::DeviceIdentity;
pub use device_replica::Replica;
pub use error::{ReplicaError, ReplicaResult};
pub use field_work::{AssignmentView, DepartureView, ManifestEntryView};
pub use invoices::{InvoiceLineInput, InvoiceView};
pub use leads::{ConvertedLead, LeadInput, LeadView};
pub use sync_progress::{StoredBody, SyncProgress};
