//! Hearth's `anthropic-messages` and `openai-responses` providers — the protocols of Anthropic's
//! and OpenAI's clouds — against a real server that speaks both: llama-server's own
//! `/v1/messages` and `/v1/responses`. A chat completion (and an Ollama chat) goes out in the
//! provider's protocol and comes back translated, whole and streamed, tool calls included.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use futures_util::StreamExt;
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer};
use serde_json::{Value, json};

async fn hearth(llama: &LlamaServer) -> Hearth {
    let base = llama.base_url();
    Hearth::start(|dir| {
        json!({
            "providers": {
                "claude": {
                    "api": "anthropic-messages",
                    "baseUrl": base,
                    "models": [{ "id": "smollm2", "contextWindow": 4096, "maxTokens": 512 }]
                },
                "oai": {
                    "api": "openai-responses",
                    "baseUrl": base,
                    "models": [{ "id": "smollm2", "contextWindow": 4096, "maxTokens": 512 }]
                }
            },
            "models": { "primary": "claude/smollm2" },
            "agents": [{ "id": "main", "workspace": dir.join("agents/main") }],
            "defaultAgent": "main",
            "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }]
        })
    })
    .await
}

async fn post(hearth: &Hearth, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The chat chunks of a streamed answer: their joined content, the tool calls' names and
/// arguments by index, and the finish reason.
async fn read_stream(response: reqwest::Response) -> (String, Vec<(String, String)>, String) {
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut raw = String::new();
    while let Some(chunk) = body.next().await {
        raw.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
    }
    assert!(raw.trim_end().ends_with("data: [DONE]"), "{raw}");
    let (mut text, mut calls, mut finish) =
        (String::new(), Vec::<(String, String)>::new(), String::new());
    for data in raw.lines().filter_map(|line| line.strip_prefix("data: ")) {
        let Ok(chunk) = serde_json::from_str::<Value>(data) else {
            continue;
        };
        let Some(choice) = chunk["choices"].get(0) else {
            continue;
        };
        text.push_str(choice["delta"]["content"].as_str().unwrap_or_default());
        for call in choice["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let index = usize::try_from(call["index"].as_u64().unwrap()).unwrap();
            if calls.len() <= index {
                calls.resize(index + 1, (String::new(), String::new()));
            }
            calls[index]
                .0
                .push_str(call["function"]["name"].as_str().unwrap_or_default());
            calls[index]
                .1
                .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
        }
        if let Some(reason) = choice["finish_reason"].as_str() {
            finish = reason.to_owned();
        }
    }
    (text, calls, finish)
}

fn hello(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [
            { "role": "system", "content": "You are terse." },
            { "role": "user", "content": "Say hello in five words." }
        ],
        "max_tokens": 24,
        "temperature": 0,
        "stream": stream
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_reach_an_anthropic_messages_backend() {
    let llama = LlamaServer::smollm2();
    let hearth = hearth(&llama).await;
    let whole = post(
        &hearth,
        "/v1/chat/completions",
        hello("claude/smollm2", false),
    )
    .await;
    assert_eq!(whole.status().as_u16(), 200, "{}", llama.logs());
    assert_eq!(whole.headers()["x-hearth-provider"], "claude");
    let whole: Value = whole.json().await.unwrap();
    let content = whole["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.trim().is_empty(), "{whole}");
    assert!(
        whole["usage"]["completion_tokens"].as_u64().unwrap() > 0,
        "{whole}"
    );
    let (text, _, finish) = read_stream(
        post(
            &hearth,
            "/v1/chat/completions",
            hello("claude/smollm2", true),
        )
        .await,
    )
    .await;
    assert_eq!(
        text, content,
        "greedy decoding gives the same text streamed and whole"
    );
    assert!(matches!(finish.as_str(), "stop" | "length"), "{finish}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_completions_reach_an_openai_responses_backend() {
    let llama = LlamaServer::smollm2();
    let hearth = hearth(&llama).await;
    let whole = post(&hearth, "/v1/chat/completions", hello("oai/smollm2", false)).await;
    assert_eq!(whole.status().as_u16(), 200, "{}", llama.logs());
    assert_eq!(whole.headers()["x-hearth-provider"], "oai");
    let whole: Value = whole.json().await.unwrap();
    let content = whole["choices"][0]["message"]["content"].as_str().unwrap();
    assert!(!content.trim().is_empty(), "{whole}");
    let (text, _, finish) =
        read_stream(post(&hearth, "/v1/chat/completions", hello("oai/smollm2", true)).await).await;
    assert_eq!(
        text, content,
        "greedy decoding gives the same text streamed and whole"
    );
    assert!(matches!(finish.as_str(), "stop" | "length"), "{finish}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ollama_client_reaches_an_anthropic_backend() {
    let llama = LlamaServer::smollm2();
    let hearth = hearth(&llama).await;
    let answer = post(
        &hearth,
        "/api/chat",
        json!({
            "model": "claude/smollm2",
            "messages": [{ "role": "user", "content": "Say hello." }],
            "options": { "num_predict": 16, "temperature": 0 },
            "stream": false
        }),
    )
    .await;
    assert_eq!(answer.status().as_u16(), 200, "{}", llama.logs());
    let answer: Value = answer.json().await.unwrap();
    assert!(answer["done"].as_bool().unwrap(), "{answer}");
    assert!(
        !answer["message"]["content"]
            .as_str()
            .unwrap()
            .trim()
            .is_empty(),
        "{answer}"
    );
}

/// The 135M model emits one well-formed call when the answer is started for it (TESTING.md).
fn ask_weather(model: &str, stream: bool) -> Value {
    json!({
        "model": model,
        "messages": [
            { "role": "user", "content": "What is the weather in Paris?" },
            { "role": "assistant", "content": "<tool_call>\n" }
        ],
        "tools": [{
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city",
                "parameters": {
                    "type": "object",
                    "properties": { "city": { "type": "string" } },
                    "required": ["city"]
                }
            }
        }],
        "tool_choice": "required",
        "max_tokens": 40,
        "temperature": 0,
        "stop": ["</tool_call>"],
        "stream": stream
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tool_calls_come_back_from_both_cloud_protocols() {
    let llama = LlamaServer::smollm2();
    let hearth = hearth(&llama).await;
    for model in ["claude/smollm2", "oai/smollm2"] {
        let whole = post(&hearth, "/v1/chat/completions", ask_weather(model, false)).await;
        assert_eq!(whole.status().as_u16(), 200, "{model}: {}", llama.logs());
        let whole: Value = whole.json().await.unwrap();
        let call = &whole["choices"][0]["message"]["tool_calls"][0];
        assert_eq!(call["function"]["name"], "get_weather", "{model}: {whole}");
        let arguments: Value =
            serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
        assert!(arguments["city"].is_string(), "{model}: {whole}");
        assert_eq!(
            whole["choices"][0]["finish_reason"], "tool_calls",
            "{model}: {whole}"
        );

        let (_, calls, finish) =
            read_stream(post(&hearth, "/v1/chat/completions", ask_weather(model, true)).await)
                .await;
        assert_eq!(calls.len(), 1, "{model}: {calls:?}");
        assert_eq!(calls[0].0, "get_weather", "{model}");
        let arguments: Value = serde_json::from_str(&calls[0].1).unwrap();
        assert!(arguments["city"].is_string(), "{model}: {calls:?}");
        assert_eq!(finish, "tool_calls", "{model}");
    }
}
