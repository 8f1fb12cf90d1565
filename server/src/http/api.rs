//! `/api/v1`: JSON for head office and tools.

use std::sync::Arc;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use automerge::AutoCommit;
use itinera_core::engine::{EditError, ServerEdit};
use itinera_core::model::{Account, AlertStatus, Alerts, Manifest};
use itinera_core::policy::{DocumentScope, Grant, Principal, Role, access};
use itinera_core::reports;
use itinera_core::store::{DocumentMeta, DocumentStore, StoreError};
use itinera_core::sync::Access;
use itinera_core::{DocumentId, DocumentKind};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use utoipa::{IntoParams, ToSchema};

use super::AppState;
use super::auth::{ApiError, authenticate, authenticate_admin, client_address};
use crate::actors::{EditDocument, ReadDocument, ShareDocument};
use crate::audit::{self, AuditEntry};
use crate::json_view::{apply_patch, document_to_json};
use crate::report_cache::{ComputedReport, ReportError};
use crate::server_documents::{
    alerts_document_id, index_document_id, set_alert_status as set_alert_status_edit,
    user_alerts_document_id,
};

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
        .route("/users/{name}/enable", web::post().to(enable_user))
        .route("/users/{name}/role", web::put().to(set_role))
        .route("/users/{name}/password", web::put().to(set_password))
        .route("/users/{name}/grants", web::put().to(set_grants))
        .route("/users/{name}/tokens", web::post().to(issue_token))
        .route("/tokens/revoke", web::post().to(revoke_token))
        .route("/records", web::get().to(list_records))
        .route("/records/{kind}", web::post().to(create_record))
        .route("/documents/{id}", web::get().to(get_document))
        .route("/documents/{id}", web::patch().to(update_document))
        .route("/departures/{id}/manifest", web::get().to(get_manifest))
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
        .route("/audit", web::get().to(super::admin::audit_trail))
        .route("/admin/backup", web::get().to(super::admin::backup))
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
    Err(error(StatusCode::NOT_FOUND, "no such API route"))
}

type Reply = Result<HttpResponse, ApiError>;

fn error(status: StatusCode, message: impl std::fmt::Display) -> ApiError {
    ApiError::new(status, message)
}

fn bad_request(message: impl std::fmt::Display) -> ApiError {
    ApiError::bad_request(message)
}

fn internal(message: impl std::fmt::Display) -> ApiError {
    error(StatusCode::INTERNAL_SERVER_ERROR, message)
}

/// The hub did not answer: the server is stopping.
fn unavailable<E>(_: E) -> ApiError {
    ApiError::from(EditError::Unavailable)
}

fn parse_id(text: &str) -> Result<DocumentId, ApiError> {
    DocumentId::parse(text).map_err(bad_request)
}

/// A password login.
#[derive(Deserialize, ToSchema)]
pub(super) struct Login {
    user: String,
    password: String,
}

#[utoipa::path(post, path = "/api/v1/login", tag = "users", request_body = Login,
    responses((status = 200, description = "A token valid for 12 hours: `{\"token\", \"expires_at\"}`"),
              (status = 401, description = "Wrong user name or password"),
              (status = 429, description = "Too many attempts for the user name or from the address; `Retry-After` says when to try again")))]
async fn login(state: web::Data<AppState>, request: HttpRequest, body: web::Json<Login>) -> Reply {
    let now = state.services.now_ms();
    let address = client_address(&request, state.services.config.behind_proxy);
    let Login { user, password } = body.into_inner();
    let token = state
        .services
        .logins
        .sign_in(user, password, address, LOGIN_TTL_MS, now)
        .await?;
    Ok(HttpResponse::Ok().json(json!({ "token": token, "expires_at": now + LOGIN_TTL_MS })))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "The caller: user, role, grants and the URL of their index document"),
              (status = 401, description = "No valid token")))]
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

#[utoipa::path(get, path = "/api/v1/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, description = "Every user: name, role, grants, disabled, created_at"),
              (status = 403, description = "Admins only")))]
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

/// A user to add.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewUser {
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

#[utoipa::path(post, path = "/api/v1/users", tag = "users", security(("bearer" = [])), request_body = NewUser,
    responses((status = 201, description = "The user added"), (status = 400, description = "A bad name, role or grant, or the user exists"),
              (status = 403, description = "Admins only")))]
