//! A small demo tour company, so a newcomer can connect at once (`serve --demo`).
//!
//! Danube & Alps Tours: two tours, two departures, a depot and a guide's tour kit, two sales
//! reps with an account each, bookings, a draft invoice, and a user of every role.

use automerge::ActorId;
use itinera_core::model::*;
use itinera_core::policy::{Grant, Role};
use itinera_core::store::{DocumentMeta, WriteBatch};
use itinera_core::{Document, DocumentId, Record};

use crate::services::Services;
use crate::store_writer::DurableWrites;
use crate::{Error, Result};

const DAY_MS: i64 = 86_400_000;

/// One demo user: name, role, token.
pub type DemoUser = (String, String, String);

/// The password every demo user signs in with.
pub const DEMO_PASSWORD: &str = "demo";

/// The documents of the demo company, written in one batch.
struct Seeder {
    batch: WriteBatch,
    now: i64,
    next: u8,
}

impl Seeder {
    fn id(&mut self) -> DocumentId {
        self.next += 1;
        DocumentId::new_v7(u64::try_from(self.now).unwrap_or(0), [self.next; 10])
    }

    /// Adds `record` as document `id`, created by `creator`, with its metadata (scope and title)
    /// and report summary, as a commit through the engine would write them.
    fn add<R: Record>(&mut self, id: DocumentId, creator: &str, record: &R) -> Result<()> {
        let mut doc =
            Document::create(ActorId::from([0xd0; 16]), self.now, record)?.into_automerge();
        let meta = DocumentMeta::describe(&id, &mut doc, Some(creator), self.now);
        if let Ok(Some(summary)) = itinera_core::reports::summarize(&id, &doc) {
            if let Ok(bytes) = serde_json::to_vec(&summary) {
                self.batch
                    .put_value(&itinera_core::reports::summary_key(&id), bytes);
            }
        }
        self.batch.put_snapshot(id, doc.save(), meta);
        Ok(())
    }
}

/// The ids of the demo company's documents.
struct Ids {
    catalog: DocumentId,
    depot: DocumentId,
    kit: DocumentId,
    danube: DocumentId,
    alps: DocumentId,
    field_log: DocumentId,
    lakeside: DocumentId,
    harbour: DocumentId,
    lead: DocumentId,
    booking_a: DocumentId,
    booking_b: DocumentId,
    invoice: DocumentId,
    gus_employee: DocumentId,
    campaign: DocumentId,
}

impl Ids {
    fn new(s: &mut Seeder) -> Self {
        Self {
            catalog: s.id(),
            depot: s.id(),
            kit: s.id(),
            danube: s.id(),
            alps: s.id(),
            field_log: s.id(),
            lakeside: s.id(),
            harbour: s.id(),
            lead: s.id(),
            booking_a: s.id(),
            booking_b: s.id(),
            invoice: s.id(),
            gus_employee: s.id(),
            campaign: s.id(),
        }
    }
}

/// Seeds the demo into an empty store, through the store writer, and gives each demo user a
/// token; returns each user with their token. Refuses a store that holds documents or users:
/// the demo hands out 30-day tokens (an admin's among them) and a well-known password, which a
/// real company's data folder must never get.
pub fn seed(services: &Services) -> Result<Vec<DemoUser>> {
    let existing = services.store.documents()?.len();
    if existing > 0 {
        return Err(Error::Demo(format!(
            "the data folder already holds {existing} documents; the demo seeds only an empty one"
        )));
    }
    let users = services.directory.users().len();
    if users > 0 {
        return Err(Error::Demo(format!(
            "the data folder already has {users} users; the demo seeds only an empty one"
        )));
    }
    let now = services.now_ms();
    let mut s = Seeder {
        batch: WriteBatch::new(),
        now,
        next: 0,
    };
    let ids = Ids::new(&mut s);
    seed_catalog(&mut s, &ids)?;
    seed_stock(&mut s, &ids)?;
    seed_departures(&mut s, &ids)?;
    seed_customers(&mut s, &ids)?;
    seed_sales(&mut s, &ids)?;
    seed_staff(&mut s, &ids)?;
    services
        .writer
        .write_and_wait(s.batch)
        .map_err(|err| Error::Demo(err.to_string()))?;
    seed_users(services, &ids, now)
}

