//! The HTTP face of the server: `/sync` (WebSocket), `/healthz`, `/metrics` and `/api/v1`.

mod api;
mod auth;
mod sync_route;

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use actix::Addr;
use actix_web::{HttpResponse, web};
use itinera_core::protocol::PeerMetadata;

use crate::actors::Hub;
use crate::services::Services;

/// What the HTTP handlers share.
#[derive(Debug)]
pub struct AppState {
    pub services: Arc<Services>,
    pub hub: Addr<Hub>,
    pub server_metadata: PeerMetadata,
    pub next_session: AtomicU64,
}

/// Registers every route.
pub fn configure(config: &mut web::ServiceConfig) {
    config
        .route("/sync", web::get().to(sync_route::sync))
        .route("/healthz", web::get().to(healthz))
        .route("/metrics", web::get().to(metrics))
        .service(web::scope("/api/v1").configure(api::configure));
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(state.services.metrics.render())
}