async fn add_user(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<NewUser>,
) -> Reply {
    let admin = authenticate_admin(&state, &request)?;
    let role = Role::parse(&body.role)
        .ok_or_else(|| bad_request(format!("unknown role {:?}", body.role)))?;
    let grants = parse_grants(&body.grants)?;
    let now = state.services.now_ms();
    let services = state.services.clone();
    let body = body.into_inner();
    // Off the async workers: the change waits until the store writer made it durable.
    let user = web::block(move || {
        services.directory.audited(&admin.user, now).add_user(
            &body.name,
            role,
            &grants,
            body.password.as_deref(),
        )
    })
    .await
    .map_err(internal)?
    .map_err(bad_request)?;
    state.services.user_changed(&user.name);
    Ok(HttpResponse::Created().json(user_json(&user)))
}

/// An admin's change to one user, made off the async workers (it waits until the store writer
/// made it durable): the indexer rebuilds that user's index, the user's open sessions check
/// their token again, and the answer is the user as it now is.
async fn user_changed(
    state: &AppState,
    request: &HttpRequest,
    change: impl FnOnce(
        &crate::accounts::Directory,
        &str,
    ) -> Result<crate::accounts::User, crate::accounts::AccountError>
    + Send
    + 'static,
) -> Reply {
    let admin = authenticate_admin(state, request)?;
    let services = state.services.clone();
    let user = web::block(move || change(&services.directory, &admin.user))
        .await
        .map_err(internal)?
        .map_err(bad_request)?;
    state.services.user_changed(&user.name);
    Ok(HttpResponse::Ok().json(user_json(&user)))
}

#[utoipa::path(post, path = "/api/v1/users/{name}/disable", tag = "users", security(("bearer" = [])),
    params(("name" = String, Path, description = "The user")),
    responses((status = 200, description = "The user, disabled: their tokens stop working"), (status = 403, description = "Admins only")))]
async fn disable_user(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Reply {
    let (now, name) = (state.services.now_ms(), name.into_inner());
    user_changed(&state, &request, move |directory, admin| {
        directory.audited(admin, now).disable_user(&name)
    })
    .await
}

#[utoipa::path(post, path = "/api/v1/users/{name}/enable", tag = "users", security(("bearer" = [])),
    params(("name" = String, Path, description = "The user")),
    responses((status = 200, description = "The user, enabled again"), (status = 403, description = "Admins only")))]
async fn enable_user(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
) -> Reply {
    let (now, name) = (state.services.now_ms(), name.into_inner());
    user_changed(&state, &request, move |directory, admin| {
        directory.audited(admin, now).enable_user(&name)
    })
    .await
}

/// A user's new role.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewRole {
    /// admin, office, sales or guide.
    role: String,
}

#[utoipa::path(put, path = "/api/v1/users/{name}/role", tag = "users", security(("bearer" = [])), request_body = NewRole,
    params(("name" = String, Path, description = "The user")),
    responses((status = 200, description = "The user with the new role"), (status = 400, description = "Unknown role"),
              (status = 403, description = "Admins only")))]
async fn set_role(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<NewRole>,
) -> Reply {
    let role = Role::parse(&body.role)
        .ok_or_else(|| bad_request(format!("unknown role {:?}", body.role)))?;
    let (now, name) = (state.services.now_ms(), name.into_inner());
    user_changed(&state, &request, move |directory, admin| {
        directory.audited(admin, now).set_role(&name, role)
    })
    .await
}

/// A user's new password for the REST login.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewPassword {
    password: String,
}

#[utoipa::path(put, path = "/api/v1/users/{name}/password", tag = "users", security(("bearer" = [])), request_body = NewPassword,
    params(("name" = String, Path, description = "The user")),
    responses((status = 200, description = "The user"), (status = 403, description = "Admins only")))]
async fn set_password(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<NewPassword>,
) -> Reply {
    if body.password.is_empty() {
        return Err(bad_request("the password is empty"));
    }
    let (now, name) = (state.services.now_ms(), name.into_inner());
    let password = body.into_inner().password;
    user_changed(&state, &request, move |directory, admin| {
        directory.audited(admin, now).set_password(&name, &password)
    })
    .await
}

