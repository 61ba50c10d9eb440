//! The `ollama` backend (`providers/ollama.rs`) against a FIXTURE SERVER, not a real Ollama: no
//! Ollama can be installed on the machines these tests run on. The fixture server is a small
//! axum router on 127.0.0.1:0 that replays request and response bodies and NDJSON streams taken
//! from Ollama's published API documentation (`tests/fixtures/ollama/`, whose README names the
//! doc section each file mirrors). It also records every request it receives, so the tests check
//! what Hearth sent: the native `/api/chat` (never `/v1`), the exact model id, `keep_alive`,
//! an explicit `stream`, tool-call arguments as objects, options.
//!
//! Hearth's own Ollama-compatible routes are tested elsewhere, with the official `ollama` Python
//! client.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Router,
    body::{Body, Bytes},
    extract::{Request, State},
    http::{Method, StatusCode, header},
    response::Response,
};
use expect_test::{Expect, expect};
use futures_util::StreamExt;
use hearth_core::{Secret, config::file::ModelParams};
use hearth_gateway::providers::{BackendError, ChunkStream, Endpoint, ollama::Ollama};
use hearth_protocol::openai::chat::{ChatCompletionChunk, ChatCompletionRequest};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------------------------
// The fixture server

/// How the fixture server answers one route.
#[derive(Debug, Clone)]
enum Reply {
    /// A whole body.
    Body {
        status: StatusCode,
        content_type: &'static str,
        body: String,
    },
    /// NDJSON lines, `gap` apart, then the end of the body or, with `abort`, one more gap and
    /// a broken connection (no end of the chunked body).
    Lines {
        lines: Vec<String>,
        gap: Duration,
        abort: bool,
    },
}

impl Reply {
    fn json(status: StatusCode, file: &str) -> Reply {
        Reply::Body {
            status,
            content_type: "application/json; charset=utf-8",
            body: fixture(file),
        }
    }

    fn ndjson(file: &str) -> Reply {
        Reply::Lines {
            lines: fixture(file).lines().map(str::to_owned).collect(),
            gap: Duration::ZERO,
            abort: false,
        }
    }
}

/// One request as the fixture server received it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    authorization: Option<String>,
    /// `null` when the body was empty.
    body: Value,
}

#[derive(Debug)]
struct ServerState {
    routes: HashMap<(Method, &'static str), Reply>,
    received: Mutex<Vec<Received>>,
}

struct Fixture {
    base: String,
    state: Arc<ServerState>,
    _server: tokio::task::JoinHandle<()>,
}

impl Fixture {
    /// Serves `routes`; anything else gets the plain-text 404 Ollama's router gives.
    async fn start(routes: Vec<(Method, &'static str, Reply)>) -> Fixture {
        let state = Arc::new(ServerState {
            routes: routes
                .into_iter()
                .map(|(method, path, reply)| ((method, path), reply))
                .collect(),
            received: Mutex::new(Vec::new()),
        });
        let router = Router::new().fallback(answer).with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Fixture {
            base,
            state,
            _server: server,
        }
    }

    /// An `ollama` backend pointed at this server, with a real reqwest client.
    fn backend(&self, api_key: Option<&str>) -> Ollama {
        Ollama::new(Endpoint {
            provider: "ollama".to_owned(),
            base_url: self.base.clone(),
            api_key: api_key.map(|key| Secret::new(key.to_owned())),
            http: reqwest::Client::new(),
        })
    }

    fn received(&self) -> Vec<Received> {
        self.state.received.lock().unwrap().clone()
    }

    /// The only request received: checks Hearth made exactly one call, to `method path`.
    fn only_request(&self, method: Method, path: &str) -> Received {
        let received = self.received();
        let calls: Vec<String> = received
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        assert_eq!(calls, [format!("{method} {path}")]);
        received.into_iter().next().unwrap()
    }
}

async fn answer(State(state): State<Arc<ServerState>>, request: Request) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let authorization = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.to_str().unwrap().to_owned());
    let bytes = axum::body::to_bytes(request.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    state.received.lock().unwrap().push(Received {
        method: method.clone(),
        path: path.clone(),
        authorization,
        body,
    });
    let reply = state.routes.get(&(method, path.as_str())).cloned();
    match reply {
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .header(header::CONTENT_TYPE, "text/plain")
            .body(Body::from("404 page not found"))
            .unwrap(),
        Some(Reply::Body {
            status,
            content_type,
            body,
        }) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(body))
            .unwrap(),
        Some(Reply::Lines { lines, gap, abort }) => {
            let stream = async_stream::stream! {
                for (index, line) in lines.into_iter().enumerate() {
                    if index > 0 && !gap.is_zero() {
                        tokio::time::sleep(gap).await;
                    }
                    yield Ok::<_, std::io::Error>(Bytes::from(line + "\n"));
                }
                if abort {
                    tokio::time::sleep(gap).await;
                    yield Err(std::io::Error::other("the fixture cuts the connection"));
                }
            };
            Response::builder()
                .status(StatusCode::OK)
                .header(header::CONTENT_TYPE, "application/x-ndjson")
                .body(Body::from_stream(stream))
                .unwrap()
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers

fn fixture(file: &str) -> String {
    let path = format!(
        "{}/tests/fixtures/ollama/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
}

fn fixture_json(file: &str) -> Value {
    serde_json::from_str(&fixture(file)).unwrap()
}

/// The documented request plus the `keep_alive` Hearth always adds.
fn with_keep_alive(mut request: Value, keep_alive: Value) -> Value {
    request["keep_alive"] = keep_alive;
    request
}

fn openai_request(request: Value) -> ChatCompletionRequest {
    serde_json::from_value(request).unwrap()
}

/// The user's question of the docs' plain chat examples, as an OpenAI client sends it.
fn sky_request(stream: bool) -> ChatCompletionRequest {
    openai_request(json!({
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "why is the sky blue?"}],
        "stream": stream
    }))
}

/// The docs' weather tool, as an OpenAI client sends it.
fn weather_tool() -> Value {
    json!({
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Get the weather in a given city",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string", "description": "The city to get the weather for"}
                },
                "required": ["city"]
            }
        }
    })
}

