//! A TLS-terminating proxy in front of a plain server, which also records every protocol
//! message the devices send: so that the SDK's tests run over `wss://` with a certificate
//! authority made by the test ([`TestCa`]), and assert on what the server received (which
//! documents were synced, whether a Bloom filter was sent) rather than on time.
//!
//! Bytes pass through unchanged in both directions (the HTTP upgrade too, so a 401 reaches
//! the device as the server sent it); the client-to-server WebSocket frames are read on the
//! side with tungstenite's frame header parser and decoded with [`Message::decode`].

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use itinera_core::DocumentId;
use itinera_core::protocol::{DecodeLimits, Message};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::protocol::frame::FrameHeader;

use crate::tls::TestCa;

/// One message a device sent, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// The protocol message type (`sync`, `request`, `itinera-changes-since`…).
    pub kind: String,
    /// The document it is about, if any.
    pub document: Option<DocumentId>,
    /// Whether it carried an automerge sync message with a Bloom filter of changes (a `have`
    /// with a non-empty filter).
    pub bloom: bool,
}

/// The proxy; stops when dropped.
#[derive(Debug)]
pub struct TlsProxy {
    /// `wss://127.0.0.1:PORT/sync`.
    pub url: String,
    sent: Arc<Mutex<Vec<Sent>>>,
    upstream: Arc<Mutex<SocketAddr>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl TlsProxy {
    /// A proxy serving `ca`'s server certificate and forwarding to `upstream` (`host:port` of
    /// a plain server).
    pub fn start(ca: &TestCa, upstream: SocketAddr) -> Self {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&ca.cert)
            .expect("the certificate file")
            .collect::<Result<_, _>>()
            .expect("PEM certificates");
        let key = PrivateKeyDer::from_pem_file(&ca.key).expect("the key file");
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .expect("the server certificate");
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let listener = runtime
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        let sent = Arc::new(Mutex::new(Vec::new()));
        let recorded = sent.clone();
        let upstream = Arc::new(Mutex::new(upstream));
        let target = upstream.clone();
        runtime.spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                let recorded = recorded.clone();
                let upstream = *target.lock().expect("lock");
                tokio::spawn(async move {
                    if let Ok(tls) = acceptor.accept(client).await {
                        relay(tls, upstream, recorded).await;
                    }
                });
            }
        });
        Self {
            url: format!("wss://127.0.0.1:{port}/sync"),
            sent,
            upstream,
            runtime: Some(runtime),
        }
    }

    /// Sends later connections to another server (the same data, restarted on a new port).
    pub fn set_upstream(&self, upstream: SocketAddr) {
        *self.upstream.lock().expect("lock") = upstream;
    }

    /// The `host:port` of a [`TestServer`](crate::server::TestServer)'s `http://` base.
    pub fn address_of(base: &str) -> SocketAddr {
        base.trim_start_matches("http://")
            .parse()
            .expect("the server listens on an IP address")
    }

    /// What the devices sent so far.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().expect("lock").clone()
    }

    /// Forgets what was recorded.
    pub fn clear(&self) {
        self.sent.lock().expect("lock").clear();
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

async fn relay(
    client: tokio_rustls::server::TlsStream<TcpStream>,
    upstream: SocketAddr,
    recorded: Arc<Mutex<Vec<Sent>>>,
) {
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = tokio::io::split(client);
    let (mut server_read, mut server_write) = server.into_split();
    let down = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    let up = async move {
        let mut reader = FrameReader::default();
        let mut buffer = vec![0u8; 16 * 1024];
        while let Ok(read) = client_read.read(&mut buffer).await {
            if read == 0 {
                break;
            }
            for message in reader.push(&buffer[..read]) {
                recorded.lock().expect("lock").push(message);
            }
            if server_write.write_all(&buffer[..read]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    tokio::join!(down, up);
}

/// Reads a client's byte stream: the HTTP upgrade request, then masked WebSocket frames.
#[derive(Default)]
struct FrameReader {
    bytes: Vec<u8>,
    upgraded: bool,
    message: Vec<u8>,
}

impl FrameReader {
    fn push(&mut self, bytes: &[u8]) -> Vec<Sent> {
        self.bytes.extend_from_slice(bytes);
        if !self.upgraded {
            let Some(end) = self.bytes.windows(4).position(|w| w == b"\r\n\r\n") else {
                return Vec::new();
            };
            self.bytes.drain(..end + 4);
            self.upgraded = true;
        }
        let mut out = Vec::new();
        loop {
            let mut cursor = std::io::Cursor::new(self.bytes.as_slice());
            let Ok(Some((header, length))) = FrameHeader::parse(&mut cursor) else {
                break;
            };
            let start = cursor.position() as usize;
            let Ok(length) = usize::try_from(length) else {
                break;
            };
            if self.bytes.len() < start + length {
                break;
            }
            let mut payload = self.bytes[start..start + length].to_vec();
            if let Some(mask) = header.mask {
                for (i, byte) in payload.iter_mut().enumerate() {
                    *byte ^= mask[i % 4];
                }
            }
            self.bytes.drain(..start + length);
            self.message.extend_from_slice(&payload);
            if header.is_final {
                let whole = std::mem::take(&mut self.message);
                if let Ok(message) = Message::decode(&whole, &DecodeLimits::default()) {
                    out.push(sent(&message));
                }
            }
        }
        out
    }
}

fn sent(message: &Message) -> Sent {
    let bloom = match message {
        Message::Sync { data, .. } | Message::Request { data, .. } => {
            automerge::sync::Message::decode(&data.to_bytes()).is_ok_and(|sync| {
                sync.have
                    .iter()
                    .any(|have| !have.bloom.to_bytes().is_empty())
            })
        }
        _ => false,
    };
    Sent {
        kind: message.type_name().to_owned(),
        document: message.document_id().copied(),
        bloom,
    }
}
