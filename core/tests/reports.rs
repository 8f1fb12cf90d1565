//! Head office's reports over a seeded tour company, every figure worked out by hand.
//!
//! The seed goes through real Automerge documents and `summarize`, as on the server, so these
//! tests cover the summaries as well as the reports. Expected values are computed in the
//! comments next to each assertion, not by calling report code.

use std::collections::BTreeMap;

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ROOT};
use itinera_core::model::*;
use itinera_core::reports::*;
use itinera_core::{Document, DocumentId, Error};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 86_400_000;
/// 2026-03-15: 56 years of 365 days plus 14 leap days (1972 … 2024) to 2026-01-01 is 20_454
/// days, then January (31) and February (28) and 14 days of March.
const TODAY: i64 = 20_454 + 31 + 28 + 14;
/// Noon on 2026-03-15 (UTC): ageing counts whole days, so the hour must not matter.
const NOW: i64 = TODAY * DAY + 12 * HOUR;

// Document ids of the seed.
const CATALOG: u8 = 1;
const GUS: u8 = 2;
const ANA: u8 = 3;
const DANUBE: u8 = 10;
const ALPS: u8 = 11;
const PAST: u8 = 12;
const CANCELLED: u8 = 13;
const B1: u8 = 20;
const B2: u8 = 21;
const B3: u8 = 22;
const B4: u8 = 23;
const B5: u8 = 24;
const I1: u8 = 30;
const I2: u8 = 31;
const I3: u8 = 32;
const I4: u8 = 33;
const I5: u8 = 34;
const I6: u8 = 35;
const I7: u8 = 36;
const I8: u8 = 37;
const I9: u8 = 38;
const LAKESIDE: u8 = 40;
const HARBOUR: u8 = 41;
const ARCHIVED: u8 = 42;
const SPRING: u8 = 50;
const FAIR: u8 = 51;
const DEPOT: u8 = 70;
const KIT: u8 = 71;
const VAN: u8 = 72;
const JOURNAL_FEB: u8 = 80;
const JOURNAL_MAR: u8 = 81;
const TICKET: u8 = 90;

fn id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n; 16])
}

/// The bare bs58 id, as reports print it.
fn s(n: u8) -> String {
    id(n).to_string()
}

fn eur(minor: i64) -> Amounts {
    [("EUR", minor)].into_iter().collect()
}

/// Creates `record` as a document and summarises it, as the server does after each change.
fn summary_of<R: Record>(n: u8, record: &R) -> (DocumentId, Summary) {
    let doc = Document::create(ActorId::from([n; 16]), 0, record).expect("create");
    let summary = summarize(&id(n), doc.automerge())
        .expect("summarize")
        .expect("a kind with a summary");
    (id(n), summary)
}

fn stage_change(opportunity: &mut Opportunity, to: Stage, at: i64) {
    let change = StageChange {
        from: opportunity.stage,
        to,
        actor: "rep".into(),
        at,
    };
    opportunity
        .stage_history
        .append(LogKey::new(at, "rep"), change)
        .expect("new key");
    opportunity.stage = to;
}

fn opportunity(stage: Stage, amount_minor: i64, probability: i64, owner: &str) -> Opportunity {
    Opportunity {
        stage,
        amount_minor,
        currency: "EUR".into(),
        probability,
        owner: owner.into(),
        ..Default::default()
    }
}

fn lost(reason: Option<&str>) -> Opportunity {
    Opportunity {
        lost_reason: reason.map(Into::into),
        ..opportunity(Stage::Lost, 10_000, 0, "sofia")
    }
}

fn passengers(count: usize) -> BTreeMap<String, Passenger> {
    (0..count)
        .map(|i| (format!("p-{i}"), Passenger::default()))
        .collect()
}

fn booking(
    departure: u8,
    account: u8,
    status: BookingStatus,
    seats: usize,
    amount: i64,
) -> Booking {
    Booking {
        departure: s(departure),
        account: s(account),
        rep: "sam".into(),
        status,
        passengers: passengers(seats),
        amount_minor: amount,
        currency: "EUR".into(),
        ..Default::default()
    }
}

fn posted(
    legal_number: Option<&str>,
    customer: u8,
    bookings: &[u8],
    (net, vat, gross): (i64, i64, i64),
    due_on: Option<&str>,
    paid: i64,
) -> Invoice {
    let mut invoice = Invoice {
        legal_number: legal_number.map(Into::into),
        series: "2026".into(),
        status: InvoiceStatus::Posted,
        customer: s(customer),
        currency: "EUR".into(),
        due_on: due_on.map(Into::into),
        bookings: bookings.iter().map(|b| s(*b)).collect(),
        totals: InvoiceTotals {
            net_minor: net,
            vat_minor: vat,
            gross_minor: gross,
        },
        ..Default::default()
    };
    if paid != 0 {
        let payment = Payment {
            amount_minor: paid,
            method: "transfer".into(),
            reference: "bank".into(),
            at: NOW - DAY,
        };
        invoice
            .payments
            .append(LogKey::new(NOW - DAY, "bank"), payment)
            .expect("new key");
    }
    invoice
}

fn assignment(employee: &str, status: AssignmentStatus, hours: f64) -> GuideAssignment {
    GuideAssignment {
        employee: employee.into(),
        status,
        hours,
        ..Default::default()
    }
}

fn departure(
    tour: &str,
    starts_in_days: i64,
    status: DepartureStatus,
    capacity: i64,
    seats_confirmed: i64,
    assignments: &[(&str, GuideAssignment)],
) -> Departure {
    Departure {
        tour: tour.into(),
        starts_at: NOW + starts_in_days * DAY,
        ends_at: NOW + (starts_in_days + 3) * DAY,
        capacity,
        status,
        seats_confirmed,
        assignments: assignments
            .iter()
            .map(|(key, a)| ((*key).to_owned(), a.clone()))
            .collect(),
        ..Default::default()
    }
}

fn movement(
    item: &str,
    quantity: i64,
    reason: MovementReason,
    reference: Option<String>,
) -> StockMovement {
    StockMovement {
        item: item.into(),
        quantity,
        reason,
        reference,
        actor: "gus".into(),
        at: NOW - 30 * DAY,
    }
}

fn post_all(location: &mut StockLocation, movements: Vec<StockMovement>) {
    for (n, movement) in movements.into_iter().enumerate() {
        location
            .post_movement(LogKey::new(NOW - 30 * DAY, &format!("m-{n}")), movement)
            .expect("valid movement");
    }
}

fn journal_entry(lines: &[(&str, i64, i64)]) -> JournalEntry {
    let mut entry = JournalEntry::default();
    for (n, (account, debit, credit)) in lines.iter().enumerate() {
        entry.lines.insert(
            format!("l-{n}"),
            JournalLine {
                account: (*account).into(),
                debit_minor: *debit,
                credit_minor: *credit,
                currency: String::new(),
            },
        );
    }
    entry
}

