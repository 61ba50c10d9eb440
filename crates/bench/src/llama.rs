//! A real llama-server (SmolLM2-135M) direct and through Hearth: streamed answers of exactly
//! `max_tokens` tokens (`ignore_eos`, temperature 0, a fixed prompt), alternating the two paths
//! round by round so a drift of the machine hits both alike. Per answer: time to the first
//! token, and decode tokens/s as the client sees it — tokens after the first over the time
//! from the first to the last — beside the server's own `timings.predicted_per_second`.

use std::{
    net::SocketAddr,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::{Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{Value, json};

use crate::BenchError;

const PROMPT: &str =
    "Write a short story about a lighthouse keeper who finds a message in a bottle.";

/// One streamed answer.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Answer {
    pub ttft_ms: f64,
    pub tokens: usize,
    pub decode_tokens_per_second: f64,
    /// What llama-server itself reported, when it did.
    pub server_tokens_per_second: Option<f64>,
}

/// Medians of one path's answers.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PathResult {
    pub answers: Vec<Answer>,
    pub ttft_ms: f64,
    pub decode_tokens_per_second: f64,
    pub server_tokens_per_second: Option<f64>,
}

fn median(mut values: Vec<f64>) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 1 {
        values[middle]
    } else {
        f64::midpoint(values[middle - 1], values[middle])
    }
}

impl PathResult {
    fn of(answers: Vec<Answer>) -> PathResult {
        let server: Vec<f64> = answers
            .iter()
            .filter_map(|answer| answer.server_tokens_per_second)
            .collect();
        PathResult {
            ttft_ms: median(answers.iter().map(|answer| answer.ttft_ms).collect()),
            decode_tokens_per_second: median(
                answers
                    .iter()
                    .map(|answer| answer.decode_tokens_per_second)
                    .collect(),
            ),
            server_tokens_per_second: (!server.is_empty()).then(|| median(server)),
            answers,
        }
    }
}

/// Direct and through Hearth, `rounds` answers each after one untimed warm-up on each path.
pub fn compare(
    direct: SocketAddr,
    hearth: SocketAddr,
    rounds: usize,
    max_tokens: u32,
) -> Result<(PathResult, PathResult), BenchError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let body = Bytes::from(
            json!({
                "model": "smollm2",
                "messages": [{ "role": "user", "content": PROMPT }],
                "max_tokens": max_tokens,
                "temperature": 0,
                "ignore_eos": true,
                "stream": true
            })
            .to_string(),
        );
        answer(direct, &body).await?;
        answer(hearth, &body).await?;
        let (mut through_direct, mut through_hearth) = (Vec::new(), Vec::new());
        for round in 0..rounds {
            // Alternate which goes first, so neither always follows the other.
            if round % 2 == 0 {
                through_direct.push(answer(direct, &body).await?);
                through_hearth.push(answer(hearth, &body).await?);
            } else {
                through_hearth.push(answer(hearth, &body).await?);
                through_direct.push(answer(direct, &body).await?);
            }
        }
        Ok((
            PathResult::of(through_direct),
            PathResult::of(through_hearth),
        ))
    })
}

async fn answer(addr: SocketAddr, body: &Bytes) -> Result<Answer, BenchError> {
    let failed = |what: String| BenchError::Setup(format!("llama-server via {addr}: {what}"));
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|error| failed(error.to_string()))?;
    let _ = stream.set_nodelay(true);
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|error| failed(error.to_string()))?;
    let connection = tokio::spawn(connection);
    let request = Request::post("/v1/chat/completions")
        .header(header::HOST, addr.to_string())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(body.clone()))
        .map_err(|error| failed(error.to_string()))?;
    let start = Instant::now();
    let response = tokio::time::timeout(Duration::from_secs(300), sender.send_request(request))
        .await
        .map_err(|_| failed("no answer within 300 s".to_owned()))?
        .map_err(|error| failed(error.to_string()))?;
    let status = response.status();
    let mut body = response.into_body();
    let mut pending = String::new();
    let mut token_times = Vec::new();
    let mut server_speed = None;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|error| failed(error.to_string()))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        let now = Instant::now();
        pending.push_str(&String::from_utf8_lossy(&data));
        while let Some(end) = pending.find("\n\n") {
            let event: String = pending.drain(..end + 2).collect();
            let Some(json) = event.trim().strip_prefix("data: ") else {
                continue;
            };
            let Ok(chunk) = serde_json::from_str::<Value>(json) else {
                continue;
            };
            let content = chunk["choices"][0]["delta"]["content"].as_str();
            if content.is_some_and(|text| !text.is_empty()) {
                token_times.push(now);
            }
            if let Some(speed) = chunk["timings"]["predicted_per_second"].as_f64() {
                server_speed = Some(speed);
            }
        }
    }
    connection.abort();
    if status != StatusCode::OK {
        return Err(failed(format!("HTTP {status}: {pending}")));
    }
    let (Some(first), Some(last)) = (token_times.first(), token_times.last()) else {
        return Err(failed("the answer had no tokens".to_owned()));
    };
    let decoding = (*last - *first).as_secs_f64();
    Ok(Answer {
        ttft_ms: (*first - start).as_secs_f64() * 1e3,
        tokens: token_times.len(),
        decode_tokens_per_second: if decoding > 0.0 {
            (token_times.len() - 1) as f64 / decoding
        } else {
            0.0
        },
        server_tokens_per_second: server_speed,
    })
}
