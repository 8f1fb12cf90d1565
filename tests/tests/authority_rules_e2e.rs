//! The authority's rules against tampering and bad ordering, through the real server: devices
//! work offline, sync, and every device and head office see the same decision afterwards.
//! `RULES.md` says each rule in head office's terms.

use std::time::Duration;

use itinera_core::model::*;
use itinera_core::{DocumentId, Record};
use itinera_tests::device::{Device, record};
use itinera_tests::server::{DataDir, TestServer, http, http_get, user_with_token};
use serde_json::{Value, json};

const WAIT: Duration = Duration::from_secs(30);

fn new_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_100_000_000 + u64::from(n), [n; 10])
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

fn patch(server: &TestServer, token: &str, id: &DocumentId, body: Value) -> (u16, String) {
    http(
        "PATCH",
        &format!("{}/api/v1/documents/{id}", server.base),
        Some(token),
        Some(&body.to_string()),
    )
}

fn view(server: &TestServer, token: &str, id: &DocumentId) -> Value {
    let (status, view) = server.document(token, id);
    assert_eq!(status, 200, "{id}: {view}");
    view["record"].clone()
}

/// How many passengers the manifest of `departure` lists, as head office reads it.
fn manifest_size(server: &TestServer, token: &str, departure: &DocumentId) -> usize {
    let manifest = view(server, token, &Manifest::document_id(departure));
    manifest["passengers"].as_object().map_or(0, |p| p.len())
}

