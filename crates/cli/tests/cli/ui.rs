//! The web UI in a real browser (Debian's Chromium driven by playwright-core:
//! tests/ui/walkthrough.mjs) against a real `hearth serve` running two real llama-server
//! services: the dashboard shows the backend up and the model resident, switching the model
//! from the UI changes what `/v1/chat/completions` answers with, an edited binding and the UI's
//! simulator agree with `hearth route simulate`, and an invalid edit shows the server's message
//! next to the field while the file on disk stays as it was. The browser signs in the way
//! `hearth open` leads it (the opener gets a page only the user can read, never the code
//! itself), holds its session in the tab and loses it on sign-out. Screenshots are kept in
//! `target/tmp/ui-screenshots/`.

use std::process::{Command, Stdio};

use hearth_e2e::{free_port, provisioned};
use serde_json::{Value, json};

use crate::{
    real::{Serve, chat, llama_service, wait_running},
    support::Hearth,
};

#[test]
fn the_dashboard_switches_models_and_edits_bindings_and_policy_in_a_real_browser() {
    let hearth = Hearth::new("ui");
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
        "agents": [
            { "id": "public", "workspace": hearth.root().join("agents/public"), "tools": { "deny": ["group:runtime"] } },
            { "id": "private", "workspace": hearth.root().join("agents/private") }
        ],
        "defaultAgent": "public",
        "clients": [{ "name": "openclaw", "token": "keychain:hearth.client.openclaw", "trusted": true }],
        "bindings": [
            { "agent": "private", "match": { "channel": "whatsapp", "peer": { "kind": "dm", "id": "+15550100777" } } },
            { "agent": "public", "match": { "channel": "whatsapp" } }
        ],
        "gateway": { "port": gateway },
        "services": {
            "smol": llama_service(&provisioned("HEARTH_MODEL_SMOLLM2"), "smollm2", smol_port, "smol"),
            "gemma": llama_service(&provisioned("HEARTH_MODEL_GEMMA270M"), "gemma3-270m", gemma_port, "gemma")
        }
    });
    hearth.write_config(&serde_json::to_string_pretty(&document).unwrap());
    hearth.forget_on_drop("hearth.client.openclaw");
    let token = String::from_utf8(hearth.command(&["token", "show"]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();
    let _serve = Serve(
        hearth
            .command(&["serve"])
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    wait_running(&hearth, "smol", None);

    let link = hearth.run(&["open", "--print"]);
    link.assert_code(0);
    assert!(
        link.raw_stdout
            .starts_with(&format!("http://127.0.0.1:{gateway}/ui/#login=hth_")),
        "{link}"
    );
    // `hearth open` with an opener that writes down what it was given, as any process could
    // read it in `ps`: a file of the user's, not the code.
    let bin = hearth.root().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let argv = hearth.root().join("opener-argv");
    let opener = bin.join(if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    });
    std::fs::write(
        &opener,
        format!("#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\n", argv.display()),
    )
    .unwrap();
    std::fs::set_permissions(&opener, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let opened = hearth
        .command(&["open"])
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(opened.status.success(), "{opened:?}");
    let given = std::fs::read_to_string(&argv).unwrap();
    assert!(
        !given.contains("hth_") && !given.contains("login="),
        "{given}"
    );
    let page = std::path::PathBuf::from(given.trim());
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&page).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600, "{}", page.display());
    let login = format!("file://{}", page.display());

    let shots = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let result_file = hearth.root().join("ui-result.json");
    let script =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/walkthrough.mjs");
    let run = Command::new(provisioned("HEARTH_NODE"))
        .arg(&script)
        .env("HEARTH_LOGIN_URL", &login)
        .env("HEARTH_CONFIG", hearth.config_file())
        .env("HEARTH_CHROMIUM", provisioned("HEARTH_CHROMIUM"))
        .env(
            "HEARTH_PLAYWRIGHT_MODULES",
            provisioned("HEARTH_PLAYWRIGHT_MODULES"),
        )
        .env("HEARTH_SCREENSHOTS", &shots)
        .env("HEARTH_RESULT", &result_file)
        .output()
        .unwrap();
    let result: Value =
        serde_json::from_str(&std::fs::read_to_string(&result_file).unwrap_or_default())
            .unwrap_or(Value::Null);
    assert!(
        run.status.success(),
        "the browser walkthrough failed (screenshots in {}):\n{}\n{}\nresult: {result}",
        shots.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(result["pageErrors"], json!([]), "the page threw: {result}");

    // The session the page held is over once the user signed out.
    assert_eq!(result["signedOut"], true, "{result}");
    let session = result["session"].as_str().unwrap();
    let after = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H"])
        .arg(format!("x-hearth-session: {session}"))
        .arg(format!("http://127.0.0.1:{gateway}/admin/config"))
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&after.stdout), "403");

    // The switch made from the UI is what the gateway answers with.
    let (status, headers, body) = chat(gateway, &token, None);
    assert_eq!(status, 200, "{body}");
    assert!(
        headers.contains("x-hearth-model: gemma/gemma3-270m"),
        "{headers}"
    );
    assert!(
        result["switchSteps"]
            .as_str()
            .unwrap()
            .contains("warm up gemma/gemma3-270m"),
        "{result}"
    );

    // The benchmark run from the page is in the history `hearth bench` keeps.
    let history = std::fs::read_to_string(hearth.root().join("data/bench/history.jsonl")).unwrap();
    let record: Value = serde_json::from_str(history.lines().last().unwrap()).unwrap();
    assert_eq!(record["model"], "gemma/gemma3-270m");
    assert!(
        record["decodeTokensPerSecond"].as_f64().unwrap() > 0.0,
        "{record}"
    );
    assert!(
        result["bench"].as_str().unwrap().contains("tokens/s"),
        "{result}"
    );

    // The UI's simulator and the CLI agree on the edited binding.
    let simulated = hearth.run(&[
        "route",
        "simulate",
        "--client",
        "openclaw",
        "--channel",
        "telegram",
        "--json",
    ]);
    simulated.assert_code(0);
    let decision = simulated.json();
    assert_eq!(decision["agent"], "public");
    assert_eq!(decision["reason"]["index"], 1, "{decision}");
    assert_eq!(result["simulated"]["agent"], decision["agent"], "{result}");
    assert_eq!(
        result["simulated"]["rule"].as_str().unwrap(),
        format!(
            "bindings[{}] (most specific match: {})",
            decision["reason"]["index"],
            decision["reason"]["rank"].as_str().unwrap()
        ),
        "{result}"
    );

    // The invalid edit wrote nothing; the valid one is on disk.
    assert_eq!(result["configUnchanged"], true, "{result}");
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert_eq!(saved["bindings"][1]["match"]["channel"], "telegram");
    assert_eq!(
        saved["agents"][0]["tools"]["deny"],
        json!(["group:runtime"])
    );
    for shot in [
        "dashboard.png",
        "models.png",
        "bindings.png",
        "agents-invalid-edit.png",
    ] {
        assert!(shots.join(shot).exists(), "no screenshot {shot}");
    }
}
