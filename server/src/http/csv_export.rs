//! CSV downloads of lists and reports, written with the `csv` crate.
//!
//! A report is JSON with tables in it (`by_stage`, `receivables`, …); `table=` picks one, and
//! the report's single figures make a table named `summary`. Nested objects become dotted
//! columns (`value.EUR`), lists of plain values one cell, and a list of objects inside a row
//! (a location's items) one row per entry, with the row's own columns repeated.

use actix_web::HttpResponse;
use actix_web::http::{StatusCode, header};
use serde_json::{Map, Value as Json};

use super::auth::ApiError;

/// A CSV attachment named `{name}.csv`.
pub fn csv_response(name: &str, rows: &[Vec<String>]) -> Result<HttpResponse, ApiError> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        writer
            .write_record(row)
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

/// The names of a report's tables: `summary` if it has single figures, then each list of rows.
pub fn report_tables(report: &Json) -> Vec<String> {
    let Json::Object(fields) = report else {
        return Vec::new();
    };
    let mut tables = Vec::new();
    if fields.values().any(|value| !value.is_array()) {
        tables.push("summary".to_owned());
    }
    tables.extend(
        fields
            .iter()
            .filter(|(_, value)| value.is_array())
            .map(|(name, _)| name.clone()),
    );
    tables
}

/// One table of a report as CSV rows (header first); `None` if the report has no such table.
pub fn report_table(report: &Json, table: &str) -> Option<Vec<Vec<String>>> {
    let Json::Object(fields) = report else {
        return None;
    };
    let records: Vec<Map<String, Json>> = if table == "summary" {
        let figures: Map<String, Json> = fields
            .iter()
            .filter(|(_, value)| !value.is_array())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        vec![figures]
    } else {
        fields
            .get(table)?
            .as_array()?
            .iter()
            .map(|row| match row {
                Json::Object(object) => object.clone(),
                other => Map::from_iter([("value".to_owned(), other.clone())]),
            })
            .collect()
    };
    let mut flat_rows = Vec::new();
    for record in &records {
        flat_rows.extend(unnest(record));
    }
    let mut columns: Vec<String> = Vec::new();
    for row in &flat_rows {
        for (name, _) in row {
            if !columns.contains(name) {
                columns.push(name.clone());
            }
        }
    }
    let mut out = vec![columns.clone()];
    for row in flat_rows {
        out.push(
            columns
                .iter()
                .map(|column| {
                    row.iter()
                        .find(|(name, _)| name == column)
                        .map(|(_, value)| value.clone())
                        .unwrap_or_default()
                })
                .collect(),
        );
    }
    Some(out)
}

type FlatRow = Vec<(String, String)>;

/// One row per entry of the first list of objects in `record` (or one row if it has none).
fn unnest(record: &Map<String, Json>) -> Vec<FlatRow> {
    let mut own = Vec::new();
    let mut children: Option<(&str, &Vec<Json>)> = None;
    for (name, value) in record {
        match value {
            Json::Array(items) if items.iter().any(Json::is_object) && children.is_none() => {
                children = Some((name, items));
            }
            _ => flatten(name, value, &mut own),
        }
    }
    let Some((prefix, items)) = children else {
        return vec![own];
    };
    if items.is_empty() {
        return vec![own];
    }
    items
        .iter()
        .map(|item| {
            let mut row = own.clone();
            flatten(prefix, item, &mut row);
            row
        })
        .collect()
}

fn flatten(prefix: &str, value: &Json, out: &mut FlatRow) {
    match value {
        Json::Object(object) => {
            for (name, inner) in object {
                flatten(&format!("{prefix}.{name}"), inner, out);
            }
        }
        Json::Array(items) => {
            let cells: Vec<String> = items.iter().map(scalar).collect();
            out.push((prefix.to_owned(), cells.join("; ")));
        }
        other => out.push((prefix.to_owned(), scalar(other))),
    }
}

fn scalar(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(text) => text.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_report_splits_into_a_summary_and_its_tables_with_nested_rows_unnested() {
        let report = json!({
            "won": 2,
            "by_stage": [{ "key": "proposal", "count": 1, "value": { "EUR": 780000 } }],
            "locations": [{ "name": "Kit", "departures": ["a", "b"], "items": [{ "item": "water", "on_hand": 48 }, { "item": "headset", "on_hand": 12 }] }],
        });
        assert_eq!(
            report_tables(&report),
            vec!["summary", "by_stage", "locations"]
        );
        assert_eq!(
            report_table(&report, "summary").expect("summary"),
            vec![vec!["won".to_owned()], vec!["2".to_owned()]]
        );
        let by_stage = report_table(&report, "by_stage").expect("table");
        // Columns in the order of the JSON object's keys (sorted).
        assert_eq!(by_stage[0], vec!["count", "key", "value.EUR"]);
        assert_eq!(by_stage[1], vec!["1", "proposal", "780000"]);
        let locations = report_table(&report, "locations").expect("table");
        assert_eq!(
            locations[0],
            vec!["departures", "name", "items.item", "items.on_hand"]
        );
        assert_eq!(locations.len(), 3);
        assert_eq!(locations[2], vec!["a; b", "Kit", "headset", "12"]);
        assert!(report_table(&report, "salaries").is_none());
    }
}