fn alerts(server: &TestServer, token: &str) -> Vec<Value> {
    let (status, body) = http_get(&format!("{}/api/v1/alerts", server.base), Some(token));
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn passengers(rep: &str, count: usize) -> std::collections::BTreeMap<String, Passenger> {
    (0..count)
        .map(|p| {
            (
                format!("{rep}-p{p}"),
                Passenger {
                    name: format!("{rep} guest {p}"),
                    ..Default::default()
                },
            )
        })
        .collect()
}

fn booking(departure: &DocumentId, rep: &str, count: usize) -> Booking {
    Booking {
        departure: departure.to_string(),
        account: "acc".into(),
        rep: rep.into(),
        submitted_at: Some(1_000),
        passengers: passengers(rep, count),
        ..Default::default()
    }
}

fn departure(capacity: i64) -> Departure {
    Departure {
        tour: "db3".into(),
        capacity,
        starts_at: 1_800_000_000_000,
        ends_at: 1_800_000_000_000 + 86_400_000,
        ..Default::default()
    }
}

#[test]
fn a_confirmed_customer_keeps_their_seats_whatever_another_rep_does() {
    let data = DataDir::new("seats-tamper");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let (first, second) = (new_id(1), new_id(2));
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(first, record(1, &departure(16)));
    office.node.insert(second, record(1, &departure(20)));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&first) && d.acknowledged(&second)));

    // Sofia's customer is confirmed first (the server received it first); then Sam's.
    let (hers, his) = (new_id(3), new_id(4));
    let mut sofia_phone = Device::connect(&server.sync_url(), &sofia, "sofia").expect("connect");
    sofia_phone
        .node
        .insert(hers, record(3, &booking(&first, "sofia", 14)));
    let confirmed = |d: &mut Device, id: &DocumentId| {
        read::<Booking>(d, id).is_some_and(|b| b.status == BookingStatus::Confirmed)
    };
    assert!(
        sofia_phone.run_until(WAIT, |d| confirmed(d, &hers)),
        "{}",
        server.log()
    );
    let mut sam_phone = Device::connect(&server.sync_url(), &sam, "sam").expect("connect");
    let mut early = booking(&first, "sam", 1);
    early.submitted_at = Some(1); // his phone's clock says he was first
    sam_phone.node.insert(his, record(2, &early));
    assert!(sam_phone.run_until(WAIT, |d| confirmed(d, &his)));
    let received = |d: &mut Device, id: &DocumentId| {
        read::<Booking>(d, id).and_then(|b| b.seating.received_at)
    };
    let (his_at, her_at) = (
        received(&mut sam_phone, &his),
        received(&mut sofia_phone, &hers),
    );
    assert!(
        his_at.is_some() && his_at > her_at,
        "the queue follows the server's clock: {his_at:?} after {her_at:?}"
    );

    // Priority is office's, and a submission keeps its time.
    let (status, body) = patch(&server, &sam, &his, json!({"priority": 9}));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("priority"), "{body}");
    let (status, body) = patch(&server, &sam, &his, json!({"submitted_at": 0}));
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("submitted_at"), "{body}");

    // Offline, Sam adds 15 passengers to his confirmed booking: a request. One seat is free.
    sam_phone.disconnect();
    edit::<Booking>(&mut sam_phone, &his, |b| {
        b.passengers = passengers("sam", 16)
    });
    sam_phone
        .reconnect(&server.sync_url(), &sam)
        .expect("reconnect");
    assert!(sam_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &his).is_some_and(|b| b.seating.waiting.is_some())
    }));
    let his_booking = read::<Booking>(&mut sam_phone, &his).expect("booking");
    assert_eq!(his_booking.status, BookingStatus::Confirmed);
    assert_eq!(
        his_booking.seating.confirmed.len(),
        1,
        "only his first passenger is seated"
    );
    let waiting = his_booking.seating.waiting.unwrap_or_default();
    assert!(waiting.contains("15 more passenger"), "{waiting}");
    assert!(sofia_phone.run_until(WAIT, |d| confirmed(d, &hers)));
    server.eventually("15 seats confirmed and 15 waiting", || {
        let dep = view(&server, &olga, &first);
        dep["seats_confirmed"] == 15
            && dep["seats_waitlisted"] == 15
            && manifest_size(&server, &olga, &first) == 15
    });

    // Sofia withdraws her submission: her seats go to Sam's waiting passengers.
    edit::<Booking>(&mut sofia_phone, &hers, |b| b.submitted_at = None);
    assert!(sofia_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &hers).is_some_and(|b| b.status == BookingStatus::Draft)
    }));
    assert!(sam_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &his)
            .is_some_and(|b| b.seating.confirmed.len() == 16 && b.seating.waiting.is_none())
    }));

    // Sam moves his booking: the seats and manifest on the first departure are released.
    edit::<Booking>(&mut sam_phone, &his, |b| b.departure = second.to_string());
    assert!(sam_phone.run_until(WAIT, |d| {
        read::<Booking>(d, &his).is_some_and(|b| {
            b.seating.departure == second.to_string() && b.status == BookingStatus::Confirmed
        })
    }));
    server.eventually("the first departure released", || {
        let dep = view(&server, &olga, &first);
        dep["seats_confirmed"] == 0 && manifest_size(&server, &olga, &first) == 0
    });
    assert_eq!(view(&server, &olga, &second)["seats_confirmed"], 16);
}

