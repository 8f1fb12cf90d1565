//! The authority through the real server: devices work offline, sync, and see the server's
//! decisions; head office sees the alerts.

use std::time::Duration;

use itinera_core::model::*;
use itinera_core::{DocumentId, Record};
use itinera_tests::device::{Device, record};
use itinera_tests::server::{DataDir, TestServer, http, http_get, user_with_token};

const WAIT: Duration = Duration::from_secs(30);

fn new_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_000_000_000 + u64::from(n), [n; 10])
}

fn read<R: Record>(device: &mut Device, id: &DocumentId) -> Option<R> {
    device
        .node
        .document(id)
        .and_then(|doc| autosurgeon::hydrate(doc).ok())
}

fn edit<R: Record>(device: &mut Device, id: &DocumentId, change: impl FnOnce(&mut R)) {
    device.node.change(id, |doc| {
        let mut record: R = autosurgeon::hydrate(doc).expect("hydrate");
        change(&mut record);
        autosurgeon::reconcile(doc, &record).expect("reconcile");
    });
}

fn alerts(server: &TestServer, token: &str) -> Vec<serde_json::Value> {
    let (status, body) = http_get(&format!("{}/api/v1/alerts", server.base), Some(token));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

/// Waits until head office sees an open alert of `rule`.
fn wait_for_alert(server: &TestServer, token: &str, rule: &str) -> serde_json::Value {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        if let Some(alert) = alerts(server, token)
            .into_iter()
            .find(|a| a["rule"] == rule && a["status"] == "open")
        {
            return alert;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {rule} alert; log:\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn booking(departure: &DocumentId, rep: &str, passengers: usize, submitted_at: i64) -> Booking {
    let mut booking = Booking {
        departure: departure.to_string(),
        account: "acc".into(),
        rep: rep.into(),
        submitted_at: Some(submitted_at),
        ..Default::default()
    };
    for p in 0..passengers {
        booking.passengers.insert(
            format!("p{p}"),
            Passenger {
                name: format!("{rep} guest {p}"),
                ..Default::default()
            },
        );
    }
    booking
}

#[test]
fn two_reps_selling_the_last_seats_offline_get_exactly_the_capacity_confirmed() {
    let data = DataDir::new("seats");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let departure = new_id(1);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        departure,
        record(
            1,
            &Departure {
                tour: "db3".into(),
                capacity: 10,
                starts_at: 1,
                ends_at: 2,
                ..Default::default()
            },
        ),
    );
    let group = new_id(2);
    office
        .node
        .insert(group, record(1, &booking(&departure, "olga", 7, 100)));
    assert!(
        office.run_until(WAIT, |d| read::<Departure>(d, &departure)
            .is_some_and(|dep| dep.seats_confirmed == 7)),
        "the group of 7 was not confirmed"
    );

    // Both reps sell 3 seats offline; 3 are left.
    let (a, b) = (new_id(3), new_id(4));
    let mut sam_phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let mut sofia_phone =
        Device::connect(&server.sync_url(), &sofia, "sofia-phone").expect("connect");
    sam_phone
        .node
        .insert(a, record(2, &booking(&departure, "sam", 3, 200)));
    sofia_phone
        .node
        .insert(b, record(3, &booking(&departure, "sofia", 3, 201)));
    let decided = |d: &mut Device, id: &DocumentId| {
        read::<Booking>(d, id).is_some_and(|b| b.status != BookingStatus::Draft)
    };
    assert!(sam_phone.run_until(WAIT, |d| decided(d, &a)));
    assert!(sofia_phone.run_until(WAIT, |d| decided(d, &b)));
    let sam_status = read::<Booking>(&mut sam_phone, &a).expect("booking").status;
    let sofia_status = read::<Booking>(&mut sofia_phone, &b)
        .expect("booking")
        .status;
    let mut statuses = [sam_status, sofia_status];
    statuses.sort();
    assert_eq!(
        statuses,
        [BookingStatus::Confirmed, BookingStatus::Waitlisted]
    );
    assert!(
        office
            .run_until(WAIT, |d| read::<Departure>(d, &departure).is_some_and(
                |dep| dep.seats_confirmed == 10 && dep.seats_waitlisted == 3
            ))
    );
    let manifest = Manifest::document_id(&departure);
    office.node.find(manifest);
    assert!(
        office.run_until(WAIT, |d| read::<Manifest>(d, &manifest)
            .is_some_and(|m| m.passengers.len() == 10)),
        "the manifest lists the confirmed passengers"
    );
    assert!(
        read::<Departure>(&mut office, &departure).is_some_and(|d| d.manifest.is_empty()),
        "no passenger is left in the departure every rep reads"
    );

    // The confirmed rep cancels: the waitlisted booking is promoted.
    let (confirmed_phone, confirmed, waitlisted_phone, waitlisted) =
        if sam_status == BookingStatus::Confirmed {
            (&mut sam_phone, a, &mut sofia_phone, b)
        } else {
            (&mut sofia_phone, b, &mut sam_phone, a)
        };
    edit::<Booking>(confirmed_phone, &confirmed, |b| b.cancelled_at = Some(300));
    assert!(confirmed_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &confirmed).is_some_and(|b| b.status == BookingStatus::Cancelled)
    }));
    assert!(waitlisted_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &waitlisted).is_some_and(|b| b.status == BookingStatus::Confirmed)
    }));
}

