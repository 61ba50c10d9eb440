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
use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, free_port, provisioned, two_agents};
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
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
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
