//! `POST /api/v1/imports/{accounts|leads}`: a dry run answers at once with what an import would
//! do; an import runs in the background as a job whose progress `GET /api/v1/imports/jobs/{id}`
//! reports (the page's and the CLI's progress bars).
//!
//! Every record is the importing user's change, checked by the access policy and the schema
//! like any other, and written with its `import:{kind}:{external ref}` entry (the document's id
//! and the patch's fingerprint) in the same store transaction: a crash loses both or neither,
//! and a record whose fingerprint is unchanged is not written again. New records are made by
//! [`Creation::make`], which does what a document's engine does when a user creates a document,
//! many of them on as many threads as there are cores, and written together in one transaction
//! through the store writer; once durable, each one's committed event goes on the bus like an
//! engine's, so the lists, the report summaries, the indexes and the authority take it in. A
//! document actor per new record cost an import of 10,000 rows far more than its 10 s. A record
//! imported before and changed since is patched through its doc actor like any REST write. One
//! import runs at a time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;
use itinera_core::DocumentId;
use itinera_core::engine::{Committed, Creation, EditError, ServerEdit};
use itinera_core::policy::{Principal, Role};
use itinera_core::store::WriteBatch;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::AppState;
use super::auth::{ApiError, authenticate};
use super::csv_import::{BadRow, ImportItem, ImportKind, ImportPlan};
use crate::actors::EditDocument;
use crate::json_view::apply_patch;

/// Changed records patched at once: enough to fill the store writer's group commits.
const IN_FLIGHT: usize = 64;
/// New records made and written per store transaction.
const CREATE_BATCH: usize = 500;
/// Finished jobs kept for their progress to be read.
const KEPT_JOBS: usize = 32;
/// The largest upload an import takes: a spreadsheet export of 100,000 rows, where every other
/// REST body is held to `max_body_bytes`.
pub const MAX_IMPORT_BYTES: usize = 32 * 1024 * 1024;

/// What the store keeps per imported record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Imported {
    document: String,
    fingerprint: String,
}

fn imported_key(kind: ImportKind, external_ref: &str) -> String {
    format!("import:{}:{external_ref}", kind.name())
}

/// How an import is going.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportProgress {
    pub job: u64,
    pub kind: Option<ImportKind>,
    pub user: String,
    /// Records to write (bad rows are not among them).
    pub total: usize,
    pub done: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Bad rows, and records the server refused.
    pub failed: Vec<BadRow>,
    pub finished: bool,
    pub elapsed_ms: u64,
}

/// The import jobs of this process.
#[derive(Debug, Default)]
pub struct ImportJobs {
    next: AtomicU64,
    jobs: Mutex<BTreeMap<u64, Arc<Mutex<ImportProgress>>>>,
    running: Arc<tokio::sync::Mutex<()>>,
}

impl ImportJobs {
    fn start(&self, progress: ImportProgress) -> (u64, Arc<Mutex<ImportProgress>>) {
        let job = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let shared = Arc::new(Mutex::new(ImportProgress { job, ..progress }));
        let mut jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        jobs.insert(job, shared.clone());
        while jobs.len() > KEPT_JOBS {
            jobs.pop_first();
        }
        (job, shared)
    }

    fn get(&self, job: u64) -> Option<ImportProgress> {
        let jobs = self.jobs.lock().unwrap_or_else(PoisonError::into_inner);
        let progress = jobs.get(&job)?;
        let progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
        Some(progress.clone())
    }
}

/// An import's upload: the file and how its columns map to fields.
#[derive(Deserialize, ToSchema)]
pub struct ImportRequest {
    /// The CSV file's text.
    csv: String,
    /// Field → column; guessed from the headers when absent.
    mapping: Option<BTreeMap<String, String>>,
    /// Only check the file and answer what an import would do.
    #[serde(default)]
    dry_run: bool,
}

/// What a record of the plan would do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Created,
    Updated,
    Unchanged,
}

fn previous(
    state: &AppState,
    kind: ImportKind,
    item: &ImportItem,
) -> Result<Option<Imported>, ApiError> {
    let bytes = state
        .services
        .store
        .value(&imported_key(kind, &item.external_ref))
        .map_err(|err| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, err))?;
    Ok(bytes.and_then(|bytes| serde_json::from_slice(&bytes).ok()))
}