#[test]
fn two_guides_emptying_a_kit_offline_raise_a_negative_stock_alert() {
    let data = DataDir::new("stock");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let kit = new_id(10);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let gia = user_with_token(&data, "gia", "guide", &[&format!("stock:{kit}")]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let mut location = StockLocation {
        name: "Tour kit 1".into(),
        location_kind: LocationKind::TourKit,
        custodian: Some("gus".into()),
        ..Default::default()
    };
    let receipt = StockMovement {
        item: "water".into(),
        quantity: 4,
        reason: MovementReason::Receipt,
        reference: None,
        actor: "olga".into(),
        at: 1,
    };
    location
        .post_movement(LogKey::new(1, "olga-1"), receipt)
        .expect("receipt");
    office.node.insert(kit, record(1, &location));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));

    let mut phones = Vec::new();
    for (token, name) in [(&gus, "gus"), (&gia, "gia")] {
        let mut phone =
            Device::connect(&server.sync_url(), token, &format!("{name}-phone")).expect("connect");
        phone.node.find(kit);
        assert!(phone.run_until(WAIT, |d| d.node.document(&kit).is_some()));
        phone.disconnect();
        phones.push((phone, token.clone(), name));
    }
    for (phone, token, name) in &mut phones {
        edit::<StockLocation>(phone, &kit, |k| {
            let used = StockMovement {
                item: "water".into(),
                quantity: -3,
                reason: MovementReason::Consumption,
                reference: Some("dep-1".into()),
                actor: (*name).into(),
                at: 5,
            };
            k.post_movement(LogKey::new(5, name), used)
                .expect("consume");
        });
        phone
            .reconnect(&server.sync_url(), token)
            .expect("reconnect");
        assert!(phone.run_until(WAIT, |d| d.acknowledged(&kit)));
    }
    let alert = wait_for_alert(&server, &olga, "negative_stock");
    assert_eq!(alert["document"], kit.to_string());
    let phone = &mut phones[0].0;
    assert!(phone.run_until(WAIT, |d| {
        read::<StockLocation>(d, &kit).is_some_and(|k| k.quantity("water") == -2)
    }));
}

fn draft_invoice(number: &str) -> Invoice {
    let invoice = Invoice {
        provisional_number: number.into(),
        series: "A".into(),
        customer: "acc".into(),
        currency: "EUR".into(),
        issued_on: Some("2026-11-20".into()),
        ..Default::default()
    };
    itinera_tests::device::with_tour_line(invoice, 2)
}

fn legal_number(server: &TestServer, token: &str, id: &DocumentId) -> Option<String> {
    let (_, body) = http_get(
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(token),
    );
    let view: serde_json::Value = serde_json::from_str(&body).ok()?;
    view["record"]["legal_number"].as_str().map(str::to_owned)
}