/// An OpenAI answer as pretty JSON, its random completion id replaced by `chatcmpl-ID` and its
/// timestamp (checked to be now) by 0.
fn scrubbed(response: &impl serde::Serialize) -> String {
    let mut value = serde_json::to_value(response).unwrap();
    let id = value["id"].as_str().unwrap().to_owned();
    assert!(
        id.starts_with("chatcmpl-") && id.len() > "chatcmpl-".len(),
        "{id}"
    );
    let created = value["created"].as_u64().unwrap();
    assert!(created > 1_700_000_000, "created {created} is not now");
    value["created"] = json!(0);
    serde_json::to_string_pretty(&value)
        .unwrap()
        .replace(&id, "chatcmpl-ID")
        + "\n"
}

/// One item of a stream, in a line.
fn summary(item: &Result<ChatCompletionChunk, BackendError>) -> String {
    let chunk = match item {
        Ok(chunk) => chunk,
        Err(error) => return format!("error: {error}"),
    };
    let mut parts = Vec::new();
    for choice in &chunk.choices {
        let delta = &choice.delta;
        if let Some(role) = &delta.role {
            parts.push(format!("role={role}"));
        }
        if let Some(content) = &delta.content {
            parts.push(format!("content={content:?}"));
        }
        if let Some(reasoning) = &delta.reasoning_content {
            parts.push(format!("reasoning={reasoning:?}"));
        }
        for call in &delta.tool_calls {
            let function = call.function.clone().unwrap_or_default();
            let id = call.id.as_deref().unwrap_or("");
            let id = id.replace(&chunk.id, "chatcmpl-ID");
            parts.push(format!(
                "tool_call[{}] id={id} {}({})",
                call.index,
                function.name.unwrap_or_default(),
                function.arguments.unwrap_or_default()
            ));
        }
        if let Some(reason) = &choice.finish_reason {
            parts.push(format!("finish={reason}"));
        }
    }
    if let Some(usage) = &chunk.usage {
        parts.push(format!(
            "usage={}+{}={}",
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens
        ));
    }
    parts.join(" ")
}

/// Every item of `stream` with the time it arrived, to the end.
async fn drain(
    mut stream: ChunkStream,
) -> Vec<(Instant, Result<ChatCompletionChunk, BackendError>)> {
    let mut items = Vec::new();
    while let Some(item) = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap_or_else(|_| panic!("the stream hangs"))
    {
        items.push((Instant::now(), item));
    }
    items
}

/// The status and message of a [`BackendError::Status`].
fn status_of(error: &BackendError) -> Option<(u16, &str)> {
    match error {
        BackendError::Status {
            status, message, ..
        } => Some((*status, message.as_str())),
        _ => None,
    }
}

async fn check_stream(stream: ChunkStream, expect: Expect) {
    let items = drain(stream).await;
    let lines: Vec<String> = items.iter().map(|(_, item)| summary(item)).collect();
    expect.assert_eq(&(lines.join("\n") + "\n"));
}

// ---------------------------------------------------------------------------------------------
// Chat

