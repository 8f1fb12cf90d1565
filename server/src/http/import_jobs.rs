//! `POST /api/v1/imports/{accounts|leads}`: a dry run answers at once with what an import would
//! do; an import runs in the background as a job whose progress `GET /api/v1/imports/jobs/{id}`
//! reports (the page's and the CLI's progress bars).
//!
//! Every record is checked by the access policy as a change of the importing user, and written
//! with its `import:{kind}:{external ref}` entry (the document's id and the patch's fingerprint)
//! in the same store transaction: a crash loses both or neither, and a record whose fingerprint
//! is unchanged is not written again. New records are made here and written in batches through
//! the store writer, as the demo company is seeded, because a document actor per new record
//! made an import of 10,000 rows take 19 s; once durable, each is announced to the indexer and
//! to the authority (and so to the change feed) exactly as a doc actor announces a change. A
//! record imported before and changed since is patched through its doc actor like any REST
//! write. One import runs at a time.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use automerge::AutoCommit;
use futures_util::StreamExt;
use itinera_core::DocumentId;
use itinera_core::policy::{DocumentScope, Principal, Role};
use itinera_core::store::{DocumentMeta, WriteBatch};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AppState;
use super::auth::{ApiError, authenticate};
use super::csv_import::{BadRow, ImportItem, ImportKind, ImportPlan};
use crate::actors::{Edit, LocalChange, LocalChangeError};
use crate::json_view::apply_patch;

/// Changed records patched at once: enough to fill the store writer's group commits.
const IN_FLIGHT: usize = 64;
/// New records made and written per store transaction.
const CREATE_BATCH: usize = 500;
/// Finished jobs kept for their progress to be read.
const KEPT_JOBS: usize = 32;

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

#[derive(Deserialize)]
pub struct ImportRequest {
    csv: String,
    /// Field → column; guessed from the headers when absent.
    mapping: Option<BTreeMap<String, String>>,
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

/// `POST /api/v1/imports/{kind}`.
pub async fn import(
    state: web::Data<AppState>,
    request: HttpRequest,
    kind: web::Path<String>,
    body: web::Json<ImportRequest>,
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
    let ImportRequest {
        csv,
        mapping,
        dry_run,
    } = body.into_inner();
    let directory = state.services.directory.clone();
    let plan = web::block(move || {
        ImportPlan::build(kind, &csv, mapping, &|name: &str| {
            directory.user(name).is_some()
        })
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

/// A new record, made and checked, waiting for its batch to be durable.
struct Made {
    id: DocumentId,
    scope: DocumentScope,
    title: String,
}

type Outcomes = Vec<(ImportItem, Result<Outcome, String>)>;

/// Makes `items` as new documents, writes them in one transaction with their import entries and
/// report summaries, and once that is durable tells the indexer and the authority.
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
                    let reason = "the server stopped making records".to_owned();
                    let failed = lost.into_iter().map(|item| (item, Err(reason.clone())));
                    (WriteBatch::new(), Vec::new(), failed.collect())
                })
        }
    });
    let mut batch = WriteBatch::new();
    let mut made = Vec::new();
    let mut outcomes = Vec::new();
    for (part_batch, part_made, part_outcomes) in futures_util::future::join_all(making).await {
        for op in part_batch.into_operations() {
            crate::store_writer::push(&mut batch, op);
        }
        made.extend(part_made);
        outcomes.extend(part_outcomes);
    }
    let written = state.services.writer.write(batch).await;
    let failure = match written {
        Ok(Ok(())) => None,
        Ok(Err(err)) => Some(err.to_string()),
        Err(_) => Some(LocalChangeError::Unavailable.to_string()),
    };
    for (made, (_, outcome)) in made
        .iter()
        .zip(outcomes.iter_mut().filter(|(_, o)| o.is_ok()))
    {
        if let Some(failure) = &failure {
            *outcome = Err(format!("the store could not save the record: {failure}"));
            continue;
        }
        if let Some(indexer) = state.services.indexer.get() {
            indexer.do_send(crate::index_documents::Described {
                document: made.id,
                scope: made.scope.clone(),
                title: made.title.clone(),
            });
        }
        if let Some(authority) = state.services.authority.get() {
            authority.do_send(crate::actors::Changed {
                document: made.id,
                kind: kind.document_kind(),
                by_server: false,
            });
        }
    }
    outcomes
}

