//! Loading bytes that are not a well-formed document of the expected kind gives a typed error
//! naming the kind and the field, and never panics.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjType, ROOT, ReadDoc};
use itinera_core::document::{DocumentHeader, validate};
use itinera_core::model::*;
use itinera_core::{Document, Error};
use proptest::prelude::*;

fn account_bytes() -> Vec<u8> {
    let mut account = Account {
        name: "Harbour Tours".into(),
        ..Default::default()
    };
    account.contacts.insert(
        "c-1".into(),
        Contact {
            first_name: "Jo".into(),
            ..Default::default()
        },
    );
    Document::create(ActorId::from([9u8; 16]), 0, &account)
        .expect("create")
        .save()
}

/// A raw Automerge document with an Itinera header, to break on purpose.
fn raw(kind: &str, schema: u64) -> AutoCommit {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, "kind", kind).expect("put");
    doc.put(ROOT, "schema", schema).expect("put");
    doc
}

#[test]
fn bytes_that_are_not_a_document_are_refused() {
    let err = Document::<Account>::load(b"definitely not automerge").expect_err("refused");
    assert!(
        matches!(
            err,
            Error::NotADocument {
                expected: Some(DocumentKind::Account),
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_field_of_the_wrong_type_is_named_by_path() {
    let mut doc = AutoCommit::load(&account_bytes()).expect("load");
    let contacts = match doc.get(ROOT, "contacts").expect("get") {
        Some((_, id)) => id,
        None => panic!("contacts missing"),
    };
    let contact = match doc.get(&contacts, "c-1").expect("get") {
        Some((_, id)) => id,
        None => panic!("contact missing"),
    };
    doc.put(&contact, "emails", "jo@example.org").expect("put");
    let err = Document::<Account>::load(&doc.save()).expect_err("refused");
    match err {
        Error::Malformed { kind, path, reason } => {
            assert_eq!(kind, DocumentKind::Account);
            assert_eq!(path.to_string(), "/contacts/c-1/emails");
            assert!(reason.contains("string"), "{reason}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[test]
fn a_missing_field_is_named_by_path() {
    let mut doc = AutoCommit::load(&account_bytes()).expect("load");
    doc.delete(ROOT, "territory").expect("delete");
    let err = Document::<Account>::load(&doc.save()).expect_err("refused");
    assert!(
        matches!(&err, Error::Malformed { path, .. } if path.to_string() == "/territory"),
        "{err}"
    );
}

#[test]
fn an_unknown_enum_value_is_named_by_path() {
    let mut doc = raw("lead", 1);
    let lead = Document::create(ActorId::random(), 0, &Lead::default())
        .expect("create")
        .save();
    doc.merge(&mut AutoCommit::load(&lead).expect("load"))
        .expect("merge");
    doc.put(ROOT, "status", "maybe").expect("put");
    let err = Document::<Lead>::load(&doc.save()).expect_err("refused");
    assert!(
        matches!(&err, Error::Malformed { path, .. } if path.to_string() == "/status"),
        "{err}"
    );
}

#[test]
fn the_wrong_kind_is_refused() {
    let err = Document::<Booking>::load(&account_bytes()).expect_err("refused");
    assert!(
        matches!(err, Error::WrongKind { expected: DocumentKind::Booking, ref found } if found == "account")
    );
}

#[test]
fn a_generic_document_is_recognised_and_not_taken_for_a_record() {
    let mut doc = AutoCommit::new();
    doc.put_object(ROOT, "todos", ObjType::List).expect("put");
    assert_eq!(
        validate(&doc).expect("generic is fine"),
        DocumentHeader::Generic
    );
    assert!(matches!(
        Document::<Account>::load(&doc.save()),
        Err(Error::WrongKind {
            expected: DocumentKind::Account,
            ..
        })
    ));
}

#[test]
fn an_unknown_kind_and_a_newer_schema_are_refused() {
    assert!(
        matches!(validate(&raw("spaceship", 1)), Err(Error::UnknownKind(kind)) if kind == "spaceship")
    );
    let account = AutoCommit::load(&account_bytes()).expect("load");
    let mut newer = account.clone();
    newer.put(ROOT, "schema", 99u64).expect("put");
    assert!(matches!(
        validate(&newer),
        Err(Error::UnsupportedSchema {
            kind: DocumentKind::Account,
            found: 99,
            supported: 1
        })
    ));
}

#[test]
fn a_merge_that_would_break_the_record_is_refused_and_changes_nothing() {
    let mut good = Document::<Account>::load(&account_bytes()).expect("load");
    let mut evil_raw = good.automerge().clone();
    evil_raw.put(ROOT, "name", 42i64).expect("put");
    let before = good.heads();
    let increment = evil_raw.save_after(&before);
    let err = good.load_incremental(&increment).expect_err("refused");
    assert!(
        matches!(&err, Error::Malformed { path, .. } if path.to_string() == "/name"),
        "{err}"
    );
    assert_eq!(good.heads(), before);
    assert_eq!(good.record().expect("record").name, "Harbour Tours");
}

#[test]
fn every_kind_validates_when_created_from_its_default() {
    fn roundtrip<R: Record + Default>() {
        let bytes = Document::create(ActorId::random(), 0, &R::default())
            .expect("create")
            .save();
        let doc = AutoCommit::load(&bytes).expect("load");
        assert_eq!(validate(&doc).expect("valid").kind(), Some(R::KIND));
        assert_eq!(
            Document::<R>::load(&bytes)
                .expect("load")
                .record()
                .expect("record"),
            R::default()
        );
    }
    roundtrip::<Catalog>();
    roundtrip::<StockLocation>();
    roundtrip::<Transfer>();
    roundtrip::<PurchaseOrder>();
    roundtrip::<Departure>();
    roundtrip::<FieldLog>();
    roundtrip::<Booking>();
    roundtrip::<Invoice>();
    roundtrip::<Journal>();
    roundtrip::<Employee>();
    roundtrip::<HrRecord>();
    roundtrip::<Account>();
    roundtrip::<Lead>();
    roundtrip::<Campaign>();
    roundtrip::<Ticket>();
    roundtrip::<UserIndex>();
    roundtrip::<Alerts>();
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Document::<Account>::load(&bytes);
        if let Ok(doc) = AutoCommit::load(&bytes) {
            let _ = validate(&doc);
        }
    }

    #[test]
    fn corrupted_documents_never_panic(
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut bytes = account_bytes();
        for (at, value) in flips {
            let at = at.index(bytes.len());
            bytes[at] = value;
        }
        let keep = cut.index(bytes.len() + 1);
        bytes.truncate(keep.max(1));
        match Document::<Account>::load(&bytes) {
            Ok(doc) => { doc.record().map_err(|e| TestCaseError::fail(e.to_string()))?; }
            Err(Error::NotADocument { .. } | Error::Malformed { .. } | Error::WrongKind { .. }
                | Error::UnknownKind(_) | Error::UnsupportedSchema { .. }) => {}
            Err(other) => prop_assert!(false, "unexpected error {other}"),
        }
    }
}

/// An account document to add things to.
fn account_doc() -> AutoCommit {
    Document::<Account>::load(&account_bytes())
        .expect("load")
        .into_automerge()
}

#[test]
fn fields_a_kind_does_not_define_are_refused_where_they_are() {
    let mut doc = account_doc();
    doc.put(ROOT, "smuggled", "x").expect("put");
    let err = validate(&doc).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "account document is malformed at /smuggled: not a field of this record"
    );

    let mut doc = account_doc();
    let contacts = doc.get(ROOT, "contacts").expect("get").expect("contacts").1;
    let contact = doc.get(&contacts, "c-1").expect("get").expect("c-1").1;
    doc.put(&contact, "password", "hunter2").expect("put");
    let err = validate(&doc).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "account document is malformed at /contacts/c-1/password: not a field of this record"
    );
    // The document's own header is not a field, and is allowed.
    assert!(validate(&account_doc()).is_ok());
}

#[test]
fn text_keys_and_collections_have_a_size_limit() {
    let mut doc = account_doc();
    doc.put(ROOT, "name", "x".repeat(MAX_STRING_BYTES + 1))
        .expect("put");
    let err = validate(&doc).expect_err("refused");
    assert!(err.to_string().contains("/name"), "{err}");
    assert!(err.to_string().contains("more than"), "{err}");

    let mut doc = account_doc();
    doc.put(ROOT, "name", "x".repeat(MAX_STRING_BYTES))
        .expect("put");
    assert!(validate(&doc).is_ok(), "the limit itself is allowed");

    let mut doc = account_doc();
    let tags = doc.get(ROOT, "tags").expect("get").expect("tags").1;
    doc.put(&tags, "t".repeat(MAX_KEY_BYTES + 1), true)
        .expect("put");
    let err = validate(&doc).expect_err("refused");
    assert!(err.to_string().contains("/tags"), "{err}");

    let mut doc = account_doc();
    let notes = doc.get(ROOT, "notes").expect("get").expect("notes").1;
    doc.splice_text(&notes, 0, 0, &"n".repeat(MAX_TEXT_CHARS + 1))
        .expect("splice");
    let err = validate(&doc).expect_err("refused");
    assert!(err.to_string().contains("/notes"), "{err}");

    let mut doc = account_doc();
    let tags = doc.get(ROOT, "tags").expect("get").expect("tags").1;
    for n in 0..=MAX_ENTRIES {
        doc.put(&tags, format!("t{n}"), true).expect("put");
    }
    let err = validate(&doc).expect_err("refused");
    assert!(err.to_string().contains("entries"), "{err}");
}
