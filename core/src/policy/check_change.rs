//! The server's check of a user's change before it is merged.

use std::borrow::Cow;
use std::collections::BTreeSet;

use automerge::AutoCommit;

use super::{DocumentScope, Principal, Refusal, access, custody, field_rules, log_rules};
use crate::document::{DocumentHeader, KIND_KEY, Touched, validate_written_under};
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
    let change = Change {
        principal,
        id,
        before: before.filter(|doc| !doc.is_empty()),
        was: None,
        after,
        creator,
        shared_with,
    };
    change.run(written).map(drop)
}

/// [`check_shared_change`] for the server's engine, which knows who could see the document
/// before the change (it described `before` when it took it in: `before` comes with its
/// scope, when the engine has it), and keeps who can see it after: the scope of `after` is
/// returned, so that nothing reads the document for it again. Debug builds describe `before`
/// as well and stop when the scope given differs.
pub fn check_scoped_change(
    principal: &Principal,
    id: &DocumentId,
    before: Option<(&AutoCommit, Option<&DocumentScope>)>,
    after: &AutoCommit,
    creator: Option<&str>,
    shared_with: &BTreeSet<String>,
    written: &Touched,
) -> Result<DocumentScope, Refusal> {
    let before = before.filter(|(doc, _)| !doc.is_empty());
    let change = Change {
        principal,
        id,
        before: before.map(|(doc, _)| doc),
        was: before.and_then(|(_, scope)| scope),
        after,
        creator,
        shared_with,
    };
    change.run(written)
}

/// A user's change to one document, as the checks read it.
struct Change<'a> {
    principal: &'a Principal,
    id: &'a DocumentId,
    before: Option<&'a AutoCommit>,
    /// The scope of `before`, when the caller described it already.
    was: Option<&'a DocumentScope>,
    after: &'a AutoCommit,
    creator: Option<&'a str>,
    shared_with: &'a BTreeSet<String>,
}

impl Change<'_> {
    /// The check of the rules of the `written` fields; the scope after the change.
    fn run(&self, written: &Touched) -> Result<DocumentScope, Refusal> {
        let result = self.check(written);
        #[cfg(debug_assertions)]
        if *written != Touched::Everything {
            self.agrees_with_every_rule(&result);
        }
        result
    }

    /// Debug builds: the rules of the written fields refuse what every rule refuses, except a
    /// field that was already malformed before the change and that the change left alone.
    #[cfg(debug_assertions)]
    fn agrees_with_every_rule(&self, result: &Result<DocumentScope, Refusal>) {
        let every = self.check(&Touched::Everything);
        let malformed_before = self
            .before
            .is_some_and(|before| crate::document::validate(before).is_err());
        assert!(
            result.is_err() == every.is_err() || (result.is_ok() && malformed_before),
            "the written fields' rules say {result:?}, every rule says {every:?}"
        );
    }

    fn check(&self, written: &Touched) -> Result<DocumentScope, Refusal> {
        let header = self.header(written)?;
        validate_written_under(self.after, header, written).map_err(schema)?;
        let kind = header.kind();
        let (was, now) = self.scopes(kind)?;
        if let Some(kind) = kind {
            let (principal, before, after) = (self.principal, self.before, self.after);
            custody::check_custody(principal, kind, was.as_deref(), &now)?;
            field_rules::check_fields(kind, before, after, written)?;
            field_rules::check_office_fields(principal.role, kind, before, after)?;
            log_rules::check_logs(principal, kind, before, after, written)?;
        }
        Ok(now)
    }

    /// The header after the change; a change of kind is named as such, before whatever else
    /// it breaks.
    fn header(&self, written: &Touched) -> Result<DocumentHeader, Refusal> {
        let header = DocumentHeader::read(self.after).map_err(schema)?;
        if let Some(before) = self.before.filter(|_| written.field(KIND_KEY)) {
            let (before, after) = (
                DocumentHeader::read(before).map_err(schema)?.kind(),
                header.kind(),
            );
            if before != after {
                return Err(Refusal::KindChanged { before, after });
            }
        }
        Ok(header)
    }

    /// Who may see the document before and after the change; the user must be able to write
    /// both.
    fn scopes(
        &self,
        kind: Option<DocumentKind>,
    ) -> Result<(Option<Cow<'_, DocumentScope>>, DocumentScope), Refusal> {
        let shared = |scope: DocumentScope| scope.with_shares(self.shared_with);
        let principal = self.principal;
        let who = format!("{} ({})", principal.user, principal.role);
        let what = kind.map_or("document", DocumentKind::as_str);
        let was = match (self.before, self.was) {
            (Some(_), Some(known)) => {
                #[cfg(debug_assertions)]
                self.agrees_with_before(known);
                Some(Cow::Borrowed(known))
            }
            (before, _) => before
                .map(|doc| DocumentScope::describe(self.id, doc, self.creator))
                .transpose()
                .map_err(schema)?
                .map(|scope| Cow::Owned(shared(scope))),
        };
        let now = DocumentScope::describe_as(self.id, self.after, kind, self.creator)
            .map(shared)
            .map_err(schema)?;
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

    /// Debug builds: the scope the caller gave for `before` is the one it describes.
    #[cfg(debug_assertions)]
    fn agrees_with_before(&self, known: &DocumentScope) {
        let shared = |scope: DocumentScope| scope.with_shares(self.shared_with);
        let described = self
            .before
            .map(|doc| DocumentScope::describe(self.id, doc, self.creator).map(shared));
        let known = shared(known.clone());
        assert!(
            matches!(&described, Some(Ok(scope)) if *scope == known),
            "the scope given for the document before the change, {known:?}, is not its own: \
             {described:?}"
        );
    }
}

