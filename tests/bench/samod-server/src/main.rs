//! A samod 0.16 sync server for Itinera's benchmarks: a samod `Repo` on the filesystem storage
//! (the same layout as automerge-repo's nodefs adapter), accepting automerge-repo WebSocket
//! connections on `/` (any path) of the given address.
//!
//! Usage: `itinera-bench-samod-server DATA_DIR 127.0.0.1:PORT`. It prints
//! `samod listening on ADDR` once it accepts connections. Like the Node server in the same
//! benchmark it does not announce documents to peers (they ask for what they want); peers may
//! read and write every document.

use samod::{AcceptorHandle, Repo, ShareConfig};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(data_dir), Some(listen)) = (args.next(), args.next()) else {
        eprintln!("usage: itinera-bench-samod-server DATA_DIR ADDR");
        std::process::exit(2);
    };
    let repo = Repo::build_tokio()
        .with_storage(samod::storage::TokioFilesystemStorage::new(&data_dir))
        .with_share_policy(ShareConfig::read_write().with_announce(false))
        .load()
        .await;
    let listener = match tokio::net::TcpListener::bind(&listen).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("cannot listen on {listen}: {err}");
            std::process::exit(1);
        }
    };
    let addr = listener
        .local_addr()
        .map(|a| a.to_string())
        .unwrap_or(listen);
    let url = match samod::Url::parse(&format!("ws://{addr}")) {
        Ok(url) => url,
        Err(err) => {
            eprintln!("bad address {addr}: {err}");
            std::process::exit(2);
        }
    };
    let acceptor = match repo.make_acceptor(url) {
        Ok(acceptor) => acceptor,
        Err(err) => {
            eprintln!("repo stopped: {err:?}");
            std::process::exit(1);
        }
    };
    let app = axum::Router::new()
        .fallback(axum::routing::get(upgrade))
        .with_state(acceptor);
    println!("samod listening on {addr}");
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let term = async move {
        match term.as_mut() {
            Some(term) => {
                term.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    };
    let served = axum::serve(listener, app).with_graceful_shutdown(async {
        tokio::select! {
            () = shutdown => {}
            () = term => {}
        }
    });
    if let Err(err) = served.await {
        eprintln!("server error: {err}");
    }
    repo.stop().await;
}

async fn upgrade(
    ws: axum::extract::ws::WebSocketUpgrade,
    axum::extract::State(acceptor): axum::extract::State<AcceptorHandle>,
) -> axum::response::Response {
    ws.on_upgrade(|socket| async move {
        if let Err(err) = acceptor.accept_axum(socket, None) {
            eprintln!("failed to accept websocket: {err:?}");
        }
    })
}
