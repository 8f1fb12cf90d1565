//! Append-only logs stay append-only, and say truthfully who wrote them.
//!
//! Activities, stage changes, consent events, incidents, acceptances, leave, ticket messages and
//! campaign responses are logs: once an entry is written it is never rewritten or removed (a
//! task's `due` and `done`, and what an activity is `related` to, excepted), and a new entry that names who wrote it (`actor`) must
//! name the user whose session sends it. Stock movements are a ledger with rules of their own
//! (`field_rules`); the writer of a new movement is checked here too.

use automerge::AutoCommit;

use super::document_scope::records;
use super::{Principal, Refusal};
use crate::document::Touched;
use crate::model::{
    Account, ActivityKind, Campaign, DocumentKind as Kind, Employee, FieldLog, FieldPath, Log,
    StockLocation, Ticket,
};

/// Checks every log of a record of `kind` that `principal` changed from `before` to `after`.
pub(super) fn check_logs(
    principal: &Principal,
    kind: Kind,
    before: Option<&AutoCommit>,
    after: &AutoCommit,
    written: &Touched,
) -> Result<(), Refusal> {
    // A log the change did not write is as it was; the rest of the record is not read.
    if !written.any(log_fields(kind)) {
        return Ok(());
    }
    let logs = Logs {
        kind,
        user: &principal.user,
    };
    match kind {
        Kind::Account => {
            let (before, after) = records::<Account>(before, after)?;
            let before = before.unwrap_or_default();
            logs.check(
                &root("activities"),
                &before.activities,
                &after.activities,
                |activity| Some(&activity.actor),
                |was, now| {
                    // A task's due date and whether it is done are registers, and what an
                    // activity is about follows a merge of contacts.
                    let mut now = now.clone();
                    if was.activity_kind == ActivityKind::Task {
                        now.due = was.due;
                        now.done = was.done;
                    }
                    now.related.clone_from(&was.related);
                    *was == now
                },
            )?;
            for (key, now) in after.contacts.iter() {
                let empty = Log::default();
                let was = before.contacts.get(key).map_or(&empty, |c| &c.consent);
                let path = root("contacts").key(key).key("consent");
                logs.check(&path, was, &now.consent, |_| None, PartialEq::eq)?;
            }
            for (key, was) in before.contacts.iter() {
                if !after.contacts.contains_key(key) && !was.consent.is_empty() {
                    return Err(logs.rewritten(&root("contacts").key(key).key("consent")));
                }
            }
            for (key, now) in after.opportunities.iter() {
                let empty = Log::default();
                let was = before
                    .opportunities
                    .get(key)
                    .map_or(&empty, |o| &o.stage_history);
                let path = root("opportunities").key(key).key("stage_history");
                logs.check(
                    &path,
                    was,
                    &now.stage_history,
                    |change| Some(&change.actor),
                    PartialEq::eq,
                )?;
            }
            Ok(())
        }
        Kind::FieldLog => {
            let (before, after) = records::<FieldLog>(before, after)?;
            let before = before.unwrap_or_default();
            logs.check(
                &root("incidents"),
                &before.incidents,
                &after.incidents,
                |incident| Some(&incident.actor),
                PartialEq::eq,
            )?;
            logs.check(
                &root("acceptances"),
                &before.acceptances,
                &after.acceptances,
                |_| None,
                PartialEq::eq,
            )
        }
        Kind::Stock => {
            let (before, after) = records::<StockLocation>(before, after)?;
            let before = before.unwrap_or_default();
            logs.check_writers(
                &root("movements"),
                &before.movements,
                &after.movements,
                |m| &m.actor,
            )
        }
        Kind::Employee => {
            let (before, after) = records::<Employee>(before, after)?;
            let before = before.unwrap_or_default();
            logs.check(
                &root("leave"),
                &before.leave,
                &after.leave,
                |_| None,
                PartialEq::eq,
            )
        }
        Kind::Ticket => {
            let (before, after) = records::<Ticket>(before, after)?;
            let before = before.unwrap_or_default();
            // A message's author may be the customer whose words staff record: not checked.
            logs.check(
                &root("messages"),
                &before.messages,
                &after.messages,
                |_| None,
                PartialEq::eq,
            )
        }
        Kind::Campaign => {
            let (before, after) = records::<Campaign>(before, after)?;
            let before = before.unwrap_or_default();
            logs.check(
                &root("responses"),
                &before.responses,
                &after.responses,
                |_| None,
                PartialEq::eq,
            )
        }
        _ => Ok(()),
    }
}

