//! The HTTP face of the server: `/sync` (WebSocket), `/healthz`, `/readyz`, `/metrics`,
//! `/api/v1`, and the head-office web app at `/`, with the access log and request metrics around
//! every route.

mod admin;
mod api;
mod auth;
mod body_guard;
mod csv_export;
mod csv_import;
mod document_conflicts;
mod events;
mod import_jobs;
mod listener;
mod lists;
mod openapi;
mod request_log;
mod session_cookie;
mod sync_route;
mod web_app;
mod websocket_upgrade;

pub use csv_import::{BadRow, ImportError, ImportItem, ImportKind, ImportPlan, guess_mapping};
pub use import_jobs::{ImportJobs, ImportProgress};
pub use listener::serve_http;
pub use web_app::built_sizes;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use actix::Addr;
use actix_web::{HttpResponse, web};
use itinera_core::protocol::PeerMetadata;
use itinera_core::store::WriteBatch;

pub use body_guard::{guard_bodies, json_config};
pub use request_log::{ACCESS_TARGET, request_log};

use crate::actors::Hub;
use crate::lists::ListModel;
use crate::services::Services;

/// The key the readiness probe overwrites.
const PROBE_KEY: &str = "server:readiness-probe";
/// The probe's size: a commit that needs some room, as the devices' changes do.
const PROBE_BYTES: usize = 64 * 1024;
/// How long `/readyz` waits for its probe.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the HTTP handlers share.
#[derive(Debug)]
pub struct AppState {
    pub services: Arc<Services>,
    pub hub: Addr<Hub>,
    pub server_metadata: PeerMetadata,
    pub next_session: AtomicU64,
    /// The lists head office browses, kept current from the committed events.
    pub lists: Arc<ListModel>,
    pub imports: ImportJobs,
}

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/sync", web::get().to(sync_route::sync))
        .route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .service(web::scope("/api/v1").configure(api::configure))
        .default_service(web::to(web_app::serve));
}

/// Liveness: the process answers. Restart it if this fails.
#[utoipa::path(get, path = "/healthz", tag = "server",
    responses((status = 200, description = "`ok`")))]
async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

/// Readiness: start-up work is done and the store commits. After a failed commit it writes a
/// small probe; it stays unready until a commit succeeds.
#[utoipa::path(get, path = "/readyz", tag = "server",
    responses((status = 200, description = "`ready`"),
              (status = 503, description = "Why not: start-up work still running, or the store cannot commit")))]
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let readiness = &state.services.metrics.readiness;
    let unfinished = readiness.unfinished_startup();
    if !unfinished.is_empty() {
        return not_ready(format!(
            "start-up work unfinished: {}",
            unfinished.join(", ")
        ));
    }
    if !readiness.store_writable() {
        let Some(_probe) = readiness.start_probe() else {
            return not_ready("the store cannot commit; a probe write is running".into());
        };
        let mut batch = WriteBatch::new();
        batch.put_value(PROBE_KEY, vec![0; PROBE_BYTES]);
        let probe = state.services.writer.write(batch);
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Ok(Ok(()))) => {}
            Ok(Ok(Err(err))) => return not_ready(format!("the store cannot commit: {err}")),
            Ok(Err(_)) => return not_ready("the store writer has stopped".into()),
            Err(_) => return not_ready("the store did not commit a probe in time".into()),
        }
    }
    HttpResponse::Ok()
        .content_type("text/plain")
        .body("ready\n")
}

fn not_ready(reason: String) -> HttpResponse {
    tracing::warn!(%reason, "not ready");
    HttpResponse::ServiceUnavailable()
        .content_type("text/plain")
        .body(format!("not ready: {reason}\n"))
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "server",
    responses((status = 200, description = "OpenMetrics text")))]
async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let metrics = &state.services.metrics;
    metrics.observe_store(&state.services.config.store_path());
    HttpResponse::Ok()
        .content_type("application/openmetrics-text; version=1.0.0; charset=utf-8")
        .body(metrics.render())
}
