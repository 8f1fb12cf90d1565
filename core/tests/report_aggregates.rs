//! The reports kept as running totals against their pure functions: random sequences of
//! inserts, updates and deletes of summaries (documents even change kind), then every
//! aggregate's report must equal the pure function over the summaries left, at several times,
//! and the receivables read page by page must be the report's list.

use std::collections::BTreeMap;

use itinera_core::DocumentId;
use itinera_core::model::{
    AssignmentStatus, BookingStatus, DepartureStatus, InvoiceStatus, LeadStatus, Stage,
    TicketPriority, TicketStatus,
};
use itinera_core::reports::*;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;

const DAY: i64 = 86_400_000;
/// 2026-01-01.
const BASE: i64 = 20_454 * DAY;
const IDS: u8 = 10;

fn id(n: u8) -> DocumentId {
    DocumentId::from_bytes([n + 1; 16])
}

/// A reference to one of the test's documents, as summaries hold it (the bare id).
fn reference() -> impl Strategy<Value = String> {
    (0..IDS).prop_map(|n| id(n).to_string())
}

fn currency() -> impl Strategy<Value = String> {
    select(vec!["EUR", "HUF"]).prop_map(String::from)
}

fn moment() -> impl Strategy<Value = i64> {
    (0..40i64).prop_map(|day| BASE + day * DAY + 1_234)
}

fn opportunity(n: usize) -> impl Strategy<Value = OpportunitySummary> {
    (
        (
            select(Stage::ALL.to_vec()),
            -1_000i64..100_000,
            currency(),
            -10i64..120,
        ),
        (
            select(vec!["", "sam", "ana"]),
            proptest::collection::vec(select(vec!["db3", "alps"]), 0..3),
        ),
        (
            proptest::option::of(select(vec!["price", "date"])),
            proptest::option::of(moment()),
        ),
        proptest::bool::weighted(0.2),
    )
        .prop_map(
            move |(
                (stage, amount_minor, currency, probability),
                (owner, tours),
                (reason, entered),
                archived,
            )| {
                OpportunitySummary {
                    id: format!("o-{n}"),
                    name: "trip".into(),
                    stage,
                    amount_minor,
                    currency,
                    probability,
                    owner: owner.into(),
                    tours: tours.into_iter().map(String::from).collect(),
                    lost_reason: reason.map(String::from),
                    stage_entered_at: entered,
                    created_at: None,
                    archived,
                }
            },
        )
}

fn account() -> impl Strategy<Value = Summary> {
    (
        select(vec!["sam", "ana"]),
        select(vec!["north", "south"]),
        proptest::bool::weighted(0.2),
        (opportunity(0), opportunity(1), opportunity(2), 0..4usize),
    )
        .prop_map(|(owner, territory, archived, (a, b, c, count))| {
            Summary::Account(AccountSummary {
                name: "Lakeside".into(),
                owner: owner.into(),
                territory: territory.into(),
                archived,
                opportunities: [a, b, c].into_iter().take(count).collect(),
                vat_number: None,
                city: String::new(),
                contacts: Vec::new(),
            })
        })
}

fn lead() -> impl Strategy<Value = Summary> {
    (
        select(LeadStatus::ALL.to_vec()),
        proptest::option::of(reference()),
        proptest::option::of(reference()),
    )
        .prop_map(|(status, campaign, converted_to)| {
            Summary::Lead(LeadSummary {
                source: "fair".into(),
                campaign,
                status,
                owner: "sam".into(),
                converted_to,
            })
        })
}

fn campaign() -> impl Strategy<Value = Summary> {
    (0u64..50, 0u64..20).prop_map(|(members, responses)| {
        Summary::Campaign(CampaignSummary {
            name: "Spring".into(),
            members,
            responses,
            budget_minor: 0,
            currency: "EUR".into(),
        })
    })
}

fn booking() -> impl Strategy<Value = Summary> {
    (
        reference(),
        select(vec!["", "a1", "a2", "a3"]),
        select(BookingStatus::ALL.to_vec()),
        -100i64..50_000,
        currency(),
    )
        .prop_map(|(departure, account, status, amount_minor, currency)| {
            Summary::Booking(BookingSummary {
                departure,
                account: account.into(),
                rep: "sam".into(),
                status,
                seats: 1,
                amount_minor,
                currency,
                submitted_at: None,
                received_at: None,
            })
        })
}

fn departure() -> impl Strategy<Value = Summary> {
    (
        select(vec!["db3", "alps", "x"]),
        moment(),
        0i64..40,
        select(DepartureStatus::ALL.to_vec()),
        0i64..40,
        proptest::collection::vec((select(AssignmentStatus::ALL.to_vec()), 0.0f64..12.0), 0..3),
    )
        .prop_map(
            |(tour, starts_at, capacity, status, seats_confirmed, assignments)| {
                Summary::Departure(DepartureSummary {
                    tour: tour.into(),
                    starts_at,
                    ends_at: starts_at + DAY,
                    capacity,
                    status,
                    seats_confirmed,
                    seats_waitlisted: 0,
                    assignments: assignments
                        .into_iter()
                        .map(|(status, hours)| AssignmentSummary {
                            employee: "gus".into(),
                            status,
                            hours,
                        })
                        .collect(),
                })
            },
        )
}

