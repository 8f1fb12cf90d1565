//! The merge behaviour people rely on, one named scenario each: two phones edit offline, then
//! merge.

use automerge::ActorId;
use itinera_core::document::FieldValue;
use itinera_core::model::*;
use itinera_core::{Document, FieldPath};

const OFFICE: [u8; 16] = [1; 16];
const PHONE_A: [u8; 16] = [2; 16];
const PHONE_B: [u8; 16] = [3; 16];

/// The document as head office created it, and two phones that took a copy before going offline.
fn office_and_two_phones<R: Record>(record: &R) -> (Document<R>, Document<R>, Document<R>) {
    let mut office = Document::create(ActorId::from(OFFICE), 0, record).expect("create");
    let a = office.fork(ActorId::from(PHONE_A));
    let b = office.fork(ActorId::from(PHONE_B));
    (office, a, b)
}

/// Both phones come back online: each takes the other's changes.
fn sync_both<R: Record>(a: &mut Document<R>, b: &mut Document<R>) {
    let mut copy_of_b = b.fork(ActorId::from(PHONE_B));
    a.merge(&mut copy_of_b).expect("merge b into a");
    let mut copy_of_a = a.fork(ActorId::from(PHONE_A));
    b.merge(&mut copy_of_a).expect("merge a into b");
    assert_eq!(a.heads(), b.heads());
}

fn consumption(guide: &str, quantity: i64, at: i64) -> StockMovement {
    StockMovement {
        item: "water".into(),
        quantity,
        reason: MovementReason::Consumption,
        reference: Some("departure-1".into()),
        actor: guide.into(),
        at,
    }
}

#[test]
fn two_guides_consuming_offline_both_count() {
    let mut kit = StockLocation {
        name: "Van 2".into(),
        ..Default::default()
    };
    kit.stock_item("water");
    let (mut office, _, _) = office_and_two_phones(&kit);
    office
        .change(1, |kit| {
            let receipt = StockMovement {
                quantity: 24,
                reason: MovementReason::Receipt,
                ..consumption("office", 24, 1)
            };
            kit.post_movement(LogKey::new(1, "office-1"), receipt)
        })
        .expect("receipt");
    let mut anna = office.fork(ActorId::from(PHONE_A));
    let mut ben = office.fork(ActorId::from(PHONE_B));

    anna.change(10, |kit| {
        kit.post_movement(LogKey::new(10, "anna-1"), consumption("anna", -3, 10))
    })
    .expect("anna consumes");
    ben.change(11, |kit| {
        kit.post_movement(LogKey::new(11, "ben-1"), consumption("ben", -3, 11))
    })
    .expect("ben consumes");
    sync_both(&mut anna, &mut ben);

    let merged = anna.record().expect("record");
    assert_eq!(merged.quantity("water"), 24 - 6);
    assert_eq!(merged.movements.len(), 3, "every movement is kept");
    assert_eq!(ben.record().expect("record"), merged);
}

#[test]
fn a_note_edited_on_two_phones_keeps_both_insertions() {
    let booking = Booking {
        notes: "Window seat.".into(),
        ..Default::default()
    };
    let (_, mut a, mut b) = office_and_two_phones(&booking);

    a.change(1, |booking| {
        booking.notes.splice(0, 0, "Vegetarian. ");
        Ok(())
    })
    .expect("edit on a");
    b.change(2, |booking| {
        let end = booking.notes.as_str().chars().count();
        booking.notes.splice(end, 0, " Arrives late.");
        Ok(())
    })
    .expect("edit on b");
    sync_both(&mut a, &mut b);

    let notes = a.record().expect("record").notes.as_str().to_owned();
    assert_eq!(notes, "Vegetarian. Window seat. Arrives late.");
}

#[test]
fn a_tag_added_on_one_phone_and_another_removed_on_another_keeps_the_right_set() {
    let account = Account {
        tags: ["schools", "vip"].into_iter().collect(),
        ..Default::default()
    };
    let (_, mut a, mut b) = office_and_two_phones(&account);

    a.change(1, |account| {
        account.tags.insert("repeat");
        Ok(())
    })
    .expect("add on a");
    b.change(2, |account| {
        account.tags.remove("vip");
        Ok(())
    })
    .expect("remove on b");
    sync_both(&mut a, &mut b);

    let tags: Vec<String> = a
        .record()
        .expect("record")
        .tags
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(tags, ["repeat", "schools"]);
}

#[test]
fn a_tag_added_again_while_removed_elsewhere_is_kept() {
    let account = Account::default();
    let (_, mut a, mut b) = office_and_two_phones(&account);
    // Both phones tag the account offline; one then untags it, having seen only its own add.
    a.change(1, |account| Ok(account.tags.insert("vip")))
        .expect("a adds");
    b.change(2, |account| Ok(account.tags.insert("vip")))
        .expect("b adds");
    b.change(3, |account| Ok(account.tags.remove("vip")))
        .expect("b removes");
    sync_both(&mut a, &mut b);

    assert!(
        a.record().expect("record").tags.contains("vip"),
        "the add b never saw wins"
    );
}

