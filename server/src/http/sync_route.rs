use std::sync::atomic::Ordering;

use actix::{Actor, AsyncContext};
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::auth::{ApiError, authenticate, request_token};
use crate::actors::{OutgoingBytes, Session};

/// `GET /sync`: the automerge-repo WebSocket endpoint. The token is checked before the upgrade:
/// without a valid one the answer is a plain 401.
pub async fn sync(
    request: HttpRequest,
    body: web::Payload,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    let principal = match authenticate(&state, &request) {
        Ok(principal) => principal,
        Err(refused) => return Ok(actix_web::ResponseError::error_response(&refused)),
    };
    let most = state.services.config.max_sessions_per_user;
    if state.services.sessions.count(&principal.user) >= most {
        state.services.metrics.reject("too_many_sessions");
        let refused = ApiError::new(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            format!(
                "{} has {most} connections open already; close one first",
                principal.user
            ),
        )
        .retry_after(5);
        return Ok(actix_web::ResponseError::error_response(&refused));
    }
    let token = request_token(&request).unwrap_or_default();
    let (response, socket, stream) = actix_ws::handle(&request, body)?;
    let queued = OutgoingBytes::default();
    let response = queued.count_sent(response);
    let config = &state.services.config;
    let stream = stream
        .max_frame_size(config.max_frame_bytes)
        .aggregate_continuations()
        .max_continuation_size(config.max_frame_bytes);
    let id = state.next_session.fetch_add(1, Ordering::Relaxed);
    tracing::info!(session = id, user = %principal.user, "connected");
    let session = Session::new(
        id,
        principal,
        token,
        state.services.clone(),
        state.hub.clone(),
        (socket, queued),
        state.server_metadata.clone(),
    );
    Session::create(move |ctx| {
        ctx.add_stream(stream);
        session
    });
    Ok(response)
}