fn schema(err: crate::Error) -> Refusal {
    Refusal::Schema(err.to_string())
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::Account;
    use crate::policy::Role;

    /// An account ana owned, handed to ben by an admin: the document after, before, and what
    /// the check is given besides.
    struct HandedOver {
        doc: Document<Account>,
        before: AutoCommit,
        id: DocumentId,
        admin: Principal,
        written: Touched,
    }

    fn handed_over() -> HandedOver {
        let account = Account {
            owner: "ana".into(),
            territory: "north".into(),
            ..Default::default()
        };
        let mut doc = Document::create(ActorId::from([1u8; 16]), 0, &account).expect("create");
        let mut before = doc.automerge().clone();
        doc.change(1, |a| {
            a.owner = "ben".into();
            Ok(())
        })
        .expect("change");
        let written = Touched::since(&mut doc.automerge().clone(), &before.get_heads());
        HandedOver {
            doc,
            before,
            id: DocumentId::from_bytes([4; 16]),
            admin: Principal::new("root", Role::Admin),
            written,
        }
    }

    #[test]
    fn the_scoped_check_returns_the_scope_after_the_change() {
        let h = handed_over();
        let shared = BTreeSet::from(["cleo".to_owned()]);
        let was = DocumentScope::describe(&h.id, &h.before, Some("ana")).expect("scope");
        let now = check_scoped_change(
            &h.admin,
            &h.id,
            Some((&h.before, Some(&was))),
            h.doc.automerge(),
            Some("ana"),
            &shared,
            &h.written,
        )
        .expect("admins hand accounts over");
        let mut described =
            DocumentScope::describe(&h.id, h.doc.automerge(), Some("ana")).expect("scope after");
        described.shared_with = shared;
        assert_eq!(now, described);
        assert_eq!(now.owner.as_deref(), Some("ben"));
    }

    /// The scope given for the document before the change is only as good as the caller's:
    /// debug builds stop when it is not the document's.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "is not its own")]
    fn a_scope_before_that_is_not_the_documents_stops_debug_builds() {
        let h = handed_over();
        let wrong = DocumentScope {
            owner: Some("ben".into()),
            ..DocumentScope::default()
        };
        let _ = check_scoped_change(
            &h.admin,
            &h.id,
            Some((&h.before, Some(&wrong))),
            h.doc.automerge(),
            Some("ana"),
            &BTreeSet::new(),
            &h.written,
        );
    }
}