fn planned_outcome(previous: Option<&Imported>, item: &ImportItem) -> Outcome {
    match previous {
        None => Outcome::Created,
        Some(imported) if imported.fingerprint == item.fingerprint() => Outcome::Unchanged,
        Some(_) => Outcome::Updated,
    }
}

/// The request's body, refused past [`MAX_IMPORT_BYTES`]: the one route whose body may be larger
/// than `max_body_bytes`.
async fn read_body(mut payload: web::Payload) -> Result<Bytes, ApiError> {
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            let status = match &error {
                // The body guard ends a body that stalls or takes too long.
                PayloadError::Io(io) if io.kind() == std::io::ErrorKind::TimedOut => {
                    StatusCode::REQUEST_TIMEOUT
                }
                _ => StatusCode::BAD_REQUEST,
            };
            ApiError::new(status, error)
        })?;
        if body.len() + chunk.len() > MAX_IMPORT_BYTES {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("an import takes at most {MAX_IMPORT_BYTES} bytes; split the file"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

/// Checks a CSV file of accounts (one row per contact) or leads; a dry run answers what an
/// import would do, row by row, else the import starts as a job.
#[utoipa::path(post, path = "/api/v1/imports/{kind}", tag = "imports", security(("bearer" = []), ("session" = [])),
    params(("kind" = String, Path, description = "accounts or leads")), request_body = ImportRequest,
    responses((status = 200, description = "Dry run: `{\"rows\", \"records\", \"create\", \"update\", \"unchanged\", \"bad_rows\", \"mapping\", …}`"),
              (status = 202, description = "Import started: `{\"job\", \"total\"}`"),
              (status = 400, description = "Not CSV, or a required column is not mapped"),
              (status = 403, description = "Guides do not import"),
              (status = 409, description = "Another import is running"),
              (status = 413, description = "Larger than 32 MiB")))]
pub async fn import(
    state: web::Data<AppState>,
    request: HttpRequest,
    kind: web::Path<String>,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let kind = ImportKind::parse(&kind).ok_or_else(|| {
        ApiError::bad_request(format!("cannot import {kind:?}: accounts or leads"))
    })?;
    if principal.role == Role::Guide {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "guides do not import records",
        ));
    }
    let body = read_body(payload).await?;
    let ImportRequest {
        csv,
        mapping,
        dry_run,
    } = serde_json::from_slice(&body).map_err(ApiError::bad_request)?;
    let directory = state.services.directory.clone();
    let importer = principal.clone();
    let plan = web::block(move || {
        // Office and admins give records to any user; anyone else only to themselves, and an
        // owner who is not theirs to name reads the same whether the user exists or not.
        let may_own = |name: &str| match importer.role {
            Role::Admin | Role::Office => directory.user(name).is_some(),
            _ => name == importer.user,
        };
        ImportPlan::build(kind, &csv, mapping, &may_own)
    })
    .await
    .map_err(|err| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, err))?
    .map_err(ApiError::bad_request)?;
    if dry_run {
        return dry_run_answer(&state, &plan);
    }
    let Ok(guard) = state.imports.running.clone().try_lock_owned() else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "another import is running; try again when it ends",
        ));
    };
    let (job, progress) = state.imports.start(ImportProgress {
        kind: Some(kind),
        user: principal.user.clone(),
        total: plan.items.len(),
        failed: plan.bad_rows.clone(),
        ..ImportProgress::default()
    });
    let total = plan.items.len();
    let runner = state.clone();
    actix_web::rt::spawn(async move {
        let _running = guard;
        run(runner, Arc::new(principal), plan, progress).await;
    });
    Ok(HttpResponse::Accepted().json(json!({ "job": job, "total": total })))
}

fn dry_run_answer(state: &AppState, plan: &ImportPlan) -> Result<HttpResponse, ApiError> {
    let mut counts = BTreeMap::from([("create", 0), ("update", 0), ("unchanged", 0)]);
    for item in &plan.items {
        let key = match planned_outcome(previous(state, plan.kind, item)?.as_ref(), item) {
            Outcome::Created => "create",
            Outcome::Updated => "update",
            Outcome::Unchanged => "unchanged",
        };
        *counts.entry(key).or_default() += 1;
    }
    Ok(HttpResponse::Ok().json(json!({
        "kind": plan.kind,
        "headers": plan.headers,
        "mapping": plan.mapping,
        "fields": plan.kind.fields().iter().map(|(field, _)| *field).collect::<Vec<_>>(),
        "rows": plan.rows,
        "records": plan.items.len(),
        "create": counts["create"],
        "update": counts["update"],
        "unchanged": counts["unchanged"],
        "bad_rows": plan.bad_rows,
    })))
}

