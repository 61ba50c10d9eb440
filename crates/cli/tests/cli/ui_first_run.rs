//! A first run in a real browser (Debian's Chromium driven by playwright-core:
//! tests/ui/first-run.mjs) against a real `hearth serve` with no model configured, on a machine
//! in miniature: a HOME whose Hugging Face cache holds SmolLM2 and a PATH with llama-server on
//! it. The dashboard says what to do and offers what discovery found; one click adds it and
//! starts its service; then `model: "default"` answers through the gateway. On the Models page
//! a provider with a bad base URL is refused at that field with the file untouched, one where
//! nothing listens is shown as not reachable, and removing it takes it out of the file.
//! Screenshots are kept in `target/tmp/ui-screenshots/`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use hearth_e2e::{free_port, provisioned};
use serde_json::{Value, json};

use crate::{
    real::{Serve, chat},
    support::Hearth,
};

/// Where the Hugging Face cache keeps the SmolLM2 GGUF, under HOME.
const SNAPSHOT: &str =
    ".cache/huggingface/hub/models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/snapshots/abc123";

#[test]
fn a_first_run_offers_what_this_machine_has_and_the_models_page_edits_providers_in_a_real_browser()
{
    // Discovery skips busy ports, but two first runs at once could both pick the same free one.
    let _first_run = crate::support::first_run_lock();
    let hearth = Hearth::new("ui-first-run");
    let gateway = free_port();
    hearth.write_config(
        &serde_json::to_string_pretty(&json!({ "gateway": { "port": gateway } })).unwrap(),
    );
    let token = String::from_utf8(hearth.command(&["token", "show"]).output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_owned();

    // The machine: SmolLM2 in the Hugging Face cache, llama-server on the PATH.
    let home = hearth.root().join("home");
    let snapshot = home.join(SNAPSHOT);
    fs::create_dir_all(&snapshot).unwrap();
    std::os::unix::fs::symlink(
        provisioned("HEARTH_MODEL_SMOLLM2"),
        snapshot.join("smollm2-135m-instruct-q4_1.gguf"),
    )
    .unwrap();
    let llama_server = PathBuf::from(provisioned("HEARTH_LLAMA_SERVER"));
    let path = format!("{}:/usr/bin:/bin", llama_server.parent().unwrap().display());
    let log = hearth.root().join("serve.log");
    let _serve = Serve(
        hearth
            .command(&["serve"])
            .env("HOME", &home)
            .env("PATH", &path)
            // Discovery reads these before HOME: the test's machine is HOME alone.
            .env_remove("HF_HOME")
            .env_remove("HF_HUB_CACHE")
            .env_remove("OLLAMA_MODELS")
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap(),
    );
    let login = login_link(&hearth, &log);
    assert!(
        login.starts_with(&format!("http://127.0.0.1:{gateway}/ui/#login=hth_")),
        "{login}"
    );
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ui-screenshots");
    let result_file = hearth.root().join("ui-first-run-result.json");
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/ui/first-run.mjs");
    let run = Command::new(provisioned("HEARTH_NODE"))
        .arg(&script)
        .env("HEARTH_LOGIN_URL", &login)
        .env("HEARTH_CONFIG", hearth.config_file())
        .env("HEARTH_FREE_PORT", free_port().to_string())
        .env("HEARTH_CHROMIUM", provisioned("HEARTH_CHROMIUM"))
        .env(
            "HEARTH_PLAYWRIGHT_MODULES",
            provisioned("HEARTH_PLAYWRIGHT_MODULES"),
        )
        .env("HEARTH_SCREENSHOTS", &shots)
        .env("HEARTH_RESULT", &result_file)
        .output()
        .unwrap();
    let result: Value = serde_json::from_str(&fs::read_to_string(&result_file).unwrap_or_default())
        .unwrap_or(Value::Null);
    assert!(
        run.status.success(),
        "the browser's first run failed (screenshots in {}):\n{}\n{}\nresult: {result}\nserve: {}",
        shots.display(),
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr),
        fs::read_to_string(&log).unwrap_or_default()
    );
    assert_eq!(result["pageErrors"], json!([]), "the page threw: {result}");

    // The dashboard said what to do and showed the service with its model's size.
    assert_eq!(
        result["nextStep"].as_str().unwrap().trim(),
        "No model yet: use what was found below",
        "{result}"
    );
    let provider = result["proposedService"].as_str().unwrap();
    assert!(provider.starts_with("llama-smollm2"), "{result}");
    assert!(
        result["proposedSize"].as_str().unwrap().ends_with("MiB"),
        "{result}"
    );
    assert!(
        result["added"]
            .as_array()
            .unwrap()
            .contains(&json!(format!("service {provider}"))),
        "{result}"
    );
    assert_eq!(
        result["providerService"],
        format!("{provider} (running)"),
        "{result}"
    );

    // What "Use these" added is in the file, and `default` is answered by it.
    let saved: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert_eq!(
        saved["services"][provider]["program"],
        json!(llama_server.to_str().unwrap()),
        "{saved}"
    );
    let primary = saved["models"]["primary"].as_str().unwrap();
    assert!(primary.starts_with(&format!("{provider}/")), "{saved}");
    let (status, headers, body) = chat(gateway, &token, None);
    assert_eq!(status, 200, "{body}");
    assert!(
        headers.contains(&format!("x-hearth-model: {primary}")),
        "{headers}"
    );
    assert!(
        !body["choices"][0]["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{body}"
    );

    // The refused provider wrote nothing and its message sat by the base URL; the unreachable
    // one was saved and shown with why; removing it took it out of the file.
    assert_eq!(result["invalidPlaced"], true, "{result}");
    assert_eq!(result["invalidUnchanged"], true, "{result}");
    assert!(
        result["unreachableError"]
            .as_str()
            .unwrap()
            .contains("cannot connect"),
        "{result}"
    );
    assert_eq!(
        result["unreachableSaved"]["baseUrl"], result["unreachableUrl"],
        "{result}"
    );
    assert_eq!(result["removed"], true, "{result}");
    assert!(saved["providers"].get("remote").is_none(), "{saved}");

    for shot in [
        "first-run.png",
        "first-run-dark.png",
        "models-providers.png",
        "models-providers-dark.png",
    ] {
        assert!(shots.join(shot).exists(), "no screenshot {shot}");
    }
}

/// The one-time login link, once `hearth serve` answers.
fn login_link(hearth: &Hearth, log: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let link = hearth.run(&["open", "--print"]);
        if link.code == Some(0) {
            return link.raw_stdout.trim().to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "hearth serve never answered: {link}\n{}",
            fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}