#[test]
fn a_condition_that_comes_back_is_a_new_alert_the_custodian_sees() {
    let data = DataDir::new("episodes");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let kit = new_id(10);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let movement = |quantity: i64, at: i64, who: &str| StockMovement {
        item: "water".into(),
        quantity,
        reason: if quantity > 0 {
            MovementReason::Receipt
        } else {
            MovementReason::Consumption
        },
        reference: None,
        actor: who.into(),
        at,
    };
    let mut location = StockLocation {
        name: "Kit 1".into(),
        custodian: Some("gus".into()),
        ..Default::default()
    };
    location
        .post_movement(LogKey::new(1, "olga"), movement(4, 1, "olga"))
        .expect("receipt");
    office.node.insert(kit, record(1, &location));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));

    let mut phone = Device::connect(&server.sync_url(), &gus, "gus-phone").expect("connect");
    phone.node.find(kit);
    assert!(phone.run_until(WAIT, |d| d.node.document(&kit).is_some()));
    edit::<StockLocation>(&mut phone, &kit, |k| {
        k.post_movement(LogKey::new(2, "gus"), movement(-5, 2, "gus"))
            .expect("consume");
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&kit)));
    let open_negative = |server: &TestServer| {
        alerts(server, &olga)
            .into_iter()
            .filter(|a| a["rule"] == "negative_stock" && a["status"] == "open")
            .collect::<Vec<_>>()
    };
    server.eventually("the negative stock alert", || {
        open_negative(&server).len() == 1
    });
    let first = open_negative(&server)[0]["key"]
        .as_str()
        .expect("key")
        .to_owned();

    // The custodian's phone holds his copy of the alerts about his kit.
    let mine = DocumentId::named("alerts:gus");
    phone.node.find(mine);
    assert!(phone.run_until(WAIT, |d| {
        read::<Alerts>(d, &mine).is_some_and(|a| a.alerts.contains_key(&first))
    }));

    // Office resolves it while it still holds: no new alert for the same episode.
    let (status, body) = http(
        "POST",
        &format!("{}/api/v1/alerts/{first}/resolve", server.base),
        Some(&olga),
        None,
    );
    assert_eq!(status, 200, "{body}");
    assert!(phone.run_until(WAIT, |d| {
        read::<Alerts>(d, &mine).is_some_and(|a| a.alerts[&first].status == AlertStatus::Resolved)
    }));
    // Restocked (the condition clears), then emptied again: a new episode.
    edit::<StockLocation>(&mut office, &kit, |k| {
        k.post_movement(LogKey::new(3, "olga"), movement(10, 3, "olga"))
            .expect("restock");
    });
    assert!(office.run_until(WAIT, |d| d.acknowledged(&kit)));
    assert!(phone.run_until(WAIT, |d| {
        read::<StockLocation>(d, &kit).is_some_and(|k| k.quantity("water") == 9)
    }));
    edit::<StockLocation>(&mut phone, &kit, |k| {
        k.post_movement(LogKey::new(4, "gus"), movement(-12, 4, "gus"))
            .expect("consume");
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&kit)));
    server.eventually("a second episode", || {
        open_negative(&server)
            .iter()
            .any(|a| a["key"] == format!("{first}#2"))
    });
    assert!(phone.run_until(WAIT, |d| {
        read::<Alerts>(d, &mine).is_some_and(|a| a.alerts.contains_key(&format!("{first}#2")))
    }));

    // Movements are a ledger: rewriting one is refused.
    let key = LogKey::new(4, "gus").as_str().to_owned();
    let (status, body) = patch(
        &server,
        &gus,
        &kit,
        json!({"movements": {key: {"quantity": -1}}}),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("never rewritten"), "{body}");
}

/// A depot that received 100 bottles of water.
fn depot_of_water() -> StockLocation {
    let mut depot = StockLocation {
        name: "Depot".into(),
        ..Default::default()
    };
    depot
        .post_movement(
            LogKey::new(1, "olga"),
            StockMovement {
                item: "water".into(),
                quantity: 100,
                reason: MovementReason::Receipt,
                reference: None,
                actor: "olga".into(),
                at: 1,
            },
        )
        .expect("receipt");
    depot
}

/// Six bottles of water shipped from `from` to `to`.
fn six_waters_shipped(from: DocumentId, to: DocumentId) -> Transfer {
    let mut moved = Transfer {
        from: from.to_string(),
        to: to.to_string(),
        status: TransferStatus::Shipped,
        shipped_at: Some(5),
        ..Default::default()
    };
    moved.lines.insert(
        "l1".into(),
        TransferLine {
            item: "water".into(),
            quantity: 6,
        },
    );
    moved
}

#[test]
fn a_transfer_stored_before_its_source_is_posted_once_the_source_arrives() {
    // A device stores a shipped transfer first and its source location a moment later (two
    // documents commit independently, in any order): the outgoing movement is posted when
    // the location arrives.
    let data = DataDir::new("transfer-first");
    let (depot, transfer) = (new_id(30), new_id(32));
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office
        .node
        .insert(transfer, record(1, &six_waters_shipped(depot, new_id(31))));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&transfer)));
    office.node.insert(depot, record(1, &depot_of_water()));
    assert!(
        office.run_until(WAIT, |d| {
            read::<StockLocation>(d, &depot).is_some_and(|k| k.quantity("water") == 94)
        }),
        "{}",
        server.log()
    );
}