/// A user's grants: `territory:NAME`, `departure:DOC_ID`, `stock:DOC_ID`.
#[derive(Deserialize, ToSchema)]
pub(super) struct Grants {
    grants: Vec<String>,
}

#[utoipa::path(put, path = "/api/v1/users/{name}/grants", tag = "users", security(("bearer" = [])), request_body = Grants,
    params(("name" = String, Path, description = "The user")),
    responses((status = 200, description = "The user with the new grants"), (status = 403, description = "Admins only")))]
async fn set_grants(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<Grants>,
) -> Reply {
    let grants = parse_grants(&body.grants)?;
    let (now, name) = (state.services.now_ms(), name.into_inner());
    user_changed(&state, &request, move |directory, admin| {
        directory.audited(admin, now).set_grants(&name, &grants)
    })
    .await
}

/// A token to issue; without a lifetime it never expires.
#[derive(Deserialize, ToSchema)]
pub(super) struct NewToken {
    ttl_seconds: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/users/{name}/tokens", tag = "tokens", security(("bearer" = [])), request_body = NewToken,
    params(("name" = String, Path, description = "The user")),
    responses((status = 201, description = "`{\"token\"}`: shown once, stored only as a hash"), (status = 403, description = "Admins only")))]
async fn issue_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    body: web::Json<NewToken>,
) -> Reply {
    let admin = authenticate_admin(&state, &request)?;
    let ttl = body.ttl_seconds.map(|s| s.saturating_mul(1000));
    let (services, name) = (state.services.clone(), name.into_inner());
    let now = services.now_ms();
    let token = web::block(move || {
        services
            .directory
            .audited(&admin.user, now)
            .issue_token(&name, ttl)
    })
    .await
    .map_err(internal)?
    .map_err(bad_request)?;
    Ok(HttpResponse::Created().json(json!({ "token": token })))
}

/// What to revoke: one token, or every token of a user.
#[derive(Deserialize, ToSchema)]
pub(super) struct Revoke {
    token: Option<String>,
    user: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tokens/revoke", tag = "tokens", security(("bearer" = [])), request_body = Revoke,
    responses((status = 200, description = "`{\"revoked\": N}`"), (status = 403, description = "Admins only")))]
async fn revoke_token(
    state: web::Data<AppState>,
    request: HttpRequest,
    body: web::Json<Revoke>,
) -> Reply {
    let admin = authenticate_admin(&state, &request)?;
    let Revoke { token, user } = body.into_inner();
    let owner = match (&token, &user) {
        (Some(token), _) => state.services.directory.token_owner(token),
        (None, Some(user)) => Some(user.clone()),
        (None, None) => return Err(bad_request("give a token or a user")),
    };
    let services = state.services.clone();
    let now = services.now_ms();
    let revoked = web::block(move || {
        let directory = services.directory.audited(&admin.user, now);
        match (token, user) {
            (Some(token), _) => directory.revoke_token(&token).map(|()| 1),
            (None, Some(user)) => directory.revoke_user_tokens(&user),
            (None, None) => Ok(0),
        }
    })
    .await
    .map_err(internal)?
    .map_err(bad_request)?;
    // The sessions opened with a revoked token close now.
    if let Some(owner) = owner {
        state.services.user_changed(&owner);
    }
    Ok(HttpResponse::Ok().json(json!({ "revoked": revoked })))
}

/// Which records to list.
#[derive(Deserialize, IntoParams)]
pub(super) struct RecordFilter {
    kind: Option<String>,
    owner: Option<String>,
}

/// Lists the documents of a kind the caller may read, as JSON. Reads the store, which holds
/// every acknowledged change.
#[utoipa::path(get, path = "/api/v1/records", tag = "records", security(("bearer" = [])), params(RecordFilter),
    responses((status = 200, description = "The records the caller may read, as `{\"id\", \"record\"}`")))]
