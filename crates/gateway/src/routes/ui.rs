//! The web UI at `/ui/`: the files of `ui/` embedded at build time (see build.rs), and
//! `/ui/login`, which turns a one-time code from `hearth open` into a session cookie.

use axum::{
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{auth::is_loopback_host, session::COOKIE, state::Gateway};

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

/// `GET /ui/login?code=…`: a valid code becomes a session cookie and the dashboard.
pub async fn login(
    State(gateway): State<Gateway>,
    headers: HeaderMap,
    Query(login): Query<Login>,
) -> Response {
    if !is_loopback_host(&headers) {
        return foreign_host();
    }
    let session = login
        .code
        .as_deref()
        .and_then(|code| gateway.sessions().redeem(code));
    let mut response = match session {
        Some(session) => {
            let page = login
                .page
                .as_deref()
                .filter(|page| PAGES.contains(page))
                .unwrap_or("dashboard");
            let mut response = Redirect::to(&format!("/ui/#/{page}")).into_response();
            if let Ok(cookie) = HeaderValue::from_str(&format!(
                "{COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/"
            )) {
                response.headers_mut().insert(header::SET_COOKIE, cookie);
            }
            response
        }
        None => {
            let mut response = (
                StatusCode::UNAUTHORIZED,
                "<!doctype html><title>Hearth</title><p>This login link is used up or has expired. Run <code>hearth open</code> for a new one.</p>",
            )
                .into_response();
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            response
        }
    };
    harden(&mut response);
    response
}
