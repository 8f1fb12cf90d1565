//! Who may read or write which document, and which changes a user may make.
//!
//! Pure functions of a [`Principal`] (a user, their [`Role`] and [`Grant`]s) and what a
//! document says about itself (its [`DocumentScope`]): no IO, no clock, no user database. The
//! server asks [`access`] before it sends a document to a device or lists it in the user's
//! index, and [`check_change`] before it merges a device's changes. Both decisions live here,
//! in core, so they are the same everywhere and can be tested without a server.
//!
//! Two things shape the rules: a document once synced to a phone cannot be taken back, so
//! guides are never given documents with prices, salaries or finance; and some fields are
//! derived by the server (booking status, legal invoice numbers, seats), so no device may
//! write them, whatever its role.
//!
//! ```
//! use automerge::ActorId;
//! use itinera_core::{Document, DocumentId};
//! use itinera_core::model::Account;
//! use itinera_core::policy::{DocumentScope, Principal, Role, access, check_change};
//! use itinera_core::sync::Access;
//!
//! let id = DocumentId::from_bytes([5; 16]);
//! let ana = Principal::new("ana", Role::Sales);
//! let ben = Principal::new("ben", Role::Sales);
//! let mut account = Document::create(
//!     ActorId::from([1u8; 16]), 0, &Account { owner: "ana".into(), ..Default::default() },
//! )?;
//!
//! let scope = DocumentScope::describe(&id, account.automerge(), Some("ana"))?;
//! assert_eq!(access(&ana, &scope), Access::Write);
//! assert_eq!(access(&ben, &scope), Access::None);
//!
//! // Ana may tag her account, but not hand it to Ben.
//! let before = account.automerge().clone();
//! account.change(1, |a| { a.tags.insert("schools"); Ok(()) })?;
//! assert!(check_change(&ana, &id, Some(&before), account.automerge(), Some("ana")).is_ok());
//! let before = account.automerge().clone();
//! account.change(2, |a| { a.owner = "ben".into(); Ok(()) })?;
//! assert!(check_change(&ana, &id, Some(&before), account.automerge(), Some("ana")).is_err());
//! # Ok::<(), itinera_core::Error>(())
//! ```

mod access;
mod check_change;
mod custody;
mod document_scope;
mod field_rules;
mod grant;
mod log_rules;
mod principal;
mod refusal;
mod role;

pub use access::access;
pub use check_change::{check_change, check_scoped_change, check_shared_change};
pub use document_scope::DocumentScope;
pub use grant::{Grant, GrantError};
pub use principal::Principal;
pub use refusal::Refusal;
pub use role::Role;