async fn list_records(
    state: web::Data<AppState>,
    request: HttpRequest,
    filter: web::Query<RecordFilter>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let store = state.services.store.clone();
    let filter = filter.into_inner();
    let records = web::block(move || -> Result<Vec<Json>, StoreError> {
        let mut out = Vec::new();
        for (id, meta) in store.documents()? {
            if filter.kind.is_some() && meta.kind != filter.kind {
                continue;
            }
            if let Some(record) = listed(&*store, &principal, &filter, id, &meta)? {
                out.push(record);
            }
        }
        Ok(out)
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok(HttpResponse::Ok().json(records))
}

/// Document `id` as JSON, if `principal` may read it and it passes `filter`. Access is decided
/// from the scope in the metadata before the document is loaded.
fn listed(
    store: &dyn DocumentStore,
    principal: &Principal,
    filter: &RecordFilter,
    id: DocumentId,
    meta: &DocumentMeta,
) -> Result<Option<Json>, StoreError> {
    let shown = |scope: &DocumentScope| {
        access(principal, scope) != Access::None
            && (filter.owner.is_none() || scope.owner == filter.owner)
    };
    if meta.scope.as_ref().is_some_and(|scope| !shown(scope)) {
        return Ok(None);
    }
    let Some(bytes) = store.load(id)? else {
        return Ok(None);
    };
    let Ok(doc) = itinera_core::document::load_bytes(&bytes) else {
        return Ok(None);
    };
    if meta.scope.is_none() {
        // Stored before scopes were kept and not described yet (the start-up scan writes
        // them): decided from the content, as the scan will.
        let scope = legacy_scope(store, &id, &doc, meta.creator.as_deref());
        if !scope.is_some_and(|scope| shown(&scope)) {
            return Ok(None);
        }
    }
    Ok(Some(
        json!({ "id": id.to_url(), "record": document_to_json(&doc) }),
    ))
}

/// The scope of a document stored before the metadata kept one, with its shares from the
/// sharing table such stores had.
fn legacy_scope(
    store: &dyn DocumentStore,
    id: &DocumentId,
    doc: &AutoCommit,
    creator: Option<&str>,
) -> Option<DocumentScope> {
    let mut scope = DocumentScope::describe(id, doc, creator).ok()?;
    if let Ok(Some(shared)) = store.value(&format!("share:{id}")) {
        scope.shared_with = serde_json::from_slice(&shared).unwrap_or_default();
    }
    Some(scope)
}

#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "The document id (bs58check, with or without `automerge:`)")),
    responses((status = 200, description = "`{\"id\", \"record\"}`"), (status = 404, description = "No such document, or not readable by the caller")))]
async fn get_document(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = parse_id(&id)?;
    let doc = read(&state, id, principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id.to_url(), "record": document_to_json(&doc) })))
}

#[utoipa::path(get, path = "/api/v1/departures/{id}/manifest", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "The departure's document id")),
    responses((status = 200, description = "`{\"id\", \"record\"}` of the departure's manifest document"),
              (status = 404, description = "No manifest yet, or not readable by the caller (reps: their passengers are on their bookings)")))]
async fn get_manifest(
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let id = Manifest::document_id(&parse_id(&id)?);
    let doc = read(&state, id, principal).await?;
    Ok(HttpResponse::Ok().json(json!({ "id": id.to_url(), "record": document_to_json(&doc) })))
}

/// Document `id` as the store holds it, if `reader` may see it.
async fn read(state: &AppState, id: DocumentId, reader: Principal) -> Result<AutoCommit, ApiError> {
    let bytes = state
        .hub
        .send(ReadDocument {
            document: id,
            reader: Arc::new(reader),
        })
        .await
        .map_err(unavailable)??;
    itinera_core::document::load_bytes(&bytes).map_err(internal)
}

async fn change(
    state: &AppState,
    principal: Principal,
    id: DocumentId,
    edit: ServerEdit,
) -> Result<Json, ApiError> {
    let heads = state
        .hub
        .send(EditDocument::by(Arc::new(principal), id, edit))
        .await
        .map_err(unavailable)??;
    Ok(
        json!({ "id": id.to_url(), "heads": heads.iter().map(ToString::to_string).collect::<Vec<_>>() }),
    )
}

