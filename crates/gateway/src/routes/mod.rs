//! The HTTP routes, one module per API. `router` wires them to the shared `Gateway`.

mod admin;
mod admin_config;
mod admin_models;
mod admin_services;
mod admin_setup;
mod chat_completions;
mod embeddings;
mod health;
mod messages;
mod metrics;
mod models;
mod ollama_chat;
mod ollama_generate;
mod ollama_ps;
mod ollama_tags;
mod ollama_version;
mod openapi;
mod responses;
mod ui;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    routing::{delete, get, post},
};

use crate::state::Gateway;

pub fn router(gateway: Gateway) -> Router {
    let body_limit = gateway.runtime().config.gateway.body_limit_bytes;
    Router::new()
        .route(
            "/v1/chat/completions",
            post(chat_completions::chat_completions),
        )
        .route("/v1/models", get(models::models))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/responses", post(responses::create))
        .route("/v1/messages", post(messages::messages))
        .route("/v1/messages/count_tokens", post(messages::count_tokens))
        .route("/api/chat", post(ollama_chat::chat))
        .route("/api/generate", post(ollama_generate::generate))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(axum::middleware::from_fn(move |request, next| {
            refuse_oversized(body_limit, request, next)
        }))
        .route(
            "/v1/responses/{id}",
            get(responses::get).delete(responses::delete),
        )
        .route(
            "/v1/responses/{id}/input_items",
            get(responses::input_items_list),
        )
        .route("/health", get(health::health))
        .route("/metrics", get(metrics::metrics))
        .route("/api/version", get(ollama_version::version))
        .route("/api/tags", get(ollama_tags::tags))
        .route("/api/ps", get(ollama_ps::ps))
        .route("/admin/status", get(admin::status))
        .route(
            "/admin/services",
            get(admin_services::list).post(admin_services::install),
        )
        .route("/admin/services/{name}", delete(admin_services::uninstall))
        .route("/admin/services/{name}/logs", get(admin_services::logs))
        .route("/admin/services/{name}/plist", get(admin_services::plist))
        .route(
            "/admin/services/{name}/{action}",
            post(admin_services::action),
        )
        .route("/admin/models", get(admin_models::list))
        .route("/admin/models/activate", post(admin_models::activate))
        .route("/admin/models/unload", post(admin_models::unload))
        .route("/admin/memory", get(admin_models::memory))
        .route("/admin/setup", get(admin_setup::proposal))
        .route("/admin/setup/apply", post(admin_setup::apply))
        .route("/admin/providers", get(admin_setup::list))
        .route(
            "/admin/bench",
            get(admin_models::bench_history).post(admin_models::bench),
        )
        .route("/admin/openapi.json", get(openapi::openapi))
        .route("/admin/events", get(admin_models::events))
        .route("/admin/config", get(admin_config::get))
        .route("/admin/config/set", post(admin_config::set))
        .route("/admin/config/unset", post(admin_config::unset))
        .route("/admin/route", get(admin_config::simulate))
        .route("/admin/policy/{agent}", get(admin_config::policy))
        .route("/admin/stats", get(admin_config::stats))
        .route("/admin/tokens", get(admin_config::tokens))
        .route("/admin/tokens/{name}/{action}", post(admin_config::token))
        .route("/admin/login-link", post(admin_config::login_link))
        .route("/ui", get(ui::root))
        .route("/ui/", get(ui::index))
        .route("/ui/login", get(ui::login))
        .route("/ui/session", post(ui::sign_in).delete(ui::sign_out))
        .route("/ui/{*path}", get(ui::file))
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            browser_session,
        ))
        .layer(axum::middleware::from_fn(admin_from_this_machine))
        .layer(axum::middleware::from_fn(request_span))
        .with_state(gateway)
}

/// The admin API and the UI's sign-in answer only connections from this machine's loopback
/// interface, whatever the `Host` header says: with `allowRemote`, a caller on the network
/// could otherwise send `Host: localhost` itself. (A router served without connection info —
/// in process — has no peer to check; the `Host` check still applies.)
async fn admin_from_this_machine(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let path = request.uri().path();
    let guarded = path.starts_with("/admin/") || path == "/ui/login" || path == "/ui/session";
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|info| info.0.ip());
    if guarded && peer.is_some_and(|peer| !is_loopback_peer(peer)) {
        return crate::error::GatewayError::ForeignHost.into_response();
    }
    next.run(request).await
}

