//! `GET /api/v1/documents/{id}/conflicts`: the fields two people changed at once.
//!
//! Automerge keeps every concurrent value of a field and picks the same winner everywhere; the
//! losers stay readable, so a page can show "you wrote A, a colleague wrote B, B stands". Each
//! conflicted field comes with its path (`/name`, `/contacts/c-1/title`) and its values, the
//! winner marked. Logs (activities, stage history) are appended to, never edited, and are not
//! walked.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use automerge::{AutoCommit, ObjId, ObjType, ReadDoc, ScalarValue, Value};
use itinera_core::engine::EditError;
use serde_json::{Value as Json, json};

use super::AppState;
use super::auth::{ApiError, authenticate};
use crate::actors::ReadDocument;

/// Maps the walk does not enter: append-only logs and sets, whose keys are added, not changed.
const NOT_WALKED: [&str; 8] = [
    "activities",
    "stage_history",
    "movements",
    "messages",
    "responses",
    "consent",
    "payments",
    "leave",
];

/// The fields of a document two people changed at once, with every value and the winner.
#[utoipa::path(get, path = "/api/v1/documents/{id}/conflicts", tag = "records", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The document")),
    responses((status = 200, description = "`{\"id\", \"conflicts\": [{\"path\", \"values\": [{\"value\", \"winner\"}]}]}`"),
              (status = 404, description = "No such document, or not the caller's to read")))]
pub async fn conflicts(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let id = itinera_core::DocumentId::parse(&id).map_err(ApiError::bad_request)?;
    let bytes = state
        .hub
        .send(ReadDocument {
            document: id,
            reader: Arc::new(principal),
        })
        .await
        .map_err(|_| ApiError::from(EditError::Unavailable))??;
    let doc = itinera_core::document::load_bytes(&bytes)
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let mut found = Vec::new();
    walk(&doc, &automerge::ROOT, "", &mut found);
    Ok(HttpResponse::Ok().json(json!({ "id": id.to_string(), "conflicts": found })))
}

/// Collects the conflicted fields of the map `obj` and of the maps inside it.
pub fn walk(doc: &AutoCommit, obj: &ObjId, path: &str, found: &mut Vec<Json>) {
    for key in doc.keys(obj) {
        let field = format!("{path}/{key}");
        let values = doc.get_all(obj, key.as_str()).unwrap_or_default();
        if values.len() > 1 {
            let winner = doc.get(obj, key.as_str()).ok().flatten().map(|(_, id)| id);
            let shown: Vec<Json> = values
                .iter()
                .map(|(value, id)| {
                    json!({ "value": shown_value(doc, value, id), "winner": Some(id) == winner.as_ref() })
                })
                .collect();
            found.push(json!({ "path": field, "values": shown }));
        }
        if NOT_WALKED.contains(&key.as_str()) {
            continue;
        }
        if let Ok(Some((Value::Object(ObjType::Map), child))) = doc.get(obj, key.as_str()) {
            walk(doc, &child, &field, found);
        }
    }
}

fn shown_value(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> Json {
    match value {
        Value::Object(ObjType::Text) => json!(doc.text(id).unwrap_or_default()),
        Value::Object(_) => Json::Null,
        Value::Scalar(scalar) => match scalar.as_ref() {
            ScalarValue::Str(text) => json!(text.to_string()),
            ScalarValue::Int(n) => json!(n),
            ScalarValue::Uint(n) => json!(n),
            ScalarValue::F64(f) => json!(f),
            ScalarValue::Boolean(b) => json!(b),
            ScalarValue::Timestamp(t) => json!(t),
            ScalarValue::Counter(c) => json!(i64::from(c)),
            _ => Json::Null,
        },
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ReadDoc as _};
    use itinera_core::Document;
    use itinera_core::model::Account;

    use super::*;

    #[test]
    fn two_concurrent_names_show_as_a_conflict_with_one_winner() {
        let account = Account {
            name: "Lakeside".into(),
            ..Default::default()
        };
        let mut office = Document::create(ActorId::from([1u8; 16]), 0, &account)
            .expect("create")
            .into_automerge();
        let mut phone = office.fork().with_actor(ActorId::from([2u8; 16]));
        office
            .put(automerge::ROOT, "name", "Lakeside Schools")
            .expect("put");
        phone
            .put(automerge::ROOT, "name", "Lakeside School Trust")
            .expect("put");
        office.merge(&mut phone).expect("merge");
        let mut found = Vec::new();
        walk(&office, &automerge::ROOT, "", &mut found);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0]["path"], "/name");
        let values = found[0]["values"].as_array().expect("values");
        assert_eq!(values.len(), 2);
        assert_eq!(values.iter().filter(|v| v["winner"] == true).count(), 1);
        let winner = values.iter().find(|v| v["winner"] == true).expect("winner");
        assert_eq!(
            winner["value"],
            json!(
                office
                    .get(automerge::ROOT, "name")
                    .expect("get")
                    .expect("name")
                    .0
                    .as_str()
                    .unwrap_or_default()
            )
        );
    }
}