#[tokio::test]
async fn plain_chat_sends_the_native_request_and_reads_the_answer() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat.response.json"),
    )])
    .await;
    let answer = server
        .backend(None)
        .chat(sky_request(false), &ModelParams::default())
        .await
        .unwrap();

    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(
        sent.body,
        with_keep_alive(fixture_json("chat.request.json"), json!("24h"))
    );
    assert_eq!(sent.authorization, None);
    expect![[r#"
        {
          "id": "chatcmpl-ID",
          "object": "chat.completion",
          "created": 0,
          "model": "llama3.2",
          "choices": [
            {
              "index": 0,
              "message": {
                "role": "assistant",
                "content": "Hello! How are you today?"
              },
              "finish_reason": "stop"
            }
          ],
          "usage": {
            "prompt_tokens": 26,
            "completion_tokens": 298,
            "total_tokens": 324
          },
          "timings": {
            "prompt_n": 26,
            "prompt_ms": 383.809,
            "prompt_per_token_ms": 14.761884615384616,
            "prompt_per_second": 67.74202793577014,
            "predicted_n": 298,
            "predicted_ms": 4799.921,
            "predicted_per_token_ms": 16.10711744966443,
            "predicted_per_second": 62.08435513834498
          }
        }
    "#]]
    .assert_eq(&scrubbed(&answer));
}

#[tokio::test]
async fn completion_ids_differ_between_answers() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat.response.json"),
    )])
    .await;
    let backend = server.backend(None);
    let params = ModelParams::default();
    let first = backend.chat(sky_request(false), &params).await.unwrap();
    let second = backend.chat(sky_request(false), &params).await.unwrap();
    assert_ne!(first.id, second.id);
}

#[tokio::test]
async fn model_params_fill_what_the_client_left_unset() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat.response.json"),
    )])
    .await;
    let backend = server.backend(Some("sk-ollama-test"));
    let params = ModelParams {
        think: Some(true),
        temperature: Some(0.2),
        top_p: Some(0.9),
        top_k: Some(40),
        seed: Some(7),
        keep_alive: Some("10m".parse().unwrap()),
    };
    // The client set its own temperature and a token budget; the config fills the rest.
    let request = openai_request(json!({
        "model": "qwen3:8b-q4_K_M",
        "messages": [{"role": "user", "content": "Hello!"}],
        "temperature": 0.5,
        "max_tokens": 64
    }));
    backend.chat(request, &params).await.unwrap();

    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-ollama-test"));
    assert_eq!(
        sent.body,
        json!({
            "model": "qwen3:8b-q4_K_M",
            "messages": [{"role": "user", "content": "Hello!"}],
            "options": {
                "temperature": 0.5, "top_p": 0.9, "top_k": 40, "seed": 7, "num_predict": 64
            },
            "stream": false,
            "keep_alive": "10m",
            "think": true
        })
    );
}

#[tokio::test]
async fn the_clients_reasoning_effort_wins_over_the_configured_think() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat.response.json"),
    )])
    .await;
    let params = ModelParams {
        think: Some(false),
        ..ModelParams::default()
    };
    let request = openai_request(json!({
        "model": "gpt-oss:20b",
        "messages": [{"role": "user", "content": "What is 1+1?"}],
        "reasoning_effort": "low"
    }));
    server.backend(None).chat(request, &params).await.unwrap();
    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(sent.body["think"], json!("low"));
    assert_eq!(sent.body["keep_alive"], json!("24h"));
    assert_eq!(sent.body.get("options"), None);
}

#[tokio::test]
async fn streamed_chat_yields_each_line_as_it_arrives() {
    const GAP: Duration = Duration::from_millis(200);
    let lines: Vec<String> = fixture("chat-stream.ndjson")
        .lines()
        .map(str::to_owned)
        .collect();
    let line_count = lines.len();
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::Lines {
            lines,
            gap: GAP,
            abort: false,
        },
    )])
    .await;
    let started = Instant::now();
    let stream = server
        .backend(None)
        .chat_stream(sky_request(true), &ModelParams::default())
        .await
        .unwrap();
    let resolved = started.elapsed();
    let items = drain(stream).await;

    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(
        sent.body,
        with_keep_alive(fixture_json("chat-stream.request.json"), json!("24h"))
    );
    let lines: Vec<String> = items.iter().map(|(_, item)| summary(item)).collect();
    expect![[r#"
        role=assistant content=""
        content="The"
        content=" sky"
        content=" is"
        content=" blue"
        finish=stop
        usage=26+282=308"#]]
    .assert_eq(&lines.join("\n"));

    // The chunks came as the lines did, not all at the end: the stream was open well before
    // the body was complete, and each content chunk arrived about one gap after the last.
    let whole_body = GAP * u32::try_from(line_count - 1).unwrap();
    assert!(
        resolved < whole_body / 2,
        "chat_stream resolved after {resolved:?}"
    );
    let content_times: Vec<Instant> = items
        .iter()
        .filter(|(_, item)| summary(item).starts_with("content=\""))
        .map(|(time, _)| *time)
        .collect();
    assert_eq!(content_times.len(), 4);
    for pair in content_times.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= GAP / 2, "content chunks only {gap:?} apart");
    }
    let spread = content_times[3] - content_times[0];
    assert!(
        spread >= GAP * 3 * 3 / 4,
        "content chunks spread over {spread:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tool calls

#[tokio::test]
async fn tool_call_with_object_arguments_becomes_openai_string_arguments() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat-tools.response.json"),
    )])
    .await;
    let request = openai_request(json!({
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "what is the weather in tokyo?"}],
        "tools": [weather_tool()]
    }));
    let answer = server
        .backend(None)
        .chat(request, &ModelParams::default())
        .await
        .unwrap();

    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(
        sent.body,
        with_keep_alive(fixture_json("chat-tools.request.json"), json!("24h"))
    );
    let choice = &answer.choices[0];
    assert_eq!(
        choice.finish_reason.as_ref().map(ToString::to_string),
        Some("tool_calls".to_owned())
    );
    assert_eq!(choice.message.content, None);
    let call = &choice.message.tool_calls[0];
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(call.function.arguments, r#"{"city":"Tokyo"}"#);
    assert_eq!(call.id, format!("call_0_{}", answer.id));
    assert_eq!(
        answer
            .usage
            .as_ref()
            .map(|u| (u.prompt_tokens, u.completion_tokens)),
        Some((169, 18))
    );
}

