//! `/api/v1`: JSON for head office and tools.

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, web};
use automerge::AutoCommit;
use itinera_core::policy::{DocumentScope, Grant, Principal, Role, access};
use itinera_core::reports;
use itinera_core::sync::Access;
use itinera_core::{DocumentId, DocumentKind};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::AppState;
use super::auth::{ApiError, authenticate, authenticate_admin};
use crate::actors::{Edit, LocalChange, LocalChangeError, ReadDocument, ShareDocument};
use crate::index_documents::index_document_id;
use crate::json_view::{apply_patch, document_to_json};

/// How long a token from a password login lasts.
const LOGIN_TTL_MS: i64 = 12 * 60 * 60 * 1000;

pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/openapi.json", web::get().to(openapi))
        .route("/login", web::post().to(login))
        .route("/me", web::get().to(me))
        .route("/users", web::get().to(list_users))
        .route("/users", web::post().to(add_user))
        .route("/users/{name}/disable", web::post().to(disable_user))
        .route("/users/{name}/grants", web::put().to(set_grants))
        .route("/users/{name}/tokens", web::post().to(issue_token))
        .route("/tokens/revoke", web::post().to(revoke_token))
        .route("/records", web::get().to(list_records))
        .route("/records/{kind}", web::post().to(create_record))
        .route("/documents/{id}", web::get().to(get_document))
        .route("/documents/{id}", web::patch().to(update_document))
        .route("/alerts", web::get().to(list_alerts))
        .route(
            "/alerts/{key}/acknowledge",
            web::post().to(acknowledge_alert),
        )
        .route("/alerts/{key}/resolve", web::post().to(resolve_alert))
        .route("/reports/{name}", web::get().to(report))
        .route(
            "/documents/{id}/contacts/merge",
            web::post().to(merge_contacts),
        )
        .route("/documents/{id}/shares/{user}", web::put().to(share))
        .route("/documents/{id}/shares/{user}", web::delete().to(unshare))
        .route("/session", web::post().to(super::session_cookie::sign_in))
        .route("/session", web::get().to(super::session_cookie::current))
        .route(
            "/session",
            web::delete().to(super::session_cookie::sign_out),
        )
        .route("/lists/{list}", web::get().to(super::lists::list))
        .route("/events", web::get().to(super::events::events))
        .route(
            "/documents/{id}/conflicts",
            web::get().to(super::document_conflicts::conflicts),
        )
        .route(
            "/imports/{kind}",
            web::post().to(super::import_jobs::import),
        )
        .route(
            "/imports/jobs/{job}",
            web::get().to(super::import_jobs::job),
        )
        .route("/reports/{name}/csv", web::get().to(report_csv))
        .default_service(web::to(no_such_route));
}

async fn no_such_route() -> Reply {
    Err(error(
        actix_web::http::StatusCode::NOT_FOUND,
        "no such API route",
    ))
}

type Reply = Result<HttpResponse, ApiError>;

fn error(status: actix_web::http::StatusCode, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(status, message)
}

fn bad_request(message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(message)
}

fn not_found() -> ApiError {
    error(actix_web::http::StatusCode::NOT_FOUND, "no such document")
}

fn change_error(err: LocalChangeError) -> ApiError {
    match err {
        LocalChangeError::NotFound => not_found(),
        LocalChangeError::Refused(reason) => error(actix_web::http::StatusCode::FORBIDDEN, reason),
        LocalChangeError::Store(reason) => {
            error(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, reason)
        }
        LocalChangeError::Unavailable => error(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "shutting down",
        ),
    }
}

fn parse_id(text: &str) -> Result<DocumentId, ApiError> {
    DocumentId::parse(text).map_err(bad_request)
}

#[derive(Deserialize)]
struct Login {
    user: String,
    password: String,
}

async fn login(state: web::Data<AppState>, body: web::Json<Login>) -> Reply {
    let now = state.services.now_ms();
    let token = state
        .services
        .directory
        .login(&body.user, &body.password, LOGIN_TTL_MS, now)?;
    Ok(HttpResponse::Ok().json(json!({ "token": token, "expires_at": now + LOGIN_TTL_MS })))
}

