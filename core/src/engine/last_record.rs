//! The record the engine read for a commit's summary, kept for the next commit to update.
//!
//! Every commit of a record carries its summary and the record itself (for the lists and the
//! authority). Hydrating the whole record costs every commit time in proportion to everything
//! the record holds (an account's contacts, opportunities and purchase history), for a change
//! that rewrote one line of its address. The engine keeps the record it read last, with the
//! heads it read it at; the next commit reads again only the root fields the engine counted as
//! written since (the commit's `written`), and everything else is taken from the record kept.
//! The engine forgets it when the document changes otherwise (a failed write's rewind, changes
//! another process stored). Debug builds read the whole record as well and stop when the two
//! differ.

use automerge::{AutoCommit, ChangeHash};

use crate::document::{KIND_KEY, SCHEMA_KEY, Touched};
use crate::model::RecordValue;
use crate::reports::{Summary, summarize_with_record, summary_of};

/// The record of the document at some heads.
#[derive(Debug, Default)]
pub(super) struct LastRecord {
    read: Option<(Vec<ChangeHash>, RecordValue)>,
}

impl LastRecord {
    /// The summary and record of `doc` at its `heads` (both `None` for a document this build
    /// cannot summarise, or of a kind without either), `written` naming the root fields the
    /// changes since the last call wrote; keeps the record for the next call.
    pub(super) fn summarize(
        &mut self,
        doc: &AutoCommit,
        heads: &[ChangeHash],
        written: &Touched,
    ) -> (Option<Summary>, Option<RecordValue>) {
        let updated = self
            .read
            .take()
            .and_then(|(at, record)| updated(doc, (&at, heads), record, written));
        let (summary, record) = match updated {
            Some(record) => {
                #[cfg(debug_assertions)]
                agrees_with_whole_record(doc, &record);
                (summary_of(&record), Some(record))
            }
            // A document this build cannot summarise still syncs; reports skip it.
            None => summarize_with_record(doc).unwrap_or_default(),
        };
        self.read = record.clone().map(|record| (heads.to_vec(), record));
        (summary, record)
    }

    /// Forgets the record kept: the document changed other than by the changes counted as
    /// written (a failed write's rewind, changes another process stored).
    pub(super) fn forget(&mut self) {
        self.read = None;
    }
}

/// `record`, read at the heads `at`, updated to `doc` at `now` by reading again the fields
/// `written` names; `None` when it must be read whole: a new document, changes that could not
/// be traced to root fields, or a rewritten header.
fn updated(
    doc: &AutoCommit,
    (at, now): (&[ChangeHash], &[ChangeHash]),
    record: RecordValue,
    written: &Touched,
) -> Option<RecordValue> {
    if at == now {
        return Some(record);
    }
    if at.is_empty() || *written == Touched::Everything || written.any(&[KIND_KEY, SCHEMA_KEY]) {
        return None;
    }
    record.with_written(doc, &|field| written.field(field)).ok()
}

/// Debug builds: the record updated field by field is the record read whole.
#[cfg(debug_assertions)]
fn agrees_with_whole_record(doc: &AutoCommit, record: &RecordValue) {
    let whole = crate::model::RecordValue::of_kind(doc, record.kind());
    assert!(
        whole.as_ref().is_ok_and(|whole| whole.same_as(record)),
        "the record updated with the written fields differs from the record read whole: \
         {record:?} against {whole:?}"
    );
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;

    use super::*;
    use crate::Document;
    use crate::model::{Account, Address};

    fn account() -> Document<Account> {
        let account = Account {
            name: "Alpine Schools".into(),
            ..Default::default()
        };
        Document::create(ActorId::from([1u8; 16]), 0, &account).expect("create")
    }

    fn read(doc: &AutoCommit) -> Account {
        crate::model::hydrate_record(doc).expect("an account")
    }

    /// What the engine does at a write: the fields written since the heads of the last one.
    fn summarize(
        last: &mut LastRecord,
        doc: &Document<Account>,
        since: &[ChangeHash],
    ) -> (Option<Summary>, Option<RecordValue>, Vec<ChangeHash>) {
        let mut doc = doc.automerge().clone();
        let (heads, written) = (doc.get_heads(), Touched::since(&mut doc, since));
        let (summary, record) = last.summarize(&doc, &heads, &written);
        (summary, record, heads)
    }

    fn rename(doc: &mut Document<Account>, name: &str) {
        doc.change(2, |a| {
            a.name = name.into();
            Ok(())
        })
        .expect("change");
    }

    #[test]
    fn a_written_field_is_read_again_and_the_others_kept() {
        let mut doc = account();
        let mut last = LastRecord::default();
        let (_, first, heads) = summarize(&mut last, &doc, &[]);
        assert!(first.is_some());
        doc.change(1, |a| {
            a.address = Address {
                line1: "1 Ringstrasse".into(),
                ..Default::default()
            };
            Ok(())
        })
        .expect("change");
        let (summary, record, heads) = summarize(&mut last, &doc, &heads);
        let record = record.expect("a record");
        let account = record.get::<Account>().expect("an account");
        assert_eq!(account.address.line1, "1 Ringstrasse");
        assert_eq!(*account, read(doc.automerge()));
        rename(&mut doc, "Alpine Schools Ltd");
        let (renamed, record, _) = summarize(&mut last, &doc, &heads);
        assert_ne!(renamed, summary, "the summary names the account");
        let account = record.as_ref().and_then(RecordValue::get::<Account>);
        assert_eq!(account, Some(&read(doc.automerge())));
        assert_eq!(
            account.map(|a| a.address.line1.as_str()),
            Some("1 Ringstrasse")
        );
    }

    #[test]
    fn after_forgetting_or_untraced_changes_the_record_is_read_whole() {
        let mut doc = account();
        let mut last = LastRecord::default();
        let (_, _, heads) = summarize(&mut last, &doc, &[]);
        rename(&mut doc, "Renamed");
        last.forget();
        let (_, record, heads) = summarize(&mut last, &doc, &heads);
        let account = record.as_ref().and_then(RecordValue::get::<Account>);
        assert_eq!(account, Some(&read(doc.automerge())));
        rename(&mut doc, "Renamed again");
        let now = doc.automerge().clone().get_heads();
        let (_, record) = last.summarize(doc.automerge(), &now, &Touched::Everything);
        let account = record.as_ref().and_then(RecordValue::get::<Account>);
        assert_eq!(account.map(|a| a.name.as_str()), Some("Renamed again"));
        assert_ne!(now, heads);
    }

    /// The record kept is only as good as the fields counted as written: debug builds stop
    /// when a written field was not counted.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "differs from the record read whole")]
    fn a_written_field_not_counted_stops_debug_builds() {
        let mut doc = account();
        let mut last = LastRecord::default();
        let (_, _, _) = summarize(&mut last, &doc, &[]);
        rename(&mut doc, "Renamed");
        let now = doc.automerge().clone().get_heads();
        last.summarize(doc.automerge(), &now, &Touched::nothing());
    }
}