#[test]
fn a_transfer_counts_once_at_each_end() {
    let data = DataDir::new("transfers");
    let (depot, kit, transfer) = (new_id(20), new_id(21), new_id(22));
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[&format!("stock:{kit}")]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(depot, record(1, &depot_of_water()));
    office.node.insert(
        kit,
        record(
            1,
            &StockLocation {
                name: "Kit".into(),
                custodian: Some("gus".into()),
                ..Default::default()
            },
        ),
    );
    let moved = six_waters_shipped(depot, kit);
    office.node.insert(transfer, record(1, &moved));
    // Shipping posts the outgoing movement at the source.
    assert!(
        office.run_until(WAIT, |d| {
            read::<StockLocation>(d, &depot).is_some_and(|k| k.quantity("water") == 94)
        }),
        "{}",
        server.log()
    );

    // Two devices of the custodian receive it offline, both posting the receipt.
    let mut phones: Vec<Device> = (0..2)
        .map(|n| {
            let mut phone =
                Device::connect(&server.sync_url(), &gus, &format!("gus-{n}")).expect("connect");
            phone.node.find(kit);
            phone.node.find(transfer);
            assert!(phone.run_until(WAIT, |d| d.node.document(&kit).is_some()
                && d.node.document(&transfer).is_some()));
            phone.disconnect();
            phone
        })
        .collect();
    for (n, phone) in phones.iter_mut().enumerate() {
        let at = 100 + i64::try_from(n).unwrap_or(0);
        let shipped = read::<Transfer>(phone, &transfer).expect("transfer");
        edit::<Transfer>(phone, &transfer, |t| {
            t.status = TransferStatus::Received;
            t.received_at = Some(at);
            t.received_by = Some("gus".into());
        });
        edit::<StockLocation>(phone, &kit, |k| {
            let key = shipped.movement_key(&transfer, "l1", true);
            k.post_movement(
                key,
                StockMovement {
                    item: "water".into(),
                    quantity: 6,
                    reason: MovementReason::Receipt,
                    reference: Some(transfer.to_string()),
                    actor: "gus".into(),
                    at,
                },
            )
            .expect("receipt");
        });
    }
    for phone in &mut phones {
        phone
            .reconnect(&server.sync_url(), &gus)
            .expect("reconnect");
        let synced = phone.run_until(WAIT, |d| d.acknowledged(&kit) && d.acknowledged(&transfer));
        let (kit_synced, transfer_synced) =
            (phone.acknowledged(&kit), phone.acknowledged(&transfer));
        assert!(
            synced,
            "{:?} kit {kit_synced} transfer {transfer_synced}\n{}",
            phone.errors,
            server.log()
        );
    }
    for phone in &mut phones {
        assert!(
            phone.run_until(WAIT, |d| {
                read::<StockLocation>(d, &kit).is_some_and(|k| k.quantity("water") == 6)
            }),
            "the receipt counts once: {:?}",
            read::<StockLocation>(phone, &kit).map(|k| k.quantity("water"))
        );
    }

    // A receipt marked on a device that does not hold the destination is posted by the server.
    let (second, elsewhere) = (new_id(23), new_id(24));
    office.node.insert(
        elsewhere,
        record(
            1,
            &StockLocation {
                name: "Van".into(),
                ..Default::default()
            },
        ),
    );
    let mut other = moved.clone();
    other.to = elsewhere.to_string();
    other.shipped_at = Some(7);
    office.node.insert(second, record(1, &other));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&second)
        && d.acknowledged(&elsewhere)));
    let mut clerk = Device::connect(&server.sync_url(), &olga, "clerk").expect("connect");
    clerk.node.find(second);
    assert!(clerk.run_until(WAIT, |d| d.node.document(&second).is_some()));
    edit::<Transfer>(&mut clerk, &second, |t| {
        t.status = TransferStatus::Received;
        t.received_at = Some(200);
    });
    assert!(clerk.run_until(WAIT, |d| d.acknowledged(&second)));
    server.eventually("the receipt posted at the van", || {
        view(&server, &olga, &elsewhere)["on_hand"]["water"] == 6
    });
}

