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

fn switches() -> usize {
    std::env::var("HEARTH_CHAOS_SWITCHES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3)
}

/// The ports of the llama-servers alive now (not zombies), read from `/proc`: which of `ports`
/// a server of `program` listens on.
fn servers_alive(program: &str, ports: &[u16]) -> Vec<u16> {
    let mut alive = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let dir = entry.path();
        let Ok(command) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        let args: Vec<String> = command
            .split(|byte| *byte == 0)
            .map(|arg| String::from_utf8_lossy(arg).into_owned())
            .collect();
        if args.first().map(String::as_str) != Some(program) {
            continue;
        }
        let zombie = std::fs::read_to_string(dir.join("stat"))
            .is_ok_and(|stat| stat.split_whitespace().nth(2) == Some("Z"));
        let port = args
            .windows(2)
            .find(|pair| pair[0] == "--port")
            .and_then(|pair| pair[1].parse::<u16>().ok());
        if let Some(port) = port.filter(|port| ports.contains(port) && !zombie) {
            alive.push(port);
        }
    }
    alive
}

/// A switch (`hearth model use`) whose servers are killed (SIGKILL) half-way — the new one
/// while it starts, the new one while it warms up, the old one while it is stopped, by turns —
/// must complete or roll back: the primary and the running service agree afterwards, and at no
/// moment (sampled every 20 ms from `/proc`) do both models' servers run at once.
#[test]
fn a_switch_whose_servers_are_killed_completes_or_rolls_back_never_two_resident() {
    use crate::real::{Serve, llama_service, service, services, wait_running};
    use hearth_e2e::provisioned;
    use std::io::BufRead as _;

    let hearth = Hearth::new("chaos-switch");
    let gateway = free_port();
    let (smol_port, gemma_port) = (free_port(), free_port());
    let document = json!({
        "providers": {
            "smol": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{smol_port}/v1"),
                      "models": [{ "id": "smollm2", "contextWindow": 2048 }] },
            "gemma": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{gemma_port}/v1"),
                       "models": [{ "id": "gemma3-270m", "contextWindow": 2048 }] }
        },
        "models": { "primary": "smol/smollm2" },
        "agents": [{ "id": "main", "workspace": hearth.root().join("agents/main") }],
        "gateway": { "port": gateway },
        "services": {
            "smol": llama_service(&provisioned("HEARTH_MODEL_SMOLLM2"), "smollm2", smol_port, "smol"),
            "gemma": llama_service(&provisioned("HEARTH_MODEL_GEMMA270M"), "gemma3-270m", gemma_port, "gemma")
        }
    });
    hearth.write_config(&serde_json::to_string_pretty(&document).unwrap());
    // Creates the admin token the CLI's admin calls use.
    hearth.run(&["token", "show"]).assert_code(0);
    let _serve = Serve(
        hearth
            .command(&["serve"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_running(&hearth, "smol", None);
    let program = provisioned("HEARTH_LLAMA_SERVER");
    let ports = [smol_port, gemma_port];
    let (mut completed, mut rolled_back, mut most_at_once) = (0, 0, 0);
    for round in 0..switches() {
        let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
        let (old, new) = if saved["models"]["primary"] == "smol/smollm2" {
            ("smol", "gemma")
        } else {
            ("gemma", "smol")
        };
        let target = format!(
            "{new}/{}",
            if new == "smol" {
                "smollm2"
            } else {
                "gemma3-270m"
            }
        );
        let (step, victim) = match round % 3 {
            0 => (format!("start service {new}"), new),
            1 => (format!("warm up {target}"), new),
            _ => (format!("stop service {old}"), old),
        };
        let old_pid = service(&services(&hearth), old)["pid"].as_u64();
        let mut switch = hearth.command(&["model", "use", &target]).spawn().unwrap();
        let stdout = std::io::BufReader::new(switch.stdout.take().unwrap());
        let sampler = {
            let (program, done) = (program.clone(), Arc::new(Mutex::new(false)));
            let stop = done.clone();
            let handle = std::thread::spawn(move || {
                let mut most = 0;
                while !*stop.lock().unwrap() {
                    most = most.max(servers_alive(&program, &ports).len());
                    std::thread::sleep(Duration::from_millis(20));
                }
                most
            });
            (done, handle)
        };
        let mut transcript = Vec::new();
        let mut killed = false;
        for line in stdout.lines().map_while(Result::ok) {
            if !killed && line.contains(&step) {
                // The victim's pid: the old one's is known; the new one's once it has one.
                let deadline = Instant::now() + Duration::from_secs(60);
                let pid = loop {
                    let pid = if victim == old {
                        old_pid
                    } else {
                        service(&services(&hearth), new)["pid"].as_u64()
                    };
                    if pid.is_some() || Instant::now() > deadline {
                        break pid;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                };
                if let Some(pid) = pid {
                    let _ = std::process::Command::new("kill")
                        .args(["-9", &pid.to_string()])
                        .status();
                    killed = true;
                }
            }
            transcript.push(line);
        }
        let mut errors = String::new();
        std::io::Read::read_to_string(&mut switch.stderr.take().unwrap(), &mut errors).unwrap();
        let status = switch.wait().unwrap();
        let transcript = format!("{}\n{errors}", transcript.join("\n"));
        // Settled: one server runs, the primary's.
        let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
        let primary = saved["models"]["primary"].as_str().unwrap().to_owned();
        let resident = primary.split('/').next().unwrap().to_owned();
        let other = if resident == "smol" { "gemma" } else { "smol" };
        wait_running(&hearth, &resident, None);
        *sampler.0.lock().unwrap() = true;
        let most = sampler.1.join().unwrap();
        most_at_once = most_at_once.max(most);
        let list = services(&hearth);
        assert_eq!(
            service(&list, other)["state"],
            "stopped",
            "round {round} (killed {victim} at `{step}`: {killed}): {list:?}\n{transcript}"
        );
        assert!(
            most <= 1,
            "round {round}: both servers ran at once\n{transcript}"
        );
        if status.success() {
            assert_eq!(primary, target, "round {round}: {transcript}");
            completed += 1;
        } else {
            assert!(
                transcript.contains("rolled back") && resident == old,
                "round {round}: a failed switch that did not roll back:\n{transcript}"
            );
            rolled_back += 1;
        }
    }
    println!(
        "chaos: {} switches with a server killed half-way: {completed} completed, {rolled_back} rolled back, never two models' servers at once (at most {most_at_once})",
        completed + rolled_back
    );
}
