//! The web UI at `/ui/`: the files of `ui/` embedded at build time (see build.rs), and
//! `/ui/session`, which turns a one-time code from `hearth open` into a session the page holds
//! (see `session.rs`).

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{auth::is_loopback_host, session, state::Gateway};

include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));

fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

/// Headers every UI answer carries: only its own scripts and styles, never framed, no referrer
/// (a login link's code must not travel on).
fn harden(response: &mut Response) {
    let headers = response.headers_mut();
    for (name, value) in [
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-cache"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// A file of `$HEARTH_UI_DIR` when that is set (working on the UI without rebuilding), else
/// the embedded one. Only plain relative paths: no `..`, no absolute path.
fn contents(path: &str) -> Option<Vec<u8>> {
    let plain = std::path::Path::new(path)
        .components()
        .all(|part| matches!(part, std::path::Component::Normal(_)));
    if !plain {
        return None;
    }
    if let Some(dir) = std::env::var_os("HEARTH_UI_DIR") {
        return std::fs::read(std::path::Path::new(&dir).join(path)).ok();
    }
    ASSETS
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| bytes.to_vec())
}

fn asset(path: &str) -> Response {
    let path = if path.is_empty() { "index.html" } else { path };
    let mut response = match contents(path) {
        Some(bytes) => {
            let name = path;
            let mut response = bytes.into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(content_type(name)),
            );
            response
        }
        None => (StatusCode::NOT_FOUND, "no such file in the UI").into_response(),
    };
    harden(&mut response);
    response
}

fn foreign_host() -> Response {
    (
        StatusCode::FORBIDDEN,
        "the UI answers only on a loopback address (localhost, 127.0.0.1, [::1])",
    )
        .into_response()
}

/// `GET /ui` → `/ui/`.
pub async fn root() -> Redirect {
    Redirect::permanent("/ui/")
}

/// `GET /ui/`.
pub async fn index(headers: HeaderMap) -> Response {
    if !is_loopback_host(&headers) {
        return foreign_host();
    }
    asset("index.html")
}

/// `GET /ui/{*path}`.
pub async fn file(headers: HeaderMap, Path(path): Path<String>) -> Response {
    if !is_loopback_host(&headers) {
        return foreign_host();
    }
    asset(&path)
}

#[derive(Debug, Deserialize)]
pub struct Login {
    code: Option<String>,
    /// The tab to land on.
    page: Option<String>,
}

const PAGES: [&str; 6] = [
    "dashboard",
    "models",
    "agents",
    "bindings",
    "services",
    "general",
];

/// `GET /ui/login?code=…`, the form of older links: on to `/ui/#login=…`, where the page
/// signs in. The code itself is not spent here, and no cookie is set.
pub async fn login(headers: HeaderMap, Query(login): Query<Login>) -> Response {
    if !is_loopback_host(&headers) {
        return foreign_host();
    }
    let code: String = login
        .code
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
        .collect();
    let page = login
        .page
        .as_deref()
        .filter(|page| PAGES.contains(page))
        .unwrap_or("dashboard");
    let mut response = Redirect::to(&format!("/ui/#login={code}&page={page}")).into_response();
    harden(&mut response);
    response
}

#[derive(Debug, Deserialize)]
pub struct SignIn {
    code: String,
}

fn signed_out(message: &'static str) -> Response {
    let body = serde_json::json!({ "error": {
        "message": message,
        "type": "authentication_error",
        "code": "invalid_login_code",
    }});
    (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response()
}

/// `POST /ui/session` `{"code": …}`: a valid one-time code becomes a session, in the body of
/// the answer (`{"session", "idleSeconds", "lifetimeSeconds"}`), for the page to keep and send
/// in `x-hearth-session`.
pub async fn sign_in(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    axum::Json(sign_in): axum::Json<SignIn>,
) -> Response {
    if !is_loopback_host(&headers) {
        return foreign_host();
    }
    let admin = gateway.runtime().admin_token.expose().clone();
    let mut response = match gateway.sessions().redeem(&sign_in.code, &admin) {
        Some(token) => axum::Json(serde_json::json!({
            "session": token,
            "idleSeconds": session::IDLE.as_secs(),
            "lifetimeSeconds": session::LIFETIME.as_secs(),
        }))
        .into_response(),
        None => signed_out(
            "This login link is used up or has expired. Run `hearth open` for a new one.",
        ),
    };
    harden(&mut response);
    response
}

/// `DELETE /ui/session`: signs the session in `x-hearth-session` out (204), 401 when there
/// is no such session.
pub async fn sign_out(State(gateway): State<Gateway>, headers: HeaderMap) -> Response {
    let ended = session::from_headers(&headers).is_some_and(|token| gateway.sessions().end(&token));
    if ended {
        StatusCode::NO_CONTENT.into_response()
    } else {
        signed_out("This browser is not signed in.")
    }
}
