//! The authority's rules, one scenario per rule a merge cannot keep: phones edit offline, the
//! documents merge, and the rules decide. Every decision is checked to be the same whatever
//! order the bookings are listed in or the changes were merged in.

use std::collections::BTreeMap;

use automerge::ActorId;
use itinera_core::model::*;
use itinera_core::rules::*;
use itinera_core::{Document, DocumentId};
use proptest::prelude::*;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const OFFICE: [u8; 16] = [1; 16];
const PHONE_A: [u8; 16] = [2; 16];
const PHONE_B: [u8; 16] = [3; 16];
const SERVER: [u8; 16] = [0xaa; 16];

/// When the server received submissions it has no record of, in the seat scenarios.
const NOW: i64 = 50_000;

fn id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// `replicas` merged into a fresh copy of `base`, in `order`.
fn merged_in_order<R: Record>(
    base: &mut Document<R>,
    replicas: &mut [Document<R>],
    order: &[usize],
) -> Result<Document<R>, itinera_core::Error> {
    let mut target = base.fork(ActorId::from([0xee; 16]));
    for &index in order {
        target.merge(&mut replicas[index])?;
    }
    Ok(target)
}

/// The record after merging `replicas` in both orders, checked equal.
fn merged_both_ways<R: Record>(
    base: &mut Document<R>,
    replicas: &mut [Document<R>; 2],
) -> Result<(Document<R>, Document<R>), itinera_core::Error> {
    let mut forward = merged_in_order(base, replicas, &[0, 1])?;
    let mut backward = merged_in_order(base, replicas, &[1, 0])?;
    assert_eq!(forward.heads(), backward.heads());
    assert_eq!(forward.record()?, backward.record()?);
    Ok((forward, backward))
}

// ---------------------------------------------------------------------------------------------
// Rule 2: seats

fn passengers(names: &[&str]) -> BTreeMap<String, Passenger> {
    names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            (
                format!("p{n}"),
                Passenger {
                    name: (*name).into(),
                    category: PassengerCategory::Adult,
                    dietary: String::new(),
                },
            )
        })
        .collect()
}

fn submitted(rep: &str, names: &[&str], submitted_at: i64) -> Booking {
    Booking {
        rep: rep.into(),
        passengers: passengers(names),
        status: BookingStatus::Provisional,
        submitted_at: Some(submitted_at),
        amount_minor: 120_000,
        ..Default::default()
    }
}

fn confirmed(names: &[&str], submitted_at: i64) -> Booking {
    Booking {
        status: BookingStatus::Confirmed,
        ..submitted("office", names, submitted_at)
    }
}

fn departure(capacity: i64) -> Departure {
    Departure {
        tour: "danube-bend".into(),
        capacity,
        ..Default::default()
    }
}

/// Every rotation and the reversal of `bookings` decide alike; returns the decision.
fn decide_in_every_order(
    departure_id: &DocumentId,
    departure: &Departure,
    bookings: &[(DocumentId, Booking)],
) -> SeatPlan {
    let plan = decide_seats(departure_id, departure, bookings, NOW);
    let mut reordered = bookings.to_vec();
    for _ in 0..bookings.len() {
        reordered.rotate_left(1);
        assert_eq!(decide_seats(departure_id, departure, &reordered, NOW), plan);
        reordered.reverse();
        assert_eq!(decide_seats(departure_id, departure, &reordered, NOW), plan);
        reordered.reverse();
    }
    plan
}

#[test]
fn two_reps_selling_the_last_three_seats_offline_one_is_waitlisted() {
    let dep = id(100);
    let (group, ana, ben) = (id(1), id(2), id(3));
    let bookings = [
        (group, confirmed(&["a", "b", "c", "d", "e", "f", "g"], 10)),
        (ben, submitted("ben", &["Ben 1", "Ben 2", "Ben 3"], 2_001)),
        (ana, submitted("ana", &["Ana 1", "Ana 2", "Ana 3"], 2_000)),
    ];
    let plan = decide_in_every_order(&dep, &departure(10), &bookings);
    assert_eq!(plan.statuses[&group], BookingStatus::Confirmed);
    assert_eq!(
        plan.statuses[&ana],
        BookingStatus::Confirmed,
        "submitted first"
    );
    assert_eq!(plan.statuses[&ben], BookingStatus::Waitlisted);
    assert_eq!(
        (
            plan.seats_confirmed,
            plan.seats_provisional,
            plan.seats_waitlisted
        ),
        (10, 0, 3)
    );
    assert!(plan.findings.is_empty());
    assert_eq!(plan.manifest.len(), 10);
    assert!(plan.manifest.contains_key(&format!("{ana}/p2")));
    assert!(
        !plan
            .manifest
            .values()
            .any(|entry| entry.booking == ben.to_string())
    );
}

#[test]
fn a_higher_priority_beats_an_earlier_submission() {
    let dep = id(100);
    let mut late_vip = submitted("ben", &["B1", "B2"], 2_001);
    late_vip.priority = 1;
    let bookings = [
        (id(2), submitted("ana", &["A1", "A2"], 2_000)),
        (id(3), late_vip),
    ];
    let plan = decide_in_every_order(&dep, &departure(3), &bookings);
    assert_eq!(plan.statuses[&id(3)], BookingStatus::Confirmed);
    assert_eq!(plan.statuses[&id(2)], BookingStatus::Waitlisted);
}

#[test]
fn a_late_sync_does_not_take_a_confirmed_seat() {
    // Ben's booking was confirmed while Ana's phone was offline; Ana submitted earlier, but her
    // booking arrives after Ben's customer was told they are confirmed.
    let dep = id(100);
    let bookings = [
        (id(3), confirmed(&["B1", "B2", "B3"], 2_001)),
        (id(2), submitted("ana", &["A1", "A2", "A3"], 2_000)),
    ];
    let plan = decide_in_every_order(&dep, &departure(3), &bookings);
    assert_eq!(plan.statuses[&id(3)], BookingStatus::Confirmed);
    assert_eq!(plan.statuses[&id(2)], BookingStatus::Waitlisted);
    assert!(plan.findings.is_empty());
}

