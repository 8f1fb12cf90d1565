//! A TCP relay between a device and a server that counts the bytes crossing it, so that every
//! device (Itinera's SDK, the JS automerge-repo client) is measured by the same meter.
//!
//! ```ignore
//! let proxy = WireProxy::start(server.port).await?;
//! // connect the device to 127.0.0.1:{proxy.port}
//! let bytes = proxy.bytes();
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running relay; stops accepting when dropped.
#[derive(Debug)]
pub struct WireProxy {
    pub port: u16,
    counted: Arc<AtomicU64>,
    accepting: JoinHandle<()>,
}

impl WireProxy {
    /// Listens on a free local port and relays every connection to `127.0.0.1:target`.
    pub async fn start(target: u16) -> Result<Self, String> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|err| format!("wire proxy: {err}"))?;
        let port = listener
            .local_addr()
            .map_err(|err| format!("wire proxy: {err}"))?
            .port();
        let counted = Arc::new(AtomicU64::new(0));
        let counter = counted.clone();
        let accepting = tokio::spawn(async move {
            while let Ok((device, _)) = listener.accept().await {
                let counter = counter.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = device.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        relay(device, server, counter).await;
                    }
                });
            }
        });
        Ok(Self {
            port,
            counted,
            accepting,
        })
    }

    /// Bytes relayed so far, both directions, TCP payload (WebSocket frames with their
    /// headers, and the HTTP upgrade).
    pub fn bytes(&self) -> u64 {
        self.counted.load(Ordering::Relaxed)
    }
}

impl Drop for WireProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// Copies both ways until either side closes.
async fn relay(device: TcpStream, server: TcpStream, counted: Arc<AtomicU64>) {
    let (device_read, device_write) = device.into_split();
    let (server_read, server_write) = server.into_split();
    let up = pipe(device_read, server_write, counted.clone());
    let down = pipe(server_read, device_write, counted);
    tokio::select! {
        () = up => {}
        () = down => {}
    }
}

async fn pipe(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    counted: Arc<AtomicU64>,
) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                counted.fetch_add(n as u64, Ordering::Relaxed);
                if to.write_all(&buffer[..n]).await.is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown().await;
}