fn invoice(series: &str, currency: &str, issued_on: Option<&str>) -> Invoice {
    let invoice = Invoice {
        provisional_number: format!("P-{series}-{currency}-{issued_on:?}"),
        series: series.into(),
        customer: "acc".into(),
        currency: currency.into(),
        issued_on: issued_on.map(Into::into),
        status: InvoiceStatus::Posted,
        ..Default::default()
    };
    itinera_tests::device::with_tour_line(invoice, 2)
}

#[test]
fn invoices_and_the_ledger_reconcile() {
    let data = DataDir::new("ledger");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &["--backdate-limit-days", "60"]);
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam").expect("connect");
    let today = |offset_days: i64| {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
            + offset_days * 86_400;
        let days = secs.div_euclid(86_400);
        // Civil date from days (Hinnant), for a date the server calls recent.
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = doy - (153 * mp + 2) / 5 + 1;
        let m = if mp < 10 { mp + 3 } else { mp - 9 };
        let y = yoe + era * 400 + i64::from(m <= 2);
        format!("{y:04}-{m:02}-{d:02}")
    };
    let recent = today(-2);
    let (eur, huf, unknown, old, dated) =
        (new_id(30), new_id(31), new_id(32), new_id(33), new_id(34));
    phone
        .node
        .insert(eur, record(2, &invoice("A", "EUR", Some(&recent))));
    phone
        .node
        .insert(huf, record(2, &invoice("A", "HUF", Some(&recent))));
    phone
        .node
        .insert(unknown, record(2, &invoice("ZZ", "EUR", Some(&recent))));
    phone
        .node
        .insert(old, record(2, &invoice("A", "EUR", Some("2019-03-01"))));
    let numbered = |d: &mut Device, id: &DocumentId| {
        read::<Invoice>(d, id).is_some_and(|i| i.legal_number.is_some())
    };
    let held =
        |d: &mut Device, id: &DocumentId| read::<Invoice>(d, id).is_some_and(|i| i.held.is_some());
    assert!(
        phone.run_until(WAIT, |d| numbered(d, &eur) && numbered(d, &huf)),
        "{}",
        server.log()
    );
    assert!(phone.run_until(WAIT, |d| held(d, &unknown) && held(d, &old)));
    let why = read::<Invoice>(&mut phone, &unknown)
        .and_then(|i| i.held)
        .unwrap_or_default();
    assert!(why.contains("series \"ZZ\""), "{why}");
    assert!(read::<Invoice>(&mut phone, &old).is_some_and(|i| i.legal_number.is_none()));

    // Office approves the old date: it is numbered in its own year and booked.
    let (status, body) = patch(
        &server,
        &olga,
        &old,
        json!({"approvals": {"issued_on": true}}),
    );
    assert_eq!(status, 200, "{body}");
    assert!(phone.run_until(WAIT, |d| numbered(d, &old)));
    assert_eq!(
        read::<Invoice>(&mut phone, &old)
            .and_then(|i| i.legal_number)
            .as_deref(),
        Some("2019-A-000001")
    );
    // A rep cannot approve.
    let (status, _) = patch(
        &server,
        &sam,
        &unknown,
        json!({"approvals": {"issued_on": true}}),
    );
    assert_eq!(status, 403);

    // A date-time is not a date.
    let draft = new_id(35);
    let mut text = invoice("A", "EUR", None);
    text.status = InvoiceStatus::Draft;
    phone.node.insert(draft, record(2, &text));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&draft)));
    let (status, body) = patch(
        &server,
        &sam,
        &draft,
        json!({"issued_on": "2026-11-20T10:00:00Z"}),
    );
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("not a date"), "{body}");

    // Per currency, balanced.
    let balance = || {
        let (_, body) = http_get(
            &format!("{}/api/v1/reports/trial-balance", server.base),
            Some(&olga),
        );
        serde_json::from_str::<Value>(&body).expect("json")
    };
    server.eventually("EUR and HUF booked", || {
        let b = balance();
        b["currencies"].as_array().is_some_and(|c| {
            c.iter().any(|x| x["currency"] == "HUF") && c.iter().any(|x| x["currency"] == "EUR")
        })
    });
    assert_eq!(balance()["balanced"], true);

    // Office locks this month: an invoice dated in it goes to the next month, saying so.
    let period = &recent[..7];
    let journal = DocumentId::named(&format!("journal:{period}"));
    let (status, body) = patch(&server, &olga, &journal, json!({"locked": true}));
    assert_eq!(status, 200, "{body}");
    let (status, _) = patch(&server, &olga, &journal, json!({"locked": false}));
    assert_eq!(status, 403, "a lock stays");
    phone
        .node
        .insert(dated, record(2, &invoice("A", "EUR", Some(&recent))));
    assert!(phone.run_until(WAIT, |d| numbered(d, &dated)));
    let next = {
        let (y, m): (i32, u32) = (
            period[..4].parse().expect("y"),
            period[5..].parse().expect("m"),
        );
        if m == 12 {
            format!("{:04}-01", y + 1)
        } else {
            format!("{y:04}-{:02}", m + 1)
        }
    };
    let next_journal = DocumentId::named(&format!("journal:{next}"));
    server.eventually("the late entry", || {
        let (status, view) = server.document(&olga, &next_journal);
        status == 200
            && view["record"]["entries"]
                .as_object()
                .is_some_and(|e| e.values().any(|e| e["late_from"] == period))
    });

    // Credited only with a credit note.
    let (status, body) = patch(&server, &olga, &eur, json!({"status": "credited"}));
    assert_eq!(status, 403, "{body}");
    let note = new_id(36);
    let mut credit = invoice("CN", "EUR", Some(&recent));
    credit.credit_of = Some(eur.to_string());
    phone.node.insert(note, record(2, &credit));
    assert!(phone.run_until(WAIT, |d| {
        read::<Invoice>(d, &eur).is_some_and(|i| i.status == InvoiceStatus::Credited)
    }));
    assert_eq!(balance()["balanced"], true);
}

