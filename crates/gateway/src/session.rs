//! Browser sessions for the web UI. `hearth open` (or the app) asks the admin API for a
//! one-time login code (valid two minutes, usable once) and opens `/ui/#login=<code>`; the page
//! posts the code to `POST /ui/session` and gets a session token back in the answer's body. The
//! page keeps it in `sessionStorage` (its own origin: scheme, host *and port*) and sends it in
//! the `x-hearth-session` header, where it stands for the admin token on `/admin/*`.
//!
//! Not a cookie: browsers do not separate cookies by port, so a page or program on any other
//! port of 127.0.0.1 would receive it. A header is sent only by the page's own script, and a
//! page of another origin cannot even ask to send it (a custom header needs a CORS preflight
//! that Hearth never grants).
//!
//! A session ends after [`IDLE`] without a request, after [`LIFETIME`] in any case, when the
//! page signs out (`DELETE /ui/session`), and when the admin token changes (a rotation): each
//! session remembers the admin token it was opened under. Sessions live in memory: a restart
//! of Hearth signs the browser out.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use hearth_secrets::{constant_time_eq, generate_token};

/// The request header that carries a session.
pub const HEADER: &str = "x-hearth-session";
/// How long a login code works.
pub const CODE_TTL: Duration = Duration::from_secs(120);
/// A session unused this long is over.
pub const IDLE: Duration = Duration::from_secs(20 * 60);
/// No session lasts longer than this, however busy.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);

#[derive(Debug)]
struct Session {
    token: String,
    /// The admin token when it was opened: a rotation ends it.
    admin: String,
    opened: Instant,
    used: Instant,
}

impl Session {
    fn live(&self, now: Instant) -> bool {
        now.duration_since(self.opened) < LIFETIME && now.duration_since(self.used) < IDLE
    }
}

#[derive(Debug, Default)]
pub struct Sessions {
    codes: Mutex<HashMap<String, Instant>>,
    sessions: Mutex<Vec<Session>>,
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

    /// Spends `code` and opens a session under the current `admin` token; `None` when the code
    /// is unknown, used or expired.
    pub fn redeem(&self, code: &str, admin: &str) -> Option<String> {
        self.redeem_at(code, admin, Instant::now())
    }

    fn redeem_at(&self, code: &str, admin: &str, now: Instant) -> Option<String> {
        let issued = self.codes.lock().ok()?.remove(code)?;
        if now.duration_since(issued) >= CODE_TTL {
            return None;
        }
        let token = generate_token().ok()?.expose().clone();
        let mut sessions = self.sessions.lock().ok()?;
        sessions.retain(|session| session.live(now));
        sessions.push(Session {
            token: token.clone(),
            admin: admin.to_owned(),
            opened: now,
            used: now,
        });
        Some(token)
    }

    /// Whether `token` is an open session under the current `admin` token (compared in
    /// constant time); a valid one counts as used now.
    pub fn valid(&self, token: &str, admin: &str) -> bool {
        self.valid_at(token, admin, Instant::now())
    }

    fn valid_at(&self, token: &str, admin: &str, now: Instant) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else {
            return false;
        };
        sessions.retain(|session| {
            session.live(now) && constant_time_eq(session.admin.as_bytes(), admin.as_bytes())
        });
        let found = sessions
            .iter_mut()
            .find(|session| constant_time_eq(session.token.as_bytes(), token.as_bytes()));
        found.map(|session| session.used = now).is_some()
    }

    /// Ends the session `token`; whether there was one.
    pub fn end(&self, token: &str) -> bool {
        let Ok(mut sessions) = self.sessions.lock() else {
            return false;
        };
        let before = sessions.len();
        sessions.retain(|session| !constant_time_eq(session.token.as_bytes(), token.as_bytes()));
        sessions.len() != before
    }
}

/// The session a request carries in the [`HEADER`], if any.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str = "hth_admin";

    #[test]
    fn a_code_opens_one_session_once() {
        let sessions = Sessions::default();
        let (code, _) = sessions.issue_code().unwrap();
        let session = sessions.redeem(&code, ADMIN).unwrap();
        assert!(sessions.valid(&session, ADMIN));
        assert!(sessions.redeem(&code, ADMIN).is_none(), "a code works once");
        assert!(!sessions.valid("hth_forged", ADMIN));
    }

    #[test]
    fn an_expired_code_opens_nothing() {
        let sessions = Sessions::default();
        let (code, _) = sessions.issue_code().unwrap();
        let later = Instant::now() + CODE_TTL;
        assert!(sessions.redeem_at(&code, ADMIN, later).is_none());
    }

    #[test]
    fn a_session_ends_when_idle_when_old_and_when_the_admin_token_changes() {
        let sessions = Sessions::default();
        let start = Instant::now();
        let open = |sessions: &Sessions| {
            let (code, _) = sessions.issue_code().unwrap();
            sessions.redeem_at(&code, ADMIN, start).unwrap()
        };

        // Used within the idle time, it lives on; left alone for it, it is over.
        let busy = open(&sessions);
        let step = IDLE - Duration::from_secs(1);
        assert!(sessions.valid_at(&busy, ADMIN, start + step));
        assert!(sessions.valid_at(&busy, ADMIN, start + step * 2));
        assert!(!sessions.valid_at(&busy, ADMIN, start + step * 2 + IDLE));

        // However busy, not past its lifetime.
        let sessions = Sessions::default();
        let busy = open(&sessions);
        let mut now = start;
        while now.duration_since(start) + step < LIFETIME {
            now += step;
            assert!(sessions.valid_at(&busy, ADMIN, now));
        }
        assert!(!sessions.valid_at(&busy, ADMIN, start + LIFETIME));

        // A rotated admin token ends every session opened under the old one, for good.
        let sessions = Sessions::default();
        let session = open(&sessions);
        assert!(!sessions.valid_at(&session, "hth_rotated", start));
        assert!(!sessions.valid_at(&session, ADMIN, start));
    }

    #[test]
    fn a_signed_out_session_is_over() {
        let sessions = Sessions::default();
        let (code, _) = sessions.issue_code().unwrap();
        let session = sessions.redeem(&code, ADMIN).unwrap();
        assert!(sessions.end(&session));
        assert!(!sessions.valid(&session, ADMIN));
        assert!(!sessions.end(&session));
    }
}
