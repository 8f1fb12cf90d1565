//! The server's listener: the application under actix-http's HTTP service, plain or with
//! rustls, on actix-server's workers.
//!
//! This is what `actix_web::HttpServer` builds, with the same timeouts, plus the one thing it
//! does not offer: an upgrade service ([`serve_upgrade`]), so that a WebSocket leaves actix-http
//! after its handshake.

use std::net::{SocketAddr, TcpListener};
use std::rc::Rc;
use std::time::Duration;

use actix_codec::{AsyncRead, AsyncWrite, Framed};
use actix_http::h1::Codec;
use actix_http::{HttpService, KeepAlive, Request};
use actix_server::{GracefulShutdownSignal, Server, ServerHandle};
use actix_service::{Service, ServiceFactory, fn_factory, fn_service, map_config};
use actix_web::body::MessageBody;
use actix_web::dev::{AppConfig, ServiceRequest, ServiceResponse};
use actix_web::{App, web};
use futures_util::FutureExt;
use futures_util::future::{LocalBoxFuture, Shared};
use tokio::signal::unix::{Signal, SignalKind, signal};

use super::AppState;
use super::websocket_upgrade::serve_upgrade;

// Every socket sends at once (`TCP_NODELAY`): a sync reply is often written in more than one
// piece, and with Nagle's algorithm the later piece waited for the device's acknowledgement of
// the first, which a device delays by up to 40 ms.

/// How long a client may take to send a request's head (actix-web's default).
const REQUEST_HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a closing connection may take to shut down (actix-web's default).
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a stop waits for the connections still open.
const SHUTDOWN_TIMEOUT_SECS: u64 = 5;

/// Serves the application on `listener` with `workers` threads, over TLS when `tls` is given.
pub fn serve_http(
    listener: TcpListener,
    state: web::Data<AppState>,
    tls: Option<rustls::ServerConfig>,
    workers: usize,
) -> std::io::Result<Server> {
    let address = listener.local_addr()?;
    let builder = Server::build()
        .workers(workers)
        .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
        .disable_signals();
    let shutdown = builder.graceful_shutdown_signal();
    let builder = match tls {
        Some(tls) => builder.listen("itinera-https", listener, move || {
            let service = HttpService::build()
                .keep_alive(KeepAlive::default())
                .tcp_nodelay(true)
                .client_request_timeout(REQUEST_HEAD_TIMEOUT)
                .client_disconnect_timeout(DISCONNECT_TIMEOUT)
                .local_addr(address)
                .graceful_shutdown_signal(notified(&shutdown));
            let app = SharedApp::new(app_service(state.clone(), address, true));
            service
                .upgrade(app.upgrades())
                .finish(app.requests())
                .rustls_0_23(tls.clone())
        })?,
        None => builder.listen("itinera-http", listener, move || {
            let app = SharedApp::new(app_service(state.clone(), address, false));
            HttpService::build()
                .keep_alive(KeepAlive::default())
                .tcp_nodelay(true)
                .client_request_timeout(REQUEST_HEAD_TIMEOUT)
                .client_disconnect_timeout(DISCONNECT_TIMEOUT)
                .local_addr(address)
                .graceful_shutdown_signal(notified(&shutdown))
                .upgrade(app.upgrades())
                .finish(app.requests())
                .tcp()
        })?,
    };
    // Listened for before the server runs: a signal that arrived before the first poll of
    // the task would otherwise end the process without its final flush.
    let stop_signals = StopSignals {
        terminate: signal(SignalKind::terminate())?,
        interrupt: signal(SignalKind::interrupt())?,
        quit: signal(SignalKind::quit())?,
    };
    let server = builder.run();
    actix_web::rt::spawn(stop_on_signal(stop_signals, server.handle()));
    Ok(server)
}

/// The signals that stop the server.
struct StopSignals {
    terminate: Signal,
    interrupt: Signal,
    quit: Signal,
}

/// Stops the server when the system asks: SIGTERM lets open connections finish (up to
/// [`SHUTDOWN_TIMEOUT_SECS`]), SIGINT and SIGQUIT close them at once. Either way the server
/// then flushes the store and returns (see [`crate::serve`]).
///
/// actix-server's own signal handling does the same, then waits a fixed 300 ms before it
/// stops the actix system, which nothing here needs: every stop took that long.
async fn stop_on_signal(mut signals: StopSignals, server: ServerHandle) {
    let (received, graceful) = tokio::select! {
        _ = signals.terminate.recv() => ("SIGTERM", true),
        _ = signals.interrupt.recv() => ("SIGINT", false),
        _ = signals.quit.recv() => ("SIGQUIT", false),
    };
    tracing::info!(
        signal = received,
        graceful,
        "stopping: no new connections, then the store is flushed"
    );
    server.stop(graceful).await;
}

/// The signal a connection hears when the server begins to stop.
fn notified(
    shutdown: &GracefulShutdownSignal,
) -> impl Fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>> + 'static {
    let shutdown = shutdown.clone();
    move || {
        let shutdown = shutdown.clone();
        Box::pin(async move { shutdown.notified().await })
    }
}