async fn me(state: web::Data<AppState>, request: HttpRequest) -> Reply {
    let principal = authenticate(&state, &request)?;
    Ok(HttpResponse::Ok().json(json!({
        "user": principal.user,
        "role": principal.role.as_str(),
        "grants": principal.grants.iter().map(Grant::to_string).collect::<Vec<_>>(),
        "index_document": index_document_id(&principal.user).to_url(),
    })))
}

fn user_json(user: &crate::accounts::User) -> Json {
    json!({ "name": user.name, "role": user.role.as_str(), "grants": user.grants, "disabled": user.disabled, "created_at": user.created_at })
}

async fn list_users(state: web::Data<AppState>, request: HttpRequest) -> Reply {
    authenticate_admin(&state, &request)?;
    let users: Vec<Json> = state
        .services
        .directory
        .users()
        .iter()
        .map(user_json)
        .collect();
    Ok(HttpResponse::Ok().json(users))
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
    role: String,
    #[serde(default)]
    grants: Vec<String>,
    password: Option<String>,
}

fn parse_grants(grants: &[String]) -> Result<Vec<Grant>, ApiError> {
    grants
        .iter()
        .map(|g| g.parse::<Grant>().map_err(bad_request))
        .collect()
}

async fn add_user(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<NewUser>,
) -> Reply {
    authenticate_admin(&state, &request)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| bad_request(format!("unknown role {:?}", body.role)))?;
    let grants = parse_grants(&body.grants)?;
    let now = state.services.now_ms();
    let user = state
        .services
        .directory
        .add_user(&body.name, role, &grants, body.password.as_deref(), now)
        .map_err(bad_request)?;
    state.services.user_changed(&user.name);
    Ok(HttpResponse::Created().json(user_json(&user)))
}

/// An admin's change to one user: the indexer rebuilds that user's index, and the answer is the
/// user as it now is.
fn user_changed(
    state: &AppState,
    request: &HttpRequest,
    change: impl FnOnce(
        &crate::accounts::Directory,
    ) -> Result<crate::accounts::User, crate::accounts::AccountError>,
) -> Reply {
    authenticate_admin(state, request)?;
    let user = change(&state.services.directory).map_err(bad_request)?;
    state.services.user_changed(&user.name);
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

async fn disable_user(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Reply {
    user_changed(&state, &request, |directory| directory.disable_user(&name))
}

#[derive(Deserialize)]
struct Grants {
    grants: Vec<String>,
}

async fn set_grants(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<Grants>,
) -> Reply {
    let grants = parse_grants(&body.grants)?;
    user_changed(&state, &request, |directory| {
        directory.set_grants(&name, &grants)
    })
}

#[derive(Deserialize)]
struct NewToken {
    ttl_seconds: Option<i64>,
}

async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<NewToken>,
) -> Reply {
    authenticate_admin(&state, &request)?;
    let ttl = body.ttl_seconds.map(|s| s.saturating_mul(1000));
    let token = state
        .services
        .directory
        .issue_token(&name, ttl, state.services.now_ms())
        .map_err(bad_request)?;
    Ok(HttpResponse::Created().json(json!({ "token": token })))
}

#[derive(Deserialize)]
struct Revoke {
    token: Option<String>,
    user: Option<String>,
}

async fn revoke_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Revoke>,
) -> Reply {
    authenticate_admin(&state, &request)?;
    let directory = &state.services.directory;
    let revoked = match (&body.token, &body.user) {
        (Some(token), _) => directory.revoke_token(token).map(|()| 1),
        (None, Some(user)) => directory.revoke_user_tokens(user),
        (None, None) => return Err(bad_request("give a token or a user")),
    }
    .map_err(bad_request)?;
    Ok(HttpResponse::Ok().json(json!({ "revoked": revoked })))
}

#[derive(Deserialize)]
struct RecordFilter {
    kind: Option<String>,
    owner: Option<String>,
}