/// Creates a record of `kind` from a JSON object of its fields (the rest take their defaults).
#[utoipa::path(post, path = "/api/v1/records/{kind}", tag = "records", security(("bearer" = [])), request_body = Object,
    params(("kind" = String, Path, description = "The record kind: account, booking, departure, …")),
    responses((status = 201, description = "`{\"id\", \"heads\"}` once durable"), (status = 403, description = "Refused by the access policy"),
              (status = 503, description = "The store cannot commit; try later")))]
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
    let random = crate::accounts::random_id_bytes().map_err(internal)?;
    let now = state.services.now_ms();
    let id = DocumentId::new_v7(u64::try_from(now).unwrap_or(0), random);
    let edit = ServerEdit::new(move |doc| Ok(apply_patch(doc, &automerge::ROOT, &fields, true)?))
        .or_create(kind);
    let created = change(&state, principal, id, edit).await?;
    Ok(HttpResponse::Created().json(created))
}

/// Applies a JSON merge patch to a document.
#[utoipa::path(patch, path = "/api/v1/documents/{id}", tag = "records", security(("bearer" = [])), request_body = Object,
    params(("id" = String, Path, description = "The document id")),
    responses((status = 200, description = "`{\"id\", \"heads\"}` once durable"), (status = 403, description = "Refused by the access policy"),
              (status = 503, description = "The store cannot commit; try later")))]
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
    let edit = ServerEdit::new(move |doc| Ok(apply_patch(doc, &automerge::ROOT, &patch, true)?));
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
    // Sharing with a name nobody has changes nothing but answers exactly as sharing with a
    // user would, so the answer tells nobody which user names exist.
    let share = share && state.services.directory.user(&user).is_some();
    let entry = AuditEntry::new(
        state.services.now_ms(),
        &principal.user,
        if share {
            "document.share"
        } else {
            "document.unshare"
        },
        &id.to_string(),
        format!("with {user}"),
    );
    state
        .hub
        .send(ShareDocument {
            document: id,
            by: Arc::new(principal),
            user,
            share,
        })
        .await
        .map_err(unavailable)??;
    audit::record_or_log(&state.services.writer, entry).await;
    Ok(HttpResponse::NoContent().finish())
}

#[utoipa::path(put, path = "/api/v1/documents/{id}/shares/{user}", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "The document id"), ("user" = String, Path, description = "The user to share with")),
    responses((status = 204, description = "Shared"), (status = 403, description = "Refused")))]
async fn share(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Reply {
    share_with(state, request, path, true).await
}

#[utoipa::path(delete, path = "/api/v1/documents/{id}/shares/{user}", tag = "records", security(("bearer" = [])),
    params(("id" = String, Path, description = "The document id"), ("user" = String, Path, description = "The user")),
    responses((status = 204, description = "No longer shared"), (status = 403, description = "Refused")))]
async fn unshare(
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<(String, String)>,
) -> Reply {
    share_with(state, request, path, false).await
}

/// Which alerts to list.
#[derive(Deserialize, IntoParams)]
pub(super) struct AlertFilter {
    status: Option<String>,
}

/// The alerts of the authority, newest first; office and admins.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])), params(AlertFilter),
    responses((status = 200, description = "The authority's alerts, newest first")))]
async fn list_alerts(
    state: web::Data<AppState>,
    request: HttpRequest,
    filter: web::Query<AlertFilter>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let doc = match read(&state, alerts_document_id(), principal).await {
        Ok(doc) => doc,
        Err(err) if err.status == StatusCode::NOT_FOUND => {
            return Ok(HttpResponse::Ok().json(Vec::<Json>::new()));
        }
        Err(err) => return Err(err),
    };
    let alerts: Alerts = autosurgeon::hydrate(&doc).map_err(internal)?;
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
    status: AlertStatus,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    if !matches!(principal.role, Role::Admin | Role::Office) {
        return Err(ApiError::from(EditError::NotFound));
    }
    let user = principal.user.clone();
    let now = state.services.now_ms();
    let key = key.into_inner();
    let entry = AuditEntry::new(
        now,
        &user,
        if status == AlertStatus::Resolved {
            "alert.resolve"
        } else {
            "alert.acknowledge"
        },
        &key,
        "",
    );
    let edit = set_alert_status_edit(key.clone(), status, user.clone(), now);
    let heads = state
        .hub
        .send(EditDocument::by_server(alerts_document_id(), edit))
        .await
        .map_err(unavailable)??;
    // The users the alert is about hold a copy on their phones: it follows at once.
    let company = read(&state, alerts_document_id(), principal).await?;
    let owners = autosurgeon::hydrate::<_, Alerts>(&company)
        .ok()
        .and_then(|alerts| alerts.alerts.get(&key).map(|alert| alert.owners.clone()))
        .unwrap_or_default();
    for owner in owners.iter() {
        let edit = set_alert_status_edit(key.clone(), status, user.clone(), now);
        let copy = user_alerts_document_id(owner);
        match state.hub.send(EditDocument::by_server(copy, edit)).await {
            Ok(Ok(_)) => {}
            // The authority brings a copy in line the next time it writes that user's alerts.
            Ok(Err(err)) => tracing::warn!(%owner, "alert copy not updated: {err}"),
            Err(err) => tracing::warn!(%owner, "alert copy not updated: {err}"),
        }
    }
    audit::record_or_log(&state.services.writer, entry).await;
    Ok(HttpResponse::Ok().json(json!({
        "id": alerts_document_id().to_url(),
        "heads": heads.iter().map(ToString::to_string).collect::<Vec<_>>(),
    })))
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/acknowledge", tag = "alerts", security(("bearer" = [])),
    params(("key" = String, Path, description = "The alert key")),
    responses((status = 200, description = "`{\"id\", \"heads\"}` of the alerts document")))]