fn seed_catalog(s: &mut Seeder, ids: &Ids) -> Result<()> {
    let kit = ids.kit;
    let mut items = std::collections::BTreeMap::new();
    for (id, sku, name, unit) in [
        ("water", "W-050", "Water 0.5 l", "bottle"),
        ("first-aid", "FA-01", "First-aid kit", "kit"),
        ("headset", "HS-10", "Guide headset", "piece"),
    ] {
        let mut item = InventoryItem {
            sku: sku.into(),
            name: name.into(),
            unit: unit.into(),
            category: "tour supplies".into(),
            ..Default::default()
        };
        item.reorder_points
            .insert(kit.to_string(), if id == "water" { 24 } else { 2 });
        items.insert(id.to_owned(), item);
    }
    let mut tours = std::collections::BTreeMap::new();
    let mut danube_tour = Tour {
        code: "DB3".into(),
        name: "Danube Bend, 3 days".into(),
        duration_days: 3,
        default_capacity: 20,
        description: "Szentendre, Visegrád and Esztergom by coach and boat.".into(),
        ..Default::default()
    };
    for (day, (stop, place)) in [
        ("Szentendre", "Szentendre"),
        ("Visegrád castle", "Visegrád"),
        ("Esztergom basilica", "Esztergom"),
    ]
    .into_iter()
    .enumerate()
    {
        danube_tour.itinerary.push(ItineraryStop {
            id: format!("db3-{day}"),
            day: day as i64 + 1,
            title: stop.into(),
            place: place.into(),
        });
    }
    danube_tour.price_options.insert(
        "adult".into(),
        PriceOption {
            name: "Adult".into(),
            amount_minor: 39_000,
            currency: "EUR".into(),
        },
    );
    danube_tour.required_kit.insert(
        "water".into(),
        KitRequirement {
            quantity: 2,
            basis: KitBasis::PerPassenger,
        },
    );
    danube_tour.required_kit.insert(
        "first-aid".into(),
        KitRequirement {
            quantity: 1,
            basis: KitBasis::PerDeparture,
        },
    );
    tours.insert("db3".to_owned(), danube_tour);
    tours.insert(
        "av5".to_owned(),
        Tour {
            code: "AV5".into(),
            name: "Alpine Villages, 5 days".into(),
            duration_days: 5,
            default_capacity: 16,
            ..Default::default()
        },
    );
    s.add(ids.catalog, "olga", &Catalog { items, tours })
}

fn seed_stock(s: &mut Seeder, ids: &Ids) -> Result<()> {
    let now = s.now;
    let mut depot_stock = StockLocation {
        name: "Budapest depot".into(),
        location_kind: LocationKind::Warehouse,
        custodian: Some("olga".into()),
        ..Default::default()
    };
    let mut kit_stock = StockLocation {
        name: "Tour kit 1".into(),
        location_kind: LocationKind::TourKit,
        custodian: Some("gus".into()),
        ..Default::default()
    };
    let receipts = [
        (true, "water", 480),
        (true, "first-aid", 10),
        (false, "water", 48),
        (false, "headset", 12),
        (false, "first-aid", 1),
    ];
    for (in_depot, item, quantity) in receipts {
        let location = if in_depot {
            &mut depot_stock
        } else {
            &mut kit_stock
        };
        let movement = StockMovement {
            item: item.into(),
            quantity,
            reason: MovementReason::Receipt,
            reference: None,
            actor: "olga".into(),
            at: now,
        };
        location
            .post_movement(
                LogKey::new(now, &format!("demo-{item}-{quantity}")),
                movement,
            )
            .map_err(|e| Error::Demo(e.to_string()))?;
    }
    s.add(ids.depot, "olga", &depot_stock)?;
    s.add(ids.kit, "olga", &kit_stock)
}

fn seed_departures(s: &mut Seeder, ids: &Ids) -> Result<()> {
    let now = s.now;
    let mut danube_departure = Departure {
        tour: "db3".into(),
        starts_at: now + 10 * DAY_MS,
        ends_at: now + 13 * DAY_MS,
        time_zone: "Europe/Budapest".into(),
        capacity: 20,
        ..Default::default()
    };
    danube_departure.assignments.insert(
        "a-1".into(),
        GuideAssignment {
            employee: ids.gus_employee.to_string(),
            role: GuideRole::Lead,
            status: AssignmentStatus::Accepted,
            hours: 24.0,
        },
    );
    danube_departure.allotments.insert("sam".into(), 6);
    s.add(ids.danube, "olga", &danube_departure)?;
    s.add(
        ids.alps,
        "olga",
        &Departure {
            tour: "av5".into(),
            starts_at: now + 30 * DAY_MS,
            ends_at: now + 35 * DAY_MS,
            time_zone: "Europe/Vienna".into(),
            capacity: 16,
            ..Default::default()
        },
    )?;
    s.add(
        ids.field_log,
        "olga",
        &FieldLog {
            departure: ids.danube.to_string(),
            notes: "Meet at Vigadó tér, 7:30.".into(),
            ..Default::default()
        },
    )
}