/// Lists the documents of a kind the caller may read, as JSON. Reads the store, which holds
/// every acknowledged change.
async fn list_records(
    state: web::Data<AppState>,
    request: HttpRequest,
    filter: web::Query<RecordFilter>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let store = state.services.store.clone();
    let filter = filter.into_inner();
    let internal = |e: String| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e);
    let records = web::block(move || -> Result<Vec<Json>, String> {
        let mut out = Vec::new();
        for (id, meta) in store.documents().map_err(|e| e.to_string())? {
            if filter.kind.is_some() && meta.kind != filter.kind {
                continue;
            }
            let Some(bytes) = store.load(id).map_err(|e| e.to_string())? else {
                continue;
            };
            let Ok(doc) = itinera_core::document::load_bytes(&bytes) else {
                continue;
            };
            let Ok(scope) = DocumentScope::describe(&id, &doc, meta.owner.as_deref()) else {
                continue;
            };
            if access(&principal, &scope) == Access::None {
                continue;
            }
            if filter.owner.is_some() && scope.owner != filter.owner {
                continue;
            }
            out.push(json!({ "id": id.to_url(), "record": document_to_json(&doc) }));
        }
        Ok(out)
    })
    .await
    .map_err(|e| internal(e.to_string()))?
    .map_err(internal)?;
    Ok(HttpResponse::Ok().json(records))
}

async fn get_document(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = parse_id(&id)?;
    let bytes = state
        .hub
        .send(ReadDocument {
            document: id,
            reader: Arc::new(principal),
        })
        .await
        .map_err(|_| change_error(LocalChangeError::Unavailable))?
        .map_err(change_error)?;
    let doc = itinera_core::document::load_bytes(&bytes)
        .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    Ok(HttpResponse::Ok().json(json!({ "id": id.to_url(), "record": document_to_json(&doc) })))
}

async fn change(
    state: &AppState,
    principal: Principal,
    id: DocumentId,
    edit: Edit,
) -> Result<Json, ApiError> {
    let heads = state
        .hub
        .send(LocalChange {
            document: id,
            author: Some(Arc::new(principal)),
            edit,
            with: None,
        })
        .await
        .map_err(|_| change_error(LocalChangeError::Unavailable))?
        .map_err(change_error)?;
    Ok(
        json!({ "id": id.to_url(), "heads": heads.iter().map(ToString::to_string).collect::<Vec<_>>() }),
    )
}

/// Creates a record of `kind` from a JSON object of its fields (the rest take their defaults).
async fn create_record(
    state: web::Data<AppState>,
    request: HttpRequest,
    kind: web::Path<String>,
    body: web::Json<Json>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let kind =
        DocumentKind::parse(&kind).ok_or_else(|| bad_request(format!("unknown kind {kind:?}")))?;
    let Json::Object(fields) = body.into_inner() else {
        return Err(bad_request(
            "the body must be a JSON object of the record's fields",
        ));
    };
    let random = crate::accounts::random_id_bytes()
        .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let now = state.services.now_ms();
    let id = DocumentId::new_v7(u64::try_from(now).unwrap_or(0), random);
    let actor = state.services.actor.clone();
    let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
        if doc.get_heads().is_empty() {
            let mut template =
                itinera_core::document::new_record(kind, actor, now).map_err(|e| e.to_string())?;
            doc.merge(&mut template).map_err(|e| e.to_string())?;
        }
        apply_patch(doc, &automerge::ROOT, &fields, true)
    });
    let created = change(&state, principal, id, edit).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Applies a JSON merge patch to a document.
async fn update_document(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Json>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = parse_id(&id)?;
    let Json::Object(patch) = body.into_inner() else {
        return Err(bad_request(
            "the body must be a JSON merge patch (an object)",
        ));
    };
    let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
        if doc.get_heads().is_empty() {
            return Err("no such document".into());
        }
        apply_patch(doc, &automerge::ROOT, &patch, true)
    });
    Ok(HttpResponse::Ok().json(change(&state, principal, id, edit).await?))
}

async fn share_with(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
    share: bool,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let (id, user) = path.into_inner();
    let id = parse_id(&id)?;
    if state.services.directory.user(&user).is_none() {
        return Err(bad_request(format!("no user named {user}")));
    }
    state
        .hub
        .send(ShareDocument {
            document: id,
            by: Arc::new(principal),
            user,
            share,
        })
        .await
        .map_err(|_| change_error(LocalChangeError::Unavailable))?
        .map_err(change_error)?;
    Ok(HttpResponse::NoContent().finish())
}

