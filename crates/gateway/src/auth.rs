//! Who is calling. A bearer token (`Authorization: Bearer …`, or Anthropic's `x-api-key`) names
//! the admin or a client, compared in constant time against every known token. No token is an
//! anonymous caller, allowed only while the gateway listens on loopback. A token that matches
//! nothing is refused rather than treated as anonymous, so a typo never silently changes route.
//! Admin routes also require a loopback `Host` header, which defeats DNS rebinding.

use axum::http::{HeaderMap, header};
use hearth_secrets::constant_time_eq;

use crate::{error::GatewayError, state::Runtime};

/// The authenticated caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Client(String),
    Anonymous,
}

/// The token the request presents, if any. An `Authorization` header that is not
/// `Bearer <token>` is refused rather than read as "no token": a misconfigured client must not
/// silently become anonymous.
fn presented_token(headers: &HeaderMap) -> Result<Option<&str>, GatewayError> {
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let value = value.to_str().map_err(|_| GatewayError::Unauthorized)?;
        let (scheme, token) = value
            .trim()
            .split_once(' ')
            .ok_or(GatewayError::Unauthorized)?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
            return Err(GatewayError::Unauthorized);
        }
        return Ok(Some(token));
    }
    // Present but unusable (empty, not text) is refused too, never read as no credential.
    match headers.get("x-api-key") {
        None => Ok(None),
        Some(value) => match value.to_str().map(str::trim) {
            Ok(token) if !token.is_empty() => Ok(Some(token)),
            _ => Err(GatewayError::Unauthorized),
        },
    }
}

/// Identifies the caller; `Unauthorized` for a token that matches nothing, or for no token when
/// the gateway serves beyond loopback. An anonymous caller must also come from this machine as
/// far as a browser is concerned — a loopback `Host`, and a loopback `Origin` if it sends one —
/// so a web page cannot spend local models through DNS rebinding or a cross-origin POST.
pub fn authenticate(runtime: &Runtime, headers: &HeaderMap) -> Result<Caller, GatewayError> {
    let Some(token) = presented_token(headers)? else {
        if runtime.config.gateway.allow_remote {
            return Err(GatewayError::Unauthorized);
        }
        if !is_loopback_host(headers) {
            return Err(GatewayError::ForeignHost);
        }
        if let Some(origin) = headers.get(header::ORIGIN)
            && !origin.to_str().is_ok_and(is_loopback_origin)
        {
            return Err(GatewayError::ForeignOrigin);
        }
        return Ok(Caller::Anonymous);
    };
    // Every comparison runs, whichever matches, so timing tells nothing about which token it was.
    let mut caller = None;
    if constant_time_eq(token.as_bytes(), runtime.admin_token.expose().as_bytes()) {
        caller = Some(Caller::Admin);
    }
    for (name, secret) in &runtime.client_tokens {
        if constant_time_eq(token.as_bytes(), secret.expose().as_bytes()) && caller.is_none() {
            caller = Some(Caller::Client(name.clone()));
        }
    }
    caller.ok_or(GatewayError::Unauthorized)
}

/// `http://localhost:1234`, `http://127.0.0.1`, `https://[::1]:8443`: a page served from this
/// machine.
fn is_loopback_origin(origin: &str) -> bool {
    let Some((_, rest)) = origin.split_once("://") else {
        return false;
    };
    match axum::http::HeaderValue::from_str(rest.trim_end_matches('/')) {
        Ok(host) => {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, host);
            is_loopback_host(&headers)
        }
        Err(_) => false,
    }
}

/// Whether the `Host` header names this machine's loopback interface: `localhost` itself or a
/// loopback address. Not `*.localhost`: browsers resolve those to loopback themselves, but an OS
/// resolver may send them to a DNS server (macOS's does), whose answer a rebinding attacker can
/// control; only names no resolver ever asks a DNS server about count.
pub fn is_loopback_host(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        // [::1]:port
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// The admin, calling with a loopback `Host`.
pub fn require_admin(runtime: &Runtime, headers: &HeaderMap) -> Result<(), GatewayError> {
    if !is_loopback_host(headers) {
        return Err(GatewayError::ForeignHost);
    }
    match authenticate(runtime, headers)? {
        Caller::Admin => Ok(()),
        _ => Err(GatewayError::AdminOnly),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn loopback_hosts_are_recognised() {
        for (host, loopback) in [
            ("localhost", true),
            ("localhost:11500", true),
            ("127.0.0.1:11500", true),
            ("127.8.9.1", true),
            ("[::1]:11500", true),
            ("hearth.localhost:11500", false),
            ("anything.localhost", false),
            ("LOCALHOST:80", true),
            ("evil.example:11500", false),
            ("localhost.evil.example", false),
            ("192.168.1.5:11500", false),
            ("[::ffff:10.0.0.1]:80", false),
        ] {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(host));
            assert_eq!(is_loopback_host(&headers), loopback, "{host}");
        }
        assert!(!is_loopback_host(&HeaderMap::new()));
    }

    #[test]
    fn a_credential_header_that_is_present_but_unusable_is_refused() {
        let values: [&[u8]; 3] = [b"", b"   ", b"\xff\xfe"];
        for value in values {
            let mut headers = HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static("localhost"));
            headers.insert("x-api-key", HeaderValue::from_bytes(value).unwrap());
            assert!(
                matches!(presented_token(&headers), Err(GatewayError::Unauthorized)),
                "x-api-key: {value:?}"
            );
        }
        let mut headers = HeaderMap::new();
        headers.insert("x-api-key", HeaderValue::from_static(" hth_x "));
        assert!(matches!(presented_token(&headers), Ok(Some("hth_x"))));
        assert!(matches!(presented_token(&HeaderMap::new()), Ok(None)));
    }
}
