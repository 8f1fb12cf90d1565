//! Operations for admins over HTTP: the audit trail, and a consistent backup of the running
//! store streamed to the caller (what `itinera-server backup --server URL` downloads).

use std::io::Write;

use actix_web::web::Bytes;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use tokio::sync::mpsc;
use utoipa::IntoParams;

use super::AppState;
use super::auth::{ApiError, authenticate_admin};
use crate::audit::{self, AuditEntry};

/// The most audit entries one request returns.
const MAX_AUDIT_ENTRIES: usize = 1_000;
/// Bytes of backup handed to the response at a time.
const BACKUP_CHUNK: usize = 1024 * 1024;

/// Which audit entries to list.
#[derive(Debug, Deserialize, IntoParams)]
pub(super) struct AuditPage {
    /// How many, newest first (default 100, at most 1,000).
    limit: Option<usize>,
    /// Only entries older than this Unix time in milliseconds (the `at` of the last entry of
    /// the previous page).
    before: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "operations", security(("bearer" = [])),
    params(AuditPage),
    responses((status = 200, description = "Admin actions, newest first", body = Vec<AuditEntry>),
              (status = 403, description = "Admins only")))]
pub(super) async fn audit_trail(
    state: web::Data<AppState>,
    request: HttpRequest,
    page: web::Query<AuditPage>,
) -> Result<HttpResponse, ApiError> {
    authenticate_admin(&state, &request)?;
    let limit = page.limit.unwrap_or(100).min(MAX_AUDIT_ENTRIES);
    let before = page.before;
    let store = state.services.store.clone();
    let entries = web::block(move || audit::list(&*store, limit, before))
        .await
        .map_err(|err| ApiError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, err))?
        .map_err(|err| ApiError::new(actix_web::http::StatusCode::SERVICE_UNAVAILABLE, err))?;
    Ok(HttpResponse::Ok().json(entries))
}

/// Hands the backup stream to the HTTP response a chunk at a time; the backup thread waits
/// while the client is slow, and stops when it has gone.
struct ChunkSender {
    chunks: mpsc::Sender<Result<Bytes, std::io::Error>>,
    buffer: Vec<u8>,
}

impl ChunkSender {
    fn send_buffer(&mut self) -> std::io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buffer));
        self.chunks
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buffer.extend_from_slice(bytes);
        if self.buffer.len() >= BACKUP_CHUNK {
            self.send_buffer()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send_buffer()
    }
}

#[utoipa::path(get, path = "/api/v1/admin/backup", tag = "operations", security(("bearer" = [])),
    responses((status = 200, description = "The store as of one commit, in the Itinera backup \
        format (application/octet-stream); a stream cut short fails its digest at restore"),
              (status = 403, description = "Admins only")))]
pub(super) async fn backup(
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let admin = authenticate_admin(&state, &request)?;
    let (chunks, mut receiver) = mpsc::channel(4);
    let store = state.services.store.clone();
    let services = state.services.clone();
    std::thread::Builder::new()
        .name("itinera-backup".into())
        .spawn(move || {
            let mut sender = ChunkSender {
                chunks: chunks.clone(),
                buffer: Vec::with_capacity(BACKUP_CHUNK),
            };
            match store.backup(&mut sender) {
                Ok(report) => {
                    tracing::info!(records = report.records, bytes = report.bytes, user = %admin.user, "backup streamed");
                    let entry = AuditEntry::new(
                        services.now_ms(),
                        &admin.user,
                        "store.backup",
                        "store",
                        format!("{} records, {} bytes", report.records, report.bytes),
                    );
                    let mut batch = itinera_core::store::WriteBatch::new();
                    entry.put(&mut batch);
                    services.writer.write_detached(batch);
                }
                Err(err) => {
                    tracing::error!(error = %err, "backup failed");
                    // Cuts the response short: the client sees an incomplete stream.
                    let _ = chunks.blocking_send(Err(std::io::Error::other(err.to_string())));
                }
            }
        })
        .map_err(|err| ApiError::new(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR, err))?;
    let body = futures_util::stream::poll_fn(move |cx| receiver.poll_recv(cx));
    Ok(HttpResponse::Ok()
        .content_type("application/octet-stream")
        .streaming(body))
}