#[test]
fn a_cancellation_promotes_the_waitlist_whatever_the_merge_order() -> TestResult {
    let dep = id(100);
    let (ana, ben) = (id(2), id(3));
    let ben_booking = Booking {
        status: BookingStatus::Waitlisted,
        ..submitted("ben", &["B1", "B2"], 2_001)
    };

    // Ana's booking: the server confirms it; offline, her customer cancels on her phone.
    let mut office = Document::create(
        ActorId::from(OFFICE),
        0,
        &submitted("ana", &["A1", "A2"], 2_000),
    )?;
    let mut server = office.fork(ActorId::from(SERVER));
    let mut phone = office.fork(ActorId::from(PHONE_A));
    server.change(3_000, |b| {
        b.status = BookingStatus::Confirmed;
        Ok(())
    })?;
    phone.change(3_001, |b| {
        b.cancelled_at = Some(3_001);
        b.status = BookingStatus::Cancelled;
        Ok(())
    })?;
    let (forward, backward) = merged_both_ways(&mut office, &mut [server, phone])?;

    let before = decide_seats(
        &dep,
        &departure(2),
        &[
            (ana, confirmed(&["A1", "A2"], 2_000)),
            (ben, ben_booking.clone()),
        ],
        NOW,
    );
    assert_eq!(before.statuses[&ben], BookingStatus::Waitlisted);

    let mut plans = Vec::new();
    for doc in [&forward, &backward] {
        let bookings = [(ana, doc.record()?), (ben, ben_booking.clone())];
        plans.push(decide_in_every_order(&dep, &departure(2), &bookings));
    }
    assert_eq!(plans[0], plans[1]);
    assert_eq!(plans[0].statuses[&ana], BookingStatus::Cancelled);
    assert_eq!(plans[0].statuses[&ben], BookingStatus::Confirmed);
    assert_eq!(plans[0].seats_confirmed, 2);
    assert_eq!(plans[0].seats_waitlisted, 0);
    assert!(
        plans[0]
            .manifest
            .keys()
            .all(|key| key.starts_with(&ben.to_string()))
    );
    Ok(())
}

#[test]
fn lowering_capacity_below_confirmed_seats_waitlists_the_last_and_raises_overbooked() {
    let dep = id(100);
    let bookings = [
        (id(1), confirmed(&["A1", "A2", "A3", "A4"], 1_000)),
        (id(2), confirmed(&["B1", "B2", "B3", "B4"], 1_001)),
        (id(3), confirmed(&["C1"], 1_002)),
        (id(4), submitted("dan", &["D1"], 1_003)),
    ];
    let at_nine = decide_in_every_order(&dep, &departure(9), &bookings);
    assert!(at_nine.findings.is_empty());
    assert_eq!(at_nine.statuses[&id(4)], BookingStatus::Waitlisted);

    let plan = decide_in_every_order(&dep, &departure(6), &bookings);
    assert_eq!(plan.statuses[&id(1)], BookingStatus::Confirmed);
    assert_eq!(plan.statuses[&id(2)], BookingStatus::Waitlisted);
    assert_eq!(plan.statuses[&id(3)], BookingStatus::Confirmed);
    // First fit: the seat that B's four could not use goes to the next booking in line.
    assert_eq!(plan.statuses[&id(4)], BookingStatus::Confirmed);
    assert_eq!(plan.seats_confirmed, 6);
    assert!(plan.seats_confirmed <= 6);
    assert_eq!(plan.findings.len(), 1);
    let finding = &plan.findings[0];
    assert_eq!(finding.rule, AlertRule::Overbooked);
    assert_eq!(finding.severity, AlertSeverity::Critical);
    assert_eq!(finding.document, dep);
    assert_eq!(finding.key, format!("overbooked:{dep}:{}", id(2)));
    assert!(
        finding.message.contains(&id(2).to_string()),
        "{}",
        finding.message
    );

    // The next evaluation starts from the decision written: the bumped customer's alert holds
    // until they have seats again, however often the departure is decided.
    let written: Vec<(DocumentId, Booking)> = bookings
        .iter()
        .map(|(booking_id, booking)| {
            let mut booking = booking.clone();
            booking.status = plan.statuses[booking_id];
            booking.seating = plan.seatings[booking_id].clone();
            (*booking_id, booking)
        })
        .collect();
    let again = decide_seats(&dep, &departure(6), &written, NOW + 1);
    assert_eq!(again.statuses, plan.statuses);
    assert_eq!(
        again.findings.len(),
        1,
        "the bumped customer still has no seat"
    );
    let raised = decide_seats(&dep, &departure(9), &written, NOW + 2);
    assert_eq!(
        raised.statuses[&id(2)],
        BookingStatus::Waitlisted,
        "D holds the seat now"
    );
    let raised = decide_seats(&dep, &departure(10), &written, NOW + 2);
    assert_eq!(raised.statuses[&id(2)], BookingStatus::Confirmed);
    assert!(raised.findings.is_empty());
}

#[test]
fn a_cancelled_departure_rejects_every_submitted_booking() {
    let dep = id(100);
    let mut draft = submitted("ana", &["A1"], 0);
    draft.submitted_at = None;
    draft.status = BookingStatus::Draft;
    let mut gone = submitted("ben", &["B1"], 1_001);
    gone.cancelled_at = Some(1_500);
    let bookings = [
        (id(1), confirmed(&["C1", "C2"], 1_000)),
        (id(2), submitted("dan", &["D1"], 1_002)),
        (id(3), draft),
        (id(4), gone),
    ];
    let cancelled = Departure {
        status: DepartureStatus::Cancelled,
        ..departure(10)
    };
    let plan = decide_in_every_order(&dep, &cancelled, &bookings);
    assert_eq!(plan.statuses[&id(1)], BookingStatus::Rejected);
    assert_eq!(plan.statuses[&id(2)], BookingStatus::Rejected);
    assert!(!plan.statuses.contains_key(&id(3)), "drafts are left alone");
    assert_eq!(plan.statuses[&id(4)], BookingStatus::Cancelled);
    assert_eq!(
        (
            plan.seats_confirmed,
            plan.seats_provisional,
            plan.seats_waitlisted
        ),
        (0, 0, 0)
    );
    assert!(plan.manifest.is_empty());
    let keys: Vec<&str> = plan.findings.iter().map(|f| f.key.as_str()).collect();
    assert_eq!(
        keys,
        vec![
            format!("booking_on_cancelled_departure:{dep}:{}", id(1)),
            format!("booking_on_cancelled_departure:{dep}:{}", id(2)),
        ]
    );
    assert!(plan.findings.iter().all(|f| f.document == dep));
}

