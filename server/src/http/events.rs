//! `GET /api/v1/events`: server-sent events telling an open page which documents changed, so it
//! refetches what it shows.
//!
//! Each event is `event: change` with `{"id": …, "kind": …}`, sent only for documents the user
//! may read (before or after the change). They are the server's committed events, each passed on
//! by the list model once it took the change in (so a list refetched on an event already shows
//! it), with the scope the event carries and the one the model held before. A page that fell too far behind
//! gets `event: resync` and refetches everything. Every 15 s a comment keeps proxies from closing
//! the stream, and the token or session is checked again: a revoked session's stream ends.
//! Server-sent events and not a WebSocket: one-way is all a page needs, `EventSource`
//! reconnects by itself and sends the session cookie, and the stream is plain HTTP for proxies.

use std::sync::Arc;
use std::time::Duration;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use itinera_core::policy::Principal;
use serde_json::json;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;

use super::AppState;
use super::auth::{ApiError, authenticate, request_token};
use super::session_cookie::session_token;
use crate::lists::DocumentEvent;

/// How often the stream proves it is alive and rechecks the session.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

struct Stream {
    state: web::Data<AppState>,
    principal: Principal,
    token: String,
    events: Receiver<Arc<DocumentEvent>>,
    ticks: tokio::time::Interval,
    started: bool,
}

/// Server-sent events naming the documents that changed, for an open page to refetch.
#[utoipa::path(get, path = "/api/v1/events", tag = "lists", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "`text/event-stream`: `ready`, then `change` events `{\"id\", \"kind\"}`, `resync` after falling behind"),
              (status = 401, description = "Not signed in")))]
pub async fn events(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let principal = authenticate(&state, &request)?;
    let token = request_token(&request)
        .or_else(|| session_token(&request))
        .unwrap_or_default();
    let mut ticks = tokio::time::interval(KEEP_ALIVE);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let events = state.lists.subscribe();
    let stream = Stream {
        state: state.clone(),
        principal,
        token,
        events,
        ticks,
        started: false,
    };
    let body = futures_util::stream::unfold(stream, |mut stream| async move {
        let chunk = stream.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(Bytes::from(chunk)), stream))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("cache-control", "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(body))
}

impl Stream {
    /// The next text to send; `None` ends the stream.
    async fn next_chunk(&mut self) -> Option<String> {
        if !self.started {
            self.started = true;
            // The first tick of an interval is immediate; the page hears at once that it is
            // connected (and refetches what it may have missed while it was not).
            self.ticks.tick().await;
            return Some("retry: 3000\nevent: ready\ndata: {}\n\n".to_owned());
        }
        loop {
            tokio::select! {
                event = self.events.recv() => match event {
                    Ok(event) if event.concerns(&self.principal) => {
                        let data = json!({
                            "id": event.id.to_string(),
                            "kind": event.kind.map(|kind| kind.as_str()),
                        });
                        return Some(format!("event: change\ndata: {data}\n\n"));
                    }
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => return Some("event: resync\ndata: {}\n\n".to_owned()),
                    Err(RecvError::Closed) => return None,
                },
                _ = self.ticks.tick() => {
                    let services = &self.state.services;
                    services.directory.authenticate(&self.token, services.now_ms()).ok()?;
                    return Some(": keep-alive\n\n".to_owned());
                }
            }
        }
    }
}
