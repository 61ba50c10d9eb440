//! The soak test's mixed load: every client API Hearth serves, plain and streamed, Responses
//! chains through `previous_response_id`, embeddings and clients that leave mid-stream, each
//! request naming one of the two upstreams' models or `default` (the active model, which the
//! switches move). Each worker owns one keep-alive connection, as an agent does, and opens a
//! new one after an error or a disconnect; every request has a deadline, and one that passes it
//! is a hang — the only failure of a request that fails the soak.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, StatusCode, client::conn::http1::SendRequest, header};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use super::{Outcome, Shared};

/// One kind of request of the mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Chat,
    ChatStream,
    Responses,
    ResponsesStream,
    /// A turn of a conversation continued with `previous_response_id` (at most
    /// [`CHAIN_TURNS`] turns, then a new one starts).
    ResponsesChain,
    Messages,
    MessagesStream,
    OllamaChat,
    OllamaChatStream,
    Embeddings,
    /// A streamed request (each streaming API in turn) whose client closes the connection
    /// after the first bytes of the answer.
    Disconnect,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::Chat,
        Kind::ChatStream,
        Kind::Responses,
        Kind::ResponsesStream,
        Kind::ResponsesChain,
        Kind::Messages,
        Kind::MessagesStream,
        Kind::OllamaChat,
        Kind::OllamaChatStream,
        Kind::Embeddings,
        Kind::Disconnect,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Chat => "chat completions",
            Kind::ChatStream => "chat completions, streamed",
            Kind::Responses => "responses",
            Kind::ResponsesStream => "responses, streamed",
            Kind::ResponsesChain => "responses, previous_response_id",
            Kind::Messages => "anthropic messages",
            Kind::MessagesStream => "anthropic messages, streamed",
            Kind::OllamaChat => "ollama /api/chat",
            Kind::OllamaChatStream => "ollama /api/chat, streamed",
            Kind::Embeddings => "embeddings",
            Kind::Disconnect => "client leaves mid-stream",
        }
    }
}

/// Turns of a Responses conversation before a worker starts a new one.
pub const CHAIN_TURNS: usize = 4;

/// The models a request names, in turn: each upstream's, and the active one.
pub const MODELS: [&str; 3] = [super::MODEL_A, super::MODEL_B, "default"];

/// What a worker sends next.
struct Planned {
    kind: Kind,
    path: &'static str,
    body: Value,
    /// The answer is an event stream (or NDJSON) ending with this marker.
    end_marker: Option<&'static str>,
    /// Close the connection after the first bytes of the answer.
    leave_early: bool,
}

fn plan(kind: Kind, model: &str, turn: u64, previous: Option<&str>) -> Planned {
    let say = "Say hello.";
    let chat = |stream: bool| {
        json!({
            "model": model, "max_tokens": 16, "stream": stream,
            "messages": [{ "role": "user", "content": say }]
        })
    };
    let responses = |stream: bool| {
        let mut body =
            json!({ "model": model, "input": say, "max_output_tokens": 16, "stream": stream });
        if let Some(previous) = previous {
            body["previous_response_id"] = json!(previous);
        }
        body
    };
    let ollama = |stream: bool| {
        json!({
            "model": model, "stream": stream, "messages": [{ "role": "user", "content": say }]
        })
    };
    let planned = |kind, path, body, end_marker| Planned {
        kind,
        path,
        body,
        end_marker,
        leave_early: false,
    };
    match kind {
        Kind::Chat => planned(kind, "/v1/chat/completions", chat(false), None),
        Kind::ChatStream => {
            let mut body = chat(true);
            body["stream_options"] = json!({ "include_usage": turn.is_multiple_of(2) });
            planned(kind, "/v1/chat/completions", body, Some("data: [DONE]"))
        }
        Kind::Responses => planned(kind, "/v1/responses", responses(false), None),
        Kind::ResponsesStream => planned(
            kind,
            "/v1/responses",
            responses(true),
            Some("response.completed"),
        ),
        Kind::ResponsesChain => planned(
            kind,
            "/v1/responses",
            responses(turn.is_multiple_of(2)),
            None,
        )
        .streamed_if(turn.is_multiple_of(2), "response.completed"),
        Kind::Messages => planned(kind, "/v1/messages", chat(false), None),
        Kind::MessagesStream => planned(kind, "/v1/messages", chat(true), Some("message_stop")),
        Kind::OllamaChat => planned(kind, "/api/chat", ollama(false), None),
        Kind::OllamaChatStream => planned(kind, "/api/chat", ollama(true), Some("\"done\":true")),
        Kind::Embeddings => planned(
            kind,
            "/v1/embeddings",
            json!({ "model": model, "input": ["The food was delicious.", say] }),
            None,
        ),
        Kind::Disconnect => {
            let mut inner = match turn % 4 {
                0 => plan(Kind::ChatStream, model, turn, None),
                1 => plan(Kind::ResponsesStream, model, turn, None),
                2 => plan(Kind::MessagesStream, model, turn, None),
                _ => plan(Kind::OllamaChatStream, model, turn, None),
            };
            inner.kind = Kind::Disconnect;
            inner.leave_early = true;
            inner
        }
    }
}

