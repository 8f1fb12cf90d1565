//! The server's check of a user's change before it is merged.

use std::collections::BTreeSet;

use automerge::AutoCommit;

use super::{DocumentScope, Principal, Refusal, access, field_rules};
use crate::document::{DocumentHeader, validate};
use crate::id::DocumentId;
use crate::model::DocumentKind;
use crate::sync::Access;

/// Checks that `principal` may turn the document `id` from `before` into `after`.
///
/// The server runs this on a fork holding the user's changes, before anything is merged or
/// stored; a refused change is never merged and the device is told why. `before` is `None`
/// (or an empty document, which is what the server holds for one it has not received yet) when
/// the change creates the document. `creator` is the user the server recorded as creating it:
/// for a new document, the principal.
///
/// In order: the result must be a well-formed document ([`Refusal::Schema`]) of the same kind
/// ([`Refusal::KindChanged`]); the user must be able to write the document both before and
/// after the change ([`Refusal::Forbidden`]), so nobody can hand a record to someone else or
/// create one for them; fields the server derives must be untouched
/// ([`Refusal::ServerOnly`]); fields set at creation must keep their value
/// ([`Refusal::SetOnce`]); a posted invoice may only become credited ([`Refusal::Frozen`]).
///
/// Generic documents shared through the server's sharing table need
/// [`check_shared_change`]; here they are writable by their creator and admins only.
///
/// ```
/// use automerge::ActorId;
/// use itinera_core::{Document, DocumentId};
/// use itinera_core::model::{Booking, BookingStatus};
/// use itinera_core::policy::{Principal, Refusal, Role, check_change};
///
/// let id = DocumentId::from_bytes([3; 16]);
/// let ana = Principal::new("ana", Role::Sales);
/// let mut booking = Document::create(
///     ActorId::from([1u8; 16]), 0, &Booking { rep: "ana".into(), ..Default::default() },
/// )?;
/// let before = booking.automerge().clone();
///
/// booking.change(1, |b| { b.status = BookingStatus::Confirmed; Ok(()) })?;
/// let refusal = check_change(&ana, &id, Some(&before), booking.automerge(), Some("ana"))
///     .expect_err("only the server confirms bookings");
/// assert!(matches!(refusal, Refusal::ServerOnly { .. }));
/// assert_eq!(refusal.to_string(), "booking /status is written by the server only");
/// # Ok::<(), itinera_core::Error>(())
/// ```
pub fn check_change(
    principal: &Principal,
    id: &DocumentId,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    creator: Option<&str>,
) -> Result<(), Refusal> {
    check_shared_change(principal, id, before, after, creator, &BTreeSet::new())
}

/// [`check_change`] for a document the server's sharing table shares with `shared_with`.
///
/// Only generic documents use sharing; for records `shared_with` changes nothing.
pub fn check_shared_change(
    principal: &Principal,
    id: &DocumentId,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    creator: Option<&str>,
    shared_with: &BTreeSet<String>,
) -> Result<(), Refusal> {
    let schema = |err: crate::Error| Refusal::Schema(err.to_string());
    let before = before.filter(|doc| !doc.is_empty());
    // A change of kind is named as such, before whatever else it breaks.
    let after_kind = DocumentHeader::read(after).map_err(schema)?.kind();
    if let Some(before) = before {
        let before_kind = DocumentHeader::read(before).map_err(schema)?.kind();
        if before_kind != after_kind {
            return Err(Refusal::KindChanged {
                before: before_kind,
                after: after_kind,
            });
        }
    }
    validate(after).map_err(schema)?;

    let scope = |doc: &AutoCommit| {
        let mut scope = DocumentScope::describe(id, doc, creator).map_err(schema)?;
        scope.shared_with.clone_from(shared_with);
        Ok::<_, Refusal>(scope)
    };
    let who = format!("{} ({})", principal.user, principal.role);
    let what = after_kind.map_or("document", DocumentKind::as_str);
    if let Some(before) = before {
        if access(principal, &scope(before)?) != Access::Write {
            return Err(Refusal::Forbidden {
                reason: format!("{who} may not change this {what}"),
            });
        }
    }
    if access(principal, &scope(after)?) != Access::Write {
        let reason = match before {
            Some(_) => format!(
                "{who} may not change this {what} into one they may not write \
                 (such as handing it to another user)"
            ),
            None => format!("{who} may not create this {what}"),
        };
        return Err(Refusal::Forbidden { reason });
    }

    match after_kind {
        Some(kind) => field_rules::check_fields(kind, before, after),
        None => Ok(()),
    }
}
