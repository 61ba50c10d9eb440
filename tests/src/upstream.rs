//! A fast OpenAI-compatible upstream for the performance benchmark (`crates/bench`): it answers
//! `POST /v1/chat/completions` at once, plain or streamed as `chunks` content chunks `delay`
//! apart and `data: [DONE]`, `POST /v1/embeddings` (OpenAI's example embedding, one per input),
//! plus `GET /v1/models` and `GET /health`. The bodies follow OpenAI's
//! published chat completion and chunk examples (id, object, created, model,
//! system_fingerprint, choices with `logprobs: null`, usage), so a gateway in front of it does
//! the same work it does in front of a real server — only the model's own time is gone.
//!
//! It is plain hyper on its own single-threaded tokio runtime and OS thread, so the time it
//! takes is never counted in the gateway's process and it does not steal the load generator's
//! runtime. Stopped when dropped.

use std::{convert::Infallible, net::SocketAddr, thread::JoinHandle, time::Duration};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, StreamBody, combinators::BoxBody};
use hyper::{Method, Request, Response, StatusCode, body::Frame, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

/// How the upstream answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UpstreamOptions {
    /// Content chunks in a streamed answer (besides the role chunk and the finish chunk).
    pub chunks: usize,
    /// The pause before each content chunk of a streamed answer.
    pub delay: Duration,
}

impl Default for UpstreamOptions {
    fn default() -> Self {
        UpstreamOptions {
            chunks: 16,
            delay: Duration::from_millis(1),
        }
    }
}