/// The root fields holding the logs of a record of `kind` (contacts hold consent logs,
/// opportunities their stage history).
fn log_fields(kind: Kind) -> &'static [&'static str] {
    match kind {
        Kind::Account => &["activities", "contacts", "opportunities"],
        Kind::FieldLog => &["incidents", "acceptances"],
        Kind::Stock => &["movements"],
        Kind::Employee => &["leave"],
        Kind::Ticket => &["messages"],
        Kind::Campaign => &["responses"],
        _ => &[],
    }
}

fn root(name: &str) -> FieldPath {
    FieldPath::root().key(name)
}

/// The logs of one change by one user.
struct Logs<'a> {
    kind: Kind,
    user: &'a str,
}

impl Logs<'_> {
    /// Every entry of `before` is in `after`, the same (by `same`), and every new entry naming
    /// a writer (`writer`) names this user.
    fn check<T: autosurgeon::Reconcile + autosurgeon::Hydrate>(
        &self,
        path: &FieldPath,
        before: &Log<T>,
        after: &Log<T>,
        writer: impl Fn(&T) -> Option<&String>,
        same: impl Fn(&T, &T) -> bool,
    ) -> Result<(), Refusal> {
        for (key, was) in before.iter() {
            match after.get(key) {
                Some(now) if same(was, now) => {}
                _ => return Err(self.rewritten(&path.clone().key(key))),
            }
        }
        for (key, entry) in after.iter() {
            if before.get(key).is_some() {
                continue;
            }
            if let Some(name) = writer(entry) {
                if name != self.user {
                    return Err(self.impersonated(&path.clone().key(key), name));
                }
            }
        }
        Ok(())
    }

    /// Every new entry names this user as its writer.
    fn check_writers<T: autosurgeon::Reconcile + autosurgeon::Hydrate>(
        &self,
        path: &FieldPath,
        before: &Log<T>,
        after: &Log<T>,
        writer: impl Fn(&T) -> &String,
    ) -> Result<(), Refusal> {
        for (key, entry) in after.iter() {
            let name = writer(entry);
            if before.get(key).is_none() && name != self.user {
                return Err(self.impersonated(&path.clone().key(key), name));
            }
        }
        Ok(())
    }

    fn rewritten(&self, path: &FieldPath) -> Refusal {
        Refusal::Rule {
            kind: self.kind,
            path: path.clone(),
            reason: "log entries are never rewritten or removed; add a new entry instead".into(),
        }
    }

    fn impersonated(&self, path: &FieldPath, name: &str) -> Refusal {
        Refusal::Rule {
            kind: self.kind,
            path: path.clone().key("actor"),
            reason: format!(
                "an entry written by {} cannot name {name:?} as its writer",
                self.user
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::{Activity, Incident, LogKey, Record, Severity};
    use crate::policy::Role;

    fn edited<R: Record>(record: &R, edit: impl FnOnce(&mut R)) -> (AutoCommit, AutoCommit) {
        let mut doc = Document::create(ActorId::from([1u8; 16]), 0, record).expect("create");
        let before = doc.automerge().clone();
        doc.change(1, |record| {
            edit(record);
            Ok(())
        })
        .expect("change");
        (before, doc.into_automerge())
    }

    fn activity(actor: &str, kind: ActivityKind) -> Activity {
        Activity {
            activity_kind: kind,
            subject: "Call about the Danube trip".into(),
            actor: actor.into(),
            ..Default::default()
        }
    }

    fn account_with(activity: Activity) -> Account {
        let mut account = Account {
            owner: "sam".into(),
            ..Default::default()
        };
        account
            .activities
            .append(LogKey::new(1, "a"), activity)
            .expect("append");
        account
    }

    #[test]
    fn an_activity_is_never_rewritten_but_a_task_is_done() {
        let sam = Principal::new("sam", Role::Sales);
        let call = account_with(activity("sam", ActivityKind::Call));
        let (before, after) = edited(&call, |a| {
            if let Some(entry) = a.activities.get_mut(LogKey::new(1, "a").as_str()) {
                entry.subject = "Nothing happened".into();
            }
        });
        let refused = check_logs(
            &sam,
            Kind::Account,
            Some(&before),
            &after,
            &Touched::Everything,
        )
        .expect_err("edit");
        assert!(refused.to_string().contains("never rewritten"), "{refused}");
        let (before, erased) = edited(&call, |a| a.activities = Log::default());
        assert!(
            check_logs(
                &sam,
                Kind::Account,
                Some(&before),
                &erased,
                &Touched::Everything
            )
            .is_err()
        );

        let task = account_with(activity("sam", ActivityKind::Task));
        let (before, done) = edited(&task, |a| {
            if let Some(entry) = a.activities.get_mut(LogKey::new(1, "a").as_str()) {
                entry.done = true;
            }
        });
        assert_eq!(
            check_logs(
                &sam,
                Kind::Account,
                Some(&before),
                &done,
                &Touched::Everything
            ),
            Ok(())
        );
    }

    #[test]
    fn a_new_entry_names_the_user_who_wrote_it() {
        let sam = Principal::new("sam", Role::Sales);
        let (before, after) = edited(&account_with(activity("sam", ActivityKind::Call)), |a| {
            a.activities
                .append(LogKey::new(2, "b"), activity("olga", ActivityKind::Note))
                .expect("append");
        });
        let refused = check_logs(
            &sam,
            Kind::Account,
            Some(&before),
            &after,
            &Touched::Everything,
        )
        .expect_err("as olga");
        assert!(
            refused.to_string().contains("cannot name \"olga\""),
            "{refused}"
        );
        let (before, after) = edited(&account_with(activity("sam", ActivityKind::Call)), |a| {
            a.activities
                .append(LogKey::new(2, "b"), activity("sam", ActivityKind::Note))
                .expect("append");
        });
        assert_eq!(
            check_logs(
                &sam,
                Kind::Account,
                Some(&before),
                &after,
                &Touched::Everything
            ),
            Ok(())
        );
    }

    #[test]
    fn incidents_in_a_field_log_are_kept_and_signed() {
        let gus = Principal::new("gus", Role::Guide);
        let mut log = FieldLog::default();
        log.incidents
            .append(
                LogKey::new(1, "a"),
                Incident {
                    severity: Severity::default(),
                    summary: "Bus late".into(),
                    actor: "gus".into(),
                    at: 1,
                },
            )
            .expect("append");
        let (before, erased) = edited(&log, |l| l.incidents = Log::default());
        assert!(
            check_logs(
                &gus,
                Kind::FieldLog,
                Some(&before),
                &erased,
                &Touched::Everything
            )
            .is_err()
        );
        let (before, forged) = edited(&log, |l| {
            l.incidents
                .append(
                    LogKey::new(2, "b"),
                    Incident {
                        severity: Severity::default(),
                        summary: "Guide was late".into(),
                        actor: "ida".into(),
                        at: 2,
                    },
                )
                .expect("append");
        });
        assert!(
            check_logs(
                &gus,
                Kind::FieldLog,
                Some(&before),
                &forged,
                &Touched::Everything
            )
            .is_err()
        );
    }
}
