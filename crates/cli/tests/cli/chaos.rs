//! Chaos: the running gateway (`hearth serve`, a real process) is killed (SIGKILL) again and
//! again while it saves — configuration edits through the admin API, and responses to the
//! response store — until `HEARTH_CHAOS_SAVES` edits (default 60; `scripts/reliability.sh`
//! runs 1,000) were acknowledged. After every kill `hearth.json` and its backup must be valid
//! and hold the last acknowledged edit (or the one in flight), and every acknowledged response
//! must be stored whole: nothing acknowledged lost, nothing torn. The backend is the fast
//! OpenAI-compatible upstream (what is tested is Hearth's saving, not a model).

use std::{
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use hearth_core::config::{Environment, validate_str};
use hearth_e2e::{free_port, upstream::Upstream};
use serde_json::{Value, json};

use crate::support::Hearth;

fn saves() -> usize {
    std::env::var("HEARTH_CHAOS_SAVES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(60)
}

/// What the two writers saw: the alias value of the last acknowledged edit and of those sent
/// after it (any of which a kill may have let land, unacknowledged), and every acknowledged
/// response.
#[derive(Debug, Default)]
struct Seen {
    acknowledged: Option<String>,
    unacknowledged: Vec<String>,
    saves: usize,
    responses: Vec<String>,
}

/// A valid configuration, or a panic naming `what` and every finding.
#[track_caller]
fn valid(text: &str, environment: &Environment, what: &str) -> Value {
    if let Err(found) = validate_str(text, environment) {
        let found: Vec<String> = found.iter().map(ToString::to_string).collect();
        panic!("{what} is not valid:\n{}\n---\n{text}", found.join("\n"));
    }
    serde_json::from_str(text).unwrap()
}

async fn healthy(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if client
            .get(format!("{base}/health"))
            .send()
            .await
            .is_ok_and(|answer| answer.status().is_success())
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("hearth serve did not answer within 30 s");
}

/// Every response file of `dir` parses whole; a temporary file a kill left is counted.
fn check_store(dir: &Path) -> (usize, usize) {
    let (mut stored, mut temporary) = (0, 0);
    for entry in std::fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".tmp") {
            temporary += 1;
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let stored_response: Value = serde_json::from_str(&text)
            .unwrap_or_else(|error| panic!("{name} is torn ({error}): {text:.200}"));
        assert_eq!(
            format!(
                "{}.json",
                stored_response["response"]["id"].as_str().unwrap()
            ),
            name
        );
        stored += 1;
    }
    (stored, temporary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_gateway_killed_while_it_saves_loses_nothing_it_acknowledged_and_tears_no_file() {
    let upstream = Upstream::start(Default::default()).unwrap();
    let hearth = Hearth::new("chaos");
    let port = free_port();
    let workspace = hearth.root().join("agents/main");
    let document = json!({
        "providers": { "fast": { "api": "openai-completions", "baseUrl": format!("http://{}/v1", upstream.addr),
                                 "anyModel": true, "models": [{ "id": "m0" }] } },
        "models": { "primary": "fast/m0", "aliases": { "edited": "fast/m0" } },
        "agents": [{ "id": "main", "workspace": workspace }],
        "gateway": { "port": port, "responses": { "maxStored": 1000000 } }
    });
    hearth.write_config(&serde_json::to_string_pretty(&document).unwrap());
    let environment = Environment {
        data_dir: hearth.root().join("data"),
        home: None,
    };
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut admin = String::new();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (mut kills, mut counter) = (0usize, 0u64);
    let mut leftovers = 0;
    while seen.lock().unwrap().saves < saves() {
        let mut serve = hearth
            .command(&["serve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        healthy(&client, &base).await;
        if admin.is_empty() {
            let output = hearth.command(&["token", "show"]).output().unwrap();
            admin = String::from_utf8(output.stdout).unwrap().trim().to_owned();
        }
        // Edits, each to a new value, one after the other.
        let editor = {
            let (client, base, admin, seen) =
                (client.clone(), base.clone(), admin.clone(), seen.clone());
            let start = counter;
            tokio::spawn(async move {
                for n in start.. {
                    let value = format!("fast/m{n}");
                    seen.lock().unwrap().unacknowledged.push(value.clone());
                    let answer = client
                        .post(format!("{base}/admin/config/set"))
                        .bearer_auth(&admin)
                        .json(&json!({ "path": "models.aliases.edited", "value": value }))
                        .send()
                        .await;
                    match answer {
                        Ok(answer) if answer.status().is_success() => {
                            let mut seen = seen.lock().unwrap();
                            seen.acknowledged = Some(value);
                            seen.unacknowledged.clear();
                            seen.saves += 1;
                        }
                        _ => return n + 1,
                    }
                }
                start
            })
        };
        // Responses, stored before they are answered.
        let responder = {
            let (client, base, seen) = (client.clone(), base.clone(), seen.clone());
            tokio::spawn(async move {
                loop {
                    let answer = client
                        .post(format!("{base}/v1/responses"))
                        .json(&json!({ "model": "default", "input": "Say hello.", "max_output_tokens": 16 }))
                        .send()
                        .await;
                    let Ok(answer) = answer else { return };
                    if !answer.status().is_success() {
                        return;
                    }
                    let Ok(body) = answer.json::<Value>().await else {
                        return;
                    };
                    if let Some(id) = body["id"].as_str() {
                        seen.lock().unwrap().responses.push(id.to_owned());
                    }
                }
            })
        };
        // Killed at a varied moment of its saving.
        kills += 1;
        tokio::time::sleep(Duration::from_millis(100 + (kills as u64 * 397) % 900)).await;
        serve.kill().unwrap();
        serve.wait().unwrap();
        counter = editor.await.unwrap();
        responder.await.unwrap();

        let seen = seen.lock().unwrap();
        let config = valid(&hearth.config_text(), &environment, "hearth.json");
        let backup = std::fs::read_to_string(hearth.backup_file()).unwrap_or_default();
        if !backup.is_empty() {
            valid(&backup, &environment, "hearth.json.bak");
        }
        let alias = config["models"]["aliases"]["edited"]
            .as_str()
            .unwrap()
            .to_owned();
        let acknowledged = seen.acknowledged.clone().unwrap_or("fast/m0".to_owned());
        assert!(
            alias == acknowledged || seen.unacknowledged.contains(&alias),
            "kill {kills}: the file has `{alias}`, the last acknowledged edit was `{acknowledged}`, then {:?} were sent",
            seen.unacknowledged
        );
        let (_, temporary) = check_store(&workspace.join("responses"));
        leftovers = temporary;
        for id in &seen.responses {
            assert!(
                workspace
                    .join("responses")
                    .join(format!("{id}.json"))
                    .exists(),
                "kill {kills}: acknowledged response {id} is lost"
            );
        }
    }
    let seen = seen.lock().unwrap();
    let (stored, _) = check_store(&workspace.join("responses"));
    println!(
        "chaos: hearth serve killed {kills} times while saving: {} configuration edits and {} responses acknowledged, 0 lost, 0 torn ({stored} response files whole, {leftovers} temporary files left by the last kill)",
        seen.saves,
        seen.responses.len()
    );
}
