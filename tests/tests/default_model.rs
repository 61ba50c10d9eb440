//! What `model: "default"` means (README, Quick start): the routed agent's model, else the
//! primary, else — when the configuration lists exactly one model — that one; otherwise a 404
//! that names the command that fixes it. The one model's server is hearth-e2e's upstream (an
//! OpenAI-compatible server built from OpenAI's published examples).

#![expect(clippy::unwrap_used, reason = "tests")]

use hearth_e2e::{
    APP_TOKEN, Hearth,
    upstream::{Upstream, UpstreamOptions},
};
use serde_json::{Value, json};

async fn ask(hearth: &Hearth, model: &str) -> (u16, Option<String>, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", hearth.base))
        .bearer_auth(APP_TOKEN)
        .json(&json!({ "model": model, "messages": [{ "role": "user", "content": "Hi" }] }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let model = response
        .headers()
        .get("x-hearth-model")
        .map(|value| value.to_str().unwrap().to_owned());
    (status, model, response.json().await.unwrap_or(Value::Null))
}

fn document(providers: Value, primary: Option<&str>) -> Value {
    let mut document = json!({
        "providers": providers,
        "agents": [{ "id": "main" }],
        "clients": [{ "name": "app", "token": "keychain:hearth.client.app" }]
    });
    if let Some(primary) = primary {
        document["models"] = json!({ "primary": primary });
    }
    document
}

#[tokio::test]
async fn the_one_configured_model_is_the_default() {
    let upstream = Upstream::start(UpstreamOptions::default()).unwrap();
    let providers = json!({
        "local": { "api": "openai-completions", "baseUrl": upstream.base_url(),
                   "models": [{ "id": "only-one" }] }
    });
    let hearth = Hearth::start(|_| document(providers, None)).await;
    for name in ["default", "", "auto"] {
        let (status, model, body) = ask(&hearth, name).await;
        assert_eq!(status, 200, "{name:?}: {body}");
        assert_eq!(model.as_deref(), Some("local/only-one"), "{name:?}");
    }
}

#[tokio::test]
async fn with_no_model_default_names_hearth_setup() {
    let hearth = Hearth::start(|_| document(json!({}), None)).await;
    let (status, _, body) = ask(&hearth, "default").await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("no model is configured yet"), "{message}");
    assert!(message.contains("hearth setup --apply"), "{message}");
}

#[tokio::test]
async fn with_several_models_and_no_primary_default_names_hearth_model_use() {
    let providers = json!({
        "a": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:9/v1", "models": [{ "id": "one" }] },
        "b": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:9/v1", "models": [{ "id": "two" }] }
    });
    let hearth = Hearth::start(|_| document(providers.clone(), None)).await;
    let (status, _, body) = ask(&hearth, "default").await;
    assert_eq!(status, 404, "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("2 models are configured"), "{message}");
    assert!(message.contains("hearth model use"), "{message}");

    // A primary settles it.
    let upstream = Upstream::start(UpstreamOptions::default()).unwrap();
    let mut providers = providers;
    providers["b"]["baseUrl"] = json!(upstream.base_url());
    let hearth = Hearth::start(|_| document(providers, Some("b/two"))).await;
    let (status, model, body) = ask(&hearth, "default").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(model.as_deref(), Some("b/two"));
}
