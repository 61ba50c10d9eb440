//! A conversation carried on with `previous_response_id` is held to what the same conversation
//! sent whole would be: the request size limit (`gateway.bodyLimitMiB`), and the model's
//! context window — the stored turns count. Otherwise each turn grows one stored file, and what
//! every later turn loads and sends, without bound. The backend is the fast OpenAI-compatible
//! upstream (built from OpenAI's published examples): what is tested is Hearth's arithmetic,
//! not a model.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use hearth_e2e::{APP_TOKEN, Hearth, two_agents, upstream::Upstream};
use serde_json::{Value, json};

/// Posts `input` to `/v1/responses`, after `previous` when given; the status and the body.
async fn turn(hearth: &Hearth, previous: Option<&str>, input: &str) -> (u16, Value) {
    let mut body = json!({ "model": "default", "input": input, "max_output_tokens": 16 });
    if let Some(previous) = previous {
        body["previous_response_id"] = json!(previous);
    }
    let response = reqwest::Client::new()
        .post(format!("{}/v1/responses", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_that_outgrows_the_request_limit_is_refused_with_a_400_that_says_so() {
    let upstream = Upstream::start(Default::default()).unwrap();
    let base = format!("http://{}/v1", upstream.addr);
    let hearth = Hearth::start(|dir| {
        let mut document = two_agents(&base, dir);
        document["gateway"] = json!({ "bodyLimitMiB": 1 });
        document["providers"]["llama"]["models"][0]["contextWindow"] = json!(4_000_000);
        document
    })
    .await;
    // Each turn is well under the limit; the third brings the conversation over it.
    let input = "a".repeat(400 * 1024);
    let mut previous: Option<String> = None;
    for expected in [200, 200, 400] {
        let (status, body) = turn(&hearth, previous.as_deref(), &input).await;
        assert_eq!(status, expected, "{body}");
        if status == 200 {
            previous = Some(body["id"].as_str().unwrap().to_owned());
        } else {
            assert_eq!(body["error"]["code"], "conversation_too_large", "{body}");
            let message = body["error"]["message"].as_str().unwrap();
            assert!(
                message.contains("over the limit of 1 MiB") && message.contains("bodyLimitMiB"),
                "{message}"
            );
        }
    }
    // Nothing was stored for the refused turn, and the chain can still go on in small steps.
    let (status, body) = turn(&hearth, previous.as_deref(), "and then?").await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stored_turns_count_against_the_context_window() {
    let upstream = Upstream::start(Default::default()).unwrap();
    let base = format!("http://{}/v1", upstream.addr);
    // smollm2 here: a 4,096-token window.
    let hearth = Hearth::start(|dir| two_agents(&base, dir)).await;
    // About 3,000 tokens a turn: one fits, two do not.
    let input = "word ".repeat(2400);
    let (status, first) = turn(&hearth, None, &input).await;
    assert_eq!(status, 200, "{first}");
    let (status, alone) = turn(&hearth, None, &input).await;
    assert_eq!(status, 200, "{alone}");
    let (status, body) = turn(&hearth, first["id"].as_str(), &input).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "context_length_exceeded", "{body}");
}