#[test]
fn invoices_posted_offline_get_consecutive_legal_numbers_across_a_kill_9() {
    let data = DataDir::new("invoices");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let mut server = TestServer::start(&data, &[]);
    let (first, second, third) = (new_id(20), new_id(21), new_id(22));

    let mut sam_phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let mut sofia_phone =
        Device::connect(&server.sync_url(), &sofia, "sofia-phone").expect("connect");
    let mut posted = draft_invoice("SAM-1");
    posted.status = InvoiceStatus::Posted;
    sam_phone.node.insert(first, record(2, &posted));
    let mut posted = draft_invoice("SOFIA-1");
    posted.status = InvoiceStatus::Posted;
    sofia_phone.node.insert(second, record(3, &posted));
    let numbered = |d: &mut Device, id: &DocumentId| {
        read::<Invoice>(d, id).is_some_and(|i| i.legal_number.is_some())
    };
    assert!(
        sam_phone.run_until(WAIT, |d| numbered(d, &first)),
        "log:\n{}",
        server.log()
    );
    assert!(sofia_phone.run_until(WAIT, |d| numbered(d, &second)));
    let mut numbers = vec![
        read::<Invoice>(&mut sam_phone, &first)
            .and_then(|i| i.legal_number)
            .expect("number"),
        read::<Invoice>(&mut sofia_phone, &second)
            .and_then(|i| i.legal_number)
            .expect("number"),
    ];
    numbers.sort();
    assert_eq!(numbers, ["2026-A-000001", "2026-A-000002"]);

    server.kill9();
    sam_phone.disconnect();
    let server = TestServer::start(&data, &[]);
    sam_phone
        .reconnect(&server.sync_url(), &sam)
        .expect("reconnect");
    let mut posted = draft_invoice("SAM-2");
    posted.status = InvoiceStatus::Posted;
    sam_phone.node.insert(third, record(2, &posted));
    assert!(sam_phone.run_until(WAIT, |d| numbered(d, &third)));
    assert_eq!(
        legal_number(&server, &olga, &third).as_deref(),
        Some("2026-A-000003")
    );
    let sams_first = read::<Invoice>(&mut sam_phone, &first).and_then(|i| i.legal_number);
    assert_eq!(
        legal_number(&server, &olga, &first),
        sams_first,
        "a number survives the kill"
    );

    // The ledger balances.
    let (status, body) = http_get(
        &format!("{}/api/v1/reports/trial-balance", server.base),
        Some(&olga),
    );
    assert_eq!(status, 200, "{body}");
    let balance: serde_json::Value = serde_json::from_str(&body).expect("json");
    assert_eq!(balance["balanced"], true, "{body}");
}

#[test]
fn a_guide_on_overlapping_departures_gets_a_conflict() {
    let data = DataDir::new("guides");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let (employee, first, second) = (new_id(30), new_id(31), new_id(32));
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        employee,
        record(
            1,
            &Employee {
                name: "Gusztáv".into(),
                user: Some("gus".into()),
                ..Default::default()
            },
        ),
    );
    let day = 86_400_000i64;
    for (id, start) in [(first, 0), (second, day)] {
        let mut departure = Departure {
            tour: "db3".into(),
            capacity: 10,
            starts_at: 1_800_000_000_000 + start,
            ends_at: 1_800_000_000_000 + start + 3 * day,
            ..Default::default()
        };
        departure.assignments.insert(
            "a-1".into(),
            GuideAssignment {
                employee: employee.to_string(),
                role: GuideRole::Lead,
                status: AssignmentStatus::Accepted,
                hours: 24.0,
            },
        );
        office.node.insert(id, record(1, &departure));
    }
    let conflicted = |d: &mut Device, id: &DocumentId| {
        read::<Departure>(d, id)
            .is_some_and(|dep| dep.assignments["a-1"].status == AssignmentStatus::Conflict)
    };
    assert!(
        office.run_until(WAIT, |d| conflicted(d, &first) && conflicted(d, &second)),
        "log:\n{}",
        server.log()
    );
    let alert = wait_for_alert(&server, &olga, "guide_double_booked");
    assert_eq!(alert["document"], employee.to_string());
}