#[tokio::test]
async fn earlier_tool_calls_are_sent_with_object_arguments() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat-tools-history.response.json"),
    )])
    .await;
    let request = openai_request(json!({
        "model": "llama3.2",
        "messages": [
            {"role": "user", "content": "what is the weather in Toronto?"},
            {"role": "assistant", "content": null, "tool_calls": [{
                "id": "call_toronto",
                "type": "function",
                "function": {"name": "get_weather", "arguments": "{\"city\": \"Toronto\"}"}
            }]},
            {"role": "tool", "tool_call_id": "call_toronto", "content": "11 degrees celsius"}
        ],
        "tools": [weather_tool()]
    }));
    let answer = server
        .backend(None)
        .chat(request, &ModelParams::default())
        .await
        .unwrap();

    // The documented request, plus the call id newer Ollama carries both ways.
    let mut expected = with_keep_alive(
        fixture_json("chat-tools-history.request.json"),
        json!("24h"),
    );
    expected["messages"][1]["tool_calls"][0]["id"] = json!("call_toronto");
    expected["messages"][2]["tool_call_id"] = json!("call_toronto");
    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(sent.body, expected);
    assert_eq!(
        answer.choices[0].message.content.as_deref(),
        Some("The current temperature in Toronto is 11°C.")
    );
}

#[tokio::test]
async fn streamed_tool_call() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::ndjson("chat-tools-stream.ndjson"),
    )])
    .await;
    let request = openai_request(json!({
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "what is the weather in tokyo?"}],
        "tools": [weather_tool()],
        "stream": true
    }));
    let stream = server
        .backend(None)
        .chat_stream(request, &ModelParams::default())
        .await
        .unwrap();
    check_stream(
        stream,
        expect![[r#"
            role=assistant content=""
            tool_call[0] id=call_0_chatcmpl-ID get_weather({"city":"Tokyo"})
            finish=tool_calls
            usage=169+15=184
        "#]],
    )
    .await;
    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(
        sent.body,
        with_keep_alive(fixture_json("chat-tools-stream.request.json"), json!("24h"))
    );
}

// ---------------------------------------------------------------------------------------------
// Thinking

#[tokio::test]
async fn thinking_becomes_reasoning_content() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat-thinking.response.json"),
    )])
    .await;
    let params = ModelParams {
        think: Some(true),
        ..ModelParams::default()
    };
    let request = openai_request(json!({
        "model": "qwen3",
        "messages": [{"role": "user", "content": "How many letter r are in strawberry?"}]
    }));
    let answer = server.backend(None).chat(request, &params).await.unwrap();

    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(
        sent.body,
        with_keep_alive(fixture_json("chat-thinking.request.json"), json!("24h"))
    );
    let message = &answer.choices[0].message;
    assert_eq!(
        message.reasoning_content.as_deref(),
        Some("Spell it out: s-t-r-a-w-b-e-r-r-y. The r's are at positions 3, 8 and 9, so three.")
    );
    assert_eq!(
        message.content.as_deref(),
        Some("There are 3 letter r's in \"strawberry\".")
    );
}

#[tokio::test]
async fn streamed_thinking_becomes_reasoning_deltas() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::ndjson("chat-thinking-stream.ndjson"),
    )])
    .await;
    let request = openai_request(json!({
        "model": "qwen3",
        "messages": [{"role": "user", "content": "What is 17 × 23?"}],
        "stream": true,
        "reasoning_effort": "medium"
    }));
    let stream = server
        .backend(None)
        .chat_stream(request, &ModelParams::default())
        .await
        .unwrap();
    check_stream(
        stream,
        expect![[r#"
            role=assistant content=""
            reasoning="17 × 23"
            reasoning=" = 340 + 51"
            content="391"
            finish=stop
            usage=16+12=28
        "#]],
    )
    .await;
    let sent = server.only_request(Method::POST, "/api/chat");
    assert_eq!(sent.body["think"], json!("medium"));
    assert_eq!(sent.body["stream"], json!(true));
}

// ---------------------------------------------------------------------------------------------
// Failures

#[tokio::test]
async fn model_not_found_is_a_status_error_with_ollamas_message() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::NOT_FOUND, "error-model-not-found.json"),
    )])
    .await;
    let backend = server.backend(None);
    let params = ModelParams::default();
    let request = openai_request(json!({
        "model": "x",
        "messages": [{"role": "user", "content": "hi"}]
    }));

    let error = backend.chat(request.clone(), &params).await.unwrap_err();
    assert_eq!(
        status_of(&error),
        Some((404, "model 'x' not found")),
        "{error:?}"
    );
    assert_eq!(
        error.to_string(),
        "provider `ollama` answered HTTP 404: model 'x' not found"
    );

    let Err(error) = backend.chat_stream(request, &params).await else {
        panic!("a 404 must fail before the stream opens");
    };
    assert_eq!(
        status_of(&error),
        Some((404, "model 'x' not found")),
        "{error:?}"
    );
}