/// The application: every route, with the body guard and the access log around them.
fn app(
    state: web::Data<AppState>,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let max_body = state.services.config.max_body_bytes;
    App::new()
        .wrap(actix_web::middleware::from_fn(super::guard_bodies))
        .wrap(actix_web::middleware::from_fn(super::request_log))
        .app_data(state)
        .app_data(super::json_config(max_body))
        .configure(super::configure)
}

/// The application as actix-http serves it, told its address and whether it is behind TLS
/// (which its cookies depend on), as `actix_web::HttpServer` tells it.
fn app_service(
    state: web::Data<AppState>,
    address: SocketAddr,
    secure: bool,
) -> impl ServiceFactory<
    Request,
    Config = (),
    Response = ServiceResponse<impl MessageBody>,
    Error = actix_web::Error,
    InitError = (),
> {
    map_config(app(state), move |_| {
        AppConfig::__priv_test_new(secure, address.to_string(), address)
    })
}

/// The application of one worker, built once and served to both of actix-http's services: plain
/// requests, and the upgrade requests that leave it (a WebSocket's handshake). Each worker
/// used to build an instance for each, twice the start-up work and the routing tables.
struct SharedApp<S> {
    /// The application being built; whichever service asks first drives it.
    app: Shared<LocalBoxFuture<'static, Result<Rc<S>, ()>>>,
}

impl<S: 'static> SharedApp<S> {
    /// Starts building the application `factory` makes (on the worker's thread, as actix-server
    /// asks for each worker's services there).
    fn new<F>(factory: F) -> Self
    where
        F: ServiceFactory<Request, Config = (), InitError = (), Service = S> + 'static,
    {
        let building = factory.new_service(());
        Self {
            app: async move { building.await.map(Rc::new) }
                .boxed_local()
                .shared(),
        }
    }

    /// The service of plain requests.
    fn requests(
        &self,
    ) -> impl ServiceFactory<
        Request,
        Config = (),
        Response = S::Response,
        Error = S::Error,
        InitError = (),
    > + use<S>
    where
        S: Service<Request>,
    {
        let built = self.app.clone();
        fn_factory(move || {
            let built = built.clone();
            async move {
                let app = built.await?;
                Ok(fn_service(move |request: Request| app.call(request)))
            }
        })
    }

    /// The service of upgrade requests, which go through the application first.
    fn upgrades<T, B>(
        &self,
    ) -> impl ServiceFactory<
        (Request, Framed<T, Codec>),
        Config = (),
        Response = (),
        Error = actix_web::Error,
        InitError = (),
    > + use<S, T, B>
    where
        S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
        B: MessageBody + 'static,
        T: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let built = self.app.clone();
        fn_factory(move || {
            let built = built.clone();
            async move {
                let app = built.await?;
                Ok(fn_service(move |(request, framed)| {
                    serve_upgrade(app.clone(), request, framed)
                }))
            }
        })
    }
}
