//! A new document made by a user without a document engine of its own: what the engine does when
//! a user's [`ServerEdit`] creates a document nobody holds yet, as one pure function, so that
//! many creations (an import) can share one store transaction.

use std::sync::Arc;

use automerge::AutoCommit;

use super::document_engine::{Body, commit_meta, write_changes};
use super::{Author, Committed, EditError, EngineConfig, OutboxEntry, ServerEdit};
use crate::DocumentId;
use crate::document::Touched;
use crate::policy::{DocumentScope, Principal, check_shared_change};
use crate::store::WriteBatch;

/// The writes that store a new document, and the event to publish once they are durable.
#[derive(Debug)]
pub struct Creation {
    /// The document's changes with its metadata, and its report summary: what the engine would
    /// ask to be written.
    pub writes: WriteBatch,
    /// What the engine would publish once the writes are durable.
    pub committed: Committed,
}

impl Creation {
    /// Makes document `id`, which nobody holds yet, by `author`'s `edit` at `now` (unix ms):
    /// the edit runs on an empty document with the server's actor, the result is checked as
    /// `author`'s change (access, schema, fields the kind does not declare), and the metadata,
    /// summary and committed event are what the engine makes for the same creation.
    ///
    /// Only for ids no engine is running for (fresh ones): the caller commits the writes, then
    /// publishes the event.
    ///
    /// ```
    /// use automerge::ActorId;
    /// use itinera_core::DocumentId;
    /// use itinera_core::engine::{Creation, EngineConfig, ServerEdit};
    /// use itinera_core::model::DocumentKind;
    /// use itinera_core::policy::{Principal, Role};
    /// use itinera_core::protocol::PeerId;
    ///
    /// let config = EngineConfig::new(PeerId::new("server"), ActorId::from([1u8; 16]));
    /// let olga = Principal::new("olga", Role::Office);
    /// let lead = ServerEdit::new(|doc| {
    ///     autosurgeon::reconcile_prop(doc, automerge::ROOT, "name", "Márta Szabó")?;
    ///     Ok(())
    /// })
    /// .or_create(DocumentKind::Lead);
    /// let made = Creation::make(&config, DocumentId::from_bytes([5; 16]), &olga, lead, 1_000).unwrap();
    /// assert_eq!(made.committed.title, "Márta Szabó");
    /// assert!(made.committed.created());
    /// ```
    pub fn make(
        config: &EngineConfig,
        id: DocumentId,
        author: &Principal,
        edit: ServerEdit,
        now: i64,
    ) -> Result<Self, EditError> {
        let mut doc = AutoCommit::new().with_actor(config.actor.clone());
        edit.apply(&mut doc, &config.actor, now)?;
        let creator = author.user.as_str();
        let (shared, written) = (Default::default(), Touched::Everything);
        check_shared_change(author, &id, None, &doc, Some(creator), &shared, &written)?;
        let scope = DocumentScope::describe(&id, &doc, Some(creator))?;
        let title = crate::document::title_of(&doc);
        let heads = doc.get_heads();
        // A document this build cannot summarise still syncs; reports skip it.
        let (summary, record) = crate::reports::summarize_with_record(&doc).unwrap_or_default();
        let meta = commit_meta(&scope, Some(creator), &title, heads.clone(), now);
        let mut writes = WriteBatch::new();
        // As in the engine: the need for a decision is durable with the new document.
        let outbox = (config.decides)(scope.kind).then(|| {
            let entry = OutboxEntry::new(id, &heads, now);
            writes.put_value(&entry.key, entry.value());
            entry
        });
        write_changes(
            &mut writes,
            id,
            Body::Increment(doc.save_after(&[])),
            meta,
            summary.as_ref(),
        );
        let mut committed = Committed {
            document: id,
            kind: scope.kind,
            heads,
            previous_heads: Vec::new(),
            authors: vec![Author::User(author.user.clone())],
            written,
            scope,
            title,
            summary,
            content: None,
            record,
            outbox,
        };
        if (config.carry_content)(&committed) {
            committed.content = Some(Arc::new(doc));
        }
        Ok(Self { writes, committed })
    }
}

#[cfg(test)]
mod tests {
    use automerge::ActorId;
    use autosurgeon::reconcile_prop;