impl Planned {
    fn streamed_if(mut self, streamed: bool, marker: &'static str) -> Planned {
        if streamed {
            self.end_marker = Some(marker);
        }
        self
    }
}

/// Whether a whole answer is what its API promises; `Err` says what is wrong.
fn check(planned: &Planned, status: StatusCode, body: &[u8]) -> Result<Option<String>, String> {
    let text = String::from_utf8_lossy(body);
    if status != StatusCode::OK {
        return Err(format!(
            "HTTP {status}: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    if let Some(marker) = planned.end_marker {
        if !text.contains(marker) {
            return Err(format!("the stream ended without `{marker}`"));
        }
        // A streamed chain turn: the id is in `response.created`'s response.
        let id = text
            .lines()
            .filter_map(|line| line.strip_prefix("data: "))
            .filter_map(|data| serde_json::from_str::<Value>(data).ok())
            .find_map(|event| event["response"]["id"].as_str().map(str::to_owned));
        return Ok(id);
    }
    let json: Value =
        serde_json::from_slice(body).map_err(|error| format!("the answer is not JSON: {error}"))?;
    let whole = match planned.kind {
        Kind::Chat => json["choices"][0]["message"]["content"].is_string(),
        Kind::Responses | Kind::ResponsesChain => json["status"] == "completed",
        Kind::Messages => json["type"] == "message",
        Kind::OllamaChat => json["done"] == true,
        Kind::Embeddings => json["data"][1]["embedding"].is_array(),
        _ => true,
    };
    if !whole {
        return Err(format!(
            "an incomplete answer: {}",
            text.chars().take(200).collect::<String>()
        ));
    }
    Ok(json["id"].as_str().map(str::to_owned))
}

/// One keep-alive connection and the task driving it (aborted to close it at once).
struct Connection {
    sender: SendRequest<Full<Bytes>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn connect(addr: SocketAddr) -> Result<Connection, String> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|error| format!("connect {addr}: {error}"))?;
    let _ = stream.set_nodelay(true);
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| format!("handshake with {addr}: {error}"))?;
    let task = tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(Connection { sender, task })
}

/// A small xorshift: the mix need not be cryptographic, only varied and reproducible per worker.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % sides as u64) as usize
    }
}