fn journal(period: &str, entries: &[JournalEntry]) -> Journal {
    let mut journal = Journal {
        period: period.into(),
        ..Default::default()
    };
    for (n, entry) in entries.iter().enumerate() {
        journal
            .entries
            .append(LogKey::new(n as i64, "server"), entry.clone())
            .expect("new key");
    }
    journal
}

/// Danube & Alps Tours, mid-March 2026.
fn seed() -> Vec<(DocumentId, Summary)> {
    let mut out = Vec::new();

    // Catalogue: three items, two tours.
    let mut catalog = Catalog::default();
    let mut water = InventoryItem {
        name: "Water 0.5 l".into(),
        unit: "bottle".into(),
        ..Default::default()
    };
    water.reorder_points.insert(s(KIT), 24);
    // Written as a URL: the summary keys it by the bare id.
    water.reorder_points.insert(id(DEPOT).to_url(), 100);
    let mut first_aid = InventoryItem {
        name: "First-aid kit".into(),
        unit: "kit".into(),
        ..Default::default()
    };
    first_aid.reorder_points.insert(s(KIT), 2);
    catalog.items.insert("water".into(), water);
    catalog.items.insert("first-aid".into(), first_aid);
    catalog.items.insert(
        "headset".into(),
        InventoryItem {
            name: "Guide headset".into(),
            ..Default::default()
        },
    );
    let mut db3 = Tour {
        code: "DB3".into(),
        name: "Danube Bend".into(),
        ..Default::default()
    };
    db3.required_kit.insert(
        "water".into(),
        KitRequirement {
            quantity: 2,
            basis: KitBasis::PerPassenger,
        },
    );
    db3.required_kit.insert(
        "first-aid".into(),
        KitRequirement {
            quantity: 1,
            basis: KitBasis::PerDeparture,
        },
    );
    let mut av5 = Tour {
        code: "AV5".into(),
        name: "Alpine Villages".into(),
        ..Default::default()
    };
    av5.required_kit.insert(
        "headset".into(),
        KitRequirement {
            quantity: 1,
            basis: KitBasis::PerDeparture,
        },
    );
    catalog.tours.insert("db3".into(), db3);
    catalog.tours.insert("av5".into(), av5);
    out.push(summary_of(CATALOG, &catalog));

    // Two guides.
    let mut gus = Employee {
        name: "Gus".into(),
        user: Some("gus".into()),
        languages: ["hu", "en", "de"].into_iter().collect(),
        ..Default::default()
    };
    gus.leave
        .append(
            LogKey::new(NOW + 60 * DAY, "office"),
            Leave {
                starts_at: NOW + 60 * DAY,
                ends_at: NOW + 67 * DAY,
                reason: "holiday".into(),
            },
        )
        .expect("new key");
    out.push(summary_of(GUS, &gus));
    out.push(summary_of(
        ANA,
        &Employee {
            name: "Ana".into(),
            user: Some("ana".into()),
            languages: ["en", "it"].into_iter().collect(),
            ..Default::default()
        },
    ));

    // Departures. Seats confirmed are what the server derived from the bookings below.
    let (gus, ana) = (s(GUS), s(ANA));
    out.push(summary_of(
        DANUBE,
        &departure(
            "db3",
            10,
            DepartureStatus::Guaranteed,
            20,
            5,
            &[
                ("a-1", assignment(&gus, AssignmentStatus::Accepted, 24.0)),
                ("a-2", assignment(&ana, AssignmentStatus::Offered, 8.0)),
            ],
        ),
    ));
    let mut alps = departure(
        "av5",
        30,
        DepartureStatus::Scheduled,
        16,
        3,
        &[
            ("a-1", assignment(&ana, AssignmentStatus::Accepted, 40.0)),
            ("a-2", assignment(&gus, AssignmentStatus::Conflict, 40.0)),
            (
                "a-3",
                assignment("e-ghost", AssignmentStatus::Declined, 40.0),
            ),
        ],
    );
    alps.seats_waitlisted = 2;
    out.push(summary_of(ALPS, &alps));
    out.push(summary_of(
        PAST,
        &departure(
            "db3",
            -20,
            DepartureStatus::Completed,
            10,
            10,
            &[("a-1", assignment(&gus, AssignmentStatus::Accepted, 30.5))],
        ),
    ));
    out.push(summary_of(
        CANCELLED,
        &departure(
            "xx1",
            40,
            DepartureStatus::Cancelled,
            12,
            0,
            &[("a-1", assignment(&gus, AssignmentStatus::Accepted, 10.0))],
        ),
    ));

    // Bookings.
    out.push(summary_of(
        B1,
        &booking(DANUBE, LAKESIDE, BookingStatus::Confirmed, 3, 117_000),
    ));
    out.push(summary_of(
        B2,
        &booking(DANUBE, HARBOUR, BookingStatus::Confirmed, 2, 78_000),
    ));
    out.push(summary_of(
        B3,
        &booking(ALPS, HARBOUR, BookingStatus::Confirmed, 3, 165_000),
    ));
    out.push(summary_of(
        B4,
        &booking(ALPS, HARBOUR, BookingStatus::Waitlisted, 2, 110_000),
    ));
    out.push(summary_of(
        B5,
        &booking(PAST, LAKESIDE, BookingStatus::Confirmed, 10, 300_000),
    ));

    // Invoices.
    // I1: B1 + B5, 27 % VAT on 417_000; 200_000 paid; due 2026-02-01.
    out.push(summary_of(
        I1,
        &posted(
            Some("2026/0001"),
            LAKESIDE,
            &[B1, B5],
            (417_000, 112_590, 529_590),
            Some("2026-02-01"),
            200_000,
        ),
    ));
    // I2: B3; due today; partly credited by I6.
    out.push(summary_of(
        I2,
        &posted(
            Some("2026/0002"),
            HARBOUR,
            &[B3],
            (165_000, 44_550, 209_550),
            Some("2026-03-15"),
            0,
        ),
    ));
    // I3: B2; posted but not numbered yet; 60 paid; due 2025-12-01.
    out.push(summary_of(
        I3,
        &posted(
            None,
            HARBOUR,
            &[B2],
            (78_000, 21_060, 99_060),
            Some("2025-12-01"),
            60,
        ),
    ));
    // I4: no bookings; due 2025-12-15.
    out.push(summary_of(
        I4,
        &posted(
            Some("2026/0003"),
            LAKESIDE,
            &[],
            (10_000, 2_700, 12_700),
            Some("2025-12-15"),
            0,
        ),
    ));
    // I5: a draft whose totals the server has not written: computed from its lines.
    let mut draft = Invoice {
        provisional_number: "SAM-0007".into(),
        customer: s(LAKESIDE),
        currency: "EUR".into(),
        bookings: [s(B4)].into_iter().collect(),
        ..Default::default()
    };
    draft.lines.insert(
        "l-1".into(),
        InvoiceLine {
            description: "Booking fee".into(),
            quantity: 1,
            unit_price_minor: 50,
            vat_rate_bp: 2_700,
        },
    );
    draft.lines.insert(
        "l-2".into(),
        InvoiceLine {
            description: "Alpine Villages".into(),
            quantity: 3,
            unit_price_minor: 33_335,
            vat_rate_bp: 2_700,
        },
    );
    out.push(summary_of(I5, &draft));
    // I6: credit note of I2, naming no bookings of its own.
    let mut credit_note = posted(
        Some("2026/0004"),
        HARBOUR,
        &[],
        (-55_000, -14_850, -69_850),
        None,
        0,
    );
    credit_note.credit_of = Some(s(I2));
    out.push(summary_of(I6, &credit_note));
    // I7: paid in full.
    out.push(summary_of(
        I7,
        &posted(
            Some("2026/0005"),
            HARBOUR,
            &[],
            (10_000, 2_700, 12_700),
            Some("2026-01-01"),
            12_700,
        ),
    ));
    // I8: due 2026-02-13, no VAT.
    out.push(summary_of(
        I8,
        &posted(
            Some("2026/0006"),
            HARBOUR,
            &[],
            (1_000, 0, 1_000),
            Some("2026-02-13"),
            0,
        ),
    ));
    // I9: no due date; issued 2026-01-10.
    let mut undated = posted(Some("2026/0007"), HARBOUR, &[], (500, 0, 500), None, 0);
    undated.issued_on = Some("2026-01-10".into());
    out.push(summary_of(I9, &undated));

    // Accounts and opportunities.
    let mut lakeside = Account {
        name: "Lakeside Schools".into(),
        owner: "sam".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let mut spring = opportunity(Stage::Prospecting, 780_000, 60, "sam");
    spring.tours.insert("db3");
    stage_change(&mut spring, Stage::Qualification, NOW - 30 * DAY);
    stage_change(&mut spring, Stage::Proposal, NOW - 10 * DAY);
    let mut autumn = opportunity(Stage::Prospecting, 12_345, 35, "");
    autumn.tours.insert("db3");
    autumn.tours.insert("av5");
    stage_change(&mut autumn, Stage::Qualification, NOW - 4 * DAY - 12 * HOUR);
    let archived_opportunity = Opportunity {
        archived_at: Some(NOW - DAY),
        ..opportunity(Stage::Proposal, 5_000, 50, "sam")
    };
    lakeside.opportunities.insert("o-1".into(), spring);
    lakeside.opportunities.insert("o-2".into(), autumn);
    lakeside.opportunities.insert(
        "o-3".into(),
        Opportunity {
            owner: "sam".into(),
            ..lost(Some("price"))
        },
    );
    lakeside
        .opportunities
        .insert("o-4".into(), opportunity(Stage::Won, 90_000, 100, "sam"));
    lakeside
        .opportunities
        .insert("o-5".into(), archived_opportunity);
    out.push(summary_of(LAKESIDE, &lakeside));

    let mut harbour = Account {
        name: "Harbour Travel".into(),
        owner: "sofia".into(),
        territory: "south".into(),
        ..Default::default()
    };
    let mut allotment = opportunity(Stage::Qualification, 1_001, 50, "sofia");
    allotment.tours.insert("av5");
    stage_change(&mut allotment, Stage::Negotiation, NOW - 2 * DAY);
    harbour.opportunities.insert("o-1".into(), allotment);
    harbour.opportunities.insert(
        "o-2".into(),
        opportunity(Stage::Proposal, 200_000, 25, "sofia"),
    );
    harbour
        .opportunities
        .insert("o-3".into(), lost(Some("price")));
    harbour.opportunities.insert("o-4".into(), lost(None));
    harbour
        .opportunities
        .insert("o-5".into(), lost(Some("timing")));
    out.push(summary_of(HARBOUR, &harbour));

    let mut archived = Account {
        owner: "sam".into(),
        territory: "north".into(),
        archived_at: Some(NOW - 5 * DAY),
        ..Default::default()
    };
    archived.opportunities.insert(
        "o-1".into(),
        opportunity(Stage::Proposal, 999_999, 90, "sam"),
    );
    archived
        .opportunities
        .insert("o-2".into(), lost(Some("gone")));
    out.push(summary_of(ARCHIVED, &archived));

    // Campaigns and leads.
    let mut spring_mailing = Campaign {
        name: "Spring schools mailing".into(),
        members: ["c-1", "c-2", "c-3"].into_iter().collect(),
        budget_minor: 50_000,
        currency: "EUR".into(),
        ..Default::default()
    };
    for (n, member) in ["c-1", "c-2"].into_iter().enumerate() {
        spring_mailing
            .responses
            .append(
                LogKey::new(n as i64, member),
                CampaignResponse {
                    member: member.into(),
                    response: "clicked".into(),
                    at: n as i64,
                },
            )
            .expect("new key");
    }
    out.push(summary_of(SPRING, &spring_mailing));
    out.push(summary_of(
        FAIR,
        &Campaign {
            name: "Travel fair".into(),
            members: ["c-9"].into_iter().collect(),
            ..Default::default()
        },
    ));
    let leads = [
        (Some(s(SPRING)), LeadStatus::Converted, Some(s(LAKESIDE))),
        (Some(s(SPRING)), LeadStatus::Qualified, None),
        (Some(s(SPRING)), LeadStatus::New, None),
        // Converted, though nobody moved its status on.
        (Some(s(FAIR)), LeadStatus::Qualified, Some(s(HARBOUR))),
        (Some(s(FAIR)), LeadStatus::Disqualified, None),
        (None, LeadStatus::Contacted, None),
        // The campaign written as a URL is the same campaign.
        (Some(id(SPRING).to_url()), LeadStatus::New, None),
    ];
    for (n, (campaign, status, converted_to)) in leads.into_iter().enumerate() {
        let lead = Lead {
            source: "web".into(),
            campaign,
            status,
            converted_to,
            ..Default::default()
        };
        out.push(summary_of(60 + n as u8, &lead));
    }

    // Stock: a depot, Gus's tour kit, Ana's van.
    let mut depot = StockLocation {
        name: "Budapest depot".into(),
        location_kind: LocationKind::Warehouse,
        custodian: Some("olga".into()),
        ..Default::default()
    };
    post_all(
        &mut depot,
        vec![
            movement("water", 480, MovementReason::Receipt, None),
            movement(
                "water",
                -400,
                MovementReason::Transfer,
                Some("transfer-1".into()),
            ),
            movement("first-aid", 10, MovementReason::Receipt, None),
        ],
    );
    out.push(summary_of(DEPOT, &depot));
    let mut kit = StockLocation {
        name: "Tour kit 1".into(),
        location_kind: LocationKind::TourKit,
        custodian: Some("gus".into()),
        ..Default::default()
    };
    post_all(
        &mut kit,
        vec![
            movement("water", 30, MovementReason::Receipt, None),
            movement("first-aid", 1, MovementReason::Receipt, None),
            movement("headset", 2, MovementReason::Receipt, None),
            movement(
                "water",
                -20,
                MovementReason::Consumption,
                Some(id(PAST).to_url()),
            ),
            movement("water", -4, MovementReason::Consumption, Some(s(PAST))),
            movement("first-aid", -2, MovementReason::Consumption, Some(s(PAST))),
            // A bottle returned unopened: a positive consumption is not consumption.
            movement("water", 1, MovementReason::Consumption, Some(s(PAST))),
            movement(
                "headset",
                -1,
                MovementReason::Consumption,
                Some("transfer-9".into()),
            ),
        ],
    );
    out.push(summary_of(KIT, &kit));
    let mut van = StockLocation {
        name: "Van 1".into(),
        location_kind: LocationKind::Van,
        custodian: Some("ana".into()),
        ..Default::default()
    };
    post_all(
        &mut van,
        vec![movement("headset", 3, MovementReason::Receipt, None)],
    );
    out.push(summary_of(VAN, &van));

    // The ledger, two months.
    out.push(summary_of(
        JOURNAL_FEB,
        &journal(
            "2026-02",
            &[
                journal_entry(&[
                    ("1200", 529_590, 0),
                    ("4000", 0, 417_000),
                    ("4670", 0, 112_590),
                ]),
                journal_entry(&[("1100", 200_000, 0), ("1200", 0, 200_000)]),
            ],
        ),
    ));
    out.push(summary_of(
        JOURNAL_MAR,
        &journal(
            "2026-03",
            &[journal_entry(&[
                ("1200", 209_550, 0),
                ("4000", 0, 165_000),
                ("4670", 0, 44_550),
            ])],
        ),
    ));

    // A ticket: summarised, read by no report yet.
    out.push(summary_of(
        TICKET,
        &Ticket {
            status: TicketStatus::Open,
            priority: TicketPriority::High,
            ..Default::default()
        },
    ));
    out
}

fn group(key: &str, count: u64, value: i64, weighted: i64, days: Option<f64>) -> PipelineGroup {
    PipelineGroup {
        key: key.into(),
        count,
        value: eur(value),
        weighted_value: eur(weighted),
        average_days_in_stage: days,
    }
}

#[test]
fn pipeline_groups_open_opportunities_four_ways() {
    let report = pipeline(&seed(), NOW);

    // Open: Lakeside o-1 (780_000 at 60 %, in Proposal for 10 days), o-2 (12_345 at 35 %, in
    // Qualification for 4.5 days, no owner of its own: Sam's account), Harbour o-1 (1_001 at
    // 50 %, in Negotiation for 2 days), o-2 (200_000 at 25 %, never moved: no time in stage).
    // Out: Lakeside o-5 (archived), the archived account's opportunities, won and lost ones.
    // Weighted: 780_000 × 0.60 = 468_000; 12_345 × 0.35 = 4_320.75 → 4_321;
    // 1_001 × 0.50 = 500.5 → 501 (half away from zero); 200_000 × 0.25 = 50_000.
    // Value 780_000 + 12_345 + 1_001 + 200_000 = 993_346;
    // weighted 468_000 + 4_321 + 501 + 50_000 = 522_822; days (10 + 4.5 + 2) / 3 = 5.5.
    assert_eq!(report.open, group("open", 4, 993_346, 522_822, Some(5.5)));

    // In pipeline order; stages with nothing open are absent.
    assert_eq!(
        report.by_stage,
        [
            group("qualification", 1, 12_345, 4_321, Some(4.5)),
            // 780_000 + 200_000; 468_000 + 50_000; only o-1 has a time: 10 days.
            group("proposal", 2, 980_000, 518_000, Some(10.0)),
            group("negotiation", 1, 1_001, 501, Some(2.0)),
        ]
    );
    // Sam: 780_000 + 12_345 = 792_345; 468_000 + 4_321 = 472_321; (10 + 4.5) / 2 = 7.25.
    // Sofia: 1_001 + 200_000 = 201_001; 501 + 50_000 = 50_501; only o-1 timed: 2 days.
    let sam = group("sam", 2, 792_345, 472_321, Some(7.25));
    let sofia = group("sofia", 2, 201_001, 50_501, Some(2.0));
    assert_eq!(report.by_rep, [sam.clone(), sofia.clone()]);
    assert_eq!(
        report.by_territory,
        [
            PipelineGroup {
                key: "north".into(),
                ..sam
            },
            PipelineGroup {
                key: "south".into(),
                ..sofia
            },
        ]
    );
    // av5: Lakeside o-2 and Harbour o-1: 12_345 + 1_001 = 13_346; 4_321 + 501 = 4_822;
    // (4.5 + 2) / 2 = 3.25. db3: Lakeside o-1 and o-2, as Sam's. Harbour o-2 names no tour.
    assert_eq!(
        report.by_tour,
        [
            group("av5", 2, 13_346, 4_822, Some(3.25)),
            group("db3", 2, 792_345, 472_321, Some(7.25)),
        ]
    );

    assert_eq!(report.won, 1);
    // Lakeside o-3 (price), Harbour o-3 (price), o-4 (none given), o-5 (timing); the archived
    // account's "gone" is not counted. Most frequent first, then "none given" before reasons.
    assert_eq!(report.lost, 4);
    assert_eq!(
        report.lost_reasons,
        [
            LostReason {
                reason: Some("price".into()),
                count: 2
            },
            LostReason {
                reason: None,
                count: 1
            },
            LostReason {
                reason: Some("timing".into()),
                count: 1
            },
        ]
    );
}

#[test]
fn conversion_follows_leads_and_campaigns() {
    let report = conversion(&seed());

    // Seven leads; qualified: the converted one, the qualified one, and the fair lead converted
    // without its status moved = 3; converted (converted_to set) = 2; 2 / 7.
    assert_eq!(report.leads, 7);
    assert_eq!(report.qualified_leads, 3);
    assert_eq!(report.converted_leads, 2);
    assert_eq!(report.lead_to_opportunity_rate, Some(2.0 / 7.0));
    // Lakeside o-1 … o-4 (o-5 archived) and Harbour o-1 … o-5 = 9; won 1; lost 1 + 3 = 4.
    assert_eq!(report.opportunities, 9);
    assert_eq!(report.won, 1);
    assert_eq!(report.lost, 4);
    assert_eq!(report.won_rate, Some(1.0 / 9.0));

    let campaigns: BTreeMap<&str, &CampaignConversion> = report
        .campaigns
        .iter()
        .map(|row| (row.campaign.as_str(), row))
        .collect();
    assert_eq!(campaigns.len(), 2);
    // Spring: 3 members, 2 responses; leads 1, 2, 3 and 7 (named by URL) = 4; one converted.
    assert_eq!(
        *campaigns[s(SPRING).as_str()],
        CampaignConversion {
            campaign: s(SPRING),
            name: Some("Spring schools mailing".into()),
            members: 3,
            responses: 2,
            leads: 4,
            converted_leads: 1,
            conversion_rate: Some(0.25),
        }
    );
    // Fair: 1 member, no responses; leads 4 and 5; one converted.
    assert_eq!(
        *campaigns[s(FAIR).as_str()],
        CampaignConversion {
            campaign: s(FAIR),
            name: Some("Travel fair".into()),
            members: 1,
            responses: 0,
            leads: 2,
            converted_leads: 1,
            conversion_rate: Some(0.5),
        }
    );
}

#[test]
fn revenue_compares_booked_invoiced_and_guide_cost() {
    // 2_501 per hour, so that 30.5 hours cost 76_280.5 → 76_281.
    let report = revenue(&seed(), 2_501);

    // By start: Past (−20 days), Danube (+10), Alps (+30), Cancelled (+40).
    let order: Vec<&str> = report
        .departures
        .iter()
        .map(|d| d.departure.as_str())
        .collect();
    assert_eq!(order, [s(PAST), s(DANUBE), s(ALPS), s(CANCELLED)]);
    let [past, danube, alps, cancelled] = &report.departures[..] else {
        panic!("four departures");
    };

    // Past: 10 of 10 seats; booked B5 300_000. Invoiced: I1's gross 529_590 split over B1
    // (117_000) and B5 (300_000): 529_590 × 300_000 / 417_000 = 381_000 (exact). Guide: Gus
    // 30.5 h × 2_501 = 76_280.5 → 76_281. Margin 381_000 − 76_281 = 304_719.
    assert_eq!(past.seats_confirmed, 10);
    assert_eq!(past.load_factor, Some(1.0));
    assert_eq!(past.booked, eur(300_000));
    assert_eq!(past.invoiced, eur(381_000));
    assert_eq!(past.guide_hours, 30.5);
    assert_eq!(past.guide_cost_minor, 76_281);
    assert_eq!(past.margin_minor, Some(304_719));

    // Danube: 5 of 20 = 0.25; booked B1 117_000 + B2 78_000 = 195_000. Invoiced: I1's share for
    // B1 529_590 × 117_000 / 417_000 = 148_590, plus I3 (posted, not numbered yet) 99_060 =
    // 247_650. Guide: Gus 24 h accepted (Ana's 8 h only offered) × 2_501 = 60_024.
    // Margin 247_650 − 60_024 = 187_626.
    assert_eq!(danube.load_factor, Some(0.25));
    assert_eq!(danube.booked, eur(195_000));
    assert_eq!(danube.invoiced, eur(247_650));
    assert_eq!(danube.guide_hours, 24.0);
    assert_eq!(danube.guide_cost_minor, 60_024);
    assert_eq!(danube.margin_minor, Some(187_626));

    // Alps: 3 of 16 = 0.1875; booked B3 165_000 (B4 is waitlisted). Invoiced I2 209_550 less
    // the credit note I6, which names no bookings and reaches Alps through I2: 209_550 − 69_850
    // = 139_700. Guide: Ana 40 h (Gus's is a conflict) × 2_501 = 100_040. Margin 39_660.
    assert_eq!(alps.load_factor, Some(0.1875));
    assert_eq!(alps.booked, eur(165_000));
    assert_eq!(alps.invoiced, eur(139_700));
    assert_eq!(alps.guide_cost_minor, 100_040);
    assert_eq!(alps.margin_minor, Some(39_660));

    // Cancelled: Gus's accepted 10 h are not worked; nothing booked or invoiced.
    assert_eq!(cancelled.status, DepartureStatus::Cancelled);
    assert_eq!(cancelled.load_factor, Some(0.0));
    assert_eq!(cancelled.guide_cost_minor, 0);
    assert!(cancelled.invoiced.is_empty());
    assert_eq!(cancelled.margin_minor, Some(0));

    // I4 12_700, I7 12_700, I8 1_000 and I9 500 name no bookings: 26_900. The draft I5 counts
    // nowhere.
    assert_eq!(report.unattributed_invoiced, eur(26_900));

    // Tours, by id. db3: Past + Danube: 15 of 30 seats = 0.5; booked 300_000 + 195_000 =
    // 495_000; invoiced 381_000 + 247_650 = 628_650; 54.5 h; cost 76_281 + 60_024 = 136_305;
    // margin 628_650 − 136_305 = 492_345.
    let tours: Vec<&str> = report.tours.iter().map(|t| t.tour.as_str()).collect();
    assert_eq!(tours, ["av5", "db3", "xx1"]);
    assert_eq!(
        report.tours[1],
        TourRevenue {
            tour: "db3".into(),
            name: Some("Danube Bend".into()),
            departures: 2,
            seats_confirmed: 15,
            capacity: 30,
            load_factor: Some(0.5),
            booked: eur(495_000),
            invoiced: eur(628_650),
            guide_hours: 54.5,
            guide_cost_minor: 136_305,
            margin_minor: Some(492_345),
        }
    );
    assert_eq!(report.tours[0].margin_minor, Some(39_660));
    // A tour the catalogue does not list.
    assert_eq!(report.tours[2].name, None);
}

#[test]
fn revenue_gives_no_margin_across_currencies() {
    let mut huf = booking(DANUBE, HARBOUR, BookingStatus::Confirmed, 1, 1_500_000);
    huf.currency = "HUF".into();
    let mut invoice = posted(
        Some("X/1"),
        HARBOUR,
        &[B2],
        (1_500_000, 0, 1_500_000),
        None,
        0,
    );
    invoice.currency = "HUF".into();
    let summaries = vec![
        summary_of(
            DANUBE,
            &departure("db3", 10, DepartureStatus::Scheduled, 20, 2, &[]),
        ),
        summary_of(
            B1,
            &booking(DANUBE, LAKESIDE, BookingStatus::Confirmed, 1, 100),
        ),
        summary_of(B2, &huf),
        summary_of(
            I1,
            &posted(Some("X/0"), LAKESIDE, &[B1], (100, 0, 100), None, 0),
        ),
        summary_of(I2, &invoice),
    ];
    let report = revenue(&summaries, 1_000);
    let row = &report.departures[0];
    assert_eq!(
        row.booked,
        [("EUR", 100), ("HUF", 1_500_000)].into_iter().collect()
    );
    assert_eq!(
        row.invoiced,
        [("EUR", 100), ("HUF", 1_500_000)].into_iter().collect()
    );
    assert_eq!(row.margin_minor, None);
}

#[test]
fn stock_projects_tour_kits_and_flags_exceptions() {
    let report = stock(&seed(), NOW);
    let locations: BTreeMap<&str, &LocationStock> = report
        .locations
        .iter()
        .map(|l| (l.location.as_str(), l))
        .collect();

    // Gus's kit: water 30 − 20 − 4 + 1 (the returned bottle) = 7; first-aid 1 − 2 = −1;
    // headset 2 − 1 = 1. Gus has accepted the Danube (upcoming, 5 seats): db3 needs water 2 per
    // passenger = 10 and first-aid 1 per departure. Past is over, Alps is a conflict, Cancelled
    // is cancelled. Projected: water 7 − 10 = −3; first-aid −1 − 1 = −2; headset 1.
    let kit = locations[s(KIT).as_str()];
    assert!(kit.projected);
    assert_eq!(kit.departures, [s(DANUBE)]);
    assert_eq!(
        kit.items,
        [
            ItemStock {
                item: "first-aid".into(),
                name: Some("First-aid kit".into()),
                on_hand: -1,
                reorder_point: Some(2),
                required: 1,
                projected: -2,
            },
            ItemStock {
                item: "headset".into(),
                name: Some("Guide headset".into()),
                on_hand: 1,
                reorder_point: None,
                required: 0,
                projected: 1,
            },
            ItemStock {
                item: "water".into(),
                name: Some("Water 0.5 l".into()),
                on_hand: 7,
                reorder_point: Some(24),
                required: 10,
                projected: -3,
            },
        ]
    );

    // The depot is not projected: water 480 − 400 = 80 below its reorder point of 100 (set in
    // the catalogue under the depot's URL); first-aid 10 with no reorder point.
    let depot = locations[s(DEPOT).as_str()];
    assert!(!depot.projected);
    let depot_items: Vec<(&str, i64, Option<i64>, i64)> = depot
        .items
        .iter()
        .map(|i| (i.item.as_str(), i.on_hand, i.reorder_point, i.projected))
        .collect();
    assert_eq!(
        depot_items,
        [("first-aid", 10, None, 10), ("water", 80, Some(100), 80)]
    );

    // Ana's van: she has accepted the Alps, whose tour needs a headset, but a van is not a
    // tour kit: 3 on hand, 3 projected.
    let van = locations[s(VAN).as_str()];
    assert!(!van.projected);
    assert_eq!((van.items[0].on_hand, van.items[0].projected), (3, 3));

    // Exceptions: kit first-aid negative (only that: it is below zero already); kit water
    // below its reorder point (7 < 24) and projected negative (−3); depot water below 100.
    let mut exceptions: Vec<(String, &str, StockExceptionKind)> = report
        .exceptions
        .iter()
        .map(|e| (e.location.clone(), e.item.as_str(), e.exception))
        .collect();
    exceptions.sort();
    let mut expected = vec![
        (s(KIT), "first-aid", StockExceptionKind::Negative),
        (s(KIT), "water", StockExceptionKind::BelowReorderPoint),
        (s(KIT), "water", StockExceptionKind::ProjectedNegative),
        (s(DEPOT), "water", StockExceptionKind::BelowReorderPoint),
    ];
    expected.sort();
    assert_eq!(exceptions, expected);

    // Consumption for the past departure: water 20 + 4 = 24 (the reference written as a URL
    // and as a bare id are one departure; the returned bottle is not consumption), first-aid 2.
    // The headset consumed for "transfer-9" is not a departure's.
    assert_eq!(
        report.consumption,
        [DepartureConsumption {
            departure: s(PAST),
            tour: "db3".into(),
            starts_at: NOW - 20 * DAY,
            items: [("first-aid".to_owned(), 2), ("water".to_owned(), 24)]
                .into_iter()
                .collect(),
        }]
    );
}

#[test]
fn guides_report_hours_conflicts_and_languages() {
    let report = guides(&seed());
    let rows: BTreeMap<&str, &GuideUtilisation> = report
        .guides
        .iter()
        .map(|g| (g.employee.as_str(), g))
        .collect();
    assert_eq!(rows.len(), 3);

    // Gus: Danube 24 h + Past 30.5 h accepted = 54.5 h (Cancelled's 10 h do not count); the
    // Alps assignment is a conflict.
    let mut gus_departures = vec![s(DANUBE), s(PAST)];
    gus_departures.sort();
    assert_eq!(
        *rows[s(GUS).as_str()],
        GuideUtilisation {
            employee: s(GUS),
            name: Some("Gus".into()),
            languages: vec!["de".into(), "en".into(), "hu".into()],
            accepted_hours: 54.5,
            offered_hours: 0.0,
            offered: 0,
            conflicts: 1,
            departures: gus_departures,
        }
    );
    // Ana: Alps 40 h accepted; Danube 8 h offered.
    assert_eq!(
        *rows[s(ANA).as_str()],
        GuideUtilisation {
            employee: s(ANA),
            name: Some("Ana".into()),
            languages: vec!["en".into(), "it".into()],
            accepted_hours: 40.0,
            offered_hours: 8.0,
            offered: 1,
            conflicts: 0,
            departures: vec![s(ALPS)],
        }
    );
    // Someone assigned with no employee record, who declined: listed, with nothing counted.
    let ghost = rows["e-ghost"];
    assert_eq!(
        (ghost.name.clone(), ghost.accepted_hours, ghost.offered),
        (None, 0.0, 0)
    );

    // Departures still to run: Danube (Gus: de, en, hu) then Alps (Ana: en, it).
    assert_eq!(
        report.coverage,
        [
            LanguageCoverage {
                departure: s(DANUBE),
                tour: "db3".into(),
                starts_at: NOW + 10 * DAY,
                guides: vec![s(GUS)],
                languages: vec!["de".into(), "en".into(), "hu".into()],
            },
            LanguageCoverage {
                departure: s(ALPS),
                tour: "av5".into(),
                starts_at: NOW + 30 * DAY,
                guides: vec![s(ANA)],
                languages: vec!["en".into(), "it".into()],
            },
        ]
    );
}

#[test]
fn invoices_report_numbers_drafts_and_ageing() {
    let report = invoices(&seed(), NOW);

    // Posted without a legal number: I3.
    let awaiting: Vec<&str> = report
        .awaiting_legal_number
        .iter()
        .map(|r| r.invoice.as_str())
        .collect();
    assert_eq!(awaiting, [s(I3)]);
    // The draft's totals come from its lines: 1 × 50 + 3 × 33_335 = 100_055 net; VAT 27 % per
    // line: 13.5 → 14 and 27_001.35 → 27_001, so 27_015; gross 127_070.
    assert_eq!(report.drafts.len(), 1);
    assert_eq!(
        (
            report.drafts[0].invoice.clone(),
            report.drafts[0].gross_minor
        ),
        (s(I5), 127_070)
    );

    // Receivables, today being day 20_527 (2026-03-15):
    // I3: due 2025-12-01 = day 20_454 − 31 = 20_423 → 104 days; 99_060 − 60 = 99_000.
    // I4: due 2025-12-15 = day 20_437 → 90 days (still 61–90); 12_700.
    // I9: no due date, issued 2026-01-10 = day 20_463 → 64 days; 500.
    // I1: due 2026-02-01 = day 20_485 → 42 days; 529_590 − 200_000 = 329_590.
    // I8: due 2026-02-13 = day 20_497 → 30 days (still 1–30); 1_000.
    // I2: due today → 0 days, current; 209_550 less the credit note's 69_850 = 139_700.
    // Not receivables: I7 (paid in full), I6 (a credit note), I5 (a draft).
    let receivables: Vec<(String, Option<i64>, AgeBand, i64)> = report
        .receivables
        .iter()
        .map(|r| {
            (
                r.invoice.clone(),
                r.days_past_due,
                r.band,
                r.outstanding_minor,
            )
        })
        .collect();
    assert_eq!(
        receivables,
        [
            (s(I3), Some(104), AgeBand::Over90, 99_000),
            (s(I4), Some(90), AgeBand::Days61To90, 12_700),
            (s(I9), Some(64), AgeBand::Days61To90, 500),
            (s(I1), Some(42), AgeBand::Days31To60, 329_590),
            (s(I8), Some(30), AgeBand::Days1To30, 1_000),
            (s(I2), Some(0), AgeBand::Current, 139_700),
        ]
    );
    let i2 = &report.receivables[5];
    assert_eq!(
        (i2.gross_minor, i2.paid_minor, i2.credited_minor),
        (209_550, 0, 69_850)
    );

    // Buckets: current I2 139_700; 1–30 I8 1_000; 31–60 I1 329_590; 61–90 I4 + I9 = 13_200;
    // over 90 I3 99_000.
    let bucket = |band, invoices, outstanding| AgeingBucket {
        band,
        invoices,
        outstanding: eur(outstanding),
    };
    assert_eq!(
        report.ageing,
        [
            bucket(AgeBand::Current, 1, 139_700),
            bucket(AgeBand::Days1To30, 1, 1_000),
            bucket(AgeBand::Days31To60, 1, 329_590),
            bucket(AgeBand::Days61To90, 2, 13_200),
            bucket(AgeBand::Over90, 1, 99_000),
        ]
    );
}

#[test]
fn trial_balance_sums_every_period() {
    let balance = trial_balance(&seed());

    // 1100: debit 200_000. 1200: debit 529_590 + 209_550 = 739_140, credit 200_000, balance
    // 539_140. 4000: credit 417_000 + 165_000 = 582_000. 4670: credit 112_590 + 44_550 =
    // 157_140. Debits 200_000 + 739_140 = 939_140; credits 200_000 + 582_000 + 157_140 =
    // 939_140.
    let line = |account: &str, debit, credit, balance| LedgerBalance {
        account: account.into(),
        debit_minor: debit,
        credit_minor: credit,
        balance_minor: balance,
    };
    let accounts = vec![
        line("1100", 200_000, 0, 200_000),
        line("1200", 739_140, 200_000, 539_140),
        line("4000", 0, 582_000, -582_000),
        line("4670", 0, 157_140, -157_140),
    ];
    assert_eq!(
        balance,
        TrialBalance {
            periods: vec!["2026-02".into(), "2026-03".into()],
            accounts: accounts.clone(),
            total_debit_minor: 939_140,
            total_credit_minor: 939_140,
            balanced: true,
            // The seed's lines carry no currency (as lines booked before they did).
            currencies: vec![CurrencyBalance {
                currency: String::new(),
                accounts,
                total_debit_minor: 939_140,
                total_credit_minor: 939_140,
                balanced: true,
            }],
        }
    );

    // A one-sided line written by something other than the server unbalances the ledger.
    let mut summaries = seed();
    summaries.push(summary_of(
        82,
        &journal("2026-04", &[journal_entry(&[("1100", 5, 0)])]),
    ));
    let balance = trial_balance(&summaries);
    assert_eq!(
        (balance.total_debit_minor, balance.total_credit_minor),
        (939_145, 939_140)
    );
    assert!(!balance.balanced);
}

#[test]
fn sync_health_flags_devices_silent_for_over_a_week() {
    let device = |user: &str, last_seen: i64, pending: u64| DeviceHealth {
        user: user.into(),
        peer_id: format!("{user}-phone"),
        storage_id: Some(format!("{user}-storage")),
        last_seen,
        pending_documents: pending,
    };
    let devices = [
        device("sam", NOW - HOUR, 0),
        device("gus", NOW - 8 * DAY, 3),
        // Exactly seven days: not yet flagged.
        device("sofia", NOW - 7 * DAY, 1),
        // A clock ahead of the server's: silent for no time at all.
        device("office", NOW + 5_000, 0),
    ];
    let report = sync_health(&devices, NOW);
    let rows: Vec<(&str, i64, bool)> = report
        .devices
        .iter()
        .map(|d| (d.user.as_str(), d.silent_for_ms, d.silent))
        .collect();
    assert_eq!(
        rows,
        [
            ("gus", 8 * DAY, true),
            ("sofia", 7 * DAY, false),
            ("sam", HOUR, false),
            ("office", 0, false),
        ]
    );
    assert_eq!(report.silent_devices, 1);
    assert_eq!(report.pending_documents, 4);
}

#[test]
fn summaries_serialize_tagged_with_ids_as_bs58() {
    let summaries = seed();
    for (_, summary) in &summaries {
        let json = serde_json::to_string(summary).expect("serialize");
        let back: Summary = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(&back, summary);
    }

    let (_, b1) = summaries
        .iter()
        .find(|(doc, _)| *doc == id(B1))
        .expect("B1");
    let json = serde_json::to_value(b1).expect("serialize");
    assert_eq!(json["kind"], "booking");
    assert_eq!(json["status"], "confirmed");
    assert_eq!(json["departure"], s(DANUBE));
    assert_eq!(json["seats"], 3);

    let (_, lakeside) = summaries
        .iter()
        .find(|(doc, _)| *doc == id(LAKESIDE))
        .expect("account");
    let json = serde_json::to_value(lakeside).expect("serialize");
    assert_eq!(json["kind"], "account");
    assert_eq!(json["opportunities"][0]["stage"], "proposal");
    assert_eq!(json["opportunities"][0]["stage_entered_at"], NOW - 10 * DAY);
    assert_eq!(json["opportunities"][0]["created_at"], NOW - 30 * DAY);

    // Reports serialize too, with money as a map of currency to minor units.
    let report = serde_json::to_value(revenue(&summaries, 2_501)).expect("serialize");
    assert_eq!(report["unattributed_invoiced"]["EUR"], 26_900);
    let back: RevenueReport = serde_json::from_value(report).expect("deserialize");
    assert_eq!(back, revenue(&summaries, 2_501));

    // An unknown stored value is refused, not defaulted.
    let bad = serde_json::json!({"kind": "ticket", "status": "lost", "priority": "high"});
    assert!(serde_json::from_value::<Summary>(bad).is_err());
}

#[test]
fn summarize_skips_what_no_report_reads_and_names_malformed_fields() {
    let generic = AutoCommit::new();
    assert_eq!(summarize(&id(1), &generic).expect("generic"), None);

    let transfer =
        Document::create(ActorId::from([1u8; 16]), 0, &Transfer::default()).expect("create");
    assert_eq!(
        summarize(&id(1), transfer.automerge()).expect("transfer"),
        None
    );

    let mut booking = Document::create(ActorId::from([1u8; 16]), 0, &Booking::default())
        .expect("create")
        .into_automerge();
    booking.put(ROOT, "amount_minor", "lots").expect("put");
    match summarize(&id(1), &booking) {
        Err(Error::Malformed { kind, path, .. }) => {
            assert_eq!(kind, DocumentKind::Booking);
            assert_eq!(path.to_string(), "/amount_minor");
        }
        other => panic!("expected a malformed booking, got {other:?}"),
    }

    let mut newer = Document::create(ActorId::from([1u8; 16]), 0, &Lead::default())
        .expect("create")
        .into_automerge();
    newer.put(ROOT, "schema", 99i64).expect("put");
    assert!(matches!(
        summarize(&id(1), &newer),
        Err(Error::UnsupportedSchema { found: 99, .. })
    ));
}

/// Counts the leaves of a JSON value: the summary's number of fields, however long its values.
fn leaves(value: &serde_json::Value) -> usize {
    match value {
        serde_json::Value::Object(map) => map.values().map(leaves).sum(),
        serde_json::Value::Array(items) => items.iter().map(leaves).sum(),
        _ => 1,
    }
}

#[test]
fn a_summary_does_not_grow_with_history() {
    // An account edited hundreds of times: every change rewrites the opportunity's amount;
    // every tenth also moves its stage (a stage-history entry) and logs a call (an activity).
    let mut account = Document::create(
        ActorId::from([1u8; 16]),
        NOW,
        &Account {
            name: "Lakeside Schools".into(),
            owner: "sam".into(),
            ..Default::default()
        },
    )
    .expect("create");
    account
        .change(NOW, |a| {
            a.opportunities.insert(
                "o-1".into(),
                opportunity(Stage::Proposal, 100_000, 50, "sam"),
            );
            Ok(())
        })
        .expect("change");
    let measure = |changes: std::ops::Range<i64>, account: &mut Document<Account>| {
        for n in changes {
            let at = NOW + (n + 1) * HOUR;
            account
                .change(at, |a| {
                    if let Some(o) = a.opportunities.get_mut("o-1") {
                        o.amount_minor = if o.amount_minor == 100_000 {
                            200_000
                        } else {
                            100_000
                        };
                    }
                    if n % 10 != 9 {
                        return Ok(());
                    }
                    let to = if a.opportunities["o-1"].stage == Stage::Proposal {
                        Stage::Negotiation
                    } else {
                        Stage::Proposal
                    };
                    a.move_opportunity("o-1", to, LogKey::new(at, "sam"), "sam", at)?;
                    let call = Activity {
                        subject: format!("call {n}"),
                        body: "Talked about the spring trip at length.".into(),
                        actor: "sam".into(),
                        at,
                        ..Default::default()
                    };
                    a.activities.append(LogKey::new(at, "sam"), call)?;
                    Ok(())
                })
                .expect("change");
        }
        let summary = summarize(&id(1), account.automerge())
            .expect("summarize")
            .expect("account");
        let json = serde_json::to_value(&summary).expect("serialize");
        let changes = account.automerge().clone().get_changes(&[]).len();
        (
            json.to_string().len(),
            leaves(&json),
            changes,
            account.save().len(),
        )
    };
    // After 10 changes (one move, to Negotiation; amount back at 100_000) and after 400 more
    // (41 moves in all: Negotiation again; 410 amount writes: 100_000 again), the summary has
    // the same fields and the same length, while the document's history has grown forty-fold
    // and its saved size, compressed as it is, more than doubled.
    let (short_len, short_fields, short_changes, short_doc) = measure(0..10, &mut account);
    let (long_len, long_fields, long_changes, long_doc) = measure(10..410, &mut account);
    // Created, opportunity added, 10 edits; then 400 more.
    assert_eq!((short_changes, long_changes), (12, 412));
    assert!(
        long_doc > 2 * short_doc,
        "document {short_doc} → {long_doc} bytes"
    );
    assert_eq!(long_fields, short_fields);
    assert_eq!(long_len, short_len);

    // A tour kit with a hundred and fifty consumption movements for one departure: still one
    // figure per item.
    let mut kit =
        Document::create(ActorId::from([2u8; 16]), NOW, &StockLocation::default()).expect("create");
    let measure_kit = |movements: std::ops::Range<i64>, kit: &mut Document<StockLocation>| {
        for n in movements {
            kit.change(NOW + n, |k| {
                k.post_movement(
                    LogKey::new(NOW + n, "gus"),
                    movement("water", -1, MovementReason::Consumption, Some(s(PAST))),
                )
            })
            .expect("change");
        }
        let summary = summarize(&id(2), kit.automerge())
            .expect("summarize")
            .expect("stock");
        let json = serde_json::to_value(&summary).expect("serialize");
        (json.to_string().len(), leaves(&json))
    };
    let (short_len, short_fields) = measure_kit(0..10, &mut kit);
    let (long_len, long_fields) = measure_kit(10..160, &mut kit);
    // Same fields; only the digits of two numbers change: on hand −10 → −160 and consumed
    // 10 → 160, one more digit each.
    assert_eq!(long_fields, short_fields);
    assert_eq!(long_len, short_len + 2);
}

/// Each report gives the same answer over only the kinds it reads (what the server hands it)
/// as over every summary.
#[test]
fn every_report_reads_only_its_kinds() {
    let all = seed();
    let only = |name: &str| -> Vec<(DocumentId, Summary)> {
        let kinds = kinds_read(name).unwrap_or_else(|| panic!("{name} is a report"));
        all.iter()
            .filter(|(_, summary)| kinds.contains(&summary.kind()))
            .cloned()
            .collect()
    };
    let now = 40 * 86_400_000;
    assert_eq!(pipeline(&only("pipeline"), now), pipeline(&all, now));
    assert_eq!(conversion(&only("conversion")), conversion(&all));
    assert_eq!(revenue(&only("revenue"), 2_500), revenue(&all, 2_500));
    assert_eq!(stock(&only("stock"), now), stock(&all, now));
    assert_eq!(guides(&only("guides")), guides(&all));
    assert_eq!(invoices(&only("invoices"), now), invoices(&all, now));
    assert_eq!(trial_balance(&only("trial-balance")), trial_balance(&all));
    assert_eq!(customers(&only("customers")), customers(&all));
    assert_eq!(kinds_read("sync-health"), None);
}
