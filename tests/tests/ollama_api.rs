//! Hearth's Ollama-compatible API (`/api/chat`, `/api/generate`, `/api/tags`, `/api/ps`,
//! `/api/version`) in front of a real llama-server (SmolLM2-135M, provisioned by
//! scripts/provision.sh), spoken as raw HTTP the way any Ollama client speaks it: JSON bodies,
//! NDJSON streams, `{"error": "..."}` errors. The backend is OpenAI-compatible, so every answer
//! crosses Hearth's translation both ways. (The official `ollama` Python client is run against
//! the same routes by python_sdks.rs.)
//!
//! Assertions hold for whatever a 135M model says: they check shapes, counts and timing, never
//! the text.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, RELAY_TOKEN, two_agents};
use serde_json::{Value, json};

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn post(hearth: &Hearth, path: &str, body: &Value) -> reqwest::RequestBuilder {
    reqwest::Client::new()
        .post(format!("{}{path}", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(body)
}

async fn get(hearth: &Hearth, path: &str) -> (u16, Value) {
    let response = reqwest::Client::new()
        .get(format!("{}{path}", hearth.base))
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

/// What a streamed answer brought: its status and headers, then each NDJSON line parsed, with
/// the time it arrived.
struct Streamed {
    status: u16,
    content_type: String,
    model_header: String,
    lines: Vec<(Instant, Value)>,
}

async fn stream_lines(request: reqwest::RequestBuilder) -> Streamed {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    let model_header = header(&response, "x-hearth-model");
    let mut lines = Vec::new();
    let mut buffer = String::new();
    let mut bytes = response.bytes_stream();
    while let Some(chunk) = bytes.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find('\n') {
            let line: String = buffer.drain(..=end).collect();
            let parsed = serde_json::from_str(line.trim())
                .unwrap_or_else(|error| panic!("not a JSON line ({error}): {line:?}"));
            lines.push((Instant::now(), parsed));
        }
    }
    assert!(buffer.trim().is_empty(), "unterminated line: {buffer:?}");
    Streamed {
        status,
        content_type,
        model_header,
        lines,
    }
}

/// The checks every streamed Ollama answer passes: NDJSON, every line but the last `done:
/// false`, the last `done: true` with a reason and eval counts, chunks forwarded as they come.
/// Returns the text of `field` (`message.content` or `response`) across the lines.
fn check_stream(streamed: &Streamed, text_of: impl Fn(&Value) -> Option<&str>) -> String {
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.content_type, "application/x-ndjson");
    assert_eq!(streamed.model_header, "llama/smollm2");
    let lines: Vec<&Value> = streamed.lines.iter().map(|(_, line)| line).collect();
    let (last, chunks) = lines.split_last().unwrap();
    let text: String = chunks.iter().filter_map(|line| text_of(line)).collect();
    assert!(
        chunks.len() >= 5,
        "expected many lines, got {}: {text}",
        chunks.len()
    );
    assert!(!text.trim().is_empty());
    for chunk in chunks {
        assert_eq!(chunk["done"], false, "{chunk}");
        assert_eq!(chunk["model"], "llama/smollm2", "{chunk}");
        assert!(chunk["created_at"].as_str().unwrap().ends_with('Z'));
    }
    assert_eq!(last["done"], true, "{last}");
    assert!(
        matches!(last["done_reason"].as_str(), Some("stop" | "length")),
        "{last}"
    );
    assert!(last["eval_count"].as_u64().unwrap() > 0, "{last}");
    assert!(last["prompt_eval_count"].as_u64().is_some(), "{last}");
    assert!(last.get("error").is_none(), "{last}");
    // Written as they come: the first and the last text lines are not delivered together.
    let spread = streamed.lines[lines.len() - 2].0 - streamed.lines[0].0;
    assert!(
        spread > Duration::from_millis(20),
        "all lines arrived at once ({spread:?})"
    );
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_chat_answers_whole_and_streams_ndjson() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;

    // Whole, through the owner's route (a trusted relay asserting the owner's DM).
    let response = reqwest::Client::new()
        .post(format!("{}/api/chat", hearth.base))
        .bearer_auth(RELAY_TOKEN)
        .header("x-hearth-channel", "whatsapp")
        .header("x-hearth-peer-kind", "dm")
        .header("x-hearth-peer-id", "+15550100777")
        .json(&json!({
            "model": "default",
            "messages": [{ "role": "user", "content": "Say hello in one short sentence." }],
            "stream": false,
            "options": { "num_predict": 24, "temperature": 0.2 }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "content-type"), "application/json");
    assert_eq!(header(&response, "x-hearth-agent"), "private");
    assert_eq!(header(&response, "x-hearth-model"), "llama/smollm2");
    assert_eq!(header(&response, "x-hearth-provider"), "llama");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["model"], "llama/smollm2");
    assert_eq!(body["message"]["role"], "assistant");
    assert!(
        !body["message"]["content"]
            .as_str()
            .unwrap()
            .trim()
            .is_empty(),
        "{body}"
    );
    assert_eq!(body["done"], true);
    assert!(matches!(
        body["done_reason"].as_str(),
        Some("stop" | "length")
    ));
    let eval_count = body["eval_count"].as_u64().unwrap();
    assert!(eval_count > 0 && eval_count <= 24, "{body}");
    assert!(body["prompt_eval_count"].as_u64().unwrap() > 0, "{body}");
    assert!(body["eval_duration"].as_u64().unwrap() > 0, "{body}");

    // Streamed: Ollama streams when `stream` is absent.
    let streamed = stream_lines(post(
        &hearth,
        "/api/chat",
        &json!({
            "model": "small",
            "messages": [{ "role": "user", "content": "Count from one to twenty in words." }],
            "options": { "num_predict": 64, "temperature": 0 }
        }),
    ))
    .await;
    check_stream(&streamed, |line| line["message"]["content"].as_str());
    assert!(
        streamed
            .lines
            .iter()
            .all(|(_, line)| line["message"]["role"] == "assistant")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_chat_tool_calls_come_back_with_object_arguments_and_are_audited() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    // Ollama has no `tool_choice`, so llama-server does not force a call; two earlier turns that
    // called the tool make the 135M model call it again (its grammar then keeps the call
    // well-formed).
    let asked = |city: &str| json!({ "role": "user", "content": format!("What is the weather in {city}?") });
    let called = |city: &str| {
        json!({ "role": "assistant", "content": "",
                "tool_calls": [{ "function": { "name": "get_weather", "arguments": { "city": city } } }] })
    };
    let messages = json!([
        asked("Rome"),
        called("Rome"),
        asked("Oslo"),
        called("Oslo"),
        asked("Paris")
    ]);
    let tools = json!([
        { "type": "function", "function": { "name": "get_weather", "description": "Current weather for a city",
          "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } },
        { "type": "function", "function": { "name": "bash", "description": "Run a shell command",
          "parameters": { "type": "object", "properties": { "command": { "type": "string" } } } } }
    ]);
    let request = json!({
        "model": "small", "messages": messages, "tools": tools, "stream": false,
        "options": { "num_predict": 48 }
    });
    let response = post(&hearth, "/api/chat", &request).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "x-hearth-agent"), "public");
    let body: Value = response.json().await.unwrap();
    let calls = body["message"]["tool_calls"].as_array().unwrap();
    assert!(!calls.is_empty(), "{body}");
    for call in calls {
        assert_eq!(call["function"]["name"], "get_weather", "{body}");
        // An object, as Ollama sends it — not OpenAI's JSON string.
        assert!(call["function"]["arguments"]["city"].is_string(), "{body}");
    }

    // Streamed: the call arrives whole, in one line, before the `done` line.
    let mut streamed_request = request.clone();
    streamed_request["stream"] = json!(true);
    let streamed = stream_lines(post(&hearth, "/api/chat", &streamed_request)).await;
    assert_eq!(streamed.status, 200);
    let lines: Vec<&Value> = streamed.lines.iter().map(|(_, line)| line).collect();
    let with_calls: Vec<&&Value> = lines
        .iter()
        .filter(|line| line["message"]["tool_calls"].is_array())
        .collect();
    assert_eq!(with_calls.len(), 1, "{lines:?}");
    let call = &with_calls[0]["message"]["tool_calls"][0]["function"];
    assert_eq!(call["name"], "get_weather");
    assert!(call["arguments"]["city"].is_string(), "{call}");
    assert_eq!(lines.last().unwrap()["done"], true);

    // Every call is in the agent's audit log (the public agent: the app client is not trusted).
    let audit =
        std::fs::read_to_string(hearth.workspace("public").join("audit.jsonl")).unwrap_or_default();
    assert!(audit.contains("get_weather"), "audit log: {audit}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_generate_answers_prompts_and_load_requests() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;

    let response = post(
        &hearth,
        "/api/generate",
        &json!({
            "model": "llama/smollm2",
            "system": "You answer briefly.",
            "prompt": "Why is the sky blue?",
            "stream": false,
            "options": { "num_predict": 32 }
        }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "x-hearth-model"), "llama/smollm2");
    let body: Value = response.json().await.unwrap();
    assert!(
        !body["response"].as_str().unwrap().trim().is_empty(),
        "{body}"
    );
    assert!(body.get("message").is_none(), "{body}");
    assert_eq!(body["done"], true);
    assert!(body["eval_count"].as_u64().unwrap() > 0, "{body}");

    // Streamed (the default): the text in `response` fields.
    let streamed = stream_lines(post(
        &hearth,
        "/api/generate",
        &json!({
            "model": "smollm2",
            "prompt": "List five colours, one per line.",
            "options": { "num_predict": 48, "temperature": 0 }
        }),
    ))
    .await;
    check_stream(&streamed, |line| line["response"].as_str());

    // Ollama's "load the model" request: no prompt. Answered without a backend call.
    let response = post(&hearth, "/api/generate", &json!({ "model": "small" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["done"], true, "{body}");
    assert_eq!(body["done_reason"], "load", "{body}");
    assert_eq!(body["response"], "", "{body}");
    assert_eq!(body["model"], "llama/smollm2", "{body}");
    let response = post(
        &hearth,
        "/api/chat",
        &json!({ "model": "small", "messages": [], "keep_alive": 0 }),
    )
    .send()
    .await
    .unwrap();
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["done_reason"], "unload", "{body}");

    // What a chat backend cannot do is refused, in Ollama's shape.
    let response = post(
        &hearth,
        "/api/generate",
        &json!({ "model": "small", "prompt": "[INST] hi [/INST]", "raw": true }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.unwrap();
    assert!(body["error"].as_str().unwrap().contains("raw"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_tags_ps_version_and_errors_in_ollamas_shape() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;

    let (status, tags) = get(&hearth, "/api/tags").await;
    assert_eq!(status, 200);
    let models = tags["models"].as_array().unwrap();
    let named = |name: &str| {
        models
            .iter()
            .find(|model| model["name"] == name)
            .unwrap_or_else(|| panic!("{name} not in {tags}"))
    };
    assert_eq!(named("llama/smollm2")["model"], "llama/smollm2");
    assert_eq!(named("small")["alias_of"], "llama/smollm2");
    for model in models {
        assert!(model["modified_at"].as_str().unwrap().ends_with('Z'));
        assert!(model["size"].is_u64() && model["details"].is_object());
    }

    let (status, ps) = get(&hearth, "/api/ps").await;
    assert_eq!(status, 200);
    let running = ps["models"].as_array().unwrap();
    assert_eq!(running.len(), 1, "{ps}");
    assert_eq!(running[0]["name"], "llama/smollm2");
    assert_eq!(running[0]["context_length"], 4096);

    let (status, version) = get(&hearth, "/api/version").await;
    assert_eq!(status, 200);
    assert!(!version["version"].as_str().unwrap().is_empty());

    // Errors are `{"error": "..."}` with the right status, streamed request or not.
    let error_of = |status: u16, body: &Value| {
        let message = body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("not Ollama's error shape ({status}): {body}"));
        message.to_owned()
    };
    for stream in [false, true] {
        let response = post(
            &hearth,
            "/api/chat",
            &json!({ "model": "llama/nope", "messages": [{ "role": "user", "content": "hi" }], "stream": stream }),
        )
        .send()
        .await
        .unwrap();
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, 404, "{body}");
        assert!(error_of(status, &body).contains("nope"), "{body}");
    }
    let response = reqwest::Client::new()
        .post(format!("{}/api/chat", hearth.base))
        .bearer_auth(APP_TOKEN)
        .header("content-type", "application/json")
        .body(r#"{"model": "small", "messages": [{"role": "user", "content": "hi"}"#)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    error_of(status, &body);
    // A parse error names where the problem is.
    let response = post(
        &hearth,
        "/api/chat",
        &json!({ "model": "small", "messages": [{ "content": "no role" }] }),
    )
    .send()
    .await
    .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(error_of(status, &body).contains("messages[0]"), "{body}");
    // A token that matches nothing.
    let response = reqwest::Client::new()
        .get(format!("{}/api/tags", hearth.base))
        .bearer_auth("hth_wrong")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_eq!(status, 401, "{body}");
    error_of(status, &body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_dying_mid_stream_ends_the_ndjson_stream_with_an_error_line() {
    let mut llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let response = post(
        &hearth,
        "/api/chat",
        &json!({
            "model": "small",
            "messages": [{ "role": "user", "content": "Write a very long story about a lighthouse." }],
            "options": { "num_predict": 500 }
        }),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains('\n') {
        text.push_str(&String::from_utf8_lossy(
            &body.next().await.unwrap().unwrap(),
        ));
    }
    llama.stop();
    let rest = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = body.next().await {
            text.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        }
    })
    .await;
    assert!(
        rest.is_ok(),
        "the stream hung after the backend died:\n{text}"
    );
    let last: Value = serde_json::from_str(text.trim_end().lines().last().unwrap()).unwrap();
    assert!(last["error"].as_str().unwrap().contains("llama"), "{last}");
    assert!(
        !text.contains(r#""done":true"#),
        "a failed stream must not look complete:\n{text}"
    );
}