/// One worker: requests back to back until the soak ends.
pub async fn worker(index: usize, shared: std::sync::Arc<Shared>, addr: SocketAddr) {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15 ^ (index as u64 + 1).wrapping_mul(0x2545_f491));
    let mut connection: Option<Connection> = None;
    let mut chain: Option<(String, usize)> = None;
    let host = addr.to_string();
    let mut turn = index as u64;
    while !shared.stopping() {
        turn += 1;
        let kind = Kind::ALL[dice.roll(Kind::ALL.len())];
        let model = MODELS[dice.roll(MODELS.len())];
        let previous = match (&chain, kind) {
            (Some((id, turns)), Kind::ResponsesChain) if *turns < CHAIN_TURNS => Some(id.clone()),
            _ => None,
        };
        let planned = plan(kind, model, turn, previous.as_deref());
        let open = match connection.take() {
            Some(open) => Ok(open),
            None => connect(addr).await,
        };
        let mut open = match open {
            Ok(open) => open,
            Err(error) => {
                shared.record(kind, model, Outcome::Failed(error));
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let started = Instant::now();
        let deadline = shared.request_timeout;
        let result = tokio::time::timeout(deadline, exchange(&mut open, &host, &planned)).await;
        let outcome = match result {
            Err(_) => Outcome::Hung(format!(
                "{} ({model}) had no whole answer after {:?}",
                kind.name(),
                started.elapsed()
            )),
            Ok(Err(error)) => Outcome::Failed(error),
            Ok(Ok(Exchanged::Left)) => Outcome::Left,
            Ok(Ok(Exchanged::Whole(status, body))) => match check(&planned, status, &body) {
                Ok(id) => {
                    if kind == Kind::ResponsesChain {
                        let turns = chain
                            .as_ref()
                            .filter(|_| previous.is_some())
                            .map_or(0, |(_, turns)| *turns);
                        chain = id.map(|id| (id, turns + 1));
                    }
                    connection = Some(open);
                    Outcome::Ok
                }
                Err(error) => {
                    // A refused request leaves the connection usable; keep it.
                    if status != StatusCode::OK {
                        connection = Some(open);
                    }
                    if kind == Kind::ResponsesChain {
                        chain = None;
                    }
                    Outcome::Failed(error)
                }
            },
        };
        shared.record(kind, model, outcome);
    }
}

enum Exchanged {
    Whole(StatusCode, Vec<u8>),
    /// The client left after the first bytes, as planned.
    Left,
}

async fn exchange(
    connection: &mut Connection,
    host: &str,
    planned: &Planned,
) -> Result<Exchanged, String> {
    connection
        .sender
        .ready()
        .await
        .map_err(|error| format!("the connection closed: {error}"))?;
    let request = Request::post(planned.path)
        .header(header::HOST, host)
        .header(header::CONTENT_TYPE, "application/json")
        .header("anthropic-version", "2023-06-01")
        .body(Full::new(Bytes::from(planned.body.to_string())))
        .map_err(|error| format!("cannot build the request: {error}"))?;
    let response = connection
        .sender
        .send_request(request)
        .await
        .map_err(|error| format!("request: {error}"))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| format!("reading the answer: {error}"))?;
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
            if planned.leave_early && status == StatusCode::OK && !data.is_empty() {
                return Ok(Exchanged::Left);
            }
        }
    }
    Ok(Exchanged::Whole(status, bytes))
}

/// `POST /admin/models/activate` and the switch's last progress line: `Ok(true)` when it was
/// done, `Ok(false)` when the gateway reported it failed (an upstream down for its warm-up).
pub async fn switch(addr: SocketAddr, token: &str, model: &str) -> Result<bool, String> {
    let mut connection = connect(addr).await?;
    connection
        .sender
        .ready()
        .await
        .map_err(|error| format!("the connection closed: {error}"))?;
    let request = Request::post("/admin/models/activate")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Full::new(Bytes::from(
            json!({ "model": model }).to_string(),
        )))
        .map_err(|error| format!("cannot build the request: {error}"))?;
    let response = connection
        .sender
        .send_request(request)
        .await
        .map_err(|error| format!("activate: {error}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|error| format!("reading the switch's progress: {error}"))?
        .to_bytes();
    let text = String::from_utf8_lossy(&body);
    if status != StatusCode::OK {
        return Err(format!("activate: HTTP {status}: {text}"));
    }
    let last = text
        .lines()
        .rev()
        .find_map(|line| serde_json::from_str::<Value>(line).ok())
        .ok_or_else(|| format!("activate answered no progress: {text}"))?;
    match last["state"].as_str() {
        Some("done") => Ok(true),
        Some("failed") => Ok(false),
        other => Err(format!("the switch ended in state {other:?}: {text}")),
    }
}

#[cfg(test)]
mod tests {
    use hyper::StatusCode;

    use super::{Kind, check, plan};

    #[test]
    fn answers_are_checked_by_their_api() {
        let chat = plan(Kind::Chat, "default", 1, None);
        let answer = br#"{"id":"c","choices":[{"message":{"content":"hi"}}]}"#;
        assert_eq!(
            check(&chat, StatusCode::OK, answer),
            Ok(Some("c".to_owned()))
        );
        assert!(check(&chat, StatusCode::OK, br#"{"choices":[]}"#).is_err());
        assert!(check(&chat, StatusCode::BAD_GATEWAY, b"{}").is_err());

        let streamed = plan(Kind::ResponsesChain, "default", 2, Some("resp_1"));
        assert_eq!(streamed.body["previous_response_id"], "resp_1");
        let events = "event: response.created\ndata: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_2\"}}\n\nevent: response.completed\ndata: {}\n\n";
        assert_eq!(
            check(&streamed, StatusCode::OK, events.as_bytes()),
            Ok(Some("resp_2".to_owned()))
        );
        let cut = plan(Kind::OllamaChatStream, "default", 1, None);
        assert!(check(&cut, StatusCode::OK, b"{\"done\":false}\n").is_err());
        assert!(plan(Kind::Disconnect, "default", 3, None).leave_early);
    }
}