#[test]
fn a_contact_created_on_two_phones_is_proposed_for_merge_and_merged() {
    let data = DataDir::new("duplicates");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let account = new_id(40);
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    phone.node.insert(
        account,
        record(
            2,
            &Account {
                name: "Lakeside Schools".into(),
                owner: "sam".into(),
                ..Default::default()
            },
        ),
    );
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account)));
    let mut tablet = Device::connect(&server.sync_url(), &sam, "sam-tablet").expect("connect");
    tablet.node.find(account);
    assert!(tablet.run_until(WAIT, |d| d.node.document(&account).is_some()));
    phone.disconnect();
    tablet.disconnect();

    edit::<Account>(&mut phone, &account, |a| {
        a.contacts.insert(
            "c-a".into(),
            Contact {
                first_name: "Ilona".into(),
                last_name: "Kovács".into(),
                emails: ["ilona@lakeside.example"].into_iter().collect(),
                ..Default::default()
            },
        );
    });
    edit::<Account>(&mut tablet, &account, |a| {
        a.contacts.insert(
            "c-b".into(),
            Contact {
                first_name: "Ilona".into(),
                title: "Head of trips".into(),
                emails: [" Ilona@Lakeside.example "].into_iter().collect(),
                ..Default::default()
            },
        );
        let call = Activity {
            activity_kind: ActivityKind::Call,
            subject: "Spring trip".into(),
            actor: "sam".into(),
            at: 10,
            related: Some("c-b".into()),
            ..Default::default()
        };
        a.activities
            .append(LogKey::new(10, "tablet"), call)
            .expect("log call");
    });
    phone
        .reconnect(&server.sync_url(), &sam)
        .expect("reconnect");
    tablet
        .reconnect(&server.sync_url(), &sam)
        .expect("reconnect");
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&account)));
    assert!(tablet.run_until(WAIT, |d| d.acknowledged(&account)));

    let alert = wait_for_alert(&server, &olga, "duplicate_contact");
    assert_eq!(alert["document"], account.to_string());
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/documents/{account}/contacts/merge", server.base),
        Some(&sam),
        Some(r#"{"survivor":"c-a","duplicate":"c-b"}"#),
    );
    assert_eq!(status, 200, "{body}");
    assert!(
        phone.run_until(WAIT, |d| read::<Account>(d, &account).is_some_and(|a| a
            .contacts
            .get("c-b")
            .is_some_and(|c| c.merged_into.as_deref() == Some("c-a"))))
    );
    let merged = read::<Account>(&mut phone, &account).expect("account");
    assert_eq!(
        merged.contacts["c-a"].title, "Head of trips",
        "the duplicate filled the gap"
    );
    assert!(
        merged
            .activities
            .iter()
            .all(|(_, a)| a.related.as_deref() != Some("c-b")),
        "activities moved to the survivor"
    );
}

/// The token the demo printed for `user`.
fn demo_token(server: &TestServer, user: &str) -> String {
    server
        .banner
        .iter()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            (words.next() == Some(user))
                .then(|| words.nth(1).map(str::to_owned))
                .flatten()
        })
        .unwrap_or_else(|| panic!("no demo token for {user} in {:?}", server.banner))
}

