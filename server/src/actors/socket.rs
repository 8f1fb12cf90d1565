//! The WebSocket a [`super::Session`] reads and writes: tokio-tungstenite over the connection
//! actix-http hands over after the upgrade (plain TCP or TLS, boxed so that one session type
//! serves both).
//!
//! Its buffers are sized for many idle connections: tungstenite allocates its read buffer at
//! once at [`READ_BUFFER_BYTES`] and keeps it for the connection's life, so that is what an idle
//! connection costs beyond the session itself.

use std::cell::RefCell;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::stream::SplitStream;
use futures_util::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as SocketError, Message as SocketMessage};

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

/// How many bytes of small frames tungstenite gathers before it writes them; the session's
/// writer flushes whatever is gathered once its queue is empty. A frame bigger than this is
/// written at once. The buffer keeps the room it grew to, so this is the most an idle connection
/// that was once busy keeps beyond its largest frame (what actix-http kept for every connection).
const WRITE_BUFFER_BYTES: usize = 8 * 1024;

/// The WebSocket settings of every session: the server's frame limit for a frame and for a
/// message of continuations, the small read buffer, and the write buffer.
pub fn socket_config(config: &ServerConfig) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_message_size(Some(config.max_frame_bytes))
        .max_frame_size(Some(config.max_frame_bytes))
}

/// How long a closing socket waits for the client to take its close frame, and then for the
/// client's answer.
pub(super) const CLOSE_WAIT: Duration = Duration::from_secs(5);

/// The read half of a session's socket, which the session reads as a stream until its writer
/// closes the socket and takes it over.
///
/// A socket closed with bytes from the client still unread is reset by the kernel, and a reset
/// makes the client drop what it had not read yet, the frame that says why it is being closed
/// included. So the writer, having sent the close frame, reads (and drops) whatever still comes
/// until the client's own close frame, or for [`CLOSE_WAIT`] at most.
#[derive(Clone)]
pub struct SocketReader(Rc<RefCell<Option<SplitStream<Socket>>>>);

impl SocketReader {
    /// The read half, shared between the session (to read) and its writer (to close).
    pub fn new(stream: SplitStream<Socket>) -> Self {
        Self(Rc::new(RefCell::new(Some(stream))))
    }

    /// Takes the read half from the session and reads until the client closes too.
    pub async fn drain_until_closed(&self) {
        let Some(mut stream) = self.0.borrow_mut().take() else {
            return;
        };
        let drained = async { while let Some(Ok(_)) = stream.next().await {} };
        let _ = tokio::time::timeout(CLOSE_WAIT, drained).await;
    }
}

impl Stream for SocketReader {
    type Item = Result<SocketMessage, SocketError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match self.0.borrow_mut().as_mut() {
            Some(stream) => stream.poll_next_unpin(cx),
            // The writer is closing the socket.
            None => Poll::Ready(None),
        }
    }
}
