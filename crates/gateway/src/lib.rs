//! The gateway: the loopback HTTP server every client and agent talks to. It authenticates the
//! caller, routes the request to an agent and a model (hearth-core's routing), enforces the
//! agent's tool policy and forwards to the backend. This crate is the only one that depends on
//! axum; `router` builds the whole service so tests can call it in process or over a socket.

pub mod activity;
mod auth;
pub mod bench;
pub mod config_edit;
mod enforce;
mod error;
mod guard;
mod metrics;
mod pipeline;
pub mod providers;
mod reload;
pub mod residency;
pub mod response_store;
mod routes;
mod session;
pub mod setup;
mod state;

pub use auth::Caller;
pub use error::GatewayError;
pub use reload::unlock_secrets;
pub use reload::watch_config;
pub use state::{Gateway, Locked, Runtime, RuntimeError};

use std::net::SocketAddr;

use axum::Router;

/// The whole HTTP service over `gateway`.
pub fn router(gateway: Gateway) -> Router {
    routes::router(gateway)
}

/// Everything a Hearth host runs (`hearth serve`, the menu-bar app): the gateway on `listener`,
/// the configuration file watched (once a second), the active model's service and the
/// sidecars started in the background; when `shutdown` completes, in-flight requests finish,
/// event streams end and the supervised services stop (LaunchAgents keep running).
pub async fn run(
    gateway: Gateway,
    listener: tokio::net::TcpListener,
    paths: hearth_core::config::store::Paths,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let watcher = tokio::spawn(watch_config(
        gateway.clone(),
        paths,
        std::time::Duration::from_secs(1),
    ));
    gateway.residency().starting_up();
    let starting = tokio::spawn(residency::start_services(gateway.clone()));
    let rotating = tokio::spawn(residency::rotate_logs(gateway.clone()));
    let closing = gateway.clone();
    let shutdown = async move {
        shutdown.await;
        closing.residency().close();
    };
    let served = serve(gateway.clone(), listener, shutdown).await;
    watcher.abort();
    starting.abort();
    rotating.abort();
    let _ = tokio::time::timeout(
        residency::SHUTDOWN_GRACE,
        gateway.residency().services().shutdown(),
    )
    .await;
    served
}

/// Serves `gateway` on `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    gateway: Gateway,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt as _;
    let service = router(gateway).into_make_service_with_connect_info::<SocketAddr>();
    // No Nagle: a streamed chunk is one small write, and waiting for the client's delayed ACK
    // held each one up to 40 ms (hearth-bench: +41.9 ms per chunk at p99).
    let listener = listener.tap_io(|stream| {
        let _ = stream.set_nodelay(true);
    });
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
