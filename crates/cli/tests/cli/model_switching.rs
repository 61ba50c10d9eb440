//! The newcomer's flow with real servers: `hearth serve` supervising two real llama-server
//! services (SmolLM2 and Gemma 3 270M), `hearth model use` switching between them with single
//! residency and step-by-step progress, a request sent during the switch waiting and then
//! answered by the new model, a crashed backend restarted, `hearth bench` printing real
//! numbers, `hearth doctor` telling the truth, bad input refused with nothing half-started,
//! and no server left running once Hearth stops.

use std::{
    io::{BufRead, BufReader},
    process::{Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use hearth_e2e::{free_port, provisioned};
use serde_json::{Value, json};

use crate::{
    real::{Serve, alive, chat, llama_service, service, services, wait_running},
    support::Hearth,
};

#[test]
fn model_use_switches_between_two_real_llama_servers_with_single_residency() {
    let hearth = Hearth::new("switching");
    let gateway = free_port();
    let (smol_port, gemma_port, flaky_port) = (free_port(), free_port(), free_port());
    let document = json!({
        "providers": {
            "smol": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{smol_port}/v1"),
                      "models": [{ "id": "smollm2", "contextWindow": 2048 }] },
            "gemma": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{gemma_port}/v1"),
                       "models": [{ "id": "gemma3-270m", "contextWindow": 2048 }] },
            "big": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:9/v1",
                     "models": [{ "id": "huge", "sizeBytes": 1_125_899_906_842_624_u64 }] },
            "flaky": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{flaky_port}/v1"),
                       "models": [{ "id": "missing" }] }
        },
        "models": { "primary": "smol/smollm2", "aliases": { "g": "gemma/gemma3-270m" } },
        "agents": [{ "id": "main", "workspace": hearth.root().join("agents/main") }],
        "gateway": { "port": gateway },
        "services": {
            "smol": llama_service(&provisioned("HEARTH_MODEL_SMOLLM2"), "smollm2", smol_port, "smol"),
            "gemma": llama_service(&provisioned("HEARTH_MODEL_GEMMA270M"), "gemma3-270m", gemma_port, "gemma"),
            "big": { "program": provisioned("HEARTH_LLAMA_SERVER"), "args": ["--version"], "provider": "big" },
            // Its model file does not exist: llama-server exits while starting.
            "flaky": llama_service("/nonexistent/missing.gguf", "missing", flaky_port, "flaky")
        }
    });
    hearth.write_config(&serde_json::to_string_pretty(&document).unwrap());
    hearth.run(&["config", "validate"]).assert_code(0);
    let token = String::from_utf8(hearth.command(&["token", "show"]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();

    let serve = Serve(
        hearth
            .command(&["serve"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // The primary model's service starts with Hearth; the other stays stopped.
    let smol = wait_running(&hearth, "smol", None);
    let smol_pid = smol["pid"].as_u64().unwrap();
    assert_eq!(service(&services(&hearth), "gemma")["state"], "stopped");
    let (status, headers, body) = chat(gateway, &token, None);
    assert_eq!(status, 200, "{headers}{body}");
    assert!(
        headers.contains("x-hearth-model: smol/smollm2"),
        "{headers}"
    );

    // Switch, and send a request while the switch holds routing.
    let mut switch = hearth.command(&["model", "use", "g"]).spawn().unwrap();
    let stdout = switch.stdout.take().unwrap();
    let (lines, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = lines.send(line);
        }
    });
    let mut transcript = Vec::new();
    let mut during = None;
    let mut flipped_after_sending = false;
    while let Ok(line) = receive.recv_timeout(Duration::from_secs(240)) {
        if during.is_none() && line.contains("stop service smol …") {
            let token = token.clone();
            during = Some(std::thread::spawn(move || chat(gateway, &token, None)));
        }
        if line.contains("switch routing: done") {
            flipped_after_sending = during.is_some();
        }
        transcript.push(line);
    }
    assert!(
        flipped_after_sending,
        "the request went out after the flip:\n{}",
        transcript.join("\n")
    );
    let switched = switch.wait_with_output().unwrap();
    let transcript = transcript.join("\n");
    assert!(
        switched.status.success(),
        "{transcript}\n{}",
        String::from_utf8_lossy(&switched.stderr)
    );
    for step in [
        "Switching to gemma/gemma3-270m",
        "[1/6] check memory: done: needs about",
        "[2/6] wait for requests in flight: done",
        "[3/6] stop service smol: done: stopped; its memory is released",
        "[4/6] start service gemma and wait for health: done: healthy (pid",
        "[5/6] warm up gemma/gemma3-270m: done: answered in",
        "[6/6] switch routing: done: gemma/gemma3-270m is the primary model (saved)",
        "Active model: gemma/gemma3-270m",
    ] {
        assert!(
            transcript.contains(step),
            "missing `{step}` in:\n{transcript}"
        );
    }
    // The request sent mid-switch waited, then the new model answered it.
    let (status, headers, body) = during
        .expect("the switch never stopped smol")
        .join()
        .unwrap();
    assert_eq!(status, 200, "{headers}{body}");
    assert!(
        headers.contains("x-hearth-model: gemma/gemma3-270m"),
        "{headers}"
    );
    assert!(body["choices"][0]["message"].is_object(), "{body}");

    // Single residency: the other server's process is gone, and so is its memory.
    assert!(!alive(smol_pid), "smol's llama-server still runs");
    let list = services(&hearth);
    assert_eq!(service(&list, "smol")["state"], "stopped");
    let gemma_pid = service(&list, "gemma")["pid"].as_u64().unwrap();
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert_eq!(saved["models"]["primary"], "gemma/gemma3-270m");
    let models = hearth.run(&["model", "list"]);
    models.assert_code(0);
    assert!(
        models
            .stdout
            .lines()
            .any(|line| line.starts_with("*  gemma/gemma3-270m") && line.contains(" yes ")),
        "{models}"
    );
    let status = hearth.run(&["status"]);
    status.assert_code(0);
    assert!(status.shows("resident: gemma/gemma3-270m\n"), "{status}");
    assert!(status.shows("service:  smol stopped\n"), "{status}");
    // A request for the unloaded model says how to switch, instead of hanging.
    let (status, _, body) = chat(gateway, &token, Some("smol/smollm2"));
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["error"]["code"], "model_not_resident");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hearth model use smol/smollm2"),
        "{body}"
    );

    // A model too large for memory is refused with the numbers; nothing changes.
    let refused = hearth.run(&["model", "use", "big/huge"]);
    refused.assert_code(1);
    assert!(
        refused.shows("big/huge does not fit in memory: needs about 1.3 PiB")
            || refused.shows("does not fit in memory: needs about"),
        "{refused}"
    );
    assert!(refused.shows("pass --force"), "{refused}");
    let list = services(&hearth);
    assert_eq!(service(&list, "big")["state"], "stopped");
    assert_eq!(service(&list, "gemma")["pid"].as_u64(), Some(gemma_pid));

    // A switch that fails rolls back: the model that was active runs again, routing unchanged,
    // and the event stream showed each step.
    let events = std::thread::spawn({
        let token = token.clone();
        move || {
            let output = Command::new("curl")
                .args(["-s", "-N", "--max-time", "20", "-H"])
                .arg(format!("Authorization: Bearer {token}"))
                .arg(format!("http://127.0.0.1:{gateway}/admin/events"))
                .output()
                .unwrap();
            String::from_utf8_lossy(&output.stdout).into_owned()
        }
    });
    std::thread::sleep(Duration::from_millis(500));
    let failed = hearth.run(&["model", "use", "flaky/missing"]);
    failed.assert_code(1);
    assert!(failed.shows("[3/6] stop service gemma: done"), "{failed}");
    assert!(
        failed.shows(
            "start service flaky and wait for health: failed: service `flaky` exited while starting"
        ),
        "{failed}"
    );
    assert!(
        failed.shows(
            "rolled back: service flaky stopped, service gemma running again; routing unchanged"
        ),
        "{failed}"
    );
    let list = services(&hearth);
    assert_eq!(service(&list, "gemma")["state"], "running", "{list:?}");
    assert_eq!(service(&list, "flaky")["state"], "stopped", "{list:?}");
    let gemma_pid = service(&list, "gemma")["pid"].as_u64().unwrap();
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert_eq!(saved["models"]["primary"], "gemma/gemma3-270m");
    let (status, headers, _) = chat(gateway, &token, None);
    assert_eq!(status, 200);
    assert!(headers.contains("x-hearth-model: gemma/gemma3-270m"));
    let events = events.join().unwrap();
    assert!(
        events.contains(r#""type":"switch""#) && events.contains(r#""state":"failed""#),
        "{events}"
    );
    assert!(
        events.contains(r#""type":"service","service":"flaky""#),
        "{events}"
    );

    // A crashed backend is restarted, and answers again.
    Command::new("kill")
        .args(["-9", &gemma_pid.to_string()])
        .status()
        .unwrap();
    let back = wait_running(&hearth, "gemma", Some(gemma_pid));
    assert_eq!(back["restarts"], 1, "{back}");
    assert!(
        back["lastExit"].as_str().unwrap().contains("signal 9"),
        "{back}"
    );
    let (status, headers, _) = chat(gateway, &token, None);
    assert_eq!(status, 200);
    assert!(headers.contains("x-hearth-model: gemma/gemma3-270m"));

    // A changed definition of a running service takes effect: the running Hearth reloads the
    // file and restarts the service with it.
    hearth
        .run(&["config", "set", "services.gemma.restart", "always"])
        .assert_code(0);
    wait_running(&hearth, "gemma", back["pid"].as_u64());

    // Bench: real numbers, a history; a model that is not resident is refused.
    let bench = hearth.run(&["bench", "--runs", "2", "--max-tokens", "16"]);
    bench.assert_code(0);
    assert!(bench.shows("gemma/gemma3-270m: "), "{bench}");
    let rate: f64 = bench
        .stdout
        .lines()
        .find_map(|line| {
            line.strip_prefix("gemma/gemma3-270m: ")?
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap();
    assert!(rate > 0.0, "{bench}");
    assert!(bench.shows("WHEN (UTC)"), "{bench}");
    let history = std::fs::read_to_string(hearth.root().join("data/bench/history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), 1);
    let not_resident = hearth.run(&["bench", "smol/smollm2"]);
    not_resident.assert_code(1);
    assert!(
        not_resident.shows("smol/smollm2 is not resident; activate it first"),
        "{not_resident}"
    );

    // Doctor tells the truth about each part.
    let doctor = hearth.run(&["doctor"]);
    doctor.assert_code(1);
    for line in [
        "FAIL  service flaky          its model file /nonexistent/missing.gguf does not exist",
        "1 failed, 0 warnings",
        "Hearth is running on",
        &format!("running on port {gemma_port}"),
        "not loaded: service smol is stopped",
        "model gemma3-270m is present",
        "the active model gemma/gemma3-270m is resident",
        "its LaunchAgent plist is valid",
    ] {
        assert!(doctor.shows(line), "missing `{line}`:\n{doctor}");
    }

    // Two switches at once are serialised: both succeed, one after the other, and exactly
    // one model is resident at the end.
    let first = hearth
        .command(&["model", "use", "smol/smollm2"])
        .spawn()
        .unwrap();
    let second = hearth.command(&["model", "use", "g"]).spawn().unwrap();
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let list = services(&hearth);
    let running: Vec<&str> = list
        .iter()
        .filter(|service| service["state"] == "running")
        .map(|service| service["name"].as_str().unwrap())
        .collect();
    assert_eq!(running.len(), 1, "{list:?}");
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    let primary = saved["models"]["primary"].as_str().unwrap();
    assert!(
        primary.starts_with(&format!("{}/", running[0])),
        "{primary} vs {running:?}"
    );
    let back = service(&list, running[0]).clone();

    // Hearth stops; no server outlives it.
    let mut serve = serve;
    Command::new("kill")
        .args(["-TERM", &serve.0.id().to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while serve.0.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "hearth serve did not stop");
        std::thread::sleep(Duration::from_millis(100));
    }
    let now = back["pid"].as_u64().unwrap();
    assert!(!alive(now), "gemma's llama-server outlived Hearth");
}

#[test]
fn bad_services_are_refused_with_the_reason() {
    let hearth = Hearth::new("bad-services");
    hearth.run(&["config", "init"]).assert_code(0);
    let missing = hearth.run(&[
        "services",
        "install",
        "llama",
        "--template",
        "llama-server",
        "--program",
        "/no/such/llama-server",
        "--model",
        "/m.gguf",
    ]);
    missing.assert_code(1);
    assert!(
        missing.shows("/no/such/llama-server does not exist"),
        "{missing}"
    );
    let no_model = hearth.run(&[
        "services",
        "install",
        "llama",
        "--template",
        "llama-server",
        "--program",
        "/bin/sh",
    ]);
    no_model.assert_code(1);
    assert!(
        no_model.shows("the `llama-server` template needs a model (`--model`)"),
        "{no_model}"
    );
    let relative = hearth.run(&[
        "config",
        "set",
        "services.x",
        r#"{"program": "llama-server"}"#,
    ]);
    relative.assert_code(1);
    assert!(relative.shows("is not an absolute path"), "{relative}");
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert!(
        saved["services"]
            .as_object()
            .is_none_or(serde_json::Map::is_empty),
        "nothing was written: {saved}"
    );

    let installed = hearth.run(&[
        "services",
        "install",
        "llama",
        "--template",
        "llama-server",
        "--program",
        "/bin/sh",
        "--model",
        "/models/m.gguf",
        "--port",
        "18080",
        "--",
        "-t",
        "1",
    ]);
    installed.assert_code(0);
    let plist = hearth.run(&["services", "plist", "llama"]);
    plist.assert_code(0);
    for key in [
        "<string>app.hearth.llama</string>",
        "<string>/models/m.gguf</string>",
        "<key>PATH</key>",
        "<string>Interactive</string>",
    ] {
        assert!(plist.shows(key), "{plist}");
    }
    let not_running = hearth.run(&["services", "start", "llama"]);
    not_running.assert_code(3);
    assert!(not_running.shows("no Hearth is running"), "{not_running}");
    let unknown = hearth.run(&["services", "start", "nope"]);
    unknown.assert_code(1);
    assert!(
        unknown.shows("there is no service `nope`; configured: llama"),
        "{unknown}"
    );
}
