//! Chaos: a real llama-server killed (SIGKILL) in the middle of a streamed answer, again and
//! again, behind one gateway, over the four streamed client APIs in turn. Every client stream
//! must end with its API's error event — promptly, never a hang, never looking complete — and
//! the gateway must answer the next request once the server is back.
//!
//! `cargo test` kills `HEARTH_CHAOS_KILLS` servers (default 8); `scripts/reliability.sh` kills
//! 100. The figures (kills, how long each stream took to end after its kill) are printed.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, free_port, last_sse_event, two_agents};
use serde_json::{Value, json};

const PROMPT: &str = "Write a very long story about a lighthouse keeper and the sea.";

/// One client API's streamed request, what shows the answer is flowing, and whether the text
/// a client received ends the way that API reports a failure.
struct Api {
    path: &'static str,
    body: Value,
    flowing: &'static str,
    failed: fn(&str) -> bool,
}

fn apis() -> [Api; 4] {
    [
        Api {
            path: "/v1/chat/completions",
            body: json!({ "model": "small", "stream": true, "max_tokens": 400,
                          "messages": [{ "role": "user", "content": PROMPT }] }),
            flowing: "\"content\"",
            failed: |text| {
                !text.contains("[DONE]") && last_sse_event(text).1["error"]["message"].is_string()
            },
        },
        Api {
            path: "/v1/responses",
            body: json!({ "model": "small", "stream": true, "max_output_tokens": 400, "input": PROMPT }),
            flowing: "response.output_text.delta",
            failed: |text| {
                last_sse_event(text).0 == "response.failed" && !text.contains("response.completed")
            },
        },
        Api {
            path: "/v1/messages",
            body: json!({ "model": "small", "stream": true, "max_tokens": 400,
                          "messages": [{ "role": "user", "content": PROMPT }] }),
            flowing: "text_delta",
            failed: |text| last_sse_event(text).0 == "error" && !text.contains("message_stop"),
        },
        Api {
            path: "/api/chat",
            body: json!({ "model": "small", "stream": true, "options": { "num_predict": 400 },
                          "messages": [{ "role": "user", "content": PROMPT }] }),
            flowing: "\"content\"",
            failed: |text| {
                let last: Value = text
                    .trim_end()
                    .lines()
                    .last()
                    .and_then(|line| serde_json::from_str(line).ok())
                    .unwrap_or(Value::Null);
                last["error"].is_string() && last["done"] != true
            },
        },
    ]
}

fn kills() -> usize {
    std::env::var("HEARTH_CHAOS_KILLS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(8)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backends_killed_mid_stream_end_every_stream_with_an_error_and_the_gateway_serves_on() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
    let client = reqwest::Client::new();
    let apis = apis();
    let mut endings = Vec::new();
    for kill in 0..kills() {
        let api = &apis[kill % apis.len()];
        let mut llama = LlamaServer::smollm2_on(port);
        let response = client
            .post(format!("{}{}", hearth.base, api.path))
            .bearer_auth(APP_TOKEN)
            .json(&api.body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 200, "kill {kill}, {}", api.path);
        let mut body = response.bytes_stream();
        let mut text = String::new();
        while !text.contains(api.flowing) {
            match body.next().await {
                Some(chunk) => text.push_str(&String::from_utf8_lossy(&chunk.unwrap())),
                None => panic!(
                    "kill {kill}, {}: the answer ended before it flowed:\n{text}",
                    api.path
                ),
            }
        }
        llama.stop();
        let killed = Instant::now();
        let rest = tokio::time::timeout(Duration::from_secs(60), async {
            while let Some(chunk) = body.next().await {
                match chunk {
                    Ok(chunk) => text.push_str(&String::from_utf8_lossy(&chunk)),
                    Err(error) => panic!("kill {kill}, {}: the stream broke off instead of ending with an error event: {error}\n{text}", api.path),
                }
            }
        })
        .await;
        assert!(
            rest.is_ok(),
            "kill {kill}, {}: the stream hung:\n{text}",
            api.path
        );
        endings.push(killed.elapsed());
        assert!(
            (api.failed)(&text),
            "kill {kill}, {}: the stream did not end with the API's error event:\n{}",
            api.path,
            &text[text.len().saturating_sub(600)..]
        );
        let health = client
            .get(format!("{}/health", hearth.base))
            .send()
            .await
            .unwrap();
        assert_eq!(health.status().as_u16(), 200, "kill {kill}");
    }
    // Back up, the same gateway answers as before.
    let _llama = LlamaServer::smollm2_on(port);
    let answer = client
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": "small", "max_tokens": 8,
                       "messages": [{ "role": "user", "content": "Say hello." }] }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    endings.sort();
    let ms = |duration: &Duration| duration.as_secs_f64() * 1000.0;
    println!(
        "chaos: {} backends killed mid-stream over 4 client APIs; every stream ended with its error event; from the kill to the stream's end: median {:.0} ms, max {:.0} ms",
        endings.len(),
        endings.get(endings.len() / 2).map_or(0.0, ms),
        endings.last().map_or(0.0, ms)
    );
}
