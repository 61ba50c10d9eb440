//! Hearth in front of a real llama-server (SmolLM2-135M, provisioned by scripts/provision.sh):
//! OpenAI Chat Completions through the gateway, streamed and not, with routing, tool policy,
//! headers and errors as a client sees them.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, RELAY_TOKEN, two_agents};
use serde_json::{Value, json};

fn owner_dm(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .bearer_auth(RELAY_TOKEN)
        .header("x-hearth-channel", "whatsapp")
        .header("x-hearth-peer-kind", "dm")
        .header("x-hearth-peer-id", "+15550100777")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chat_completion_reaches_the_model_through_the_owners_route() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let response =
        owner_dm(reqwest::Client::new().post(format!("{}/v1/chat/completions", hearth.base)))
            .json(&json!({
                "model": "default",
                "messages": [{ "role": "user", "content": "Say hello in one short sentence." }],
                "max_tokens": 24
            }))
            .send()
            .await
            .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(header(&response, "x-hearth-agent"), "private");
    assert_eq!(header(&response, "x-hearth-model"), "llama/smollm2");
    assert_eq!(header(&response, "x-hearth-provider"), "llama");
    let body: Value = response.json().await.unwrap();
    let text = body["choices"][0]["message"]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(!text.trim().is_empty(), "empty answer: {body}");
    assert_eq!(body["model"], "llama/smollm2");
    assert!(
        body["usage"]["completion_tokens"].as_u64().unwrap() > 0,
        "{body}"
    );
}