async fn run(
    state: web::Data<AppState>,
    principal: Arc<Principal>,
    plan: ImportPlan,
    progress: Arc<Mutex<ImportProgress>>,
) {
    let started = Instant::now();
    let kind = plan.kind;
    let record = |item: &ImportItem, outcome: Result<Outcome, String>| {
        let mut progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
        progress.done += 1;
        match outcome {
            Ok(Outcome::Created) => progress.created += 1,
            Ok(Outcome::Updated) => progress.updated += 1,
            Ok(Outcome::Unchanged) => progress.unchanged += 1,
            Err(reason) => progress.failed.push(BadRow {
                line: item.lines.first().copied().unwrap_or_default(),
                reason,
            }),
        }
        progress.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    };
    let mut new = Vec::new();
    let mut known = Vec::new();
    for item in plan.items {
        match previous(&state, kind, &item) {
            Ok(None) => new.push(item),
            Ok(Some(_)) => known.push(item),
            Err(err) => record(&item, Err(err.message)),
        }
    }
    for chunk in new.chunks(CREATE_BATCH) {
        for (item, outcome) in create_batch(&state, principal.clone(), kind, chunk.to_vec()).await {
            record(&item, outcome);
        }
    }
    let mut writes = futures_util::stream::iter(known)
        .map(|item| {
            let (state, principal) = (state.clone(), principal.clone());
            async move {
                let outcome = write_item(&state, principal, kind, &item).await;
                (item, outcome)
            }
        })
        .buffer_unordered(IN_FLIGHT);
    while let Some((item, outcome)) = writes.next().await {
        record(&item, outcome);
    }
    let mut progress = progress.lock().unwrap_or_else(PoisonError::into_inner);
    progress.failed.sort_by_key(|bad| bad.line);
    progress.finished = true;
    tracing::info!(
        job = progress.job,
        created = progress.created,
        updated = progress.updated,
        unchanged = progress.unchanged,
        failed = progress.failed.len(),
        elapsed_ms = progress.elapsed_ms,
        "import finished"
    );
}

type Outcomes = Vec<(ImportItem, Result<Outcome, String>)>;

/// New records, made and checked, waiting for their batch to be durable: the writes, the
/// committed events to publish once it is, and every item's outcome so far.
#[derive(Default)]
struct Made {
    writes: WriteBatch,
    committed: Vec<Committed>,
    outcomes: Outcomes,
}

/// Makes `items` as new documents, writes them in one transaction with their import entries, and
/// once that is durable publishes their committed events.
async fn create_batch(
    state: &web::Data<AppState>,
    principal: Arc<Principal>,
    kind: ImportKind,
    items: Vec<ImportItem>,
) -> Outcomes {
    // The records are made on as many blocking threads as there are cores, then written
    // together.
    let parts = std::thread::available_parallelism().map_or(2, usize::from);
    let part_size = items.len().div_ceil(parts).max(1);
    let making = items.chunks(part_size).map(|part| {
        let (services, principal, part) =
            (state.services.clone(), principal.clone(), part.to_vec());
        let lost = part.clone();
        async move {
            web::block(move || make_records(&services, &principal, kind, part))
                .await
                .unwrap_or_else(|_| {
                    let reason = EditError::Unavailable.to_string();
                    let outcomes = lost.into_iter().map(|item| (item, Err(reason.clone())));
                    Made {
                        outcomes: outcomes.collect(),
                        ..Made::default()
                    }
                })
        }
    });
    let mut made = Made::default();
    for part in futures_util::future::join_all(making).await {
        made.writes.extend(part.writes);
        made.committed.extend(part.committed);
        made.outcomes.extend(part.outcomes);
    }
    let Made {
        writes,
        committed,
        mut outcomes,
    } = made;
    let failure = match state.services.writer.write(writes).await {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(EditError::Store(err.to_string()).to_string()),
        Err(_) => Some(EditError::Unavailable.to_string()),
    };
    match failure {
        // Nothing of the batch was stored: every record that was made failed with it.
        Some(failure) => {
            for (_, outcome) in outcomes.iter_mut().filter(|(_, outcome)| outcome.is_ok()) {
                *outcome = Err(failure.clone());
            }
        }
        None => {
            for event in committed {
                state.services.events.publish(Arc::new(event));
            }
        }
    }
    outcomes
}