#[tokio::test]
async fn an_error_line_mid_stream_ends_the_stream_with_its_message() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::ndjson("error-mid-stream.ndjson"),
    )])
    .await;
    let stream = server
        .backend(None)
        .chat_stream(sky_request(true), &ModelParams::default())
        .await
        .unwrap();
    let items = drain(stream).await;
    assert!(
        matches!(
            &items.last().unwrap().1,
            Err(BackendError::MidStream { .. })
        ),
        "{:?}",
        items.last()
    );
    let lines: Vec<String> = items.iter().map(|(_, item)| summary(item)).collect();
    expect![[r#"
        role=assistant content=""
        content=" Yes"
        content="."
        error: provider `ollama` failed mid-stream: an error was encountered while running the model"#]]
    .assert_eq(&lines.join("\n"));
}

#[tokio::test]
async fn a_stream_that_ends_before_done_is_truncated() {
    // The documented stream without its final `done: true` line: once ending cleanly, once
    // with the connection cut after the headers and lines went out.
    let mut lines: Vec<String> = fixture("chat-stream.ndjson")
        .lines()
        .map(str::to_owned)
        .collect();
    lines.pop();
    for abort in [false, true] {
        let server = Fixture::start(vec![(
            Method::POST,
            "/api/chat",
            Reply::Lines {
                lines: lines.clone(),
                gap: Duration::from_millis(20),
                abort,
            },
        )])
        .await;
        let stream = server
            .backend(None)
            .chat_stream(sky_request(true), &ModelParams::default())
            .await
            .unwrap();
        let items = drain(stream).await;
        let summaries: Vec<String> = items.iter().map(|(_, item)| summary(item)).collect();
        assert_eq!(
            summaries.last().map(String::as_str),
            Some("error: provider `ollama` closed the stream before it finished"),
            "abort: {abort}: {summaries:?}"
        );
        assert!(matches!(
            items.last().unwrap().1,
            Err(BackendError::Truncated { .. })
        ));
        // What did arrive was passed on.
        assert!(
            summaries.contains(&"content=\" blue\"".to_owned()),
            "{summaries:?}"
        );
    }
}

#[tokio::test]
async fn a_body_that_is_not_ollama_json_is_garbage() {
    let page = Reply::Body {
        status: StatusCode::OK,
        content_type: "text/html",
        body: "<html><body>Welcome to nginx!</body></html>".to_owned(),
    };
    let server = Fixture::start(vec![
        (Method::POST, "/api/chat", page.clone()),
        (Method::GET, "/api/tags", page),
    ])
    .await;
    let backend = server.backend(None);
    let params = ModelParams::default();

    let error = backend.chat(sky_request(false), &params).await.unwrap_err();
    assert!(matches!(error, BackendError::Garbage { .. }), "{error:?}");

    let stream = backend
        .chat_stream(sky_request(true), &params)
        .await
        .unwrap();
    let items = drain(stream).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert!(
        matches!(
            &items[0].1,
            Err(BackendError::Garbage {
                what: "Ollama chat chunk",
                ..
            })
        ),
        "{:?}",
        items[0].1
    );

    let error = backend.list_models().await.unwrap_err();
    assert!(matches!(error, BackendError::Garbage { .. }), "{error:?}");
}

#[tokio::test]
async fn connection_refused_is_a_connect_error() {
    // A port that was free a moment ago and that nothing listens on now.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let backend = Ollama::new(Endpoint {
        provider: "ollama".to_owned(),
        base_url: base.clone(),
        api_key: None,
        http: reqwest::Client::new(),
    });
    let params = ModelParams::default();

    let error = backend.chat(sky_request(false), &params).await.unwrap_err();
    assert!(
        matches!(&error, BackendError::Connect { provider, .. } if provider == "ollama"),
        "{error:?}"
    );
    assert!(!error.to_string().contains(&base), "{error}");
    let Err(error) = backend.chat_stream(sky_request(true), &params).await else {
        panic!("a refused connection must fail before the stream opens");
    };
    assert!(matches!(error, BackendError::Connect { .. }), "{error:?}");
    let error = backend.health().await.unwrap_err();
    assert!(matches!(error, BackendError::Connect { .. }), "{error:?}");
    let error = backend.unload("llama3.2").await.unwrap_err();
    assert!(matches!(error, BackendError::Connect { .. }), "{error:?}");
}