fn seed_customers(s: &mut Seeder, ids: &Ids) -> Result<()> {
    let mut lakeside_account = Account {
        name: "Lakeside Schools".into(),
        owner: "sam".into(),
        territory: "north".into(),
        tags: ["schools"].into_iter().collect(),
        ..Default::default()
    };
    lakeside_account.contacts.insert(
        "c-1".into(),
        Contact {
            first_name: "Ilona".into(),
            last_name: "Kovács".into(),
            title: "Head of trips".into(),
            emails: ["ilona@lakeside.example"].into_iter().collect(),
            ..Default::default()
        },
    );
    lakeside_account.opportunities.insert(
        "o-1".into(),
        Opportunity {
            name: "Spring school trip".into(),
            stage: Stage::Proposal,
            amount_minor: 780_000,
            currency: "EUR".into(),
            probability: 60,
            owner: "sam".into(),
            tours: ["db3"].into_iter().collect(),
            ..Default::default()
        },
    );
    s.add(ids.lakeside, "sam", &lakeside_account)?;
    s.add(
        ids.harbour,
        "sofia",
        &Account {
            name: "Harbour Travel".into(),
            owner: "sofia".into(),
            territory: "south".into(),
            account_kind: AccountKind::Partner,
            ..Default::default()
        },
    )?;
    s.add(
        ids.lead,
        "sam",
        &Lead {
            source: "fair".into(),
            name: "Márta Szabó".into(),
            company: "Riverside Choir".into(),
            email: "marta@choir.example".into(),
            owner: "sam".into(),
            ..Default::default()
        },
    )
}

fn seed_sales(s: &mut Seeder, ids: &Ids) -> Result<()> {
    let passengers = |names: &[&str]| {
        names
            .iter()
            .enumerate()
            .map(|(i, name)| {
                (
                    format!("p-{i}"),
                    Passenger {
                        name: (*name).into(),
                        ..Default::default()
                    },
                )
            })
            .collect()
    };
    s.add(
        ids.booking_a,
        "sam",
        &Booking {
            departure: ids.danube.to_string(),
            account: ids.lakeside.to_string(),
            rep: "sam".into(),
            channel: "direct".into(),
            passengers: passengers(&["Anna Tóth", "Bence Nagy"]),
            amount_minor: 78_000,
            currency: "EUR".into(),
            ..Default::default()
        },
    )?;
    s.add(
        ids.booking_b,
        "sofia",
        &Booking {
            departure: ids.alps.to_string(),
            account: ids.harbour.to_string(),
            rep: "sofia".into(),
            channel: "partner".into(),
            passengers: passengers(&["Clara Berg", "Dan Berg", "Eva Berg"]),
            amount_minor: 165_000,
            currency: "EUR".into(),
            ..Default::default()
        },
    )?;
    let mut draft = Invoice {
        provisional_number: "SOFIA-0001".into(),
        series: "2026".into(),
        customer: ids.harbour.to_string(),
        currency: "EUR".into(),
        bookings: [ids.booking_b.to_string()].into_iter().collect(),
        ..Default::default()
    };
    draft.lines.insert(
        "l-1".into(),
        InvoiceLine {
            description: "Alpine Villages, 3 passengers".into(),
            quantity: 3,
            unit_price_minor: 55_000,
            vat_rate_bp: 2_700,
        },
    );
    s.add(ids.invoice, "sofia", &draft)
}

fn seed_staff(s: &mut Seeder, ids: &Ids) -> Result<()> {
    s.add(
        ids.gus_employee,
        "olga",
        &Employee {
            name: "Gusztáv Horváth".into(),
            user: Some("gus".into()),
            languages: ["hu", "en", "de"].into_iter().collect(),
            ..Default::default()
        },
    )?;
    s.add(
        ids.campaign,
        "olga",
        &Campaign {
            name: "Spring schools mailing".into(),
            channel: "email".into(),
            budget_minor: 50_000,
            currency: "EUR".into(),
            members: ["c-1"].into_iter().collect(),
            ..Default::default()
        },
    )
}

/// A user of every role, each with a 30-day token (demo users sign in with [`DEMO_PASSWORD`]).
fn seed_users(services: &Services, ids: &Ids, now: i64) -> Result<Vec<DemoUser>> {
    let directory = &services.directory;
    let users: [(&str, Role, Vec<Grant>); 5] = [
        ("admin", Role::Admin, vec![]),
        ("olga", Role::Office, vec![]),
        ("sam", Role::Sales, vec![Grant::Territory("north".into())]),
        ("sofia", Role::Sales, vec![Grant::Territory("south".into())]),
        (
            "gus",
            Role::Guide,
            vec![Grant::Departure(ids.danube), Grant::StockLocation(ids.kit)],
        ),
    ];
    let mut tokens = Vec::new();
    for (name, role, grants) in users {
        if directory.user(name).is_none() {
            directory.add_user(name, role, &grants, Some(DEMO_PASSWORD), now)?;
        }
        let token = directory.issue_token(name, Some(30 * DAY_MS), now)?;
        tokens.push((name.to_owned(), role.as_str().to_owned(), token));
    }
    Ok(tokens)
}
