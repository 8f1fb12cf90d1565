//! The WebSocket upgrade: actix-http hands a request that asks for an upgrade, with its
//! connection, to [`serve_upgrade`] instead of keeping it in its HTTP/1 dispatcher (whose two
//! 8 KiB buffers would otherwise stay with the connection for a WebSocket's whole life).
//!
//! The request still goes through the application, so `/sync` authenticates it and applies its
//! limits exactly as for any request, with the access log and the request metrics around it; the
//! route accepts by leaving a [`WebSocketUpgrade`] filled in and answering 101. Then the 101 is
//! written, actix-http's buffers are dropped, and tokio-tungstenite takes the bare connection with
//! the bytes already read. Any other answer is written as it is and the connection closed.

use std::cell::RefCell;
use std::rc::Rc;

use actix_codec::{AsyncRead, AsyncWrite, Framed};
use actix_http::body::{BodySize, BoxBody, MessageBody};
use actix_http::h1::{Codec, Message};
use actix_http::{ConnectionType, HttpMessage, Request, Response, StatusCode};
use actix_service::Service;
use actix_web::ResponseError;
use futures_util::SinkExt;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::auth::ApiError;
use crate::actors::{ByteStream, Socket};

/// The only path that upgrades.
pub const SYNC_PATH: &str = "/sync";

/// The largest answer written on a refused upgrade: the JSON errors of `/sync`.
const MAX_REFUSAL_BYTES: usize = 64 * 1024;

/// What runs over an accepted WebSocket.
type RunSocket = Box<dyn FnOnce(Socket)>;

/// Left on an upgrade request (in its extensions) for the route to fill in when it accepts:
/// the socket's settings and what runs over it.
#[derive(Clone, Default)]
pub struct WebSocketUpgrade(Rc<RefCell<Option<(WebSocketConfig, RunSocket)>>>);

impl WebSocketUpgrade {
    /// Accepts the upgrade: once the 101 is written, `run` gets the socket.
    pub fn accept(&self, config: WebSocketConfig, run: impl FnOnce(Socket) + 'static) {
        *self.0.borrow_mut() = Some((config, Box::new(run)));
    }

    fn take(&self) -> Option<(WebSocketConfig, RunSocket)> {
        self.0.borrow_mut().take()
    }
}

/// Serves one upgrade request on its connection: through `app` for `/sync`, 404 elsewhere.
/// A connection that fails while the answer is written is dropped (the client left).
pub async fn serve_upgrade<T, S, B>(
    app: Rc<S>,
    request: Request,
    framed: Framed<T, Codec>,
) -> Result<(), actix_web::Error>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
    S: Service<Request, Error = actix_web::Error>,
    S::Response: Into<Response<B>>,
    B: MessageBody + 'static,
{
    if request.path() != SYNC_PATH {
        let refused = ApiError::new(
            StatusCode::NOT_FOUND,
            format!("WebSockets connect to {SYNC_PATH}"),
        );
        let answer = refused.error_response().into();
        if let Err(err) = write_answer(framed, answer).await {
            tracing::debug!(error = %err, "a refused upgrade's answer was not written");
        }
        return Ok(());
    }
    let upgrade = WebSocketUpgrade::default();
    request.extensions_mut().insert(upgrade.clone());
    let answer: Response<BoxBody> = match app.call(request).await {
        Ok(answer) => answer.into().map_into_boxed_body(),
        Err(err) => err.error_response().into(),
    };
    let written = match upgrade.take() {
        Some((config, run)) if answer.status() == StatusCode::SWITCHING_PROTOCOLS => {
            switch(framed, answer, config).await.map(run)
        }
        _ => write_answer(framed, answer).await,
    };
    if let Err(err) = written {
        tracing::debug!(error = %err, "an upgrade's answer was not written");
    }
    Ok(())
}

/// Writes the 101 and hands the connection, without actix-http's buffers, to tungstenite.
async fn switch<T>(
    mut framed: Framed<T, Codec>,
    answer: Response<BoxBody>,
    config: WebSocketConfig,
) -> std::io::Result<Socket>
where
    T: AsyncRead + AsyncWrite + Unpin + 'static,
{
    framed
        .send(Message::Item((answer.drop_body(), BodySize::None)))
        .await?;
    let parts = framed.into_parts();
    // What the client sent after its request (its first frames, if it did not wait) is the
    // socket's first input.
    let read = parts.read_buf.to_vec();
    let io: Box<dyn ByteStream> = Box::new(parts.io);
    Ok(WebSocketStream::from_partially_read(io, read, Role::Server, Some(config)).await)
}

/// Writes an answer that is not an upgrade, body and all, and closes the connection.
async fn write_answer<T>(
    mut framed: Framed<T, Codec>,
    answer: Response<BoxBody>,
) -> std::io::Result<()>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let (mut head, body) = answer.into_parts();
    let body = match actix_http::body::to_bytes_limited(body, MAX_REFUSAL_BYTES).await {
        Ok(Ok(body)) => body,
        _ => actix_web::web::Bytes::new(),
    };
    head.head_mut().set_connection_type(ConnectionType::Close);
    framed
        .send(Message::Item((head, BodySize::Sized(body.len() as u64))))
        .await?;
    if !body.is_empty() {
        framed.send(Message::Chunk(Some(body))).await?;
    }
    framed.send(Message::Chunk(None)).await?;
    framed.close().await
}