#[test]
fn guides_answers_conflicts_and_access_by_assignment() {
    let data = DataDir::new("guide-answers");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let gus = user_with_token(&data, "gus", "guide", &[]);
    let server = TestServer::start(&data, &[]);
    let (employee, first, second, log) = (new_id(40), new_id(41), new_id(42), new_id(43));
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
    assert!(office.run_until(WAIT, |d| d.acknowledged(&employee)));
    let day = 86_400_000i64;
    // The same guide, named by a URL on one departure and by his user on the other.
    for (id, start, reference) in [
        (first, 0, employee.to_url()),
        (second, day, "gus".to_owned()),
    ] {
        let mut dep = departure(10);
        dep.starts_at = 1_800_000_000_000 + start;
        dep.ends_at = dep.starts_at + 3 * day;
        dep.assignments.insert(
            "a-1".into(),
            GuideAssignment {
                employee: reference,
                role: GuideRole::Lead,
                status: AssignmentStatus::Offered,
                hours: 24.0,
            },
        );
        office.node.insert(id, record(1, &dep));
    }
    office.node.insert(
        log,
        record(
            1,
            &FieldLog {
                departure: first.to_string(),
                ..Default::default()
            },
        ),
    );
    assert!(office.run_until(WAIT, |d| d.acknowledged(&log)));

    // No grant: the assignment alone gives Gus his departures, listed in his index.
    let mut phone = Device::connect(&server.sync_url(), &gus, "gus").expect("connect");
    let index = DocumentId::index_of("gus");
    phone.node.find(index);
    assert!(
        phone.run_until(WAIT, |d| {
            read::<UserIndex>(d, &index).is_some_and(|i| {
                i.documents.contains_key(&first.to_string())
                    && i.documents.contains_key(&second.to_string())
                    && i.documents.contains_key(&log.to_string())
            })
        }),
        "{}",
        server.log()
    );
    phone.node.find(first);
    phone.node.find(log);
    assert!(phone.run_until(WAIT, |d| d.node.document(&first).is_some()
        && d.node.document(&log).is_some()));

    // He accepts the first on his phone; office had accepted the second for him.
    edit::<FieldLog>(&mut phone, &log, |l| {
        l.acceptances
            .append(
                LogKey::new(5, "gus"),
                AssignmentResponse {
                    assignment: "a-1".into(),
                    employee: "gus".into(),
                    accepted: true,
                    at: 5,
                },
            )
            .expect("answer");
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&log)));
    edit::<Departure>(&mut office, &second, |d| {
        if let Some(a) = d.assignments.get_mut("a-1") {
            a.status = AssignmentStatus::Accepted;
        }
    });
    let status_of = |d: &mut Device, id: &DocumentId| {
        read::<Departure>(d, id).and_then(|dep| dep.assignments.get("a-1").map(|a| a.status))
    };
    assert!(
        office.run_until(WAIT, |d| {
            status_of(d, &first) == Some(AssignmentStatus::Conflict)
                && status_of(d, &second) == Some(AssignmentStatus::Conflict)
        }),
        "{}",
        server.log()
    );
    server.eventually("the double-booking alert", || {
        alerts(&server, &olga)
            .iter()
            .any(|a| a["rule"] == "guide_double_booked" && a["status"] == "open")
    });

    // Office removes the second assignment: the first is no longer in conflict.
    edit::<Departure>(&mut office, &second, |d| {
        d.assignments.remove("a-1");
    });
    assert!(office.run_until(WAIT, |d| status_of(d, &first)
        == Some(AssignmentStatus::Accepted)));
    server.eventually("the alert resolved", || {
        !alerts(&server, &olga)
            .iter()
            .any(|a| a["rule"] == "guide_double_booked" && a["status"] == "open")
    });
}