// ---------------------------------------------------------------------------------------------
// Models, residency, health

#[tokio::test]
async fn unload_sends_keep_alive_zero_to_generate() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/generate",
        Reply::json(StatusCode::OK, "unload.response.json"),
    )])
    .await;
    server.backend(None).unload("llama3.2").await.unwrap();

    // The documented unload request, with `stream` explicit as everywhere.
    let mut expected = fixture_json("unload.request.json");
    expected["stream"] = json!(false);
    let sent = server.only_request(Method::POST, "/api/generate");
    assert_eq!(sent.body, expected);
}

#[tokio::test]
async fn unloading_a_missing_model_is_a_status_error() {
    let server = Fixture::start(vec![(
        Method::POST,
        "/api/generate",
        Reply::json(StatusCode::NOT_FOUND, "error-model-not-found.json"),
    )])
    .await;
    let error = server.backend(None).unload("x").await.unwrap_err();
    assert_eq!(
        status_of(&error),
        Some((404, "model 'x' not found")),
        "{error:?}"
    );
}

#[tokio::test]
async fn running_reads_api_ps() {
    let server = Fixture::start(vec![(
        Method::GET,
        "/api/ps",
        Reply::json(StatusCode::OK, "ps.json"),
    )])
    .await;
    let running = server
        .backend(Some("sk-ollama-test"))
        .running()
        .await
        .unwrap();
    let sent = server.only_request(Method::GET, "/api/ps");
    assert_eq!(sent.authorization.as_deref(), Some("Bearer sk-ollama-test"));

    assert_eq!(running.models.len(), 1);
    let model = &running.models[0];
    assert_eq!(model.name, "mistral:latest");
    assert_eq!(model.size, 5_137_025_024);
    assert_eq!(model.size_vram, 5_137_025_024);
    assert_eq!(model.expires_at, "2024-06-04T14:38:31.83753-07:00");
    assert_eq!(model.details.parameter_size, "7.2B");
    assert_eq!(model.details.quantization_level, "Q4_0");
}

#[tokio::test]
async fn tags_and_model_list_read_api_tags() {
    let server = Fixture::start(vec![(
        Method::GET,
        "/api/tags",
        Reply::json(StatusCode::OK, "tags.json"),
    )])
    .await;
    let backend = server.backend(None);
    assert_eq!(
        backend.list_models().await.unwrap(),
        ["deepseek-r1:latest", "llama3.2:latest"]
    );
    let tags = backend.tags().await.unwrap();
    assert_eq!(tags.models[1].size, 2_019_393_189);
    assert_eq!(tags.models[1].details.family, "llama");
    let calls: Vec<String> = server.received().iter().map(|r| r.path.clone()).collect();
    assert_eq!(calls, ["/api/tags", "/api/tags"]);
}

#[tokio::test]
async fn health_reads_api_version() {
    let server = Fixture::start(vec![(
        Method::GET,
        "/api/version",
        Reply::json(StatusCode::OK, "version.json"),
    )])
    .await;
    let backend = server.backend(None);
    backend.health().await.unwrap();
    assert_eq!(backend.version().await.unwrap(), "0.5.1");

    // Something else on the port (an OpenAI-compatible server, say) is not a healthy Ollama.
    let other = Fixture::start(Vec::new()).await;
    let error = other.backend(None).health().await.unwrap_err();
    assert_eq!(
        status_of(&error),
        Some((404, "404 page not found")),
        "{error:?}"
    );
}

/// The whole gateway in front of the fixture server, for an agent that may not use
/// `get_weather`: the client offers no tools at all, yet the "model" calls one (as a model may
/// call a tool it was never offered: Ollama does not check). The call never reaches the client,
/// the answer ends as a plain stop, and the audit log records the blocked call.
#[tokio::test]
async fn a_denied_call_in_an_ollama_answer_never_reaches_the_client_and_is_audited() {
    let fixture = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::ndjson("chat-tools-stream.ndjson"),
    )])
    .await;
    let (base, workspace, _dir) = gateway_denying_get_weather(&fixture).await;
    let body = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({
            "model": "default",
            "messages": [{ "role": "user", "content": "What is the weather in Tokyo?" }],
            "stream": true
        }))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
    assert!(
        !body.contains("get_weather") && !body.contains("tool_calls\":["),
        "{body}"
    );
    assert!(body.contains("\"finish_reason\":\"stop\""), "{body}");
    let audit = std::fs::read_to_string(workspace.join("audit.jsonl")).unwrap();
    let record: Value = serde_json::from_str(audit.trim()).unwrap();
    assert_eq!(record["tool"], "get_weather");
    assert_eq!(record["allowed"], false);
    assert_eq!(record["arguments"], "{\"city\":\"Tokyo\"}");
    assert!(
        record["rule"].as_str().unwrap().contains("deny[0]"),
        "{record}"
    );
}

