//! A backend that restarted (a model switch, a crash and its restart) leaves the gateway's pool
//! holding a connection the server has dropped. The next request on it fails before any answer;
//! the gateway sends it once more on a new connection instead of failing the client.

#![expect(clippy::unwrap_used, reason = "a test: a failure must fail it loudly")]

use hearth_gateway::providers::{Endpoint, openai::OpenAiCompletions};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

const MODELS: &str = r#"{"object":"list","data":[{"id":"smollm2","object":"model"}]}"#;

async fn read_request(socket: &mut tokio::net::TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut buffer = [0_u8; 1024];
    while !seen.windows(4).any(|window| window == b"\r\n\r\n") {
        match socket.read(&mut buffer).await {
            Ok(0) | Err(_) => return false,
            Ok(read) => seen.extend_from_slice(&buffer[..read]),
        }
    }
    true
}

async fn answer(socket: &mut tokio::net::TcpStream) {
    let reply = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{MODELS}",
        MODELS.len()
    );
    socket.write_all(reply.as_bytes()).await.unwrap();
}

#[tokio::test]
async fn a_request_on_a_dropped_pooled_connection_is_sent_again() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        // The first connection answers once, takes the second request and drops it unanswered,
        // as a server that went away under a kept-alive connection does.
        let (mut first, _) = listener.accept().await.unwrap();
        assert!(read_request(&mut first).await);
        answer(&mut first).await;
        assert!(read_request(&mut first).await);
        drop(first);
        // The restarted server.
        let (mut second, _) = listener.accept().await.unwrap();
        assert!(read_request(&mut second).await);
        answer(&mut second).await;
    });
    let backend = OpenAiCompletions::new(Endpoint {
        provider: "smol".to_owned(),
        base_url: base,
        api_key: None,
        http: reqwest::Client::new(),
    });
    assert_eq!(backend.list_models().await.unwrap(), ["smollm2"]);
    assert_eq!(
        backend.list_models().await.unwrap(),
        ["smollm2"],
        "the retry on a new connection"
    );
    server.await.unwrap();
}