#[test]
fn duplicates_across_accounts_and_purchase_history() {
    let data = DataDir::new("customers");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let sofia = user_with_token(&data, "sofia", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let (school_a, school_b) = (new_id(50), new_id(51));
    let school = |owner: &str, phone: &str| {
        let mut account = Account {
            name: "Lakeside Schools".into(),
            owner: owner.into(),
            ..Default::default()
        };
        account.contacts.insert(
            format!("c-{owner}"),
            Contact {
                first_name: "Ilona".into(),
                last_name: format!("Kovács-{owner}"),
                phones: [phone].into_iter().collect(),
                ..Default::default()
            },
        );
        account
    };
    // Two reps create the same school offline, the phone typed two ways.
    let mut sam_phone = Device::connect(&server.sync_url(), &sam, "sam").expect("connect");
    let mut sofia_phone = Device::connect(&server.sync_url(), &sofia, "sofia").expect("connect");
    sam_phone
        .node
        .insert(school_a, record(2, &school("sam", "06 30 123 4567")));
    sofia_phone
        .node
        .insert(school_b, record(3, &school("sofia", "+36 30 123 4567")));
    assert!(sam_phone.run_until(WAIT, |d| d.acknowledged(&school_a)));
    assert!(sofia_phone.run_until(WAIT, |d| d.acknowledged(&school_b)));
    server.eventually("a merge proposal across accounts", || {
        alerts(&server, &olga).iter().any(|a| {
            a["rule"] == "duplicate_account"
                && a["message"].as_str().is_some_and(|m| {
                    m.contains("phone:+36301234567") || m.contains("account:lakeside schools")
                })
        })
    });

    // Purchase history: a confirmed booking of the school.
    let dep = new_id(52);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    office.node.insert(dep, record(1, &departure(10)));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&dep)));
    let trip = new_id(53);
    let mut sold = booking(&dep, "sam", 2);
    sold.account = school_a.to_string();
    sold.amount_minor = 78_000;
    sold.currency = "EUR".into();
    sam_phone.node.insert(trip, record(2, &sold));
    assert!(
        sam_phone.run_until(WAIT, |d| {
            read::<Account>(d, &school_a).is_some_and(|a| a.purchase_summary.bookings == 1)
        }),
        "{}",
        server.log()
    );
    let history = read::<Account>(&mut sam_phone, &school_a)
        .expect("account")
        .purchase_summary;
    assert_eq!(history.revenue_minor, 78_000);
    assert_eq!(history.currency, "EUR");
    assert_eq!(history.last_trip_departure, Some(dep.to_string()));

    let (status, body) = http_get(
        &format!("{}/api/v1/reports/customers", server.base),
        Some(&olga),
    );
    assert_eq!(status, 200, "{body}");
    let report: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(report["customers"], 1, "{report}");
}