async fn share(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Reply {
    share_with(state, request, path, true).await
}

async fn unshare(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Reply {
    share_with(state, request, path, false).await
}

#[derive(Deserialize)]
struct AlertFilter {
    status: Option<String>,
}

/// The alerts of the authority, newest first; office and admins.
async fn list_alerts(
    state: web::Data<AppState>,
    request: HttpRequest,
    filter: web::Query<AlertFilter>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = crate::authority::alerts_document_id();
    let read = state
        .hub
        .send(ReadDocument {
            document: id,
            reader: Arc::new(principal),
        })
        .await;
    let bytes = match read {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(LocalChangeError::NotFound)) => {
            return Ok(HttpResponse::Ok().json(Vec::<Json>::new()));
        }
        Ok(Err(err)) => return Err(change_error(err)),
        Err(_) => return Err(change_error(LocalChangeError::Unavailable)),
    };
    let doc = itinera_core::document::load_bytes(&bytes)
        .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let alerts: itinera_core::model::Alerts = autosurgeon::hydrate(&doc)
        .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?;
    let mut listed: Vec<Json> = alerts
        .alerts
        .iter()
        .filter(|(_, alert)| filter.status.as_deref().is_none_or(|status| alert.status.as_str() == status))
        .map(|(key, alert)| {
            json!({
                "key": key, "rule": alert.rule.as_str(), "severity": alert.severity.as_str(),
                "document": alert.document, "message": alert.message, "raised_at": alert.raised_at,
                "status": alert.status.as_str(), "resolved_by": alert.resolved_by, "resolved_at": alert.resolved_at,
            })
        })
        .collect();
    listed.sort_by_key(|alert| std::cmp::Reverse(alert["raised_at"].as_i64().unwrap_or(0)));
    Ok(HttpResponse::Ok().json(listed))
}

async fn set_alert_status(
    state: web::Data<AppState>,
    request: HttpRequest,
    key: web::Path<String>,
    status: itinera_core::model::AlertStatus,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let user = principal.user.clone();
    let now = state.services.now_ms();
    let key = key.into_inner();
    let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
        let mut alerts: itinera_core::model::Alerts =
            autosurgeon::hydrate(doc).map_err(|e| e.to_string())?;
        let alert = alerts.alerts.get_mut(&key).ok_or("no such alert")?;
        alert.status = status;
        if status == itinera_core::model::AlertStatus::Resolved {
            alert.resolved_by = Some(user);
            alert.resolved_at = Some(now);
        }
        autosurgeon::reconcile(doc, &alerts).map_err(|e| e.to_string())
    });
    Ok(HttpResponse::Ok().json(
        change(
            &state,
            principal,
            crate::authority::alerts_document_id(),
            edit,
        )
        .await?,
    ))
}

async fn acknowledge_alert(
    state: web::Data<AppState>,
    request: HttpRequest,
    key: web::Path<String>,
) -> Reply {
    set_alert_status(
        state,
        request,
        key,
        itinera_core::model::AlertStatus::Acknowledged,
    )
    .await
}

async fn resolve_alert(
    state: web::Data<AppState>,
    request: HttpRequest,
    key: web::Path<String>,
) -> Reply {
    set_alert_status(
        state,
        request,
        key,
        itinera_core::model::AlertStatus::Resolved,
    )
    .await
}

#[derive(Deserialize)]
struct ReportOptions {
    /// Guide cost per hour in minor units, for revenue margins.
    guide_hour_cost_minor: Option<i64>,
}

/// A head-office report over the read model (document summaries); office and admins.
async fn report(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    options: web::Query<ReportOptions>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let body = report_json(&state, &principal, name.into_inner(), &options).await?;
    Ok(HttpResponse::Ok().json(body))
}

#[derive(Deserialize)]
struct ReportCsvOptions {
    /// Which table of the report (`summary`, `by_stage`, …); the first when absent.
    table: Option<String>,
    guide_hour_cost_minor: Option<i64>,
}