#[test]
fn head_office_reports_over_the_demo_company() {
    let data = DataDir::new("reports");
    let server = TestServer::start(&data, &["--demo"]);
    let olga = demo_token(&server, "olga");
    let sam = demo_token(&server, "sam");
    let get = |name: &str, token: &str| {
        let (status, body) = http_get(
            &format!("{}/api/v1/reports/{name}", server.base),
            Some(token),
        );
        (
            status,
            serde_json::from_str::<serde_json::Value>(&body).unwrap_or(serde_json::Value::Null),
        )
    };
    for name in [
        "pipeline",
        "conversion",
        "revenue",
        "stock",
        "guides",
        "invoices",
        "trial-balance",
        "sync-health",
    ] {
        assert_eq!(get(name, &olga).0, 200, "{name}");
        assert_eq!(get(name, &sam).0, 403, "{name} is for head office");
    }
    assert_eq!(get("nonsense", &olga).0, 404);

    // One open opportunity: 7,800.00 EUR at 60 % → weighted 4,680.00 EUR.
    let (_, pipeline) = get("pipeline", &olga);
    let text = pipeline.to_string();
    assert!(text.contains("780000") && text.contains("468000"), "{text}");
    // The depot holds 480 bottles of water; the draft invoice waits for posting, not a number.
    let (_, stock) = get("stock", &olga);
    assert!(stock.to_string().contains("480"), "{stock}");
    let (_, balance) = get("trial-balance", &olga);
    assert_eq!(balance["balanced"], true);
}

#[test]
fn a_counter_created_on_two_phones_at_once_is_set_right_from_the_movement_log() {
    let data = DataDir::new("drift");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let kit = new_id(50);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(
        kit,
        record(
            1,
            &StockLocation {
                name: "Van 2".into(),
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));
    let mut other = Device::connect(&server.sync_url(), &olga, "office-2").expect("connect");
    other.node.find(kit);
    assert!(other.run_until(WAIT, |d| d.node.document(&kit).is_some()));
    office.disconnect();
    other.disconnect();

    // Both receive headsets for an item the van never held: each phone creates the counter.
    for (device, name) in [(&mut office, "a"), (&mut other, "b")] {
        edit::<StockLocation>(device, &kit, |k| {
            let receipt = StockMovement {
                item: "headset".into(),
                quantity: 5,
                reason: MovementReason::Receipt,
                reference: None,
                actor: "olga".into(),
                at: 3,
            };
            k.post_movement(LogKey::new(3, name), receipt)
                .expect("receipt");
        });
    }
    office
        .reconnect(&server.sync_url(), &olga)
        .expect("reconnect");
    other
        .reconnect(&server.sync_url(), &olga)
        .expect("reconnect");
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));
    assert!(other.run_until(WAIT, |d| d.acknowledged(&kit)));
    assert!(
        office.run_until(WAIT, |d| read::<StockLocation>(d, &kit)
            .is_some_and(|k| k.quantity("headset") == 10)),
        "the counter was not corrected: {:?}",
        read::<StockLocation>(&mut office, &kit).map(|k| k.quantity("headset"))
    );
}

/// A graceful stop settles what the authority looked at: a rep's new accounts, each evaluated
/// and found to need nothing, leave no decision for the next start to evaluate again (their
/// outbox entries used to wait 200 ms to be deleted together, and a stop within that moment
/// left them all behind).
#[test]
fn a_graceful_stop_leaves_no_decision_for_the_next_start() {
    let data = DataDir::new("authority-settled-at-stop");
    let sam = user_with_token(&data, "sam", "sales", &["territory:north"]);
    let mut server = TestServer::start(&data, &[]);
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    let ids: Vec<DocumentId> = (100..130).map(new_id).collect();
    for (n, id) in (0u8..).zip(&ids) {
        let account = Account {
            name: format!("Harbour Tours {n}"),
            owner: "sam".into(),
            territory: "north".into(),
            ..Default::default()
        };
        phone.node.insert(*id, record(n + 1, &account));
    }
    assert!(
        phone.run_until(WAIT, |d| ids.iter().all(|id| d.acknowledged(id))),
        "the accounts are stored"
    );
    phone.disconnect();
    let status = server.terminate();
    assert!(status.success(), "exit status {status}: {}", server.log());

    let server = TestServer::start(&data, &[]);
    server.eventually("the authority started", || {
        server.log().contains("authority started")
    });
    let log = server.log();
    let started = log
        .lines()
        .find(|line| line.contains("authority started"))
        .unwrap_or_default();
    assert!(
        started.contains("pending=0"),
        "decisions were left for this start: {started}"
    );
}
