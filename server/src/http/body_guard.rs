//! What a request body may cost before a handler sees it.
//!
//! A body is read only for a caller whose token (or browser session) is valid: anyone else is
//! answered 401 before a byte of it is read (the login and the browser's sign-in, the routes
//! that take a body without a token, are limited to [`LOGIN_BODY_BYTES`]). And a body must keep coming: one that stalls for
//! [`BODY_IDLE`] or is still arriving after [`BODY_DEADLINE`] ends the request with 408, so a
//! slow sender holds a connection for seconds, not minutes.

use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::StreamExt;
use tokio::time::Instant;

use super::AppState;
use super::auth::{ApiError, authenticate};

/// A request body as the HTTP layer hands it on.
type BodyStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Result<Bytes, PayloadError>>>>;

/// The longest a body may take to arrive.
pub const BODY_DEADLINE: Duration = Duration::from_secs(30);
/// The longest a body may stall between two chunks.
pub const BODY_IDLE: Duration = Duration::from_secs(10);
/// The largest login body: a name and a password.
pub const LOGIN_BODY_BYTES: usize = 4 * 1024;

/// Routes that take a body from a caller without a token: the password logins.
fn open_to_anyone(request: &ServiceRequest) -> bool {
    let path = request.path();
    path == "/api/v1/login"
        || (path == "/api/v1/session" && request.method() == actix_web::http::Method::POST)
}

fn content_length(request: &ServiceRequest) -> Option<u64> {
    request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse::<u64>().ok())
}

fn has_body(request: &ServiceRequest) -> bool {
    request.headers().contains_key(header::TRANSFER_ENCODING)
        || content_length(request).is_some_and(|length| length > 0)
}

/// The middleware: `App::wrap(actix_web::middleware::from_fn(guard_bodies))`.
pub async fn guard_bodies(
    mut request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    if !has_body(&request) {
        return Ok(next.call(request).await?.map_into_left_body());
    }
    let open = open_to_anyone(&request);
    if open && content_length(&request).is_some_and(|length| length > LOGIN_BODY_BYTES as u64) {
        let refused = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("a login body holds at most {LOGIN_BODY_BYTES} bytes"),
        );
        return Ok(request
            .into_response(refused.error_response())
            .map_into_right_body());
    }
    if !open {
        let refused = match request.app_data::<web::Data<AppState>>() {
            Some(state) => authenticate(state, request.request()).err(),
            None => Some(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "no application state",
            )),
        };
        if let Some(refused) = refused {
            let response = refused.error_response();
            return Ok(request.into_response(response).map_into_right_body());
        }
    }
    let payload = request.take_payload();
    let most = open.then_some(LOGIN_BODY_BYTES);
    request.set_payload(Payload::from(with_deadlines(payload, most)));
    Ok(next.call(request).await?.map_into_left_body())
}

/// `payload`, ended with an error when it stalls, takes too long or grows past `most` bytes.
fn with_deadlines(payload: Payload, most: Option<usize>) -> BodyStream {
    let deadline = Instant::now() + BODY_DEADLINE;
    let most = most.unwrap_or(usize::MAX);
    let chunks = futures_util::stream::unfold(Some((payload, 0usize)), move |state| async move {
        let (mut payload, read) = state?;
        let wait = BODY_IDLE.min(deadline.saturating_duration_since(Instant::now()));
        match tokio::time::timeout(wait, payload.next()).await {
            Ok(Some(Ok(chunk))) => {
                let read = read.saturating_add(chunk.len());
                if read > most {
                    return Some((Err(PayloadError::Overflow), None));
                }
                Some((Ok(chunk), Some((payload, read))))
            }
            Ok(Some(Err(error))) => Some((Err(error), None)),
            Ok(None) => None,
            Err(_) => Some((Err(too_slow()), None)),
        }
    });
    Box::pin(chunks)
}

/// The JSON extractor's settings: bodies up to `limit` bytes, and its refusals answered as
/// the API answers errors (`{"error": …}`), with 408 for a body too slow and 413 for one too
/// large.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|error, _| {
            use actix_web::error::JsonPayloadError;
            let status = match &error {
                JsonPayloadError::Overflow { .. }
                | JsonPayloadError::OverflowKnownLength { .. }
                | JsonPayloadError::Payload(PayloadError::Overflow) => {
                    StatusCode::PAYLOAD_TOO_LARGE
                }
                JsonPayloadError::Payload(PayloadError::Io(io))
                    if io.kind() == std::io::ErrorKind::TimedOut =>
                {
                    StatusCode::REQUEST_TIMEOUT
                }
                _ => StatusCode::BAD_REQUEST,
            };
            ApiError::new(status, error).into()
        })
}

fn too_slow() -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        format!(
            "the request body stalled for {} s or took over {} s to arrive",
            BODY_IDLE.as_secs(),
            BODY_DEADLINE.as_secs()
        ),
    ))
}
