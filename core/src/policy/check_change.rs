//! The server's check of a user's change before it is merged.

use std::collections::BTreeSet;

use automerge::AutoCommit;

use super::{DocumentScope, Principal, Refusal, access, custody, field_rules, log_rules};
use crate::document::{DocumentHeader, KIND_KEY, Touched, validate_written};
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
    check_shared_change(
        principal,
        id,
        before,
        after,
        creator,
        &BTreeSet::new(),
        &Touched::Everything,
    )
}

/// [`check_change`] for a document the server's sharing table shares with `shared_with`, of a
/// change that wrote the root fields `written` ([`Touched::since`] the heads of `before`).
///
/// Fields the change did not write read as they did before it, when they were checked: only
/// the rules of written fields are run (a renamed street does not re-read an account's
/// thousands of log entries). Debug builds run every rule as well and check that both agree.
///
/// Only generic documents use sharing; for records `shared_with` changes nothing.
pub fn check_shared_change(
    principal: &Principal,
    id: &DocumentId,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    creator: Option<&str>,
    shared_with: &BTreeSet<String>,
    written: &Touched,
) -> Result<(), Refusal> {
    let before = before.filter(|doc| !doc.is_empty());
    let change = Change {
        principal,
        id,
        before,
        after,
        creator,
        shared_with,
    };
    let result = change.check(written);
    #[cfg(debug_assertions)]
    if *written != Touched::Everything {
        change.agrees_with_every_rule(&result);
    }
    result
}

/// A user's change to one document, as the checks read it.
struct Change<'a> {
    principal: &'a Principal,
    id: &'a DocumentId,
    before: Option<&'a AutoCommit>,
    after: &'a AutoCommit,
    creator: Option<&'a str>,
    shared_with: &'a BTreeSet<String>,
}

impl Change<'_> {
    /// Debug builds: the rules of the written fields refuse what every rule refuses, except a
    /// field that was already malformed before the change and that the change left alone.
    #[cfg(debug_assertions)]
    fn agrees_with_every_rule(&self, result: &Result<(), Refusal>) {
        let every = self.check(&Touched::Everything);
        let malformed_before = self
            .before
            .is_some_and(|before| crate::document::validate(before).is_err());
        assert!(
            result.is_err() == every.is_err() || (result.is_ok() && malformed_before),
            "the written fields' rules say {result:?}, every rule says {every:?}"
        );
    }

    fn check(&self, written: &Touched) -> Result<(), Refusal> {
        let kind = self.kind(written)?;
        validate_written(self.after, written).map_err(schema)?;
        let (was, now) = self.scopes(kind)?;
        match kind {
            Some(kind) => {
                let (principal, before, after) = (self.principal, self.before, self.after);
                custody::check_custody(principal, kind, was.as_ref(), &now)?;
                field_rules::check_fields(kind, before, after, written)?;
                field_rules::check_office_fields(principal.role, kind, before, after)?;
                log_rules::check_logs(principal, kind, before, after, written)
            }
            None => Ok(()),
        }
    }

    /// The record kind after the change; a change of kind is named as such, before whatever
    /// else it breaks.
    fn kind(&self, written: &Touched) -> Result<Option<DocumentKind>, Refusal> {
        let after = DocumentHeader::read(self.after).map_err(schema)?.kind();
        if let Some(before) = self.before.filter(|_| written.field(KIND_KEY)) {
            let before = DocumentHeader::read(before).map_err(schema)?.kind();
            if before != after {
                return Err(Refusal::KindChanged { before, after });
            }
        }
        Ok(after)
    }

    /// Who may see the document before and after the change; the user must be able to write
    /// both.
    fn scopes(
        &self,
        kind: Option<DocumentKind>,
    ) -> Result<(Option<DocumentScope>, DocumentScope), Refusal> {
        let scope = |doc: &AutoCommit| {
            let mut scope = DocumentScope::describe(self.id, doc, self.creator).map_err(schema)?;
            scope.shared_with.clone_from(self.shared_with);
            Ok::<_, Refusal>(scope)
        };
        let principal = self.principal;
        let who = format!("{} ({})", principal.user, principal.role);
        let what = kind.map_or("document", DocumentKind::as_str);
        let was = self.before.map(scope).transpose()?;
        let now = scope(self.after)?;
        if let Some(was) = &was {
            if access(principal, was) != Access::Write {
                return Err(Refusal::Forbidden {
                    reason: format!("{who} may not change this {what}"),
                });
            }
        }
        if access(principal, &now) != Access::Write {
            let reason = match was {
                Some(_) => format!(
                    "{who} may not change this {what} into one they may not write \
                     (such as handing it to another user)"
                ),
                None => format!("{who} may not create this {what}"),
            };
            return Err(Refusal::Forbidden { reason });
        }
        Ok((was, now))
    }
}

fn schema(err: crate::Error) -> Refusal {
    Refusal::Schema(err.to_string())
}
