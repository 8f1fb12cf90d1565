use std::sync::atomic::Ordering;

use actix::{Actor, AsyncContext};
use actix_web::{HttpRequest, HttpResponse, web};

use super::AppState;
use super::auth::{authenticate, request_token};
use crate::actors::Session;

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
    let token = request_token(&request).unwrap_or_default();
    let (response, socket, stream) = actix_ws::handle(&request, body)?;
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
        socket,
        state.server_metadata.clone(),
    );
    Session::create(move |ctx| {
        ctx.add_stream(stream);
        session
    });
    Ok(response)
}
