//! The web UI's way in and the admin routes it edits with, over a real socket: a one-time
//! login link becomes a session the page holds and sends in a header (never a cookie, which
//! every other port of 127.0.0.1 would receive), ended by a sign-out and by a rotation of the
//! admin token; writes with it must come from the UI's own origin; config edits are validated
//! first and every problem comes back with its JSON path, the file untouched; tokens rotate at
//! once.

#![expect(clippy::unwrap_used, reason = "a test: a failure must fail it loudly")]

use std::sync::Arc;

use hearth_core::{
    Secret,
    config::store::{self, Paths},
};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

const ADMIN: &str = "hth_admin_ui_test";

struct Running {
    base: String,
    paths: Paths,
    _dir: tempfile::TempDir,
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let document = json!({
        "agents": [
            { "id": "public", "workspace": dir.path().join("public"), "tools": { "deny": ["group:runtime"] } },
            { "id": "private", "workspace": dir.path().join("private") }
        ],
        "defaultAgent": "public",
        "clients": [{ "name": "openclaw", "token": "keychain:hearth.client.openclaw", "trusted": true }],
        "bindings": [{ "agent": "private", "match": { "channel": "whatsapp", "peer": { "kind": "dm", "id": "+1555" } } }]
    });
    let validated = store::save(&paths, &document).unwrap();
    let secrets = MemoryStore::new();
    secrets
        .set("hearth.admin", &Secret::new(ADMIN.to_owned()))
        .unwrap();
    secrets
        .set(
            "hearth.client.openclaw",
            &Secret::new("hth_relay".to_owned()),
        )
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
    let runtime = Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
    let gateway = Gateway::new(runtime, secrets, Some(paths.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hearth_gateway::serve(
        gateway,
        listener,
        std::future::pending(),
    ));
    Running {
        base,
        paths,
        _dir: dir,
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A one-time login code, asked for the way `hearth open` does it.
async fn login_code(running: &Running) -> String {
    let link: Value = client()
        .post(format!("{}/admin/login-link", running.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let url = link["url"].as_str().unwrap();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let (_, code) = url.split_once("/ui/#login=").unwrap();
    code.to_owned()
}

/// `POST /ui/session` with `code`, as the page does.
async fn redeem(running: &Running, code: &str) -> reqwest::Response {
    client()
        .post(format!("{}/ui/session", running.base))
        .json(&json!({ "code": code }))
        .send()
        .await
        .unwrap()
}

/// A session, signed in the way the page does it with the link `hearth open` opens.
async fn sign_in(running: &Running) -> String {
    let code = login_code(running).await;
    let answer = redeem(running, &code).await;
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(
        !answer.headers().contains_key(header::SET_COOKIE),
        "no cookie"
    );
    let body: Value = answer.json().await.unwrap();
    // The code works once.
    assert_eq!(
        redeem(running, &code).await.status(),
        StatusCode::UNAUTHORIZED
    );
    body["session"].as_str().unwrap().to_owned()
}

/// `GET /admin/config` with `session` in the header; the status.
async fn read_config(running: &Running, session: &str) -> StatusCode {
    client()
        .get(format!("{}/admin/config", running.base))
        .header("x-hearth-session", session)
        .send()
        .await
        .unwrap()
        .status()
}

async fn set(
    running: &Running,
    session: &str,
    origin: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut request = client()
        .post(format!("{}/admin/config/set", running.base))
        .header("x-hearth-session", session)
        .json(&body);
    if let Some(origin) = origin {
        request = request.header(header::ORIGIN, origin);
    }
    let answer = request.send().await.unwrap();
    (answer.status(), answer.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_login_link_signs_the_page_in_with_a_session_no_other_port_receives() {
    let running = start().await;
    // Without a session the admin API is closed; a forged one changes nothing.
    let status = client()
        .get(format!("{}/admin/config", running.base))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        read_config(&running, "hth_forged").await,
        StatusCode::FORBIDDEN
    );

    // A link of the older form leads to the page, which signs in itself: no cookie is set and
    // the code is not spent on the way.
    let code = login_code(&running).await;
    let old = client()
        .get(format!("{}/ui/login?code={code}&page=models", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::SEE_OTHER);
    assert!(!old.headers().contains_key(header::SET_COOKIE));
    assert_eq!(
        old.headers()[header::LOCATION],
        format!("/ui/#login={code}&page=models").as_str()
    );
    assert_eq!(redeem(&running, &code).await.status(), StatusCode::OK);

    let session = sign_in(&running).await;
    assert_eq!(read_config(&running, &session).await, StatusCode::OK);
    // What a browser would hand a page on another port — a cookie — is worth nothing.
    let as_cookie = client()
        .get(format!("{}/admin/config", running.base))
        .header(header::COOKIE, format!("hearth_session={session}"))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(as_cookie, StatusCode::FORBIDDEN);

    // Writes with the session need the UI's own origin.
    let body = json!({ "path": "defaultAgent", "value": "private" });
    let (status, _) = set(&running, &session, None, body.clone()).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = set(
        &running,
        &session,
        Some("http://evil.example"),
        body.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let own = running.base.clone();
    let (status, answer) = set(&running, &session, Some(&own), body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&running.paths.config_file).unwrap())
            .unwrap();
    assert_eq!(saved["defaultAgent"], "private");
}

#[tokio::test]
async fn a_sign_out_and_a_rotation_of_the_admin_token_end_sessions() {
    let running = start().await;
    let leaving = sign_in(&running).await;
    let staying = sign_in(&running).await;
    let sign_out = |session: String| {
        let base = running.base.clone();
        async move {
            client()
                .delete(format!("{base}/ui/session"))
                .header("x-hearth-session", session)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(sign_out(leaving.clone()).await, StatusCode::NO_CONTENT);
    assert_eq!(read_config(&running, &leaving).await, StatusCode::FORBIDDEN);
    assert_eq!(
        sign_out(leaving).await,
        StatusCode::UNAUTHORIZED,
        "signed out once"
    );
    assert_eq!(read_config(&running, &staying).await, StatusCode::OK);

    // The session rotates the admin token itself: from then on it is over.
    let rotated = client()
        .post(format!("{}/admin/tokens/admin/rotate", running.base))
        .header("x-hearth-session", &staying)
        .header(header::ORIGIN, &running.base)
        .send()
        .await
        .unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    assert_eq!(read_config(&running, &staying).await, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_invalid_edit_names_the_field_and_leaves_the_file_as_it_was() {
    let running = start().await;
    let session = sign_in(&running).await;
    let before = std::fs::read(&running.paths.config_file).unwrap();
    let own = running.base.clone();
    let (status, answer) = set(
        &running,
        &session,
        Some(&own),
        json!({ "path": "bindings", "value": [{ "agent": "nobody", "match": { "chanel": "x" } }] }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(answer["error"]["code"], "invalid_config");
    let paths: Vec<&str> = answer["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["bindings[0].match", "bindings[0].agent"],
        "{answer}"
    );
    assert_eq!(answer["diagnostics"][0]["message"], "unknown key `chanel`");
    assert_eq!(answer["diagnostics"][0]["hint"], "did you mean `channel`?");
    assert_eq!(
        answer["diagnostics"][1]["message"],
        "there is no agent `nobody`"
    );
    // Where Hearth listens changes only with a restart.
    let (status, answer) = set(
        &running,
        &session,
        Some(&own),
        json!({ "path": "gateway.port", "value": 1234 }),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(
        answer["diagnostics"][0]["message"]
            .as_str()
            .unwrap()
            .contains("restart"),
        "{answer}"
    );
    assert_eq!(
        std::fs::read(&running.paths.config_file).unwrap(),
        before,
        "the file changed"
    );
}

#[tokio::test]
async fn the_simulator_and_policy_follow_an_edit_at_once() {
    let running = start().await;
    let get = |path: String| {
        let base = running.base.clone();
        async move {
            client()
                .get(format!("{base}{path}"))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let decision =
        get("/admin/route?client=openclaw&channel=whatsapp&peerKind=dm&peerId=%2B1555".to_owned())
            .await;
    assert_eq!(decision["agent"], "private");
    assert_eq!(decision["reason"]["rank"], "peer id");
    let answer = client()
        .post(format!("{}/admin/config/set", running.base))
        .bearer_auth(ADMIN)
        .json(&json!({ "path": "bindings[0].agent", "value": "public" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let decision =
        get("/admin/route?client=openclaw&channel=whatsapp&peerKind=dm&peerId=%2B1555".to_owned())
            .await;
    assert_eq!(decision["agent"], "public");
    let policy = get("/admin/policy/public?tool=bash&tool=read".to_owned()).await;
    assert_eq!(policy["decisions"][0]["verdict"], "denied", "{policy}");
    assert_eq!(
        policy["decisions"][0]["by"]["entry"], "group:runtime",
        "{policy}"
    );
    assert_eq!(policy["decisions"][1]["verdict"], "allowed", "{policy}");
    let unknown = get("/admin/route?client=nobody".to_owned()).await;
    assert!(
        unknown["error"]["message"]
            .as_str()
            .unwrap()
            .contains("there is no client `nobody`")
    );
}

#[tokio::test]
async fn a_rotated_token_is_in_force_at_once() {
    let running = start().await;
    let rotated: Value = client()
        .post(format!("{}/admin/tokens/admin/rotate", running.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new = rotated["token"].as_str().unwrap().to_owned();
    assert_ne!(new, ADMIN);
    let old = client()
        .get(format!("{}/admin/tokens", running.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
    let listed: Value = client()
        .get(format!("{}/admin/tokens", running.base))
        .bearer_auth(&new)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["tokens"][0]["name"], "admin");
    assert!(
        !listed.to_string().contains(&new),
        "a listing never shows a token's value"
    );
    let revealed: Value = client()
        .post(format!("{}/admin/tokens/openclaw/reveal", running.base))
        .bearer_auth(&new)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(revealed["token"], "hth_relay");
}

#[tokio::test]
async fn ui_files_are_served_hardened_and_nothing_outside_them() {
    let running = start().await;
    let index = client()
        .get(format!("{}/ui/", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert!(
        index.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'")
    );
    assert_eq!(index.headers()[header::REFERRER_POLICY], "no-referrer");
    let html = index.text().await.unwrap();
    assert!(html.contains("app.js"), "{html}");
    let script = client()
        .get(format!("{}/ui/app.js", running.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        script.headers()[header::CONTENT_TYPE],
        "text/javascript; charset=utf-8"
    );
    for path in [
        "/ui/../Cargo.toml",
        "/ui/%2e%2e/Cargo.toml",
        "/ui/nothing.js",
    ] {
        let answer = client()
            .get(format!("{}{path}", running.base))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let foreign = client()
        .get(format!("{}/ui/", running.base))
        .header(header::HOST, "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(foreign.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_openapi_document_names_routes_that_exist_with_schemas_from_the_types() {
    let running = start().await;
    let document: Value = client()
        .get(format!("{}/admin/openapi.json", running.base))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let set = &document["paths"]["/admin/config/set"]["post"]["requestBody"]["content"]["application/json"]
        ["schema"];
    assert_eq!(set["required"], json!(["path", "value"]), "{set}");
    let progress = &document["paths"]["/admin/models/activate"]["post"]["responses"]["200"]["content"]
        ["application/x-ndjson"]["schema"];
    assert!(progress["properties"]["steps"].is_object(), "{progress}");
    let paths = document["paths"].as_object().unwrap();
    assert!(paths.len() >= 20, "{}", paths.len());
    // Every documented route without path parameters answers (no 404 or 405 from the router).
    for (path, item) in paths {
        if path.contains('{') || path == "/admin/events" {
            continue;
        }
        for method in item.as_object().unwrap().keys() {
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let answer = client()
                .request(method.clone(), format!("{}{path}", running.base))
                .bearer_auth(ADMIN)
                .send()
                .await
                .unwrap();
            let status = answer.status();
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
}