/// The documents of `items`, each checked as a change of `principal`, in one write batch.
fn make_records(
    services: &crate::services::Services,
    principal: &Principal,
    kind: ImportKind,
    items: Vec<ImportItem>,
) -> (WriteBatch, Vec<Made>, Outcomes) {
    let mut batch = WriteBatch::new();
    let mut made = Vec::new();
    let mut outcomes = Vec::new();
    for item in items {
        match make_record(services, principal, kind, &item, &mut batch) {
            Ok(record) => {
                made.push(record);
                outcomes.push((item, Ok(Outcome::Created)));
            }
            Err(reason) => outcomes.push((item, Err(reason))),
        }
    }
    (batch, made, outcomes)
}

fn make_record(
    services: &crate::services::Services,
    principal: &Principal,
    kind: ImportKind,
    item: &ImportItem,
    batch: &mut WriteBatch,
) -> Result<Made, String> {
    let now = services.now_ms();
    let random = crate::accounts::random_id_bytes().map_err(|e| e.to_string())?;
    let id = DocumentId::new_v7(u64::try_from(now).unwrap_or(0), random);
    let document_kind = kind.document_kind();
    let mut doc = itinera_core::document::new_record(document_kind, services.actor.clone(), now)
        .map_err(|e| e.to_string())?;
    apply_patch(&mut doc, &automerge::ROOT, &item.patch, true)?;
    doc.commit_with(automerge::transaction::CommitOptions::default().with_time(now));
    let creator = principal.user.as_str();
    itinera_core::policy::check_change(principal, &id, None, &doc, Some(creator))
        .map_err(|refusal| refusal.to_string())?;
    let scope = DocumentScope::describe(&id, &doc, Some(creator)).map_err(|e| e.to_string())?;
    let title = itinera_core::document::title_of(&doc);
    if let Ok(Some(summary)) = itinera_core::reports::summarize(&id, &doc) {
        if let Ok(bytes) = serde_json::to_vec(&summary) {
            batch.put_value(&crate::authority::summary_key(&id), bytes);
        }
    }
    let imported = Imported {
        document: id.to_string(),
        fingerprint: item.fingerprint(),
    };
    batch.put_value(
        &imported_key(kind, &item.external_ref),
        serde_json::to_vec(&imported).map_err(|e| e.to_string())?,
    );
    let meta = DocumentMeta {
        kind: Some(document_kind.as_str().to_owned()),
        owner: Some(creator.to_owned()),
        heads: doc.get_heads(),
        last_change_at: now,
        ..DocumentMeta::default()
    };
    batch.put_snapshot(id, doc.save(), meta);
    Ok(Made { id, scope, title })
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
    let mut with = WriteBatch::new();
    with.put_value(
        &imported_key(kind, &item.external_ref),
        serde_json::to_vec(&record).map_err(|e| e.to_string())?,
    );
    let patch = item.patch.clone();
    let (actor, now) = (state.services.actor.clone(), state.services.now_ms());
    let document_kind = kind.document_kind();
    let edit: Edit = Box::new(move |doc: &mut AutoCommit| {
        if doc.get_heads().is_empty() {
            let mut template = itinera_core::document::new_record(document_kind, actor, now)
                .map_err(|e| e.to_string())?;
            doc.merge(&mut template).map_err(|e| e.to_string())?;
        }
        apply_patch(doc, &automerge::ROOT, &patch, true)
    });
    let written = state
        .hub
        .send(LocalChange {
            document,
            author: Some(principal),
            edit,
            with: Some(with),
        })
        .await
        .map_err(|_| LocalChangeError::Unavailable.to_string())?;
    written.map(|_| outcome).map_err(|err| match err {
        LocalChangeError::NotFound => "the record imported before is gone or not yours".into(),
        other => other.to_string(),
    })
}

/// `GET /api/v1/imports/jobs/{job}`: the progress of an import, to whoever started it and
/// to admins.
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
