//! Backends that fail in the ways real ones do, each a real process: a llama-server killed in the
//! middle of a streamed answer, and an HTTP server that is not a model server at all (Python's
//! `http.server`, answering HTML). The client gets a clear error — an error event at the end of
//! the stream, a 502 — never a hang, and the gateway keeps serving.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

use futures_util::StreamExt;
use hearth_e2e::{
    APP_TOKEN, Hearth, LlamaServer, free_port, last_sse_event, provisioned, two_agents,
    wait_listening,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_dying_mid_stream_ends_the_stream_with_an_error_event() {
    let mut llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({
            "model": "small",
            "messages": [{ "role": "user", "content": "Write a very long story about a lighthouse." }],
            "max_tokens": 500,
            "stream": true
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    // Read until the answer is under way, then kill the backend.
    while !text.contains("\"content\"") {
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
    let last = text
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .strip_prefix("data: ")
        .unwrap();
    let event: Value = serde_json::from_str(last).unwrap();
    let message = event["error"]["message"].as_str().unwrap();
    assert!(message.contains("llama"), "{message}");
    assert!(
        !text.contains("[DONE]"),
        "a failed stream must not look complete"
    );

    let health = reqwest::get(format!("{}/health", hearth.base))
        .await
        .unwrap();
    assert_eq!(health.status().as_u16(), 200);
}

/// Sends a long streamed request to `path`, kills the backend once text is flowing, and returns
/// everything the client received; fails if the stream hangs.
async fn cut_stream(path: &str, body: Value, flowing: &str) -> (String, Hearth) {
    let mut llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let response = reqwest::Client::new()
        .post(format!("{}{path}", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    let mut text = String::new();
    while !text.contains(flowing) {
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
    (text, hearth)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_responses_stream_cut_mid_way_ends_with_response_failed() {
    let request = json!({
        "model": "small",
        "input": "Write a very long story about a lighthouse.",
        "max_output_tokens": 500,
        "stream": true
    });
    let (text, hearth) = cut_stream("/v1/responses", request, "response.output_text.delta").await;
    let (name, event) = last_sse_event(&text);
    assert_eq!(name, "response.failed", "{text}");
    assert_eq!(event["response"]["status"], "failed");
    let message = event["response"]["error"]["message"].as_str().unwrap();
    assert!(message.contains("llama"), "{message}");
    assert!(!text.contains("response.completed"), "{text}");
    // A failed response is not one to go on from.
    let id = event["response"]["id"].as_str().unwrap();
    let lookup = reqwest::Client::new()
        .get(format!("{}/v1/responses/{id}", hearth.base))
        .bearer_auth(APP_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(lookup.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_messages_stream_cut_mid_way_ends_with_an_anthropic_error_event() {
    let request = json!({
        "model": "small",
        "max_tokens": 500,
        "messages": [{ "role": "user", "content": "Write a very long story about a lighthouse." }],
        "stream": true
    });
    let (text, _hearth) = cut_stream("/v1/messages", request, "text_delta").await;
    let (name, event) = last_sse_event(&text);
    assert_eq!(name, "error", "{text}");
    assert_eq!(event["type"], "error");
    assert_eq!(event["error"]["type"], "api_error");
    assert!(
        event["error"]["message"]
            .as_str()
            .unwrap()
            .contains("llama"),
        "{event}"
    );
    assert!(!text.contains("message_stop"), "{text}");
}

/// A real HTTP server that is not a model server: a few lines of Python's http.server that
/// answer every POST with `status` and an HTML page.
struct NotAModelServer {
    child: Child,
    port: u16,
}

const HTML_SERVER: &str = r#"
import http.server, sys
status = int(sys.argv[2])
class Page(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(status)
        self.send_header("content-type", "text/html")
        self.end_headers()
        self.wfile.write(b"<html><body>It works!</body></html>")
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Page).serve_forever()
"#;

impl NotAModelServer {
    fn start(status: u16) -> NotAModelServer {
        let port = free_port();
        let child = Command::new(provisioned("HEARTH_TEST_PYTHON"))
            .args(["-c", HTML_SERVER, &port.to_string(), &status.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port);
        NotAModelServer { child, port }
    }
}

impl Drop for NotAModelServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_answering_garbage_or_an_error_status_is_a_502_with_a_message() {
    for (status, expected) in [(200, "not valid"), (500, "answered HTTP 500")] {
        let garbage = NotAModelServer::start(status);
        let base = format!("http://127.0.0.1:{}/v1", garbage.port);
        let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
        for stream in [false, true] {
            let response = reqwest::Client::new()
                .post(format!("{}/v1/chat/completions", hearth.base))
                .bearer_auth(APP_TOKEN)
                .json(&json!({
                    "model": "small",
                    "messages": [{ "role": "user", "content": "hi" }],
                    "stream": stream
                }))
                .send()
                .await
                .unwrap();
            let code = response.status().as_u16();
            let body: Value = response.json().await.unwrap();
            assert_eq!(code, 502, "backend {status}, stream={stream}: {body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("provider `llama`") && message.contains(expected),
                "backend {status}, stream={stream}: {message}"
            );
            assert!(
                !message.contains("<html>"),
                "the page itself is not the message: {message}"
            );
        }
    }
}

/// A backend answering `status` with a JSON body of `megabytes` MB, sent as it goes (no
/// `Content-Length`: the end is the end of the connection), that writes down how many bytes it
/// got out before the other side hung up.
const HUGE_SERVER: &str = r#"
import http.server, sys
port, status, megabytes, report = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
class Huge(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.end_headers()
        written = 0
        try:
            start = b'{"error": {"message": "out of memory", "padding": "'
            self.wfile.write(start)
            written += len(start)
            block = b"x" * 65536
            while written < megabytes * 1000000:
                self.wfile.write(block)
                written += len(block)
            self.wfile.write(b'"}}')
        except OSError:
            pass
        with open(report, "w") as out:
            out.write(str(written))
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", port), Huge).serve_forever()
"#;

/// A backend answering with hundreds of megabytes, as an error or as an answer, is not read
/// whole: Hearth reads the start of an error (its message is there) and at most its limit of an
/// answer, hangs up, and says which limit in a 502.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_answer_of_hundreds_of_megabytes_is_cut_off_with_a_502_naming_the_limit() {
    const MEGABYTES: u64 = 300;
    for (status, expected) in [
        (500, ["answered HTTP 500", "out of memory"]),
        (200, ["sent more than 64 MiB for a whole answer", "limit"]),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let report = dir.path().join("written");
        let port = free_port();
        let mut child = Command::new(provisioned("HEARTH_TEST_PYTHON"))
            .args(["-c", HUGE_SERVER, &port.to_string(), &status.to_string()])
            .arg(MEGABYTES.to_string())
            .arg(&report)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        wait_listening(port);
        let base = format!("http://127.0.0.1:{port}/v1");
        let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
        let response = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", hearth.base))
            .bearer_auth(APP_TOKEN)
            .json(&json!({ "model": "small", "messages": [{ "role": "user", "content": "hi" }] }))
            .send()
            .await
            .unwrap();
        let code = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_eq!(code, 502, "backend {status}: {body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            expected.iter().all(|part| message.contains(part)),
            "backend {status}: {message}"
        );
        assert!(message.len() < 1000, "backend {status}: {message}");
        // The backend found the other side gone long before its last byte.
        let mut written = None;
        for _ in 0..200 {
            written = std::fs::read_to_string(&report)
                .ok()
                .filter(|text| !text.is_empty());
            if written.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let written: u64 = written.unwrap().parse().unwrap();
        assert!(
            written < 100 * 1_000_000,
            "backend {status}: Hearth read {written} bytes"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A caller is told the provider cannot be reached, not where it is: the address is the
/// admin's (it is in the configuration and the log).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backend_that_is_not_there_is_named_but_its_address_is_not_shown() {
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/v1");
    let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
    for stream in [false, true] {
        let response = reqwest::Client::new()
            .post(format!("{}/v1/chat/completions", hearth.base))
            .bearer_auth(APP_TOKEN)
            .json(&json!({
                "model": "small",
                "messages": [{ "role": "user", "content": "hi" }],
                "stream": stream
            }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 503);
        let text = response.text().await.unwrap();
        assert!(
            text.contains("cannot connect to provider `llama`"),
            "{text}"
        );
        assert!(!text.contains(&port.to_string()), "{text}");
    }
}