/// A loopback address, IPv4-mapped ones (`::ffff:127.0.0.1`, from a dual-stack socket) included.
fn is_loopback_peer(peer: std::net::IpAddr) -> bool {
    match peer {
        std::net::IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map_or(v6.is_loopback(), |v4| v4.is_loopback()),
        v4 => v4.is_loopback(),
    }
}

/// A body whose declared length is over the limit is refused (413) before a byte of it is
/// read: the client learns at once, instead of after sending the limit's worth.
async fn refuse_oversized(
    limit: usize,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let declared = request
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit as u64) {
        let body = serde_json::json!({ "error": {
            "message": format!("the request body is over the limit of {} MiB (`gateway.bodyLimitMiB`)", limit / (1024 * 1024)),
            "type": "invalid_request_error",
            "code": "body_too_large",
        }});
        let mut response =
            (axum::http::StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response();
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
        return response;
    }
    next.run(request).await
}

/// The UI's session (the `x-hearth-session` header, see `session.rs`) stands for the admin
/// token on `/admin/*`: a request that carries a valid session and no `Authorization` header
/// is let in as the admin. A write so made must also come from the UI's own page (an `Origin`
/// equal to the loopback host it was sent to).
async fn browser_session(
    axum::extract::State(gateway): axum::extract::State<Gateway>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::{
        http::{Method, header},
        response::IntoResponse,
    };
    let headers = request.headers();
    // Only a request to the admin API that carries a session costs more than this check.
    let session = (request.uri().path().starts_with("/admin/")
        && !headers.contains_key(header::AUTHORIZATION)
        && !headers.contains_key("x-api-key"))
    .then(|| crate::session::from_headers(headers))
    .flatten();
    let Some(session) = session else {
        return next.run(request).await;
    };
    let runtime = gateway.runtime();
    let admin = runtime.admin_token.expose();
    if gateway.sessions().valid(&session, admin) {
        let write = !matches!(*request.method(), Method::GET | Method::HEAD);
        if write {
            let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
            let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
            let same_origin = matches!((host, origin), (Some(host), Some(origin)) if origin == format!("http://{host}"));
            if !same_origin || !crate::auth::is_loopback_host(headers) {
                return crate::error::GatewayError::ForeignOrigin.into_response();
            }
        }
        if let Ok(value) = axum::http::HeaderValue::from_str(&format!("Bearer {admin}")) {
            request.headers_mut().insert(header::AUTHORIZATION, value);
        }
    }
    next.run(request).await
}

/// Every request gets an id: in a tracing span around its handling (so its log lines carry it),
/// in the `x-hearth-request-id` request header the pipeline reads (a client's own value is
/// replaced: ids are Hearth's), and in the same response header.
async fn request_span(
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use tracing::Instrument;
    let id = crate::pipeline::new_request_id();
    let header = axum::http::HeaderValue::from_str(&id).ok();
    if let Some(value) = &header {
        request
            .headers_mut()
            .insert(crate::pipeline::REQUEST_ID, value.clone());
    }
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = %request.method(),
        path = %request.uri().path()
    );
    let mut response = next.run(request).instrument(span).await;
    if let Some(value) = header {
        response
            .headers_mut()
            .insert(crate::pipeline::REQUEST_ID, value);
    }
    response
}

/// A streamed answer: `body` as it comes, with Hearth's headers (`out_headers`), the stream's
/// content type and no caching.
pub(crate) fn streamed<S>(
    out_headers: axum::http::HeaderMap,
    content_type: &'static str,
    body: S,
) -> axum::response::Response
where
    S: futures_util::Stream + Send + 'static,
    S::Item: Into<axum::body::Bytes>,
{
    use futures_util::StreamExt as _;
    let body = body.map(|part| Ok::<_, std::convert::Infallible>(part.into()));
    let mut response = axum::response::Response::new(axum::body::Body::from_stream(body));
    let headers = response.headers_mut();
    headers.extend(out_headers);
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static(content_type),
    );
    headers.insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-cache"),
    );
    response
}
