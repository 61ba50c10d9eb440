//! The gateway: the loopback HTTP server every client and agent talks to. It authenticates the
//! caller, routes the request to an agent and a model (hearth-core's routing), enforces the
//! agent's tool policy and forwards to the backend. This crate is the only one that depends on
//! axum; `router` builds the whole service so tests can call it in process or over a socket.

mod activity;
mod auth;
mod enforce;
mod error;
mod guard;
mod metrics;
mod pipeline;
pub mod providers;
mod reload;
pub mod residency;
mod routes;
mod session;
mod state;

pub use auth::Caller;
pub use error::GatewayError;
pub use reload::watch_config;
pub use state::{Gateway, Runtime, RuntimeError};

use std::net::SocketAddr;

use axum::Router;

/// The whole HTTP service over `gateway`.
pub fn router(gateway: Gateway) -> Router {
    routes::router(gateway)
}

/// Serves `gateway` on `listener` until `shutdown` completes; in-flight requests finish first.
pub async fn serve(
    gateway: Gateway,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = router(gateway).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}
