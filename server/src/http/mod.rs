//! The HTTP face of the server: `/sync` (WebSocket), `/healthz`, `/metrics`, `/api/v1`, and
//! the head-office web app at `/`.

mod api;
mod auth;
mod csv_export;
mod csv_import;
mod document_conflicts;
mod events;
mod import_jobs;
mod lists;
mod session_cookie;
mod sync_route;
mod web_app;

pub use csv_import::{BadRow, ImportError, ImportItem, ImportKind, ImportPlan, guess_mapping};
pub use import_jobs::{ImportJobs, ImportProgress};
pub use web_app::built_sizes;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use actix::Addr;
use actix_web::{HttpResponse, web};
use itinera_core::protocol::PeerMetadata;

use crate::actors::Hub;
use crate::read_model::ReadModel;
use crate::services::Services;

/// What the HTTP handlers share.
#[derive(Debug)]
pub struct AppState {
    pub services: Arc<Services>,
    pub hub: Addr<Hub>,
    pub server_metadata: PeerMetadata,
    pub next_session: AtomicU64,
    /// The lists' read model, kept current from the change feed.
    pub read_model: Arc<ReadModel>,
    pub imports: ImportJobs,
}

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/sync", web::get().to(sync_route::sync))
        .route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .service(web::scope("/api/v1").configure(api::configure))
        .default_service(web::to(web_app::serve));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.services.metrics.render())
}