#[test]
fn a_contact_archived_on_one_phone_while_edited_on_another_keeps_both() {
    let mut account = Account {
        name: "Lakeside Travel".into(),
        ..Default::default()
    };
    account.contacts.insert(
        "c-1".into(),
        Contact {
            first_name: "Ilona".into(),
            last_name: "Kovacs".into(),
            ..Default::default()
        },
    );
    let (_, mut a, mut b) = office_and_two_phones(&account);

    a.change(5, |account| {
        let contact = account.contacts.get_mut("c-1").expect("contact");
        contact.archived_at = Some(5);
        Ok(())
    })
    .expect("archive on a");
    b.change(6, |account| {
        let contact = account.contacts.get_mut("c-1").expect("contact");
        contact.title = "Head of groups".into();
        contact.phones.insert("+36301234567");
        Ok(())
    })
    .expect("edit on b");
    sync_both(&mut a, &mut b);

    let merged = a.record().expect("record");
    let contact = &merged.contacts["c-1"];
    assert_eq!(contact.archived_at, Some(5));
    assert_eq!(contact.title, "Head of groups");
    assert!(contact.phones.contains("+36301234567"));
}

#[test]
fn an_opportunity_stage_set_on_two_phones_shows_a_conflict_with_both_values() {
    let mut account = Account::default();
    account.opportunities.insert(
        "o-1".into(),
        Opportunity {
            name: "Spring trip".into(),
            ..Default::default()
        },
    );
    let (_, mut a, mut b) = office_and_two_phones(&account);

    a.change(10, |account| {
        account.move_opportunity("o-1", Stage::Negotiation, LogKey::new(10, "a"), "ana", 10)
    })
    .expect("ana moves");
    b.change(11, |account| {
        account.move_opportunity("o-1", Stage::Lost, LogKey::new(11, "b"), "ben", 11)
    })
    .expect("ben moves");
    sync_both(&mut a, &mut b);

    let path = FieldPath::root()
        .key("opportunities")
        .key("o-1")
        .key("stage");
    let on_a = a.conflicts(&path).expect("conflicts on a");
    let on_b = b.conflicts(&path).expect("conflicts on b");
    assert!(on_a.is_conflicted());
    let mut values: Vec<&FieldValue> = on_a.values.iter().map(|v| &v.value).collect();
    values.sort_by_key(|value| format!("{value:?}"));
    assert_eq!(
        values,
        [
            &FieldValue::Str("lost".into()),
            &FieldValue::Str("negotiation".into())
        ]
    );

    // Whichever order the phones merged in, they show the same winner, and it is the one the
    // record hydrates to.
    assert_eq!(on_a.winner(), on_b.winner());
    assert_eq!(on_a.values.iter().filter(|v| v.winner).count(), 1);
    let shown = a.record().expect("record").opportunities["o-1"].stage;
    assert_eq!(on_a.winner(), Some(&FieldValue::Str(shown.as_str().into())));
    assert_eq!(on_a.losers().count(), 1);

    // Both moves are in the history.
    assert_eq!(
        a.record().expect("record").opportunities["o-1"]
            .stage_history
            .len(),
        2
    );
}

#[test]
fn a_field_nobody_disputed_has_one_value() {
    let (_, mut a, _) = office_and_two_phones(&Lead {
        name: "Ada".into(),
        ..Default::default()
    });
    a.change(1, |lead| {
        lead.email = "ada@example.org".into();
        Ok(())
    })
    .expect("edit");
    let email = a
        .conflicts(&"/email".parse().expect("path"))
        .expect("conflicts");
    assert!(!email.is_conflicted());
    assert_eq!(
        email.winner(),
        Some(&FieldValue::Str("ada@example.org".into()))
    );
    assert!(matches!(
        a.conflicts(&"/no_such_field".parse().expect("path")),
        Err(itinera_core::Error::NoSuchField(_))
    ));
}

#[test]
fn a_failed_edit_writes_nothing() {
    let (_, mut a, _) = office_and_two_phones(&StockLocation::default());
    let before = a.heads();
    let result = a.change(1, |kit| {
        kit.post_movement(LogKey::new(1, "x"), consumption("anna", 0, 1))
    });
    assert!(matches!(
        result,
        Err(itinera_core::Error::Model(ModelError::Invalid(_)))
    ));
    assert_eq!(a.heads(), before);
}

#[test]
fn an_unchanged_record_writes_no_change() {
    let mut kit = StockLocation::default();
    kit.stock_item("water");
    let (_, mut a, _) = office_and_two_phones(&kit);
    let before = a.heads();
    a.change(1, |_| Ok(())).expect("no-op change");
    assert_eq!(
        a.heads(),
        before,
        "counters and text that did not move write nothing"
    );
}

#[test]
fn incremental_saves_carry_changes_to_another_replica() {
    let (mut office, mut phone, _) = office_and_two_phones(&Ticket::default());
    office.save();
    office
        .change(1, |ticket| {
            ticket.subject = "Lost luggage".into();
            Ok(())
        })
        .expect("edit");
    let increment = office.save_incremental();
    phone.load_incremental(&increment).expect("apply increment");
    assert_eq!(phone.record().expect("record").subject, "Lost luggage");
    assert_eq!(phone.heads(), office.heads());
}