async fn acknowledge_alert(
    state: web::Data<AppState>,
    request: HttpRequest,
    key: web::Path<String>,
) -> Reply {
    set_alert_status(state, request, key, AlertStatus::Acknowledged).await
}

#[utoipa::path(post, path = "/api/v1/alerts/{key}/resolve", tag = "alerts", security(("bearer" = [])),
    params(("key" = String, Path, description = "The alert key")),
    responses((status = 200, description = "`{\"id\", \"heads\"}` of the alerts document")))]
async fn resolve_alert(
    state: web::Data<AppState>,
    request: HttpRequest,
    key: web::Path<String>,
) -> Reply {
    set_alert_status(state, request, key, AlertStatus::Resolved).await
}

/// Report options.
#[derive(Deserialize, IntoParams)]
pub(super) struct ReportOptions {
    /// Guide cost per hour in minor units, for revenue margins.
    guide_hour_cost_minor: Option<i64>,
    /// Invoices: receivables per page, 1 to 1000 (100 when absent); the report's totals and
    /// ageing always cover every receivable, and `receivables_total` says how many there are.
    limit: Option<usize>,
    /// Invoices: the `next_cursor` of the previous page, to read the receivables after it (in
    /// the report's order: most overdue first); the first page when absent.
    after: Option<String>,
}

/// A head-office report over the read model (document summaries); office and admins.
#[utoipa::path(get, path = "/api/v1/reports/{name}", tag = "reports", security(("bearer" = [])), params(("name" = String, Path,
        description = "pipeline, conversion, revenue, stock, guides, invoices, trial-balance, customers or sync-health"), ReportOptions),
    responses((status = 200, description = "The report as JSON"), (status = 400, description = "A bad page of receivables (`limit`, `after`)"),
              (status = 403, description = "Office and admins only"), (status = 404, description = "No such report")))]
async fn report(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    options: web::Query<ReportOptions>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    let options = crate::report_cache::ReportOptions {
        guide_cost: options
            .guide_hour_cost_minor
            .unwrap_or(GUIDE_HOUR_COST_MINOR),
        receivables: Some(crate::report_cache::ReceivablesRequest {
            after: options.after.clone(),
            limit: options.limit,
        }),
    };
    let report = report_json(&state, &principal, name.into_inner(), options).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(report.body.clone()))
}

/// Which table of a report, as CSV.
#[derive(Deserialize, IntoParams)]
pub(super) struct ReportCsvOptions {
    /// Which table of the report (`summary`, `by_stage`, …); the first when absent.
    table: Option<String>,
    /// Guide cost per hour in minor units, for revenue margins.
    guide_hour_cost_minor: Option<i64>,
}

/// One table of a head-office report as CSV; office and admins.
#[utoipa::path(get, path = "/api/v1/reports/{name}/csv", tag = "reports", security(("bearer" = []), ("session" = [])),
    params(("name" = String, Path, description = "As for the report as JSON"), ReportCsvOptions),
    responses((status = 200, description = "`text/csv`, a header row first"), (status = 400, description = "No such table"),
              (status = 403, description = "Office and admins only"), (status = 404, description = "No such report")))]
