//! Head office's reports through the real server: a change to one document moves the figures
//! of the reports that read it (no refresh to wait for), and the invoices report returns its
//! receivables a page at a time while its totals, and the CSV export, cover them all.

use std::time::Duration;

use itinera_core::DocumentId;
use itinera_core::model::*;
use itinera_tests::device::{Device, record};
use itinera_tests::server::{DataDir, TestServer, http, http_get, user_with_token};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(30);
/// Gross of [`posted_invoice`]: 2 × 39,000 plus 27 % VAT.
const GROSS: i64 = 99_060;

fn new_id(n: u8) -> DocumentId {
    DocumentId::new_v7(1_764_200_000_000 + u64::from(n), [n; 10])
}

fn report(server: &TestServer, token: &str, path: &str) -> (u16, Value) {
    let (status, body) = http_get(
        &format!("{}/api/v1/reports/{path}", server.base),
        Some(token),
    );
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn open_value(server: &TestServer, token: &str) -> i64 {
    let (status, pipeline) = report(server, token, "pipeline");
    assert_eq!(status, 200, "{pipeline}");
    pipeline["open"]["value"]["EUR"].as_i64().unwrap_or(0)
}

fn posted_invoice(number: &str) -> Invoice {
    let invoice = Invoice {
        provisional_number: number.into(),
        status: InvoiceStatus::Posted,
        series: "A".into(),
        customer: "acc".into(),
        currency: "EUR".into(),
        issued_on: Some("2026-11-20".into()),
        due_on: Some("2026-12-20".into()),
        ..Default::default()
    };
    itinera_tests::device::with_tour_line(invoice, 2)
}

#[test]
fn a_change_to_one_document_moves_the_reports_that_read_it() {
    let data = DataDir::new("reports-e2e-change");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");

    let account_id = new_id(1);
    let mut account = Account {
        name: "Lakeside Schools".into(),
        owner: "sam".into(),
        territory: "north".into(),
        ..Default::default()
    };
    let opportunity = Opportunity {
        name: "Spring trip".into(),
        stage: Stage::Proposal,
        amount_minor: 100_000,
        currency: "EUR".into(),
        probability: 50,
        ..Default::default()
    };
    account.opportunities.insert("o-1".into(), opportunity);
    office.node.insert(account_id, record(1, &account));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&account_id)));
    server.eventually("the pipeline counts the account's opportunity", || {
        open_value(&server, &olga) == 100_000
    });
    // The report is kept now; a change of its account moves it at once.
    let (status, body) = http(
        "PATCH",
        &format!("{}/api/v1/documents/{account_id}", server.base),
        Some(&olga),
        Some(r#"{"opportunities":{"o-1":{"amount_minor":250000}}}"#),
    );
    assert_eq!(status, 200, "{body}");
    server.eventually("the pipeline follows the new amount", || {
        open_value(&server, &olga) == 250_000
    });
    let (_, pipeline) = report(&server, &olga, "pipeline");
    assert_eq!(
        pipeline["open"]["weighted_value"]["EUR"], 125_000,
        "{pipeline}"
    );
    assert_eq!(pipeline["by_rep"][0]["key"], "sam", "{pipeline}");

    // Invoices: three posted, then one more; the totals follow each.
    for n in 0..3u8 {
        let id = new_id(10 + n);
        office
            .node
            .insert(id, record(1, &posted_invoice(&format!("P-{n}"))));
        assert!(office.run_until(WAIT, |d| d.acknowledged(&id)));
    }
    let receivables = |server: &TestServer| {
        let (status, invoices) = report(server, &olga, "invoices?limit=2");
        assert_eq!(status, 200, "{invoices}");
        invoices
    };
    let outstanding = |invoices: &Value| -> i64 {
        invoices["ageing"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|bucket| bucket["outstanding"]["EUR"].as_i64().unwrap_or(0))
            .sum()
    };
    server.eventually("three receivables", || {
        receivables(&server)["receivables_total"] == 3
    });
    assert_eq!(outstanding(&receivables(&server)), 3 * GROSS);
    let fourth = new_id(13);
    office
        .node
        .insert(fourth, record(1, &posted_invoice("P-3")));
    assert!(office.run_until(WAIT, |d| d.acknowledged(&fourth)));
    server.eventually("the fourth receivable", || {
        let invoices = receivables(&server);
        invoices["receivables_total"] == 4 && outstanding(&invoices) == 4 * GROSS
    });
}

#[test]
fn receivables_come_in_pages_and_the_csv_has_them_all() {
    let data = DataDir::new("reports-e2e-pages");
    let olga = user_with_token(&data, "olga", "office", &[]);
    let server = TestServer::start(&data, &[]);
    let mut office = Device::connect(&server.sync_url(), &olga, "office").expect("connect");
    let ids: Vec<DocumentId> = (0..5u8).map(|n| new_id(20 + n)).collect();
    for (n, id) in ids.iter().enumerate() {
        let mut invoice = posted_invoice(&format!("Q-{n}"));
        // Due on five different days: the report lists the most overdue first.
        invoice.due_on = Some(format!("2026-11-{:02}", 25 - n));
        office.node.insert(*id, record(1, &invoice));
        assert!(office.run_until(WAIT, |d| d.acknowledged(id)));
    }
    server.eventually("five receivables", || {
        report(&server, &olga, "invoices")
            .1
            .get("receivables_total")
            .is_some_and(|total| total == 5)
    });

    let mut paged: Vec<String> = Vec::new();
    let mut path = "invoices?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let (status, page) = report(&server, &olga, &path);
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["receivables_total"], 5, "{page}");
        let rows = page["receivables"].as_array().expect("receivables");
        assert!(rows.len() <= 2, "{page}");
        paged.extend(
            rows.iter()
                .map(|r| r["invoice"].as_str().unwrap_or("").to_owned()),
        );
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("invoices?limit=2&after={cursor}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    // Most overdue (due earliest: the last one inserted) first.
    let expected: Vec<String> = ids.iter().rev().map(ToString::to_string).collect();
    assert_eq!(paged, expected);

    let (status, csv) = http_get(
        &format!(
            "{}/api/v1/reports/invoices/csv?table=receivables",
            server.base
        ),
        Some(&olga),
    );
    assert_eq!(status, 200, "{csv}");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 1 + 5, "a header and every receivable: {csv}");
    for (line, id) in lines[1..].iter().zip(&expected) {
        assert!(line.contains(id.as_str()), "{line} should be {id}");
    }

    for bad in [
        "invoices?limit=0",
        "invoices?limit=5000",
        "invoices?after=yesterday",
    ] {
        let (status, body) = report(&server, &olga, bad);
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
}