/// One table of a report as CSV.
async fn report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    options: web::Query<ReportCsvOptions>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let report_options = ReportOptions {
        guide_hour_cost_minor: options.guide_hour_cost_minor,
    };
    let body = report_json(&state, &principal, name.to_string(), &report_options).await?;
    let tables = super::csv_export::report_tables(&body);
    let table = match &options.table {
        Some(table) => table.clone(),
        None => tables.first().cloned().unwrap_or_default(),
    };
    let rows = super::csv_export::report_table(&body, &table).ok_or_else(|| {
        bad_request(format!(
            "report {name} has no table {table:?}: {}",
            tables.join(", ")
        ))
    })?;
    super::csv_export::csv_response(&format!("{name}-{table}"), &rows)
}

/// A report as JSON, for office and admins.
async fn report_json(
    state: &AppState,
    principal: &Principal,
    name: String,
    options: &ReportOptions,
) -> Result<Json, ApiError> {
    if !matches!(principal.role, Role::Admin | Role::Office) {
        return Err(error(
            actix_web::http::StatusCode::FORBIDDEN,
            "reports are for office and admins",
        ));
    }
    let now = state.services.now_ms();
    if name.as_str() == "sync-health" {
        let devices = state
            .hub
            .send(crate::actors::Devices)
            .await
            .map_err(|_| change_error(LocalChangeError::Unavailable))?;
        let devices: Vec<reports::DeviceHealth> = devices
            .into_iter()
            .map(|d| reports::DeviceHealth {
                user: d.user,
                peer_id: d.peer_id,
                storage_id: d.storage_id,
                last_seen: d.last_seen,
                pending_documents: d.pending.len() as u64,
            })
            .collect();
        return serde_json::to_value(reports::sync_health(&devices, now))
            .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e));
    }
    let services = state.services.clone();
    let guide_cost = options.guide_hour_cost_minor.unwrap_or(2_500);
    web::block(move || -> Result<Json, String> {
        let summaries = crate::authority::load_summaries(&services);
        let value = match name.as_str() {
            "pipeline" => serde_json::to_value(reports::pipeline(&summaries, now)),
            "conversion" => serde_json::to_value(reports::conversion(&summaries)),
            "revenue" => serde_json::to_value(reports::revenue(&summaries, guide_cost)),
            "stock" => serde_json::to_value(reports::stock(&summaries, now)),
            "guides" => serde_json::to_value(reports::guides(&summaries)),
            "invoices" => serde_json::to_value(reports::invoices(&summaries, now)),
            "trial-balance" => serde_json::to_value(reports::trial_balance(&summaries)),
            other => return Err(format!("no report named {other:?}")),
        };
        value.map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| error(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, e))?
    .map_err(|e| error(actix_web::http::StatusCode::NOT_FOUND, e))
}

#[derive(Deserialize)]
struct Merge {
    survivor: String,
    duplicate: String,
}

/// Merges a duplicate contact into its survivor (a proposal of the authority, accepted).
async fn merge_contacts(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Merge>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = parse_id(&id)?;
    let now = state.services.now_ms();
    let Merge {
        survivor,
        duplicate,
    } = body.into_inner();
    let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
        let mut account: itinera_core::model::Account =
            autosurgeon::hydrate(doc).map_err(|e| e.to_string())?;
        itinera_core::rules::merge_contacts(&mut account, &survivor, &duplicate, now)
            .map_err(|e| e.to_string())?;
        autosurgeon::reconcile(doc, &account).map_err(|e| e.to_string())
    });
    Ok(HttpResponse::Ok().json(change(&state, principal, id, edit).await?))
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(include_str!("openapi.json"))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_openapi_document_is_json_and_lists_the_routes() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("openapi.json")).expect("valid JSON");
        assert_eq!(spec["openapi"], "3.0.3");
        let source = include_str!("api.rs");
        for line in source
            .lines()
            .filter(|line| line.trim_start().starts_with(".route(\""))
        {
            let path = line.split('"').nth(1).expect("a quoted path");
            assert!(
                spec["paths"].get(path).is_some(),
                "{path} is not in openapi.json"
            );
        }
    }
}