/// A client that leaves in the middle of a stream still leaves the blocked call in the audit log.
#[tokio::test]
async fn a_blocked_call_is_audited_even_when_the_client_leaves_mid_stream() {
    let lines: Vec<String> = fixture("chat-tools-stream.ndjson")
        .lines()
        .map(str::to_owned)
        .collect();
    let fixture = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::Lines {
            lines,
            gap: Duration::from_millis(500),
            abort: false,
        },
    )])
    .await;
    let (base, workspace, _dir) = gateway_denying_get_weather(&fixture).await;
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({
            "model": "default",
            "messages": [{ "role": "user", "content": "What is the weather in Tokyo?" }],
            "stream": true
        }))
        .send()
        .await
        .unwrap();
    // Leave once the call has passed through Hearth: its chunk still arrives, emptied of the
    // call, as the second event (after the role). Leaving earlier, there is no call to audit.
    let mut body = response.bytes_stream();
    let mut received = String::new();
    while received.matches("data: ").count() < 2 {
        received.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    assert!(!received.contains("get_weather"), "{received}");
    assert!(
        !received.contains("[DONE]"),
        "left before the end: {received}"
    );
    drop(body);
    let path = workspace.join("audit.jsonl");
    let mut audit = String::new();
    for _ in 0..50 {
        audit = std::fs::read_to_string(&path).unwrap_or_default();
        if !audit.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let record: Value = serde_json::from_str(audit.trim()).unwrap();
    assert_eq!(record["tool"], "get_weather");
    assert_eq!(record["allowed"], false);
}

/// A gateway whose only agent may not use `get_weather`, in front of `fixture`.
async fn gateway_denying_get_weather(
    fixture: &Fixture,
) -> (String, std::path::PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let workspace = dir.path().join("public");
    let paths = hearth_core::config::store::Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let document = json!({
        "providers": { "ollama": { "api": "ollama", "baseUrl": fixture.base, "models": [{ "id": "llama3.2" }] } },
        "models": { "primary": "ollama/llama3.2" },
        "agents": [{ "id": "public", "workspace": workspace, "tools": { "deny": ["get_weather"] } }]
    });
    let validated = hearth_core::config::store::save(&paths, &document).unwrap();
    let secrets = hearth_secrets::MemoryStore::new();
    let secrets: Arc<dyn hearth_secrets::SecretStore> = Arc::new(secrets);
    let runtime =
        hearth_gateway::Runtime::load(validated.config, validated.warnings, secrets.as_ref())
            .unwrap();
    let gateway = hearth_gateway::Gateway::new(runtime, secrets, None);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(hearth_gateway::serve(
        gateway,
        listener,
        std::future::pending(),
    ));
    (base, workspace, dir)
}

/// A model still loading sends nothing for a while: the client gets its 200 and keep-alive
/// comments instead of silence (the fixture's leading blank line stands in for the wait, as an
/// Ollama loading a model sends nothing), then the answer.
#[tokio::test]
async fn a_slow_first_token_gets_keep_alive_comments_then_the_answer() {
    // Nothing, a pause, the first token, a pause, the final line.
    let stream = fixture("chat-stream.ndjson");
    let all: Vec<&str> = stream.lines().collect();
    let lines = vec![
        String::new(),
        all[0].to_owned(),
        all[all.len() - 1].to_owned(),
    ];
    let fixture = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::Lines {
            lines,
            gap: Duration::from_secs(3),
            abort: false,
        },
    )])
    .await;
    let (base, _workspace, _dir) = gateway_denying_get_weather(&fixture).await;
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{base}/v1/chat/completions"))
        .json(&json!({
            "model": "default",
            "messages": [{ "role": "user", "content": "Why is the sky blue?" }],
            "stream": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answered = started.elapsed();
    assert!(
        answered < Duration::from_secs(3),
        "200 came only with the data: {answered:?}"
    );
    let mut body = response.bytes_stream();
    let first = String::from_utf8(body.next().await.unwrap().unwrap().to_vec()).unwrap();
    assert_eq!(
        first, ": keep-alive\n\n",
        "the first bytes are a keep-alive comment"
    );
    let mut rest = String::new();
    while let Some(chunk) = body.next().await {
        rest.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(rest.contains("\"content\":\"The\""), "{rest}");
    assert!(rest.trim_end().ends_with("data: [DONE]"), "{rest}");
}

// ---------------------------------------------------------------------------------------------
// Residency over Ollama

/// Activating another model in exclusive mode asks Ollama what is resident (`/api/ps`), unloads
/// each other model with the documented `keep_alive: 0`, warms the target with a one-token
/// chat that keeps it for 24 h, and only then makes it the primary model.
#[tokio::test]
async fn activating_a_model_unloads_what_ollama_holds_and_warms_the_target() {
    let server = Fixture::start(vec![
        (
            Method::GET,
            "/api/ps",
            Reply::json(StatusCode::OK, "ps.json"),
        ),
        (
            Method::POST,
            "/api/generate",
            Reply::json(StatusCode::OK, "unload.response.json"),
        ),
        (
            Method::POST,
            "/api/chat",
            Reply::json(StatusCode::OK, "chat.response.json"),
        ),
    ])
    .await;
    let dir = tempfile::tempdir().unwrap();
    let paths = hearth_core::config::store::Paths {
        config_file: dir.path().join("hearth.json"),
        data_dir: dir.path().join("data"),
    };
    let document = json!({
        "providers": { "ollama": { "api": "ollama", "baseUrl": server.base,
            "models": [{ "id": "mistral:latest" }, { "id": "llama3.2", "sizeBytes": 2_000_000_000_u64 }] } },
        "models": { "primary": "ollama/mistral:latest" },
        "agents": [{ "id": "main", "workspace": dir.path().join("main") }]
    });
    let validated = hearth_core::config::store::save(&paths, &document).unwrap();
    let secrets: Arc<dyn hearth_secrets::SecretStore> =
        Arc::new(hearth_secrets::MemoryStore::new());
    let runtime =
        hearth_gateway::Runtime::load(validated.config, validated.warnings, secrets.as_ref())
            .unwrap();
    let gateway = hearth_gateway::Gateway::new(runtime, secrets, Some(paths.clone()));

    let progress = hearth_gateway::residency::activate(&gateway, "ollama/llama3.2", false, None)
        .await
        .unwrap();
    let steps: Vec<String> = progress
        .steps
        .iter()
        .map(|step| format!("{} [{:?}]", step.title, step.state))
        .collect();
    assert_eq!(
        steps,
        [
            "check memory [Done]",
            "wait for requests in flight [Done]",
            "unload ollama/mistral:latest [Done]",
            "warm up ollama/llama3.2 [Done]",
            "switch routing [Done]",
        ],
        "{progress:?}"
    );
    assert!(progress.error.is_none(), "{progress:?}");

    let calls: Vec<String> = server
        .received()
        .iter()
        .map(|request| format!("{} {}", request.method, request.path))
        .collect();
    assert_eq!(
        calls,
        ["GET /api/ps", "POST /api/generate", "POST /api/chat"]
    );
    let received = server.received();
    assert_eq!(received[1].body["model"], "mistral:latest");
    assert_eq!(received[1].body["keep_alive"], 0);
    assert_eq!(received[2].body["model"], "llama3.2");
    assert_eq!(received[2].body["keep_alive"], "24h");
    assert_eq!(received[2].body["options"]["num_predict"], 1);
    // The new primary is in force and on disk.
    assert_eq!(
        gateway
            .runtime()
            .config
            .primary
            .as_ref()
            .map(ToString::to_string)
            .as_deref(),
        Some("ollama/llama3.2")
    );
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(&paths.config_file).unwrap()).unwrap();
    assert_eq!(saved["models"]["primary"], "ollama/llama3.2");
}

/// The same denied call, asked for through the Responses and Messages APIs, streamed and not:
/// one pipeline, so neither a `function_call` item nor a `tool_use` block reaches the client.
#[tokio::test]
async fn a_denied_call_never_reaches_a_responses_or_messages_client() {
    let fixture = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::ndjson("chat-tools-stream.ndjson"),
    )])
    .await;
    let fixture_whole = Fixture::start(vec![(
        Method::POST,
        "/api/chat",
        Reply::json(StatusCode::OK, "chat-tools.response.json"),
    )])
    .await;
    for (fixture, stream) in [(&fixture, true), (&fixture_whole, false)] {
        let (base, workspace, _dir) = gateway_denying_get_weather(fixture).await;
        let client = reqwest::Client::new();
        let responses = client
            .post(format!("{base}/v1/responses"))
            .json(&json!({ "model": "default", "input": "What is the weather in Tokyo?", "stream": stream }))
            .send()
            .await
            .unwrap();
        assert_eq!(responses.status(), StatusCode::OK);
        let responses = responses.text().await.unwrap();
        assert!(!responses.contains("get_weather"), "{responses}");
        assert!(!responses.contains("function_call"), "{responses}");
        assert!(
            responses.contains("\"status\":\"completed\""),
            "{responses}"
        );
        let messages = client
            .post(format!("{base}/v1/messages"))
            .json(&json!({
                "model": "default", "max_tokens": 64, "stream": stream,
                "messages": [{ "role": "user", "content": "What is the weather in Tokyo?" }]
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(messages.status(), StatusCode::OK);
        let messages = messages.text().await.unwrap();
        assert!(!messages.contains("get_weather"), "{messages}");
        assert!(!messages.contains("tool_use"), "{messages}");
        assert!(
            messages.contains("\"stop_reason\":\"end_turn\""),
            "{messages}"
        );
        let audit = std::fs::read_to_string(workspace.join("audit.jsonl")).unwrap();
        let blocked: Vec<Value> = audit
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect();
        assert_eq!(blocked.len(), 2, "{audit}");
        assert!(
            blocked
                .iter()
                .all(|record| record["tool"] == "get_weather" && record["allowed"] == false),
            "{audit}"
        );
    }
}
