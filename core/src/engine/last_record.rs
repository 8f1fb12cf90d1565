//! The record the engine read for a commit's summary, kept for the next commit to update.
//!
//! Every commit of a record carries its summary and the record itself (for the lists and the
//! authority). Hydrating the whole record costs every commit time in proportion to everything
//! the record holds (an account's contacts, opportunities and purchase history), for a change
//! that rewrote one line of its address. The engine keeps the record it read last, with the
//! heads it read it at; the next commit reads again only the root fields written since
//! ([`Touched::since`] those heads), and everything else is taken from the record kept.
//! Debug builds read the whole record as well and stop when the two differ.

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
    /// The summary and record of `doc` as it is now (both `None` for a document this build
    /// cannot summarise, or of a kind without either); keeps the record for the next call.
    pub(super) fn summarize(
        &mut self,
        doc: &mut AutoCommit,
    ) -> (Option<Summary>, Option<RecordValue>) {
        let heads = doc.get_heads();
        let updated = self
            .read
            .take()
            .and_then(|(at, record)| updated(doc, &at, record));
        let (summary, record) = match updated {
            Some(record) => {
                #[cfg(debug_assertions)]
                agrees_with_whole_record(doc, &record);
                (summary_of(&record), Some(record))
            }
            // A document this build cannot summarise still syncs; reports skip it.
            None => summarize_with_record(doc).unwrap_or_default(),
        };
        self.read = record.clone().map(|record| (heads, record));
        (summary, record)
    }

    /// Forgets the record kept: the document went back to heads before it (a failed write).
    pub(super) fn forget(&mut self) {
        self.read = None;
    }
}

/// `record`, read at the heads `at`, updated to `doc` as it is now; `None` when it must be
/// read whole: `doc` does not hold those heads, or the changes since could not be traced to
/// root fields or rewrote the header.
fn updated(doc: &mut AutoCommit, at: &[ChangeHash], record: RecordValue) -> Option<RecordValue> {
    if at.is_empty() || at.iter().any(|head| doc.get_change_by_hash(head).is_none()) {
        return None;
    }
    if doc.get_heads() == at {
        return Some(record);
    }
    let written = Touched::since(doc, at);
    if written == Touched::Everything || written.any(&[KIND_KEY, SCHEMA_KEY]) {
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

    #[test]
    fn a_written_field_is_read_again_and_the_others_kept() {
        let mut doc = account();
        let mut last = LastRecord::default();
        let (_, first) = last.summarize(&mut doc.automerge().clone());
        assert!(first.is_some());
        doc.change(1, |a| {
            a.address = Address {
                line1: "1 Ringstrasse".into(),
                ..Default::default()
            };
            Ok(())
        })
        .expect("change");
        let (summary, record) = last.summarize(&mut doc.automerge().clone());
        let record = record.expect("a record");
        let account = record.get::<Account>().expect("an account");
        assert_eq!(account.address.line1, "1 Ringstrasse");
        assert_eq!(*account, read(doc.automerge()));
        doc.change(2, |a| {
            a.name = "Alpine Schools Ltd".into();
            Ok(())
        })
        .expect("change");
        let (renamed, record) = last.summarize(&mut doc.automerge().clone());
        assert_ne!(renamed, summary, "the summary names the account");
        let account = record.as_ref().and_then(RecordValue::get::<Account>);
        assert_eq!(account.map(|a| a.name.as_str()), Some("Alpine Schools Ltd"));
        assert_eq!(
            account.map(|a| a.address.line1.as_str()),
            Some("1 Ringstrasse")
        );
    }

    #[test]
    fn a_record_kept_at_heads_the_document_no_longer_holds_is_read_whole() {
        let mut doc = account();
        let mut last = LastRecord::default();
        let stale = account();
        let (_, record) = last.summarize(&mut stale.automerge().clone());
        last.read = record.map(|record| (vec![ChangeHash([7; 32])], record));
        doc.change(1, |a| {
            a.name = "Renamed".into();
            Ok(())
        })
        .expect("change");
        let (_, record) = last.summarize(&mut doc.automerge().clone());
        let account = record.as_ref().and_then(RecordValue::get::<Account>);
        assert_eq!(account, Some(&read(doc.automerge())));
    }
}