/// Whether `device` holds every change of `heads` of `id`.
fn holds(device: &mut Device, id: &DocumentId, heads: &[automerge::ChangeHash]) -> bool {
    device.node.document(id).is_some_and(|doc| {
        heads
            .iter()
            .all(|h| automerge::ReadDoc::get_change_by_hash(doc, h).is_some())
    })
}

#[test]
fn stage_conflicts_and_edits_after_archive_are_flagged_and_other_edits_leave_them() {
    let data = DataDir::new("account-rules");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let sam = user_with_token(&data, "sam", "sales", &[]);
    let server = TestServer::start(&data, &[]);
    let school = new_id(60);
    let mut account = Account {
        name: "Lakeside Schools".into(),
        owner: "sam".into(),
        ..Default::default()
    };
    account.opportunities.insert(
        "o-1".into(),
        Opportunity {
            name: "Spring trips".into(),
            owner: "sam".into(),
            ..Default::default()
        },
    );
    let mut phone = Device::connect(&server.sync_url(), &sam, "sam-phone").expect("connect");
    phone.node.insert(school, record(2, &account));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&school)));
    let mut tablet = Device::connect(&server.sync_url(), &sam, "sam-tablet").expect("connect");
    tablet.node.find(school);
    assert!(tablet.run_until(WAIT, |d| d.node.document(&school).is_some()));
    let open = |rule: &str| {
        alerts(&server, &olga)
            .into_iter()
            .filter(|a| a["rule"] == rule && a["status"] == "open")
            .count()
    };
    let move_to = |device: &mut Device, stage: Stage, n: i64| {
        edit::<Account>(device, &school, |a| {
            a.move_opportunity("o-1", stage, LogKey::new(n, "sam"), "sam", n)
                .expect("move");
        });
        assert!(device.run_until(WAIT, |d| d.acknowledged(&school)));
    };

    // The stage moved on both devices before either saw the other's move.
    edit::<Account>(&mut tablet, &school, |a| {
        a.move_opportunity("o-1", Stage::Lost, LogKey::new(11, "sam"), "sam", 11)
            .expect("move");
    });
    move_to(&mut phone, Stage::Proposal, 10);
    assert!(tablet.run_until(WAIT, |d| d.acknowledged(&school)));
    server.eventually("a stage conflict", || open("stage_conflict") == 1);

    // A rename writes no opportunity: the conflict stays, once.
    let merged = tablet.node.heads(&school).expect("heads");
    assert!(phone.run_until(WAIT, |d| holds(d, &school, &merged)));
    edit::<Account>(&mut phone, &school, |a| {
        a.name = "Lakeside Schools Ltd".into()
    });
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&school)));
    // The next move on the merged account settles it.
    move_to(&mut phone, Stage::Negotiation, 12);
    server.eventually("the stage conflict cleared", || open("stage_conflict") == 0);
    assert_eq!(open("edit_after_archive"), 0);

    // The tablet archives the account while the phone, offline, edits it.
    let settled = phone.node.heads(&school).expect("heads");
    assert!(tablet.run_until(WAIT, |d| holds(d, &school, &settled)));
    edit::<Account>(&mut phone, &school, |a| a.name = "Lakeside".into());
    edit::<Account>(&mut tablet, &school, |a| a.archive(20));
    assert!(tablet.run_until(WAIT, |d| d.acknowledged(&school)));
    assert!(phone.run_until(WAIT, |d| d.acknowledged(&school)));
    server.eventually("the edit after the archive flagged", || {
        open("edit_after_archive") == 1
    });
    assert_eq!(open("stage_conflict"), 0);
}
