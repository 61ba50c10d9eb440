//! Browser sessions for the web UI. `hearth open` asks the admin API for a one-time login code
//! (valid two minutes, usable once); `/ui/login?code=…` exchanges it for a session cookie
//! (`HttpOnly; SameSite=Strict`), which then stands for the admin token on `/admin/*`. Writes
//! made with the cookie must also come from the UI's own origin. Sessions live in memory: a
//! restart of Hearth signs the browser out.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use hearth_secrets::{constant_time_eq, generate_token};

pub const COOKIE: &str = "hearth_session";
/// How long a login code works.
pub const CODE_TTL: Duration = Duration::from_secs(120);
const SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

#[derive(Debug, Default)]
pub struct Sessions {
    codes: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<Vec<(String, Instant)>>,
}

impl Sessions {
    /// A fresh one-time login code.
    pub fn issue_code(&self) -> Option<(String, Duration)> {
        let code = generate_token().ok()?.expose().clone();
        let mut codes = self.codes.lock().ok()?;
        codes.retain(|_, issued| issued.elapsed() < CODE_TTL);
        codes.insert(code.clone(), Instant::now());
        Some((code, CODE_TTL))
    }

    /// Spends `code` and opens a session for it; `None` when it is unknown, used or expired.
    pub fn redeem(&self, code: &str) -> Option<String> {
        let issued = self.codes.lock().ok()?.remove(code)?;
        if issued.elapsed() >= CODE_TTL {
            return None;
        }
        let session = generate_token().ok()?.expose().clone();
        let mut sessions = self.sessions.lock().ok()?;
        sessions.retain(|(_, opened)| opened.elapsed() < SESSION_TTL);
        sessions.push((session.clone(), Instant::now()));
        Some(session)
    }

    /// Whether `session` is open (compared in constant time with each open session).
    pub fn valid(&self, session: &str) -> bool {
        self.sessions.lock().is_ok_and(|sessions| {
            sessions.iter().any(|(open, opened)| {
                opened.elapsed() < SESSION_TTL
                    && constant_time_eq(open.as_bytes(), session.as_bytes())
            })
        })
    }
}

/// The session cookie's value in a `Cookie` header, if any.
pub fn from_cookies(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_opens_one_session_once() {
        let sessions = Sessions::default();
        let (code, _) = sessions.issue_code().unwrap();
        let session = sessions.redeem(&code).unwrap();
        assert!(sessions.valid(&session));
        assert!(sessions.redeem(&code).is_none(), "a code works once");
        assert!(!sessions.valid("hth_forged"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "a=1; hearth_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(from_cookies(&headers).as_deref(), Some("xyz"));
    }
}
