//! `POST /v1/embeddings` passed through Hearth to a real llama-server serving embeddings.

use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, provisioned, two_agents};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embeddings_pass_through_to_the_backend() {
    let llama = LlamaServer::start(
        &provisioned("HEARTH_MODEL_SMOLLM2"),
        "smollm2",
        &["--embeddings", "--pooling", "mean"],
    );
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let response = reqwest::Client::new()
        .post(format!("{}/v1/embeddings", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": "small", "input": ["a lighthouse by the sea", "a cat on a mat"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["model"], "llama/smollm2");
    let data = body["data"].as_array().unwrap();
    assert_eq!(data.len(), 2, "{body}");
    let first = data[0]["embedding"].as_array().unwrap();
    let second = data[1]["embedding"].as_array().unwrap();
    assert!(
        first.len() >= 64,
        "a real embedding has many dimensions: {}",
        first.len()
    );
    assert_eq!(first.len(), second.len());
    assert_ne!(first, second, "different texts, different vectors");

    let unknown = reqwest::Client::new()
        .post(format!("{}/v1/embeddings", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": "nope/x", "input": "hi" }))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 404);
}
