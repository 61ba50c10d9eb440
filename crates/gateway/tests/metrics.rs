//! `GET /metrics` over a real socket, in front of a FIXTURE BACKEND (a small axum router
//! speaking OpenAI's streamed chat completions) and a backend that is down: which families
//! exist, who may read them, and what refused, failed, streamed and abandoned requests count.
//! The exposition is parsed as OpenMetrics text, not grepped.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{collections::BTreeMap, convert::Infallible, sync::Arc, time::Duration};

use axum::{
    Json, Router,
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
    routing::post,
};
use futures_util::StreamExt;
use hearth_core::{
    Secret,
    config::store::{self, Paths},
};
use hearth_gateway::{Gateway, Runtime};
use hearth_secrets::{MemoryStore, SecretStore};
use serde_json::{Value, json};

const CLIENT: &str = "hth_client_test_token";

// ---------------------------------------------------------------------------------------------
// OpenMetrics text, parsed

/// One sample line: `name{label="value",…} value`.
#[derive(Debug, Clone)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// An exposition: each family's type, and every sample.
#[derive(Debug)]
struct Exposition {
    types: BTreeMap<String, String>,
    samples: Vec<Sample>,
}

impl Exposition {
    /// Parses the OpenMetrics text format; fails the test on anything malformed, and on a
    /// missing `# EOF`.
    fn parse(text: &str) -> Exposition {
        let mut types = BTreeMap::new();
        let mut samples = Vec::new();
        let mut lines = text.lines();
        for line in lines.by_ref() {
            if line == "# EOF" {
                break;
            }
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').unwrap();
                types.insert(name.to_owned(), kind.to_owned());
            } else if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
            } else {
                samples.push(parse_sample(line));
            }
        }
        assert!(
            lines.next().is_none() && text.ends_with("# EOF\n"),
            "the exposition must end with `# EOF`:\n{text}"
        );
        Exposition { types, samples }
    }

    /// The sum of the samples called `name` whose labels include every pair of `labels`.
    fn sum(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
            })
            .map(|sample| sample.value)
            .sum()
    }
}

fn parse_sample(line: &str) -> Sample {
    let (name, mut rest) = match line.find(['{', ' ']) {
        Some(at) => line.split_at(at),
        None => panic!("no value in sample line `{line}`"),
    };
    let mut labels = BTreeMap::new();
    if let Some(mut inside) = rest.strip_prefix('{') {
        loop {
            if let Some(after) = inside.strip_prefix('}') {
                rest = after;
                break;
            }
            let (key, after) = inside.split_once("=\"").unwrap();
            let mut value = String::new();
            let mut chars = after.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, other)) => value.push(other),
                        None => panic!("dangling escape in `{line}`"),
                    },
                    Some((at, '"')) => break at,
                    Some((_, other)) => value.push(other),
                    None => panic!("unterminated label value in `{line}`"),
                }
            };
            labels.insert(key.to_owned(), value);
            inside = after[end + 1..].trim_start_matches(',');
        }
    }
    // The value; a timestamp or an exemplar (` # {…} …`) may follow it.
    let value = rest.split_whitespace().next().unwrap();
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number
            .parse()
            .unwrap_or_else(|_| panic!("bad value in `{line}`")),
    };
    Sample {
        name: name.to_owned(),
        labels,
        value,
    }
}

// ---------------------------------------------------------------------------------------------
// The fixture backend and the gateway

fn sse(chunks: &[Value]) -> Vec<String> {
    chunks
        .iter()
        .map(|chunk| format!("data: {chunk}\n\n"))
        .collect()
}

/// `/v1/chat/completions` of an OpenAI-compatible server. Model `fast`: text, a call to `bash`
/// (denied to the test agent), usage — no llama-server timings, so the gateway measures the
/// decode speed itself. Model `stall`: one chunk, then nothing until the caller hangs up.
async fn fixture_chat(Json(request): Json<Value>) -> Response {
    let model = request["model"].as_str().unwrap_or_default().to_owned();
    if request["stream"] != json!(true) {
        return Json(json!({
            "id": "x", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{ "index": 0, "message": { "role": "assistant", "content": "Hi." }, "finish_reason": "stop" }],
            "usage": { "prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8 },
            "timings": { "prompt_n": 5, "prompt_ms": 4.0, "predicted_n": 3, "predicted_ms": 30.0, "predicted_per_second": 100.0 }
        }))
        .into_response();
    }
    let chunk = |delta: Value, finish: Value| {
        json!({ "id": "x", "object": "chat.completion.chunk", "created": 1, "model": model,
                "choices": [{ "index": 0, "delta": delta, "finish_reason": finish }] })
    };
    let events = if model == "stall" {
        sse(&[chunk(
            json!({ "role": "assistant", "content": "Hel" }),
            Value::Null,
        )])
    } else {
        sse(&[
            chunk(json!({ "role": "assistant", "content": "Let me" }), Value::Null),
            chunk(json!({ "content": " check." }), Value::Null),
            chunk(
                json!({ "tool_calls": [{ "index": 0, "id": "a", "type": "function",
                        "function": { "name": "bash", "arguments": "{\"command\":\"ls\"}" } }] }),
                Value::Null,
            ),
            chunk(json!({}), json!("tool_calls")),
            json!({ "id": "x", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
                    "usage": { "prompt_tokens": 5, "completion_tokens": 9, "total_tokens": 14 } }),
        ])
        .into_iter()
        .chain(["data: [DONE]\n\n".to_owned()])
        .collect()
    };
    let stall = model == "stall";
    let body = futures_util::stream::iter(events)
        .then(|event| async move {
            tokio::time::sleep(Duration::from_millis(15)).await;
            Ok::<Bytes, Infallible>(Bytes::from(event))
        })
        .chain(
            futures_util::stream::pending()
                .take_while(move |_: &Result<Bytes, Infallible>| std::future::ready(stall)),
        );
    Response::builder()
        .header(header::CONTENT_TYPE, "text/event-stream")
        .body(Body::from_stream(body))
        .unwrap()
}