/// A running upstream on a loopback port.
#[derive(Debug)]
pub struct Upstream {
    pub addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Upstream {
    /// Binds a free loopback port and serves on a thread of its own.
    pub fn start(options: UpstreamOptions) -> std::io::Result<Upstream> {
        Upstream::start_at(SocketAddr::from(([127, 0, 0, 1], 0)), options)
    }

    /// Serves at `addr`: the soak test stops an upstream and starts it again on the same port
    /// (std's listener sets SO_REUSEADDR, so the old connections' TIME_WAIT does not block it).
    pub fn start_at(addr: SocketAddr, options: UpstreamOptions) -> std::io::Result<Upstream> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let thread = std::thread::Builder::new()
            .name("bench-upstream".to_owned())
            .spawn(move || runtime.block_on(serve(listener, options, stopped)))?;
        Ok(Upstream {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT/v1`, what a provider's `baseUrl` names.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

async fn serve(
    listener: std::net::TcpListener,
    options: UpstreamOptions,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |request| answer(request, options));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

type Body = BoxBody<Bytes, Infallible>;

fn full(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Full::new(body.into()).boxed());
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static(content_type),
    );
    response
}

fn error(status: StatusCode, message: &str) -> Response<Body> {
    let body =
        json!({ "error": { "message": message, "type": "invalid_request_error", "code": null } });
    full(status, "application/json", body.to_string())
}

async fn answer(
    request: Request<hyper::body::Incoming>,
    options: UpstreamOptions,
) -> Result<Response<Body>, Infallible> {
    let (parts, body) = request.into_parts();
    Ok(match (parts.method, parts.uri.path()) {
        (Method::GET, "/health") => full(StatusCode::OK, "application/json", r#"{"status":"ok"}"#),
        (Method::GET, "/v1/models") => full(
            StatusCode::OK,
            "application/json",
            json!({ "object": "list", "data": [
                { "id": "bench", "object": "model", "created": 1_686_935_002, "owned_by": "hearth-bench" }
            ] })
            .to_string(),
        ),
        (Method::POST, "/v1/chat/completions") => {
            let Ok(bytes) = body.collect().await.map(http_body_util::Collected::to_bytes) else {
                return Ok(error(StatusCode::BAD_REQUEST, "could not read the body"));
            };
            let Ok(request) = serde_json::from_slice::<Value>(&bytes) else {
                return Ok(error(StatusCode::BAD_REQUEST, "the body is not JSON"));
            };
            let model = request["model"].as_str().unwrap_or("bench").to_owned();
            if request["stream"] == Value::Bool(true) {
                let usage = request["stream_options"]["include_usage"] == Value::Bool(true);
                streamed(&model, usage, options)
            } else {
                full(StatusCode::OK, "application/json", completion(&model))
            }
        }
        (Method::POST, "/v1/embeddings") => {
            let Ok(bytes) = body.collect().await.map(http_body_util::Collected::to_bytes) else {
                return Ok(error(StatusCode::BAD_REQUEST, "could not read the body"));
            };
            let Ok(request) = serde_json::from_slice::<Value>(&bytes) else {
                return Ok(error(StatusCode::BAD_REQUEST, "the body is not JSON"));
            };
            let inputs = request["input"].as_array().map_or(1, Vec::len);
            let model = request["model"].as_str().unwrap_or("bench");
            full(StatusCode::OK, "application/json", embeddings(model, inputs))
        }
        _ => error(StatusCode::NOT_FOUND, "no such route"),
    })
}

const CREATED: u64 = 1_677_652_288;
const CONTENT: &str = "Hello there, how may I assist you today?";

/// OpenAI's example chat completion.
fn completion(model: &str) -> String {
    json!({
        "id": "chatcmpl-123",
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{
            "index": 0,
            "message": { "role": "assistant", "content": CONTENT },
            "logprobs": null,
            "finish_reason": "stop"
        }],
        "usage": { "prompt_tokens": 9, "completion_tokens": 12, "total_tokens": 21 }
    })
    .to_string()
}

/// OpenAI's example embeddings list, the example vector once per input.
fn embeddings(model: &str, inputs: usize) -> String {
    let data: Vec<Value> = (0..inputs)
        .map(|index| {
            json!({
                "object": "embedding",
                "embedding": [0.002_306_425_5, -0.009_327_292, -0.002_884_222_5],
                "index": index
            })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": 8, "total_tokens": 8 }
    })
    .to_string()
}

/// One SSE event of OpenAI's example chunk shape.
fn chunk(model: &str, delta: Value, finish: Option<&str>) -> Bytes {
    let chunk = json!({
        "id": "chatcmpl-123",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [{ "index": 0, "delta": delta, "logprobs": null, "finish_reason": finish }]
    });
    Bytes::from(format!("data: {chunk}\n\n"))
}

fn streamed(model: &str, usage: bool, options: UpstreamOptions) -> Response<Body> {
    // Rendered up front: the stream itself only sleeps and hands out bytes.
    let mut events = Vec::with_capacity(options.chunks + 4);
    events.push((
        Duration::ZERO,
        chunk(model, json!({ "role": "assistant", "content": "" }), None),
    ));
    for index in 0..options.chunks {
        events.push((
            options.delay,
            chunk(model, json!({ "content": format!("tok{index} ") }), None),
        ));
    }
    events.push((Duration::ZERO, chunk(model, json!({}), Some("stop"))));
    if usage {
        let tokens = options.chunks;
        let last = json!({
            "id": "chatcmpl-123", "object": "chat.completion.chunk", "created": CREATED,
            "model": model, "system_fingerprint": "fp_44709d6fcb", "choices": [],
            "usage": { "prompt_tokens": 9, "completion_tokens": tokens, "total_tokens": tokens + 9 }
        });
        events.push((Duration::ZERO, Bytes::from(format!("data: {last}\n\n"))));
    }
    events.push((Duration::ZERO, Bytes::from_static(b"data: [DONE]\n\n")));
    let stream = futures_util::stream::unfold(events.into_iter(), |mut events| async move {
        let (pause, bytes) = events.next()?;
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Some((Ok::<_, Infallible>(Frame::data(bytes)), events))
    });
    let mut response = Response::new(StreamBody::new(stream).boxed());
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    response
}