fn random_bookings() -> impl Strategy<Value = Vec<(DocumentId, Booking)>> {
    prop::collection::vec(
        (
            0usize..5,
            0i64..3,
            prop::option::weighted(0.85, 0i64..20),
            prop::bool::weighted(0.15),
            prop::bool::weighted(0.3),
        ),
        0..12,
    )
    .prop_map(|specs| {
        specs
            .into_iter()
            .enumerate()
            .map(
                |(n, (seats, priority, submitted_at, cancelled, was_confirmed))| {
                    let names: Vec<String> = (0..seats).map(|s| format!("{n}-{s}")).collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let booking = Booking {
                        priority,
                        submitted_at,
                        cancelled_at: cancelled.then_some(50),
                        status: if was_confirmed {
                            BookingStatus::Confirmed
                        } else {
                            BookingStatus::Provisional
                        },
                        passengers: passengers(&names),
                        ..Default::default()
                    };
                    (id(u8::try_from(n).unwrap_or(0)), booking)
                },
            )
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the bookings and their order: the same decision, never more seats than the
    /// capacity, every submitted booking decided, first-fit leaving no waitlisted booking that
    /// would fit, and a confirmed booking waitlisted only when capacity dropped.
    #[test]
    fn seat_decisions_keep_their_invariants(
        (bookings, shuffled) in random_bookings().prop_flat_map(|b| (Just(b.clone()), Just(b).prop_shuffle())),
        capacity in 0i64..15,
    ) {
        let dep = id(200);
        let plan = decide_seats(&dep, &departure(capacity), &bookings, NOW);
        prop_assert_eq!(&decide_seats(&dep, &departure(capacity), &shuffled, NOW), &plan);

        prop_assert!(plan.seats_confirmed <= capacity);
        prop_assert_eq!(plan.seats_provisional, 0);
        let seats_with = |wanted: BookingStatus| -> i64 {
            bookings
                .iter()
                .filter(|(b, _)| plan.statuses.get(b) == Some(&wanted))
                .map(|(_, booking)| booking.seats())
                .sum()
        };
        prop_assert_eq!(plan.seats_confirmed, seats_with(BookingStatus::Confirmed));
        prop_assert_eq!(plan.seats_waitlisted, seats_with(BookingStatus::Waitlisted));
        prop_assert_eq!(i64::try_from(plan.manifest.len()).unwrap_or(-1), plan.seats_confirmed);

        let confirmed_before: i64 = bookings
            .iter()
            .filter(|(_, b)| {
                b.submitted_at.is_some() && b.cancelled_at.is_none() && b.status == BookingStatus::Confirmed
            })
            .map(|(_, b)| b.seats())
            .sum();
        let free = capacity - plan.seats_confirmed;
        for (booking_id, booking) in &bookings {
            let status = plan.statuses.get(booking_id).copied();
            match (booking.submitted_at, booking.cancelled_at) {
                // A withdrawn submission goes back to draft; a draft stays one.
                (None, _) => prop_assert!(status.is_none() || status == Some(BookingStatus::Draft)),
                (Some(_), Some(_)) => prop_assert_eq!(status, Some(BookingStatus::Cancelled)),
                (Some(_), None) => {
                    let status = status.unwrap_or(BookingStatus::Draft);
                    prop_assert!(matches!(status, BookingStatus::Confirmed | BookingStatus::Waitlisted));
                    if status == BookingStatus::Waitlisted {
                        prop_assert!(booking.seats() > free, "a waitlisted booking would have fit");
                        if booking.status == BookingStatus::Confirmed {
                            prop_assert!(confirmed_before > capacity, "bumped without a capacity drop");
                        }
                    }
                }
            }
        }
        prop_assert_eq!(!plan.findings.is_empty(), confirmed_before > capacity);
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 1: stock

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
fn two_guides_consuming_offline_drive_stock_negative() -> TestResult {
    let kit_id = id(50);
    let mut catalog = Catalog::default();
    let mut water = InventoryItem {
        name: "Water 0.5 l".into(),
        ..Default::default()
    };
    water.reorder_points.insert(kit_id.to_string(), 6);
    catalog.items.insert("water".into(), water);

    let mut office = Document::create(
        ActorId::from(OFFICE),
        0,
        &StockLocation {
            name: "Danube kit".into(),
            ..Default::default()
        },
    )?;
    office.change(1, |kit| {
        kit.post_movement(
            LogKey::new(1, "office-1"),
            StockMovement {
                reason: MovementReason::Receipt,
                ..consumption("office", 4, 1)
            },
        )
    })?;
    let before = office.record()?;
    let low = stock_findings(&kit_id, &before, Some(&catalog));
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].rule, AlertRule::LowStock);
    assert_eq!(low[0].severity, AlertSeverity::Warning);

    let mut gus = office.fork(ActorId::from(PHONE_A));
    let mut eva = office.fork(ActorId::from(PHONE_B));
    gus.change(10, |kit| {
        kit.post_movement(LogKey::new(10, "gus-1"), consumption("gus", -3, 10))
    })?;
    eva.change(11, |kit| {
        kit.post_movement(LogKey::new(11, "eva-1"), consumption("eva", -3, 11))
    })?;
    // Each phone alone saw one bottle left.
    assert_eq!(gus.record()?.quantity("water"), 1);

    let (forward, backward) = merged_both_ways(&mut office, &mut [gus, eva])?;
    let mut all = Vec::new();
    for doc in [&forward, &backward] {
        let kit = doc.record()?;
        assert_eq!(kit.quantity("water"), -2);
        assert!(counter_drift(&kit).is_empty());
        all.push(stock_findings(&kit_id, &kit, Some(&catalog)));
    }
    assert_eq!(all[0], all[1]);
    let findings = &all[0];
    assert_eq!(findings.len(), 1, "negative, and not also low");
    assert_eq!(findings[0].rule, AlertRule::NegativeStock);
    assert_eq!(findings[0].severity, AlertSeverity::Critical);
    assert_eq!(findings[0].key, format!("negative_stock:{kit_id}:water"));
    assert!(
        findings[0].message.contains("-2"),
        "{}",
        findings[0].message
    );
    Ok(())
}

#[test]
fn a_counter_created_on_two_phones_is_recounted_from_the_log() -> TestResult {
    // Nobody stocked "gloves" here first: both phones create the counter.
    let mut office = Document::create(ActorId::from(OFFICE), 0, &StockLocation::default())?;
    let mut gus = office.fork(ActorId::from(PHONE_A));
    let mut eva = office.fork(ActorId::from(PHONE_B));
    let gloves = |actor: &str, quantity, at| StockMovement {
        item: "gloves".into(),
        reason: MovementReason::Receipt,
        ..consumption(actor, quantity, at)
    };
    gus.change(10, |kit| {
        kit.post_movement(LogKey::new(10, "gus-1"), gloves("gus", 5, 10))
    })?;
    eva.change(11, |kit| {
        kit.post_movement(LogKey::new(11, "eva-1"), gloves("eva", 7, 11))
    })?;
    let (forward, backward) = merged_both_ways(&mut office, &mut [gus, eva])?;
    for doc in [&forward, &backward] {
        let kit = doc.record()?;
        assert_eq!(recount(&kit).get("gloves"), Some(&12));
        let shown = kit.quantity("gloves");
        assert!(shown == 5 || shown == 7, "one counter survived: {shown}");
        assert_eq!(
            counter_drift(&kit),
            vec![("gloves".to_string(), 12 - shown)]
        );
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rule 3: guides

fn assignment(
    departure: u8,
    starts_at: i64,
    ends_at: i64,
    status: AssignmentStatus,
) -> AssignmentRef {
    AssignmentRef {
        departure: id(departure),
        assignment: "lead".into(),
        starts_at,
        ends_at,
        status,
    }
}

#[test]
fn overlapping_assignments_and_leave_are_conflicts() -> TestResult {
    let gus_id = id(70);
    let mut gus = Employee {
        name: "Gusztáv".into(),
        ..Default::default()
    };
    gus.leave.append(
        LogKey::new(1, "office"),
        Leave {
            starts_at: 1_000,
            ends_at: 2_000,
            reason: "wedding".into(),
        },
    )?;
    let assignments = vec![
        assignment(1, 0, 100, AssignmentStatus::Accepted),
        assignment(2, 50, 150, AssignmentStatus::Conflict),
        assignment(3, 100, 200, AssignmentStatus::Accepted), // touches 1, overlaps 2
        assignment(4, 1_999, 2_500, AssignmentStatus::Accepted), // last millisecond of leave
        assignment(5, 0, 5_000, AssignmentStatus::Offered),  // not accepted: never a conflict
        assignment(6, 2_000, 2_100, AssignmentStatus::Accepted), // starts as leave ends; overlaps 4
        assignment(7, 300, 400, AssignmentStatus::Conflict), // overlaps nothing any more
    ];
    let plan = guide_conflicts(&gus_id, &gus, &assignments);
    let mut reversed = assignments.clone();
    reversed.reverse();
    assert_eq!(guide_conflicts(&gus_id, &gus, &reversed), plan);

    let conflicted: Vec<DocumentId> = plan.conflicted.iter().map(|(d, _)| *d).collect();
    assert_eq!(conflicted, vec![id(1), id(2), id(3), id(4), id(6)]);
    let subjects: Vec<String> = plan
        .findings
        .iter()
        .map(|f| {
            f.key
                .trim_start_matches(&format!("guide_double_booked:{gus_id}:"))
                .to_owned()
        })
        .collect();
    let lead = |n: u8| format!("{}/lead", id(n));
    assert_eq!(
        subjects,
        vec![
            format!("{}+{}", lead(1), lead(2)),
            format!("{}+{}", lead(2), lead(3)),
            format!("{}+{}", lead(4), lead(6)),
            format!("{}+leave:{}", lead(4), LogKey::new(1, "office").as_str()),
        ]
    );
    assert!(
        plan.findings
            .iter()
            .all(|f| f.rule == AlertRule::GuideDoubleBooked && f.document == gus_id)
    );
    assert!(plan.findings[3].message.contains("wedding"));
    assert_eq!(plan.status_of(&assignments[6]), AssignmentStatus::Accepted);
    assert_eq!(plan.status_of(&assignments[0]), AssignmentStatus::Conflict);
    Ok(())
}

#[test]
fn a_guide_accepting_two_tours_offline_on_two_departures_is_double_booked() -> TestResult {
    // Office offers Gus two departures that overlap by a day; his phone accepts both offline.
    let gus = id(70);
    let mut docs = Vec::new();
    for (starts_at, ends_at) in [(0, 3 * 86_400_000), (2 * 86_400_000, 5 * 86_400_000)] {
        let mut dep = Departure {
            starts_at,
            ends_at,
            ..departure(10)
        };
        dep.assignments.insert(
            "a-1".into(),
            GuideAssignment {
                employee: gus.to_string(),
                ..Default::default()
            },
        );
        let mut office = Document::create(ActorId::from(OFFICE), 0, &dep)?;
        let mut phone = office.fork(ActorId::from(PHONE_A));
        phone.change(10, |d| {
            if let Some(a) = d.assignments.get_mut("a-1") {
                a.status = AssignmentStatus::Accepted;
            }
            Ok(())
        })?;
        office.merge(&mut phone)?;
        docs.push(office.record()?);
    }
    let refs: Vec<AssignmentRef> = docs
        .iter()
        .enumerate()
        .map(|(n, d)| AssignmentRef {
            departure: id(u8::try_from(n).unwrap_or(0) + 1),
            assignment: "a-1".into(),
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            status: d.assignments["a-1"].status,
        })
        .collect();
    let plan = guide_conflicts(&gus, &Employee::default(), &refs);
    assert_eq!(plan.conflicted.len(), 2);
    assert_eq!(plan.findings.len(), 1);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rule 4: invoice numbering

#[test]
fn legal_numbers_come_from_series_and_the_year_of_issue() {
    let mut invoice = Invoice {
        status: InvoiceStatus::Posted,
        series: "A".into(),
        issued_on: Some("2026-01-01".into()),
        ..Default::default()
    };
    let new_years_eve_2025 = 1_767_225_599_999; // 2025-12-31T23:59:59.999Z
    assert!(needs_legal_number(&invoice));
    assert_eq!(invoice_year(&invoice, new_years_eve_2025), 2026);
    assert_eq!(legal_number("A", 2026, 42), "2026-A-000042");
    assert_eq!(legal_number("", 2026, 42), "2026-000042");
    assert_eq!(sequence_key("A", 2026), "invoice-seq:A:2026");

    invoice.issued_on = None;
    assert_eq!(invoice_year(&invoice, new_years_eve_2025), 2025);
    assert_eq!(invoice_year(&invoice, new_years_eve_2025 + 1), 2026);
    invoice.issued_on = Some("2024-02-30".into());
    assert_eq!(
        invoice_year(&invoice, new_years_eve_2025),
        2025,
        "not a date"
    );
    invoice.issued_on = Some("2024-02-29".into());
    assert_eq!(invoice_year(&invoice, new_years_eve_2025), 2024);

    invoice.legal_number = Some(legal_number("A", 2024, 1));
    assert!(!needs_legal_number(&invoice));
    invoice.status = InvoiceStatus::Draft;
    invoice.legal_number = None;
    assert!(!needs_legal_number(&invoice));
}

// ---------------------------------------------------------------------------------------------
// Rule 5: ledger

fn posted_invoice() -> Invoice {
    let mut invoice = Invoice {
        provisional_number: "SOFIA-0001".into(),
        legal_number: Some("2026-A-000042".into()),
        series: "A".into(),
        status: InvoiceStatus::Posted,
        customer: "harbour".into(),
        issued_on: Some("2026-03-15".into()),
        currency: "EUR".into(),
        ..Default::default()
    };
    invoice.lines.insert(
        "l-1".into(),
        InvoiceLine {
            description: "Alpine villages, 3 passengers".into(),
            quantity: 3,
            unit_price_minor: 55_000,
            vat_rate_bp: 2_700,
        },
    );
    invoice.lines.insert(
        "l-2".into(),
        InvoiceLine {
            description: "Museum tickets".into(),
            quantity: 3,
            unit_price_minor: 1_234,
            vat_rate_bp: 500,
        },
    );
    invoice
}

fn sides(entry: &JournalEntry) -> BTreeMap<&str, (i64, i64)> {
    entry
        .lines
        .values()
        .map(|line| (line.account.as_str(), (line.debit_minor, line.credit_minor)))
        .collect()
}

#[test]
fn a_posted_invoice_and_its_payments_book_balanced_entries() -> TestResult {
    let invoice_id = id(80);
    // Two office workers record a payment each, offline.
    let mut office = Document::create(ActorId::from(OFFICE), 0, &posted_invoice())?;
    let mut olga = office.fork(ActorId::from(PHONE_A));
    let mut sofia = office.fork(ActorId::from(PHONE_B));
    let march_20 = 1_773_964_800_000; // 2026-03-20T00:00Z
    let april_2 = 1_775_088_000_000; // 2026-04-02T00:00Z
    olga.change(march_20, |invoice| {
        let payment = Payment {
            amount_minor: 100_000,
            method: "transfer".into(),
            reference: "OTP-1".into(),
            at: march_20,
        };
        Ok(invoice
            .payments
            .append(LogKey::new(march_20, "olga-1"), payment)?)
    })?;
    sofia.change(april_2, |invoice| {
        let payment = Payment {
            amount_minor: 110_000,
            method: "card".into(),
            reference: "POS-9".into(),
            at: april_2,
        };
        Ok(invoice
            .payments
            .append(LogKey::new(april_2, "sofia-1"), payment)?)
    })?;
    let (forward, backward) = merged_both_ways(&mut office, &mut [olga, sofia])?;
    let entries = journal_entries_for_invoice(&invoice_id, &forward.record()?);
    assert_eq!(
        entries,
        journal_entries_for_invoice(&invoice_id, &backward.record()?)
    );
    assert_eq!(entries.len(), 3);
    assert!(entries.iter().all(|(_, entry)| entry.is_balanced()));

    let totals = posted_invoice().compute_totals();
    // 165 000 + 3 702 net; VAT 44 550 + 185 (185.1 rounded).
    assert_eq!((totals.net_minor, totals.vat_minor), (168_702, 44_735));
    let (key, posting) = &entries[0];
    assert_eq!(key, &format!("invoice:{invoice_id}"));
    assert_eq!(
        sides(posting),
        BTreeMap::from([
            (RECEIVABLES_ACCOUNT, (213_437, 0)),
            (VAT_PAYABLE_ACCOUNT, (0, 44_735)),
            (REVENUE_ACCOUNT, (0, 168_702)),
        ])
    );
    assert_eq!(journal_period(posting.at), "2026-03");
    assert_eq!(posting.source, Some(invoice_id.to_string()));
    assert_eq!(posting.reverses, None);

    let (key, first) = &entries[1];
    assert_eq!(
        key,
        &format!(
            "payment:{invoice_id}:{}",
            LogKey::new(march_20, "olga-1").as_str()
        )
    );
    assert_eq!(
        sides(first),
        BTreeMap::from([
            (BANK_ACCOUNT, (100_000, 0)),
            (RECEIVABLES_ACCOUNT, (0, 100_000))
        ])
    );
    assert_eq!(journal_period(first.at), "2026-03");
    assert_eq!(journal_period(entries[2].1.at), "2026-04");

    // Running again gives the same keys: the server appends nothing twice.
    let again: Vec<String> = journal_entries_for_invoice(&invoice_id, &forward.record()?)
        .into_iter()
        .map(|(key, _)| key)
        .collect();
    let keys: Vec<String> = entries.iter().map(|(key, _)| key.clone()).collect();
    assert_eq!(again, keys);
    Ok(())
}

#[test]
fn a_credit_note_reverses_the_invoice_entry() -> TestResult {
    let (original_id, note_id) = (id(80), id(81));
    let mut note = Invoice {
        credit_of: Some(original_id.to_string()),
        legal_number: Some("2026-CN-000001".into()),
        series: "CN".into(),
        ..posted_invoice()
    };
    note.payments.append(
        LogKey::new(5, "olga"),
        Payment {
            amount_minor: 50_000,
            method: "transfer".into(),
            reference: "refund".into(),
            at: 1_774_000_000_000,
        },
    )?;
    let original = journal_entries_for_invoice(&original_id, &posted_invoice());
    let entries = journal_entries_for_invoice(&note_id, &note);
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|(_, entry)| entry.is_balanced()));

    let (key, reversal) = &entries[0];
    assert_eq!(key, &format!("invoice:{note_id}"));
    assert_eq!(reversal.reverses.as_deref(), Some(original[0].0.as_str()));
    // Every line of the original, on the other side.
    let flipped: BTreeMap<&str, (i64, i64)> = sides(&original[0].1)
        .into_iter()
        .map(|(account, (debit, credit))| (account, (credit, debit)))
        .collect();
    assert_eq!(sides(reversal), flipped);

    let (_, refund) = &entries[1];
    assert_eq!(
        sides(refund),
        BTreeMap::from([
            (BANK_ACCOUNT, (0, 50_000)),
            (RECEIVABLES_ACCOUNT, (50_000, 0))
        ])
    );
    Ok(())
}

#[test]
fn unbalanced_journal_entries_are_found() -> TestResult {
    let journal_id = id(90);
    let mut journal = Journal {
        period: "2026-03".into(),
        ..Default::default()
    };
    for (key, entry) in journal_entries_for_invoice(&id(80), &posted_invoice()) {
        journal.entries.append(LogKey::new(entry.at, &key), entry)?;
    }
    assert!(unbalanced_entries(&journal_id, &journal).is_empty());

    let mut lopsided = JournalEntry {
        at: 1,
        description: "typed by hand".into(),
        ..Default::default()
    };
    lopsided.lines.insert(
        "d".into(),
        JournalLine {
            account: BANK_ACCOUNT.into(),
            debit_minor: 100,
            credit_minor: 0,
            currency: String::new(),
        },
    );
    let key = LogKey::new(1, "manual");
    journal.entries.append(key.clone(), lopsided)?;
    let findings = unbalanced_entries(&journal_id, &journal);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, AlertRule::UnbalancedLedger);
    assert_eq!(findings[0].document, journal_id);
    assert_eq!(
        findings[0].key,
        format!("unbalanced_ledger:{journal_id}:{}", key.as_str())
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rule 6: opportunity stages

fn account_with_opportunity() -> Account {
    let mut account = Account {
        name: "Alpine Schools Ltd".into(),
        ..Default::default()
    };
    account.opportunities.insert(
        "o-1".into(),
        Opportunity {
            name: "Spring trips".into(),
            owner: "ana".into(),
            ..Default::default()
        },
    );
    account
}

#[test]
fn a_stage_moved_by_two_reps_at_once_is_flagged_once_whatever_the_merge_order() -> TestResult {
    let account_id = id(60);
    let mut office = Document::create(ActorId::from(OFFICE), 0, &account_with_opportunity())?;
    let mut ana = office.fork(ActorId::from(PHONE_A));
    let mut ben = office.fork(ActorId::from(PHONE_B));
    ana.change(10, |a| {
        a.move_opportunity("o-1", Stage::Proposal, LogKey::new(10, "ana"), "ana", 10)
    })?;
    ben.change(11, |a| {
        a.move_opportunity("o-1", Stage::Lost, LogKey::new(11, "ben"), "ben", 11)
    })?;
    assert!(
        stage_findings(&account_id, &ana).is_empty(),
        "one phone alone"
    );

    let (forward, backward) = merged_both_ways(&mut office, &mut [ana, ben])?;
    let findings = stage_findings(&account_id, &forward);
    assert_eq!(findings, stage_findings(&account_id, &backward));
    assert_eq!(findings.len(), 1);
    let finding = &findings[0];
    assert_eq!(finding.rule, AlertRule::StageConflict);
    assert_eq!(finding.document, account_id);
    assert!(
        finding
            .key
            .starts_with(&format!("stage_conflict:{account_id}:o-1:"))
    );
    for word in ["proposal", "lost", "Spring trips", "ana"] {
        assert!(
            finding.message.contains(word),
            "{word}: {}",
            finding.message
        );
    }
    Ok(())
}

#[test]
fn a_stage_moved_after_seeing_the_other_move_is_no_conflict() -> TestResult {
    let mut office = Document::create(ActorId::from(OFFICE), 0, &account_with_opportunity())?;
    let mut ana = office.fork(ActorId::from(PHONE_A));
    ana.change(10, |a| {
        a.move_opportunity("o-1", Stage::Proposal, LogKey::new(10, "ana"), "ana", 10)
    })?;
    let mut ben = ana.fork(ActorId::from(PHONE_B));
    ben.change(11, |a| {
        a.move_opportunity("o-1", Stage::Negotiation, LogKey::new(11, "ben"), "ben", 11)
    })?;
    ana.merge(&mut ben)?;
    assert!(stage_findings(&id(60), &ana).is_empty());
    Ok(())
}

#[test]
fn a_deal_won_without_a_booking_is_flagged() -> TestResult {
    let account_id = id(60);
    let mut doc = Document::create(ActorId::from(OFFICE), 0, &account_with_opportunity())?;
    doc.change(10, |a| {
        a.move_opportunity("o-1", Stage::Won, LogKey::new(10, "ana"), "ana", 10)
    })?;
    let findings = stage_findings(&account_id, &doc);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, AlertRule::StageConflict);
    assert_eq!(
        findings[0].key,
        format!("stage_conflict:{account_id}:o-1:won_without_booking")
    );
    doc.change(11, |a| {
        if let Some(o) = a.opportunities.get_mut("o-1") {
            o.booking = Some(id(7).to_string());
        }
        Ok(())
    })?;
    assert!(stage_findings(&account_id, &doc).is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Rule 7: archived records

fn account_with_contacts() -> Account {
    let mut account = Account {
        name: "Alpine Schools Ltd".into(),
        ..Default::default()
    };
    for (contact_id, first) in [("c-1", "Mira"), ("c-2", "Tomas")] {
        account.contacts.insert(
            contact_id.into(),
            Contact {
                first_name: first.into(),
                last_name: "Novak".into(),
                ..Default::default()
            },
        );
    }
    account
}

#[test]
fn an_edit_concurrent_with_archiving_is_flagged_in_both_merge_orders() -> TestResult {
    let account_id = id(61);
    let mut office = Document::create(ActorId::from(OFFICE), 0, &account_with_contacts())?;
    let mut archiver = office.fork(ActorId::from(PHONE_A));
    let mut rep = office.fork(ActorId::from(PHONE_B));
    archiver.change(10, |a| {
        a.archive(10);
        Ok(())
    })?;
    rep.change(11, |a| {
        a.territory = "north".into();
        Ok(())
    })?;
    let (mut forward, mut backward) = merged_both_ways(&mut office, &mut [archiver, rep])?;
    let findings = edits_after_archive(&account_id, &mut forward, None);
    assert_eq!(
        findings,
        edits_after_archive(&account_id, &mut backward, None)
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, AlertRule::EditAfterArchive);
    assert_eq!(findings[0].document, account_id);
    assert!(
        findings[0]
            .key
            .starts_with(&format!("edit_after_archive:{account_id}:account:"))
    );
    assert!(
        findings[0].message.contains("concurrently"),
        "{}",
        findings[0].message
    );
    assert!(findings[0].message.contains("Alpine Schools Ltd"));
    // The edit was not lost.
    assert_eq!(forward.record()?.territory, "north");
    Ok(())
}

#[test]
fn an_edit_made_before_archiving_is_not_flagged_and_one_after_is() -> TestResult {
    let account_id = id(61);
    let mut office = Document::create(ActorId::from(OFFICE), 0, &account_with_contacts())?;
    let mut rep = office.fork(ActorId::from(PHONE_B));
    rep.change(5, |a| {
        a.territory = "north".into();
        Ok(())
    })?;
    office.merge(&mut rep)?;
    office.change(10, |a| {
        a.archive(10);
        Ok(())
    })?;
    assert!(edits_after_archive(&account_id, &mut office, None).is_empty());

    // The server's own decisions after the archive are not edits by people.
    let mut server = office.fork(ActorId::from(SERVER));
    server.change(12, |a| {
        a.purchase_summary.bookings = 3;
        Ok(())
    })?;
    office.merge(&mut server)?;
    let server_actor = ActorId::from(SERVER);
    assert!(edits_after_archive(&account_id, &mut office, Some(&server_actor)).is_empty());
    assert_eq!(edits_after_archive(&account_id, &mut office, None).len(), 1);

    // A phone that synced the archive and still edits.
    let mut late = office.fork(ActorId::from(PHONE_A));
    late.change(20, |a| {
        a.tags.insert("vip");
        Ok(())
    })?;
    office.merge(&mut late)?;
    let findings = edits_after_archive(&account_id, &mut office, Some(&server_actor));
    assert_eq!(findings.len(), 1);
    assert!(
        findings[0].message.contains("after it was archived"),
        "{}",
        findings[0].message
    );
    Ok(())
}

#[test]
fn an_archived_contact_flags_only_edits_of_that_contact() -> TestResult {
    let account_id = id(61);
    let mut office = Document::create(ActorId::from(OFFICE), 0, &account_with_contacts())?;
    let mut archiver = office.fork(ActorId::from(PHONE_A));
    let mut rep = office.fork(ActorId::from(PHONE_B));
    archiver.change(10, |a| {
        if let Some(c) = a.contacts.get_mut("c-1") {
            c.archived_at = Some(10);
        }
        Ok(())
    })?;
    rep.change(11, |a| {
        if let Some(c) = a.contacts.get_mut("c-2") {
            c.title = "Bursar".into();
        }
        Ok(())
    })?;
    rep.change(12, |a| {
        if let Some(c) = a.contacts.get_mut("c-1") {
            c.emails.insert("mira@alpine.example");
        }
        Ok(())
    })?;
    let (mut forward, mut backward) = merged_both_ways(&mut office, &mut [archiver, rep])?;
    let findings = edits_after_archive(&account_id, &mut forward, None);
    assert_eq!(
        findings,
        edits_after_archive(&account_id, &mut backward, None)
    );
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert!(
        findings[0]
            .key
            .starts_with(&format!("edit_after_archive:{account_id}:contact:c-1:"))
    );
    assert!(
        findings[0].message.contains("Mira Novak"),
        "{}",
        findings[0].message
    );
    Ok(())
}

#[test]
fn a_live_booking_for_an_archived_account_is_flagged() {
    let booking_id = id(20);
    let booking = submitted("ana", &["A1"], 10);
    let findings = archived_reference_findings(&booking_id, &booking, true);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, AlertRule::ArchivedReference);
    assert_eq!(findings[0].document, booking_id);
    assert!(archived_reference_findings(&booking_id, &booking, false).is_empty());
}

// ---------------------------------------------------------------------------------------------
// Rule 8: duplicate contacts

#[test]
fn contacts_created_on_two_phones_are_proposed_for_merging() -> TestResult {
    let account_id = id(62);
    let base = Account {
        name: "Alpine Schools Ltd".into(),
        ..Default::default()
    };
    let mut office = Document::create(ActorId::from(OFFICE), 0, &base)?;
    let mut ana = office.fork(ActorId::from(PHONE_A));
    let mut ben = office.fork(ActorId::from(PHONE_B));
    ana.change(10, |a| {
        let mut mira = Contact {
            first_name: "Mira".into(),
            last_name: "Kovacs".into(),
            ..Default::default()
        };
        mira.emails.insert("Mira.Kovacs@Alpine.example");
        a.contacts.insert("c-ana".into(), mira);
        a.contacts.insert(
            "c-ana-2".into(),
            Contact {
                first_name: "Petra".into(),
                last_name: "Horvath".into(),
                phones: ["+36 30 123 4567"].into_iter().collect(),
                ..Default::default()
            },
        );
        Ok(())
    })?;
    ben.change(11, |a| {
        let mut mira = Contact {
            first_name: "mira".into(),
            last_name: "kovacs ".into(),
            ..Default::default()
        };
        mira.emails.insert(" mira.kovacs@alpine.example");
        a.contacts.insert("c-ben".into(), mira);
        a.contacts.insert(
            "c-ben-2".into(),
            Contact {
                first_name: "P.".into(),
                last_name: "Horváth".into(),
                phones: ["0036-30-123-4567"].into_iter().collect(),
                ..Default::default()
            },
        );
        a.contacts.insert(
            "c-ben-3".into(),
            Contact {
                first_name: "Tomas".into(),
                last_name: "Novak".into(),
                ..Default::default()
            },
        );
        Ok(())
    })?;
    let (forward, backward) = merged_both_ways(&mut office, &mut [ana, ben])?;
    let proposals = duplicate_contacts(&account_id, &forward.record()?);
    assert_eq!(
        proposals,
        duplicate_contacts(&account_id, &backward.record()?)
    );
    let groups: Vec<(&str, Vec<&str>)> = proposals
        .iter()
        .map(|p| {
            let duplicates = p.duplicates.iter().map(String::as_str).collect();
            (p.survivor.as_str(), duplicates)
        })
        .collect();
    assert_eq!(
        groups,
        vec![("c-ana", vec!["c-ben"]), ("c-ana-2", vec!["c-ben-2"])]
    );
    assert_eq!(
        proposals[0].reason,
        "same e-mail mira.kovacs@alpine.example; same name mira kovacs at Alpine Schools Ltd"
    );
    assert_eq!(proposals[1].reason, "same phone +36301234567");
    let finding = proposals[0].finding();
    assert_eq!(finding.rule, AlertRule::DuplicateContact);
    assert_eq!(finding.document, account_id);
    assert_eq!(finding.key, format!("duplicate_contact:{account_id}:c-ana"));
    Ok(())
}

#[test]
fn merging_a_duplicate_moves_its_activities_and_leaves_merged_into() -> TestResult {
    let account_id = id(62);
    let mut account = Account {
        name: "Alpine Schools Ltd".into(),
        ..Default::default()
    };
    let mut survivor = Contact {
        first_name: "Mira".into(),
        last_name: "Kovacs".into(),
        language: "hu".into(),
        ..Default::default()
    };
    survivor.emails.insert("mira@alpine.example");
    survivor.preferences.insert("window-seat");
    let mut duplicate = Contact {
        first_name: "Mira".into(),
        last_name: "Kovács".into(),
        title: "Head teacher".into(),
        language: "de".into(),
        ..Default::default()
    };
    duplicate.emails.insert("mira@alpine.example");
    duplicate.phones.insert("+3612345678");
    duplicate.preferences.insert("vegetarian");
    duplicate.consent.append(
        LogKey::new(5, "ben-1"),
        ConsentEvent {
            channel: "email".into(),
            granted: true,
            source: "phone call".into(),
            at: 5,
        },
    )?;
    account.contacts.insert("c-1".into(), survivor);
    account.contacts.insert("c-2".into(), duplicate);
    for (key, related) in [("a", "c-2"), ("b", "c-1"), ("c", "o-1")] {
        account.activities.append(
            LogKey::new(7, key),
            Activity {
                subject: format!("about {related}"),
                related: Some(related.into()),
                ..Default::default()
            },
        )?;
    }

    let mut doc = Document::create(ActorId::from(OFFICE), 0, &account)?;
    let proposals = duplicate_contacts(&account_id, &doc.record()?);
    assert_eq!(proposals.len(), 1);
    let (keep, drop) = (
        proposals[0].survivor.clone(),
        proposals[0].duplicates[0].clone(),
    );
    doc.change(1_000, |a| merge_contacts(a, &keep, &drop, 1_000))?;
    let merged = doc.record()?;

    let c1 = &merged.contacts["c-1"];
    assert_eq!(c1.last_name, "Kovacs", "the survivor's fields win");
    assert_eq!(c1.language, "hu");
    assert_eq!(c1.title, "Head teacher", "the duplicate fills gaps");
    assert!(c1.phones.contains("+3612345678"));
    assert_eq!(c1.preferences.len(), 2);
    assert_eq!(c1.consent.len(), 1);
    let c2 = &merged.contacts["c-2"];
    assert_eq!(c2.merged_into.as_deref(), Some("c-1"));
    assert_eq!(c2.archived_at, Some(1_000));
    let related: Vec<Option<&str>> = merged
        .activities
        .iter()
        .map(|(_, activity)| activity.related.as_deref())
        .collect();
    assert_eq!(related, vec![Some("c-1"), Some("c-1"), Some("o-1")]);

    assert!(duplicate_contacts(&account_id, &merged).is_empty());
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Transfers and alerts

#[test]
fn a_transfer_shipped_and_never_received_is_flagged_after_the_grace() {
    let transfer_id = id(40);
    let day = 86_400_000;
    let transfer = Transfer {
        from: "warehouse".into(),
        to: "van-1".into(),
        status: TransferStatus::Shipped,
        shipped_at: Some(10 * day),
        ..Default::default()
    };
    assert!(transfer_findings(&transfer_id, &transfer, 13 * day, 3 * day).is_empty());
    let findings = transfer_findings(&transfer_id, &transfer, 13 * day + 1, 3 * day);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].rule, AlertRule::TransferNotReceived);
    assert_eq!(
        findings[0].key,
        format!("transfer_not_received:{transfer_id}")
    );
    let received = Transfer {
        status: TransferStatus::Received,
        received_at: Some(12 * day),
        ..transfer
    };
    assert!(transfer_findings(&transfer_id, &received, 30 * day, 3 * day).is_empty());
}

#[test]
fn a_finding_becomes_an_open_alert() {
    let finding = Finding::new(
        AlertRule::LowStock,
        AlertSeverity::Warning,
        id(50),
        "water",
        "water is low",
    );
    let alert = finding.to_alert(1_234);
    assert_eq!(
        alert,
        Alert {
            rule: AlertRule::LowStock,
            severity: AlertSeverity::Warning,
            document: id(50).to_string(),
            message: "water is low".into(),
            raised_at: 1_234,
            status: AlertStatus::Open,
            resolved_by: None,
            resolved_at: None,
            finding: format!("low_stock:{}:water", id(50)),
            cleared_at: None,
            owners: Default::default(),
        }
    );
}