fn date() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(
        select(vec![
            "2025-10-01",
            "2026-01-01",
            "2026-01-20",
            "2026-02-05",
            "2026-03-01",
            "soon",
        ])
        .prop_map(String::from),
    )
}

fn invoice() -> impl Strategy<Value = Summary> {
    (
        (
            select(InvoiceStatus::ALL.to_vec()),
            proptest::option::of(Just("2026/1".to_owned())),
        ),
        (currency(), -1_000i64..100_000, 0i64..60_000),
        (date(), date()),
        proptest::collection::vec(reference(), 0..3),
        proptest::option::of(reference()),
    )
        .prop_map(
            |(
                (status, legal_number),
                (currency, gross_minor, paid_minor),
                (issued_on, due_on),
                bookings,
                credit_of,
            )| {
                Summary::Invoice(InvoiceSummary {
                    status,
                    legal_number,
                    series: "A".into(),
                    customer: "a1".into(),
                    currency,
                    net_minor: gross_minor,
                    vat_minor: 0,
                    gross_minor,
                    issued_on,
                    due_on,
                    bookings,
                    paid_minor,
                    credit_of,
                })
            },
        )
}

fn catalog() -> impl Strategy<Value = Summary> {
    select(vec!["Danube", "Alps"]).prop_map(|name| {
        let tour = TourSummary {
            code: "T".into(),
            name: name.into(),
            required_kit: BTreeMap::new(),
        };
        Summary::Catalog(CatalogSummary {
            items: BTreeMap::new(),
            tours: [("db3".to_owned(), tour)].into_iter().collect(),
        })
    })
}

fn ticket() -> impl Strategy<Value = Summary> {
    (
        select(TicketStatus::ALL.to_vec()),
        select(TicketPriority::ALL.to_vec()),
        proptest::option::of(moment()),
        proptest::option::of(moment()),
    )
        .prop_map(|(status, priority, opened_at, resolved_at)| {
            Summary::Ticket(TicketSummary {
                status,
                priority,
                account: "a1".into(),
                opened_at,
                resolved_at,
            })
        })
}

fn summary() -> impl Strategy<Value = Summary> {
    prop_oneof![
        account(),
        lead(),
        campaign(),
        booking(),
        departure(),
        invoice(),
        invoice(),
        catalog(),
        ticket(),
    ]
}

/// A document is written (`Some`) or loses its summary (`None`).
fn operations() -> impl Strategy<Value = Vec<(u8, Option<Summary>)>> {
    proptest::collection::vec((0..IDS, proptest::option::weighted(0.8, summary())), 1..60)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn running_totals_equal_the_reports_over_what_is_left(operations in operations()) {
        let mut aggregates = ReportAggregates::default();
        let mut documents: BTreeMap<DocumentId, Summary> = BTreeMap::new();
        for (n, summary) in operations {
            let old = match &summary {
                Some(summary) => documents.insert(id(n), summary.clone()),
                None => documents.remove(&id(n)),
            };
            aggregates.put(id(n), old.as_ref(), summary.as_ref());
        }
        let summaries: Vec<(DocumentId, Summary)> = documents.into_iter().collect();
        for now in [BASE, BASE + 20 * DAY + 5, BASE + 200 * DAY] {
            prop_assert_eq!(aggregates.pipeline().report(now, &()), pipeline(&summaries, now));
            prop_assert_eq!(aggregates.conversion().report(now, &()), conversion(&summaries));
            prop_assert_eq!(aggregates.revenue().report(now, &2_500), revenue(&summaries, 2_500));
            prop_assert_eq!(aggregates.customers().report(now, &()), customers(&summaries));
            let expected = invoices(&summaries, now);
            prop_assert_eq!(&aggregates.invoices().report(now, &()), &expected);
            // Page by page, the same list.
            let mut rows = Vec::new();
            let mut query = ReceivablesQuery::parse(None, Some(2)).expect("a query");
            loop {
                let page = aggregates.invoices().receivables(now, &query);
                prop_assert_eq!(page.total, expected.receivables.len() as u64);
                rows.extend(page.rows);
                let Some(next) = page.next_cursor else { break };
                query = ReceivablesQuery::parse(Some(&next), Some(2)).expect("its own cursor");
            }
            prop_assert_eq!(rows, expected.receivables);
        }
    }
}

/// Taking every document back out leaves totals that report nothing, as an empty read model.
#[test]
fn totals_emptied_report_as_nothing() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let written = proptest::collection::vec((0..IDS, summary()), 1..40)
        .new_tree(&mut runner)
        .expect("a sequence")
        .current();
    let mut aggregates = ReportAggregates::default();
    let mut documents: BTreeMap<DocumentId, Summary> = BTreeMap::new();
    for (n, summary) in written {
        let old = documents.insert(id(n), summary.clone());
        aggregates.put(id(n), old.as_ref(), Some(&summary));
    }
    assert!(!documents.is_empty());
    for (document, summary) in &documents {
        aggregates.put(*document, Some(summary), None);
    }
    let now = BASE;
    assert_eq!(aggregates.pipeline().report(now, &()), pipeline(&[], now));
    assert_eq!(aggregates.revenue().report(now, &0), revenue(&[], 0));
    assert_eq!(aggregates.invoices().report(now, &()), invoices(&[], now));
    assert_eq!(aggregates.customers().report(now, &()), customers(&[]));
    assert_eq!(aggregates.conversion().report(now, &()), conversion(&[]));
}