    use super::*;
    use crate::engine::{DocumentEngine, Input, Output, StoredDocument};
    use crate::model::DocumentKind;
    use crate::policy::Role;
    use crate::protocol::PeerId;

    fn config() -> EngineConfig {
        EngineConfig {
            carry_content: |committed| committed.kind == Some(DocumentKind::Account),
            decides: |kind| kind == Some(DocumentKind::Account),
            ..EngineConfig::new(PeerId::new("server"), ActorId::from([1u8; 16]))
        }
    }

    fn account(owner: &'static str) -> ServerEdit {
        ServerEdit::new(move |doc| {
            reconcile_prop(doc, automerge::ROOT, "name", "Lakeside Schools")?;
            reconcile_prop(doc, automerge::ROOT, "owner", owner)?;
            reconcile_prop(doc, automerge::ROOT, "territory", "north")?;
            Ok(())
        })
        .or_create(DocumentKind::Account)
    }

    /// What the engine writes and publishes for the same creation.
    fn through_engine(
        id: DocumentId,
        author: &Principal,
        edit: ServerEdit,
    ) -> (WriteBatch, Committed) {
        let mut engine = DocumentEngine::load(config(), id, StoredDocument::default());
        let author = Some(Arc::new(author.clone()));
        engine.handle(
            1_000,
            Input::Edit {
                edit_id: 1,
                author,
                edit,
                with: WriteBatch::new(),
            },
        );
        let mut outputs = engine.take_outputs().into_iter();
        let Some(Output::Write { write, batch }) = outputs.next() else {
            panic!("the engine writes first");
        };
        engine.handle(
            1_001,
            Input::WriteFinished {
                write,
                result: Ok(()),
            },
        );
        let committed = engine
            .take_outputs()
            .into_iter()
            .find_map(|output| match output {
                Output::Committed(committed) => Some(committed),
                _ => None,
            })
            .expect("a committed event");
        (batch, (*committed).clone())
    }

    #[test]
    fn a_creation_writes_and_publishes_what_the_engine_does() {
        let id = DocumentId::from_bytes([4; 16]);
        let sam = Principal::new("sam", Role::Sales);
        let made = Creation::make(&config(), id, &sam, account("sam"), 1_000).expect("made");
        let (batch, committed) = through_engine(id, &sam, account("sam"));
        assert_eq!(made.writes, batch);
        let made = made.committed;
        assert_eq!(
            (
                &made.heads,
                &made.scope,
                &made.title,
                &made.summary,
                &made.authors,
                &made.outbox
            ),
            (
                &committed.heads,
                &committed.scope,
                &committed.title,
                &committed.summary,
                &committed.authors,
                &committed.outbox
            )
        );
        assert_eq!(
            (made.kind, made.previous_heads.len()),
            (Some(DocumentKind::Account), 0)
        );
        assert_eq!(made.scope.owner.as_deref(), Some("sam"));
        assert!(made.content.is_some() && committed.content.is_some());
        assert!(made.summary.is_some());
    }

    #[test]
    fn a_creation_is_checked_as_the_authors_change() {
        let id = DocumentId::from_bytes([4; 16]);
        let sam = Principal::new("sam", Role::Sales);
        let someone_elses = Creation::make(&config(), id, &sam, account("sofia"), 1_000);
        assert!(
            matches!(someone_elses, Err(EditError::Refused(_))),
            "{someone_elses:?}"
        );
        let guide = Principal::new("gus", Role::Guide);
        assert!(matches!(
            Creation::make(&config(), id, &guide, account("gus"), 1_000),
            Err(EditError::Refused(_))
        ));
        let undeclared = ServerEdit::new(|doc| {
            reconcile_prop(doc, automerge::ROOT, "salary", 1)?;
            Ok(())
        })
        .or_create(DocumentKind::Lead);
        let olga = Principal::new("olga", Role::Office);
        assert!(Creation::make(&config(), id, &olga, undeclared, 1_000).is_err());
    }

    #[test]
    fn an_edit_that_does_not_say_what_to_create_finds_nothing() {
        let olga = Principal::new("olga", Role::Office);
        let edit = ServerEdit::new(|_| Ok(()));
        let made = Creation::make(
            &config(),
            DocumentId::from_bytes([4; 16]),
            &olga,
            edit,
            1_000,
        );
        assert!(matches!(made, Err(EditError::NotFound)));
    }
}
