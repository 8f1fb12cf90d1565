//! The access log and the HTTP request metrics: one line and one observation per request,
//! after the response is ready.
//!
//! The line names the path without its query string, so a browser's `?token=` never reaches
//! the log; the metrics use the route's template (`/api/v1/documents/{id}`), so their number of
//! series stays bounded whatever paths clients send.

use std::time::Instant;

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::web;

use super::AppState;

/// The target of access-log lines: `RUST_LOG=itinera_server::access=warn` silences them.
pub const ACCESS_TARGET: &str = "itinera_server::access";

/// The middleware: `App::wrap(actix_web::middleware::from_fn(request_log))`.
pub async fn request_log(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = request.method().to_string();
    let path = request.path().to_owned();
    let state = request.app_data::<web::Data<AppState>>().cloned();
    let response = next.call(request).await?;
    let took = started.elapsed();
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let bytes = match response.response().body().size() {
        BodySize::Sized(bytes) => Some(bytes),
        BodySize::None => Some(0),
        BodySize::Stream => None,
    };
    if let Some(state) = state {
        state
            .services
            .metrics
            .http_request(&method, &route, status, took);
    }
    tracing::info!(
        target: ACCESS_TARGET,
        method,
        path,
        status,
        duration_ms = took.as_secs_f64() * 1e3,
        bytes,
        "request"
    );
    Ok(response)
}