/// The documents of `items`, each made as a creation by `principal`, and their import entries.
fn make_records(
    services: &crate::services::Services,
    principal: &Principal,
    kind: ImportKind,
    items: Vec<ImportItem>,
) -> Made {
    let mut made = Made::default();
    // One moment for the part, as for one transaction: records made at the same moment start
    // from the same template, made once (`new_record`).
    let now = services.now_ms();
    for item in items {
        match make_record(services, principal, kind, &item, now) {
            Ok(creation) => {
                made.writes.extend(creation.writes);
                made.committed.push(creation.committed);
                made.outcomes.push((item, Ok(Outcome::Created)));
            }
            Err(reason) => made.outcomes.push((item, Err(reason))),
        }
    }
    made
}

/// One new record made at `now` and its import entry, as one [`Creation`].
fn make_record(
    services: &crate::services::Services,
    principal: &Principal,
    kind: ImportKind,
    item: &ImportItem,
    now: i64,
) -> Result<Creation, String> {
    let random = crate::accounts::random_id_bytes().map_err(|e| e.to_string())?;
    let id = DocumentId::new_v7(u64::try_from(now).unwrap_or(0), random);
    let patch = item.patch.clone();
    let edit = ServerEdit::new(move |doc| Ok(apply_patch(doc, &automerge::ROOT, &patch, true)?))
        .or_create(kind.document_kind());
    let mut creation = Creation::make(&services.engine, id, principal, edit, now)
        .map_err(|err| err.to_string())?;
    let imported = Imported {
        document: id.to_string(),
        fingerprint: item.fingerprint(),
    };
    creation.writes.put_value(
        &imported_key(kind, &item.external_ref),
        serde_json::to_vec(&imported).map_err(|e| e.to_string())?,
    );
    Ok(creation)
}

/// Writes one record unless the store already holds it as imported.
async fn write_item(
    state: &AppState,
    principal: Arc<Principal>,
    kind: ImportKind,
    item: &ImportItem,
) -> Result<Outcome, String> {
    let previous = previous(state, kind, item).map_err(|err| err.message)?;
    let outcome = planned_outcome(previous.as_ref(), item);
    let document = match (&outcome, &previous) {
        (Outcome::Unchanged, _) => return Ok(Outcome::Unchanged),
        (_, Some(imported)) => DocumentId::parse(&imported.document).map_err(|e| e.to_string())?,
        (_, None) => {
            let random = crate::accounts::random_id_bytes().map_err(|e| e.to_string())?;
            DocumentId::new_v7(u64::try_from(state.services.now_ms()).unwrap_or(0), random)
        }
    };
    let record = Imported {
        document: document.to_string(),
        fingerprint: item.fingerprint(),
    };
    let mut edit_message = EditDocument::by(principal, document, {
        let patch = item.patch.clone();
        ServerEdit::new(move |doc| Ok(apply_patch(doc, &automerge::ROOT, &patch, true)?))
            .or_create(kind.document_kind())
    });
    edit_message.with.put_value(
        &imported_key(kind, &item.external_ref),
        serde_json::to_vec(&record).map_err(|e| e.to_string())?,
    );
    let written = state
        .hub
        .send(edit_message)
        .await
        .map_err(|_| EditError::Unavailable.to_string())?;
    written.map(|_| outcome).map_err(|err| match err {
        EditError::NotFound => "the record imported before is gone or not yours".into(),
        other => other.to_string(),
    })
}

/// The progress of an import, to whoever started it and to admins.
#[utoipa::path(get, path = "/api/v1/imports/jobs/{job}", tag = "imports", security(("bearer" = []), ("session" = [])),
    params(("job" = u64, Path, description = "The job an import answered with")),
    responses((status = 200, description = "`{\"total\", \"done\", \"created\", \"updated\", \"unchanged\", \"failed\", \"finished\", \"elapsed_ms\"}`"),
              (status = 404, description = "No such import, or another user's")))]
pub async fn job(
    state: web::Data<AppState>,
    request: HttpRequest,
    job: web::Path<u64>,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let progress = state
        .imports
        .get(*job)
        .filter(|progress| progress.user == principal.user || principal.role == Role::Admin)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such import"))?;
    Ok(HttpResponse::Ok().json(progress))
}