struct Running {
    base: String,
    gateway: Gateway,
    paths: Paths,
    secrets: Arc<dyn SecretStore>,
    _dir: tempfile::TempDir,
    _backend: tokio::task::JoinHandle<()>,
    _server: tokio::task::JoinHandle<std::io::Result<()>>,
}

fn config(backend: &str, workspace: &std::path::Path) -> Value {
    json!({
        "providers": {
            "fix": {
                "api": "openai-completions",
                "baseUrl": format!("{backend}/v1"),
                "models": [{ "id": "fast", "contextWindow": 4096 }, { "id": "stall", "contextWindow": 4096 }]
            },
            // Nothing listens on port 1.
            "down": {
                "api": "openai-completions",
                "baseUrl": "http://127.0.0.1:1/v1",
                "models": [{ "id": "m", "contextWindow": 4096 }]
            }
        },
        "models": { "primary": "fix/fast" },
        "agents": [{ "id": "main", "workspace": workspace, "tools": { "deny": ["group:runtime"] } }],
        "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }]
    })
}

async fn start() -> Running {
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let backend = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let backend_url = format!("http://{}", backend.local_addr().unwrap());
    let backend = tokio::spawn(async move {
        let router = Router::new().route("/v1/chat/completions", post(fixture_chat));
        axum::serve(backend, router).await.unwrap();
    });
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let validated = store::save(&paths, &config(&backend_url, &dir.path().join("main"))).unwrap();
    let secrets = MemoryStore::new();
    secrets
        .set(
            "hearth.admin",
            &Secret::new("hth_admin_test_token".to_owned()),
        )
        .unwrap();
    secrets
        .set("hearth.client.app", &Secret::new(CLIENT.to_owned()))
        .unwrap();
    let secrets: Arc<dyn SecretStore> = Arc::new(secrets);
    let runtime = Runtime::load(validated.config, validated.warnings, secrets.as_ref()).unwrap();
    let gateway = Gateway::new(runtime, Arc::clone(&secrets), None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(hearth_gateway::serve(
        gateway.clone(),
        listener,
        std::future::pending(),
    ));
    Running {
        base,
        gateway,
        paths,
        secrets,
        _dir: dir,
        _backend: backend,
        _server: server,
    }
}

async fn metrics(base: &str) -> Exposition {
    let response = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    Exposition::parse(&response.text().await.unwrap())
}

fn chat(base: &str, body: Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .bearer_auth(CLIENT)
        .json(&body)
}

fn hello(model: &str, stream: bool) -> Value {
    json!({ "model": model, "stream": stream, "messages": [{ "role": "user", "content": "hi" }] })
}

const REQUESTS: &str = "hearth_requests_total";

// ---------------------------------------------------------------------------------------------
// Tests

#[tokio::test]
async fn every_family_is_there_from_the_start_for_callers_the_gateway_accepts() {
    let running = start().await;
    let base = &running.base;
    let anonymous = reqwest::get(format!("{base}/metrics")).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 200, "anonymous on loopback");
    assert_eq!(
        anonymous.headers()[header::CONTENT_TYPE],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let exposition = Exposition::parse(&anonymous.text().await.unwrap());
    let families: Vec<(&str, &str)> = exposition
        .types
        .iter()
        .map(|(name, kind)| (name.as_str(), kind.as_str()))
        .collect();
    assert_eq!(
        families,
        [
            ("hearth_decode_tokens_per_second", "histogram"),
            ("hearth_errors", "counter"),
            ("hearth_fallbacks", "counter"),
            ("hearth_in_flight_requests", "gauge"),
            ("hearth_requests", "counter"),
            ("hearth_time_to_first_token_seconds", "histogram"),
            ("hearth_tool_calls_blocked", "counter"),
            ("hearth_tools_removed", "counter"),
        ]
    );
    assert!(exposition.samples.is_empty(), "{exposition:?}");
    let with_token = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth(CLIENT)
        .send()
        .await
        .unwrap();
    assert_eq!(with_token.status().as_u16(), 200);
    let wrong = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("hth_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status().as_u16(), 401);
}

#[tokio::test]
async fn refused_and_failed_requests_count_with_the_labels_known_so_far() {
    let running = start().await;
    let base = &running.base;
    let unknown = chat(base, hello("fix/nonesuch", false))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
    let down = chat(base, hello("down/m", true)).send().await.unwrap();
    assert_eq!(down.status().as_u16(), 503);
    let exposition = metrics(base).await;
    let refused = [
        ("agent", "main"),
        ("model", "unknown"),
        ("provider", "unknown"),
        ("api", "openai-completions"),
        ("outcome", "client_error"),
    ];
    assert_eq!(exposition.sum(REQUESTS, &refused), 1.0, "{exposition:?}");
    assert_eq!(
        exposition.sum(
            "hearth_errors_total",
            &[("provider", "unknown"), ("kind", "model_not_found")]
        ),
        1.0
    );
    let failed = [
        ("agent", "main"),
        ("model", "down/m"),
        ("provider", "down"),
        ("outcome", "backend_error"),
    ];
    assert_eq!(exposition.sum(REQUESTS, &failed), 1.0, "{exposition:?}");
    assert_eq!(
        exposition.sum(
            "hearth_errors_total",
            &[("provider", "down"), ("kind", "connect")]
        ),
        1.0
    );
    assert_eq!(exposition.sum(REQUESTS, &[]), 2.0, "nothing else counted");
    assert_eq!(
        exposition.sum("hearth_in_flight_requests", &[("provider", "down")]),
        0.0
    );

    // A reload swaps the configuration, not the metrics.
    let validated = store::load(&running.paths).unwrap().validated;
    let runtime = Runtime::load(
        validated.config,
        validated.warnings,
        running.secrets.as_ref(),
    )
    .unwrap();
    running.gateway.replace(runtime);
    assert_eq!(metrics(base).await.sum(REQUESTS, &refused), 1.0);
}

#[tokio::test]
async fn a_streamed_answer_is_timed_and_its_policy_work_counted() {
    let running = start().await;
    let base = &running.base;
    let mut request = hello("fix/fast", true);
    request["tools"] = json!([
        { "type": "function", "function": { "name": "bash" } },
        { "type": "function", "function": { "name": "get_weather" } }
    ]);
    let response = chat(base, request).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let text = response.text().await.unwrap();
    assert!(text.ends_with("data: [DONE]\n\n"), "{text}");
    let whole = chat(base, hello("fix/fast", false)).send().await.unwrap();
    assert_eq!(whole.status().as_u16(), 200);

    let exposition = metrics(base).await;
    let model = [("provider", "fix"), ("model", "fix/fast")];
    assert_eq!(
        exposition.sum(REQUESTS, &[("model", "fix/fast"), ("outcome", "ok")]),
        2.0,
        "{exposition:?}"
    );
    assert_eq!(
        exposition.sum("hearth_time_to_first_token_seconds_count", &model),
        2.0,
        "streamed: measured; whole: wall time less the reported decode time"
    );
    assert_eq!(
        exposition.sum("hearth_decode_tokens_per_second_count", &model),
        2.0
    );
    // Streamed: 8 tokens after the first over ~45 ms, measured here; whole: the backend's 100.
    let rate_sum = exposition.sum("hearth_decode_tokens_per_second_sum", &model);
    assert!(rate_sum > 100.0, "{rate_sum}");
    assert_eq!(
        exposition.sum("hearth_tools_removed_total", &[("agent", "main")]),
        1.0
    );
    assert_eq!(
        exposition.sum("hearth_tool_calls_blocked_total", &[("agent", "main")]),
        1.0
    );
    assert_eq!(
        exposition.sum("hearth_in_flight_requests", &[("provider", "fix")]),
        0.0
    );
}

#[tokio::test]
async fn a_client_that_leaves_mid_stream_leaves_nothing_in_flight() {
    let running = start().await;
    let base = &running.base;
    let response = chat(base, hello("fix/stall", true)).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut bytes = response.bytes_stream();
    let first = bytes.next().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("Hel"));
    let in_flight = |exposition: &Exposition| {
        exposition.sum("hearth_in_flight_requests", &[("provider", "fix")])
    };
    assert_eq!(in_flight(&metrics(base).await), 1.0);
    drop(bytes);
    for _ in 0..100 {
        let exposition = metrics(base).await;
        if in_flight(&exposition) == 0.0 {
            assert_eq!(
                exposition.sum(REQUESTS, &[("outcome", "cancelled")]),
                1.0,
                "{exposition:?}"
            );
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the abandoned stream is still in flight");
}