/// Streams a request and returns each SSE data payload with the time it arrived.
async fn stream_events(request: reqwest::RequestBuilder) -> (u16, Vec<(Instant, String)>) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let mut events = Vec::new();
    let mut buffer = String::new();
    let mut bytes = response.bytes_stream();
    while let Some(chunk) = bytes.next().await {
        buffer.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
        while let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            for line in event.lines() {
                if let Some(data) = line.strip_prefix("data: ") {
                    events.push((Instant::now(), data.to_owned()));
                }
            }
        }
    }
    (status, events)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamed_answer_arrives_chunk_by_chunk_and_ends_with_done() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let request = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({
            "model": "small",
            "messages": [{ "role": "user", "content": "Count from one to twenty in words." }],
            "max_tokens": 64,
            "temperature": 0,
            "stream": true
        }));
    let (status, events) = stream_events(request).await;
    assert_eq!(status, 200);
    assert_eq!(events.last().map(|(_, data)| data.as_str()), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|(_, data)| serde_json::from_str(data).unwrap())
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert!(
        chunks.len() >= 5,
        "expected many chunks, got {}: {text}",
        chunks.len()
    );
    assert!(!text.trim().is_empty());
    assert!(chunks.iter().all(|chunk| chunk["model"] == "llama/smollm2"));
    // The client did not ask for usage, so none is sent.
    assert!(
        chunks
            .iter()
            .all(|chunk| chunk.get("usage").is_none_or(Value::is_null))
    );
    // Forwarded as they come: the first and last content chunks are not delivered together.
    let spread = events[events.len() - 2].0 - events[0].0;
    assert!(
        spread > Duration::from_millis(20),
        "all chunks arrived at once ({spread:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tool_choice_naming_a_denied_tool_is_refused_and_denied_tools_never_reach_the_model() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let tools = json!([
        { "type": "function", "function": { "name": "bash", "description": "Run a shell command",
          "parameters": { "type": "object", "properties": { "command": { "type": "string" } }, "required": ["command"] } } },
        { "type": "function", "function": { "name": "get_weather", "description": "Weather for a city",
          "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } }
    ]);
    // The app client is not trusted, so it reaches the public agent (the default).
    let refused = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({
            "model": "default",
            "messages": [{ "role": "user", "content": "List my files." }],
            "tools": tools,
            "tool_choice": { "type": "function", "function": { "name": "bash" } }
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status().as_u16(), 403);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "tool_denied");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("bash") && message.contains("public"),
        "{message}"
    );

    // With `required`, the model must call a tool; only get_weather is left to call.
    let answer = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({
            "model": "default",
            "messages": [
                { "role": "user", "content": "What is the weather in Paris?" },
                { "role": "assistant", "content": "<tool_call>\n" }
            ],
            "tools": tools,
            "tool_choice": "required",
            "max_tokens": 60,
            "temperature": 0,
            "stop": ["</tool_call>"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status().as_u16(), 200);
    let body: Value = answer.json().await.unwrap();
    let calls = body["choices"][0]["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let names: Vec<&str> = calls
        .iter()
        .filter_map(|c| c["function"]["name"].as_str())
        .collect();
    assert!(!names.is_empty(), "required a tool call: {body}");
    assert!(
        names.iter().all(|name| *name == "get_weather"),
        "the model could only see get_weather: {body}"
    );
    // Every tool call is in the agent's audit log, with the rule that allowed it.
    let audit = std::fs::read_to_string(hearth.workspace("public").join("audit.jsonl")).unwrap();
    let records: Vec<Value> = audit
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(records.len(), names.len(), "{audit}");
    for record in &records {
        assert_eq!(record["tool"], "get_weather");
        assert_eq!(record["allowed"], true);
        assert_eq!(record["agent"], "public");
        assert_eq!(record["client"], "app");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_requests_get_clear_errors_and_the_gateway_keeps_serving() {
    let mut llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let client = reqwest::Client::new();
    let url = format!("{}/v1/chat/completions", hearth.base);
    let send = |body: reqwest::Body| {
        client
            .post(&url)
            .bearer_auth(APP_TOKEN)
            .header("content-type", "application/json")
            .body(body)
            .send()
    };
    let cases: Vec<(&str, reqwest::Body, u16, &str)> = vec![
        (
            "malformed JSON",
            "{\"model\": ".into(),
            400,
            "invalid request body",
        ),
        (
            "wrong type",
            r#"{"model":"small","messages":"hi"}"#.into(),
            400,
            "messages",
        ),
        (
            "no messages",
            r#"{"model":"small","messages":[]}"#.into(),
            400,
            "`messages` is empty",
        ),
        (
            "unknown model",
            r#"{"model":"llama/smolm2","messages":[{"role":"user","content":"hi"}]}"#.into(),
            404,
            "did you mean `llama/smollm2`",
        ),
        (
            "unknown alias",
            r#"{"model":"smal","messages":[{"role":"user","content":"hi"}]}"#.into(),
            404,
            "unknown model",
        ),
        (
            "context too long",
            serde_json::to_string(&json!({
                "model": "small",
                "messages": [{ "role": "user", "content": "word ".repeat(20_000) }]
            }))
            .unwrap()
            .into(),
            400,
            "context window",
        ),
    ];
    for (what, body, status, needle) in cases {
        let response = send(body).await.unwrap();
        assert_eq!(response.status().as_u16(), status, "{what}");
        let text = response.text().await.unwrap();
        assert!(text.contains(needle), "{what}: {text}");
    }

    // A body over the limit is refused from its Content-Length, before it is read: the 413
    // arrives while the client has sent only the headers (a client still writing 40 MiB may
    // instead see the connection close, so this one waits for the answer first).
    let too_big = {
        use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
        let address = hearth.base.trim_start_matches("http://").to_owned();
        let mut socket = tokio::net::TcpStream::connect(&address).await.unwrap();
        let head = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {APP_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            40 * 1024 * 1024
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        let mut answer = vec![0_u8; 4096];
        let read = tokio::time::timeout(Duration::from_secs(10), socket.read(&mut answer))
            .await
            .unwrap()
            .unwrap();
        String::from_utf8_lossy(&answer[..read]).into_owned()
    };
    assert!(too_big.starts_with("HTTP/1.1 413"), "huge body: {too_big}");

    llama.stop();
    let down = send(r#"{"model":"small","messages":[{"role":"user","content":"hi"}]}"#.into())
        .await
        .unwrap();
    assert_eq!(down.status().as_u16(), 503);
    let body: Value = down.json().await.unwrap();
    assert_eq!(body["error"]["code"], "backend_unavailable");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("llama") && message.contains("is the server running"),
        "{message}"
    );

    let health = client
        .get(format!("{}/health", hearth.base))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200, "the gateway still serves");
}

/// A stored response belongs to the agent that answered it: the owner's private agent cannot
/// be read, continued or deleted from the public route, and the other way round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stored_response_is_only_found_by_the_agent_that_answered_it() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let client = reqwest::Client::new();
    let private = owner_dm(client.post(format!("{}/v1/responses", hearth.base)))
        .json(&json!({ "model": "default", "input": "My secret is 42.", "max_output_tokens": 8 }))
        .send()
        .await
        .unwrap();
    assert_eq!(private.status().as_u16(), 200);
    assert_eq!(header(&private, "x-hearth-agent"), "private");
    let id = private.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        hearth
            .workspace("private")
            .join("responses")
            .join(format!("{id}.json"))
            .exists()
    );

    let url = format!("{}/v1/responses/{id}", hearth.base);
    let read = client
        .get(&url)
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status().as_u16(), 404);
    let deleted = client
        .delete(&url)
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status().as_u16(), 404);
    let continued = client
        .post(format!("{}/v1/responses", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": "default", "previous_response_id": id, "input": "What is my secret?" }))
        .send()
        .await
        .unwrap();
    assert_eq!(continued.status().as_u16(), 400);
    let body: Value = continued.json().await.unwrap();
    assert_eq!(
        body["error"]["code"], "previous_response_not_found",
        "{body}"
    );

    // The owner still has it.
    let own = owner_dm(client.get(&url)).send().await.unwrap();
    assert_eq!(own.status().as_u16(), 200);
    assert_eq!(own.json::<Value>().await.unwrap()["id"], id.as_str());
}