async fn report_csv(
    state: web::Data<AppState>,
    request: HttpRequest,
    name: web::Path<String>,
    options: web::Query<ReportCsvOptions>,
) -> Reply {
    let principal = authenticate(&state, &request)?;
    // Every row: a CSV export is the whole table.
    let report_options = crate::report_cache::ReportOptions {
        guide_cost: options
            .guide_hour_cost_minor
            .unwrap_or(GUIDE_HOUR_COST_MINOR),
        receivables: None,
    };
    let report = report_json(&state, &principal, name.to_string(), report_options).await?;
    let body = &report.value;
    let tables = super::csv_export::report_tables(body);
    let table = match &options.table {
        Some(table) => table.clone(),
        None => tables.first().cloned().unwrap_or_default(),
    };
    let rows = super::csv_export::report_table(body, &table).ok_or_else(|| {
        bad_request(format!(
            "report {name} has no table {table:?}: {}",
            tables.join(", ")
        ))
    })?;
    super::csv_export::csv_response(&format!("{name}-{table}"), &rows)
}

/// A guide's hour when a request names no cost, in minor units.
const GUIDE_HOUR_COST_MINOR: i64 = 2_500;

/// A report as JSON, for office and admins (kept while its input stays the same: see
/// [`crate::report_cache`]).
async fn report_json(
    state: &AppState,
    principal: &Principal,
    name: String,
    options: crate::report_cache::ReportOptions,
) -> Result<Arc<ComputedReport>, ApiError> {
    if !matches!(principal.role, Role::Admin | Role::Office) {
        return Err(error(
            StatusCode::FORBIDDEN,
            "reports are for office and admins",
        ));
    }
    let now = state.services.now_ms();
    if name.as_str() == "sync-health" {
        let devices = state
            .hub
            .send(crate::actors::Devices)
            .await
            .map_err(unavailable)?;
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
        // Live, never kept: it says which devices are connected now.
        let value = serde_json::to_value(reports::sync_health(&devices, now)).map_err(internal)?;
        let body = serde_json::to_vec(&value).map_err(internal)?.into();
        return Ok(Arc::new(ComputedReport { value, body }));
    }
    let services = state.services.clone();
    web::block(move || -> Result<Arc<ComputedReport>, ApiError> {
        let kinds = reports::kinds_read(&name)
            .ok_or_else(|| error(StatusCode::NOT_FOUND, format!("no report named {name:?}")))?;
        let model = &services.read_model;
        services
            .report_cache
            .get_or_compute(&name, &options.key(), model.version(kinds), now, || {
                crate::report_cache::compute(model, &name, now, &options)
            })
            .map_err(|err| match err {
                ReportError::Unknown(_) => error(StatusCode::NOT_FOUND, err.to_string()),
                ReportError::Page(_) => bad_request(err.to_string()),
                ReportError::Json(_) => internal(err),
            })
    })
    .await
    .map_err(internal)?
}

/// A duplicate contact to merge into its survivor.
#[derive(Deserialize, ToSchema)]
pub(super) struct Merge {
    survivor: String,
    duplicate: String,
}

/// Merges a duplicate contact into its survivor (a proposal of the authority, accepted).
#[utoipa::path(post, path = "/api/v1/documents/{id}/contacts/merge", tag = "records", security(("bearer" = [])), request_body = Merge,
    params(("id" = String, Path, description = "The account document")),
    responses((status = 200, description = "`{\"id\", \"heads\"}` once durable")))]
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
    let entry = AuditEntry::new(
        now,
        &principal.user,
        "contacts.merge",
        &id.to_string(),
        format!("{duplicate} into {survivor}"),
    );
    let edit = ServerEdit::record(move |account: &mut Account| {
        itinera_core::rules::merge_contacts(account, &survivor, &duplicate, now)
            .map_err(|err| EditError::Invalid(err.to_string()))?;
        Ok(true)
    });
    let changed = change(&state, principal, id, edit).await?;
    audit::record_or_log(&state.services.writer, entry).await;
    Ok(HttpResponse::Ok().json(changed))
}

#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "server",
    responses((status = 200, description = "This document")))]
async fn openapi() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(super::openapi::document())
}
