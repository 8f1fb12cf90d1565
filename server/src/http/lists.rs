//! `GET /api/v1/lists/{list}`: a page of a list from the list model, as JSON, or every matching
//! row as CSV with `format=csv`.
//!
//! Query: `q` (search), `sort` (a column), `order` (`asc`, `desc`), `limit` (1–500), `cursor`
//! (the `next_cursor` of the page before), and `column=value` filters. Reference columns come
//! with `{column}_title`, the title of the document named, where the reader may read it.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Map, Value as Json, json};

use super::AppState;
use super::auth::{ApiError, authenticate};
use super::csv_export::csv_response;
use crate::lists::{ListKind, ListPage, ListQuery, ListRow};

/// How long a list request waits for the lists' first build.
const READY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// A page of a list, answered from memory without loading a document: only the rows the caller
/// may read.
#[utoipa::path(get, path = "/api/v1/lists/{list}", tag = "lists", security(("bearer" = []), ("session" = [])),
    params(
        ("list" = String, Path, description = "accounts, leads, campaigns, tickets, departures, bookings, invoices, stock, transfers, employees, fieldlogs or catalogs"),
        ("q" = Option<String>, Query, description = "Text the row contains (title, text columns, contacts' names and e-mail addresses)"),
        ("sort" = Option<String>, Query, description = "The column to sort by; the first column when absent"),
        ("order" = Option<String>, Query, description = "`asc` (default) or `desc`"),
        ("limit" = Option<usize>, Query, description = "Rows per page, 1 to 500 (default 50)"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the page before"),
        ("format" = Option<String>, Query, description = "`csv`: every matching row as CSV"),
    ),
    responses((status = 200, description = "`{\"list\", \"columns\", \"total\", \"next_cursor\", \"items\"}`, or CSV; any other `column=value` filters"),
              (status = 400, description = "An unknown column, order or limit"),
              (status = 404, description = "No such list"),
              (status = 503, description = "The lists are still being read at start-up")))]
pub async fn list(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    pairs: web::Query<Vec<(String, String)>>,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let list = ListKind::parse(&name).ok_or_else(|| {
        let known: Vec<&str> = ListKind::ALL.iter().map(|l| l.name()).collect();
        ApiError::new(
            actix_web::http::StatusCode::NOT_FOUND,
            format!("no list named {name:?}: {}", known.join(", ")),
        )
    })?;
    let query = ListQuery::parse(list, pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(ApiError::bad_request)?;
    let as_csv = pairs.iter().any(|(k, v)| k == "format" && v == "csv");
    // Right after a start the model may still be reading documents: a request waits a little,
    // then hears to come back rather than hanging.
    if tokio::time::timeout(READY_WAIT, state.lists.ready())
        .await
        .is_err()
    {
        return Err(ApiError::new(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "the lists are still being read from the store; try again in a moment",
        ));
    }
    if as_csv {
        let model = state.lists.clone();
        let page = web::block(move || model.list(&principal, list, &query, usize::MAX))
            .await
            .map_err(|e| ApiError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
        return csv_response(list.name(), &list_csv(list, &page));
    }
    let page = state.lists.list(&principal, list, &query, query.limit);
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .json(page_json(list, &page)))
}

fn row_json(list: ListKind, row: &ListRow) -> Json {
    let mut object = Map::new();
    object.insert("id".into(), json!(row.id.to_string()));
    object.insert("title".into(), json!(row.title));
    for ((column, cell), reference) in list.columns().iter().zip(&row.cells).zip(&row.references) {
        object.insert(column.name.into(), json!(cell));
        if column.reference.is_some() {
            object.insert(format!("{}_title", column.name), json!(reference));
        }
    }
    Json::Object(object)
}

fn page_json(list: ListKind, page: &ListPage) -> Json {
    json!({
        "list": list.name(),
        "columns": list.columns().iter().map(|c| c.name).collect::<Vec<_>>(),
        "total": page.total,
        "next_cursor": page.next_cursor.as_ref().map(|cursor| cursor.encode()),
        "items": page.rows.iter().map(|row| row_json(list, row)).collect::<Vec<_>>(),
    })
}

/// The page as CSV rows: a header, then one row per document.
fn list_csv(list: ListKind, page: &ListPage) -> Vec<Vec<String>> {
    let mut header = vec!["id".to_owned()];
    for column in list.columns() {
        header.push(column.name.to_owned());
        if column.reference.is_some() {
            header.push(format!("{}_title", column.name));
        }
    }
    let mut rows = vec![header];
    for row in &page.rows {
        let mut record = vec![row.id.to_string()];
        for ((column, cell), reference) in
            list.columns().iter().zip(&row.cells).zip(&row.references)
        {
            record.push(cell.to_csv());
            if column.reference.is_some() {
                record.push(reference.clone().unwrap_or_default());
            }
        }
        rows.push(record);
    }
    rows
}
