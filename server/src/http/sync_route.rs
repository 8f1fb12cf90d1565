//! `GET /sync`, the automerge-repo WebSocket endpoint: who may open a session, and the session
//! started once the upgrade is written (see [`super::websocket_upgrade`]).

use std::sync::atomic::Ordering;

use actix_http::Response;
use actix_http::body::BoxBody;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use itinera_core::policy::Principal;

use super::AppState;
use super::auth::{ApiError, authenticate_credential, request_credential};
use super::websocket_upgrade::WebSocketUpgrade;
use crate::actors::{Session, SessionStart, socket_config};

/// `GET /sync`: the automerge-repo WebSocket endpoint. The token is checked before the upgrade:
/// without a valid one the answer is a plain 401. Accepting answers 101 and leaves the session
/// to start in the request's [`WebSocketUpgrade`], which the upgrade path runs once the 101 is
/// written.
pub async fn sync(
    request: HttpRequest,
    state: web::Data<AppState>,
) -> actix_web::Result<HttpResponse> {
    // The session signs in again with the same credential at every heartbeat.
    let signed_in = request_credential(&request).and_then(|credential| {
        authenticate_credential(&state, &credential).map(|principal| (credential, principal))
    });
    let (credential, principal) = match signed_in {
        Ok(signed_in) => signed_in,
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
    Ok(upgrade(&request, &state, principal, credential))
}

/// Answers 101 and leaves the session to start over the upgraded socket, or refuses a request
/// that is not a WebSocket handshake.
fn upgrade(
    request: &HttpRequest,
    state: &AppState,
    principal: Principal,
    token: String,
) -> HttpResponse {
    let mut response = match actix_http::ws::handshake(request.head()) {
        Ok(response) => response,
        Err(refused) => return HttpResponse::from(Response::<BoxBody>::from(refused)),
    };
    // Only requests that asked for an upgrade reach here with one; the handshake check above
    // refuses those that did not.
    let upgrade = request.extensions().get::<WebSocketUpgrade>().cloned();
    let Some(upgrade) = upgrade else {
        let refused = ApiError::new(
            actix_web::http::StatusCode::BAD_REQUEST,
            "a WebSocket upgrade over HTTP/1.1 is expected here",
        );
        return actix_web::ResponseError::error_response(&refused);
    };
    let id = state.next_session.fetch_add(1, Ordering::Relaxed);
    tracing::info!(session = id, user = %principal.user, "connected");
    let start = SessionStart {
        id,
        principal,
        token,
        services: state.services.clone(),
        hub: state.hub.clone(),
        server_metadata: state.server_metadata.clone(),
    };
    upgrade.accept(socket_config(&state.services.config), move |socket| {
        Session::start(start, socket);
    });
    HttpResponse::from(response.finish().map_into_boxed_body())
}
