//! The WebSocket a [`super::Session`] reads and writes: tokio-tungstenite over the connection
//! actix-http hands over after the upgrade (plain TCP or TLS, boxed so that one session type
//! serves both).
//!
//! Its buffers are sized for many idle connections: tungstenite allocates its read buffer at
//! once at [`READ_BUFFER_BYTES`] and keeps it for the connection's life, so that is what an idle
//! connection costs beyond the session itself.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::config::ServerConfig;

/// How much tungstenite reads from the connection at a time, and the buffer it keeps for it.
///
/// One page: an idle connection keeps 4 KiB instead of tungstenite's default 128 KiB, and a large
/// frame is still read in page-sized pieces (its whole length is reserved once its header is
/// read, so a bigger buffer would only save system calls, about 256 for each MiB received).
pub const READ_BUFFER_BYTES: usize = 4 * 1024;

/// A connection a WebSocket runs over: TCP or TLS.
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin {}

impl<T: AsyncRead + AsyncWrite + Unpin> ByteStream for T {}

/// A session's WebSocket.
pub type Socket = WebSocketStream<Box<dyn ByteStream>>;

/// The WebSocket settings of every session: the server's frame limit for a frame and for a
/// message of continuations, the small read buffer, and no write buffering (the session's
/// writer flushes each message and counts its bytes until then).
pub fn socket_config(config: &ServerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes))
}
