//! Secrets never leak: importing an OpenClaw configuration with API keys written inline moves
//! each key into the secret store (or drops it, saying so), and no key then appears in any file
//! Hearth writes nor in anything a command prints.

use std::{fs, path::Path};

use expect_test::expect;
use serde_json::Value;

use crate::support::{Hearth, Output, check, openclaw_fixture};

/// The keys under which the fixtures' dialects write secrets inline: `apiKey` (OpenClaw's own
/// format), `credentials` (dialect-000), `auth` (dialect-001) and `token` (OpenClaw's gateway
/// auth in dialect-002).
const SECRET_KEYS: [&str; 4] = ["apiKey", "credentials", "auth", "token"];

/// Every inline secret of an OpenClaw file, with its dotted path, read out of the JSON5.
fn inline_secrets(dialect: &str) -> Vec<(String, String)> {
    let text = fs::read_to_string(openclaw_fixture(dialect)).unwrap();
    let document: Value = json5::from_str(&text).unwrap();
    let mut found = Vec::new();
    collect_secrets(&document, "", &mut found);
    found
}

fn collect_secrets(value: &Value, path: &str, found: &mut Vec<(String, String)>) {
    match value {
        Value::Object(members) => {
            for (key, member) in members {
                let path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match member {
                    Value::String(secret) if SECRET_KEYS.contains(&key.as_str()) => {
                        found.push((path, secret.clone()));
                    }
                    other => collect_secrets(other, &path, found),
                }
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_secrets(item, &format!("{path}[{index}]"), found);
            }
        }
        _ => {}
    }
}

/// Fails if any secret shows in what `output` printed.
#[track_caller]
fn assert_no_secret_in(output: &Output, secrets: &[(String, String)]) {
    for (path, secret) in secrets {
        assert!(
            !output.shows(secret),
            "the secret at {path} was printed:\n{output}"
        );
    }
}

/// Fails if any secret is in a file below `dir` (but the OpenClaw file itself).
#[track_caller]
fn assert_no_secret_in_files(dir: &Path, secrets: &[(String, String)]) -> usize {
    let mut checked = 0;
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            checked += assert_no_secret_in_files(&path, secrets);
        } else if path
            .file_name()
            .is_some_and(|name| name != "openclaw.json5")
        {
            let bytes = fs::read(&path).unwrap();
            let text = String::from_utf8_lossy(&bytes);
            for (secret_path, secret) in secrets {
                assert!(
                    !text.contains(secret.as_str()),
                    "the secret at {secret_path} is in {}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    checked
}

/// The import of `dialect`, checked end to end; `expected` is how many inline secrets the
/// fixture holds (so a fixture edit cannot silently make this test vacuous).
fn import_never_leaks(dialect: &str, expected: usize) {
    let hearth = Hearth::new(&format!("no-leak-{dialect}"));
    let secrets = inline_secrets(dialect);
    assert_eq!(secrets.len(), expected, "{secrets:?}");
    let openclaw = hearth.openclaw_file(dialect);

    // A dry run prints the result and writes nothing: no file, no secret.
    let dry_run = hearth.run(&["config", "import-openclaw", &openclaw, "--dry-run"]);
    dry_run.assert_code(0);
    assert_no_secret_in(&dry_run, &secrets);
    let dry_json = hearth.run(&[
        "config",
        "import-openclaw",
        &openclaw,
        "--dry-run",
        "--json",
    ]);
    dry_json.assert_code(0);
    assert_no_secret_in(&dry_json, &secrets);
    let report = dry_json.json();
    assert_eq!(report["written"], false);
    let names: Vec<String> = report["secrets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap().to_owned())
        .collect();
    for name in &names {
        hearth.forget_on_drop(name);
    }
    assert!(!hearth.config_file().exists(), "a dry run wrote the config");
    assert!(!hearth.backup_file().exists());
    for name in &names {
        assert_eq!(hearth.secret(name), None, "a dry run stored {name}");
    }

    // The import itself.
    let import = hearth.run(&["config", "import-openclaw", &openclaw]);
    import.assert_code(0);
    assert_no_secret_in(&import, &secrets);
    assert_eq!(crate::support::mode(&hearth.config_file()), 0o600);

    // Each inline secret is now in the secret store, under the name the file refers to, or was
    // deliberately dropped and the report says so.
    let stored: Vec<String> = names
        .iter()
        .filter_map(|name| hearth.secret(name))
        .collect();
    assert_eq!(stored.len(), names.len(), "{names:?}");
    let unmapped: Vec<String> = report["unmapped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| entry["path"].as_str().unwrap().to_owned())
        .collect();
    for (path, secret) in &secrets {
        let kept = stored.contains(secret);
        let dropped = unmapped
            .iter()
            .any(|reported| path == reported || path.starts_with(&format!("{reported}.")));
        assert!(
            kept != dropped,
            "{path}: stored {kept}, reported as not mapped {dropped}"
        );
    }
    let config: Value = serde_json::from_str(&hearth.config_text()).unwrap();
    for (id, provider) in config["providers"].as_object().unwrap() {
        let reference = format!("keychain:provider.{id}.apiKey");
        assert_eq!(provider["apiKey"], reference.as_str());
        let shown = hearth.run(&["config", "get", &format!("providers.{id}.apiKey")]);
        assert_eq!(shown.stdout, format!("{reference}\n"), "{shown}");
        let value = hearth.secret(&format!("provider.{id}.apiKey")).unwrap();
        assert!(secrets.iter().any(|(_, secret)| *secret == value));
    }

    // An existing configuration is only replaced with --force; the old one becomes the backup.
    let before = fs::read(hearth.config_file()).unwrap();
    let refused = hearth.run(&["config", "import-openclaw", &openclaw]);
    refused.assert_code(1);
    assert_eq!(
        refused.stderr,
        "hearth: $TMP/hearth/hearth.json already exists; run again with --force to replace it \
         (the current file is kept as $TMP/hearth/hearth.json.bak), or with --dry-run to see the \
         result\n",
        "{refused}"
    );
    assert_eq!(fs::read(hearth.config_file()).unwrap(), before);
    assert!(!hearth.backup_file().exists());
    let forced = hearth.run(&["config", "import-openclaw", &openclaw, "--force", "--json"]);
    forced.assert_code(0);
    assert_eq!(fs::read(hearth.backup_file()).unwrap(), before);

    // Nothing a user can ask shows a secret.
    let commands: [&[&str]; 9] = [
        &["config", "get"],
        &["config", "get", "--json"],
        &["config", "get", "providers"],
        &["config", "validate"],
        &["config", "validate", "--json"],
        &[
            "route",
            "simulate",
            "--json",
            "--client",
            "openclaw",
            "--channel",
            "whatsapp",
        ],
        &[
            "route",
            "simulate",
            "--client",
            "openclaw",
            "--channel",
            "whatsapp",
        ],
        &["policy", "explain", "public", "--json"],
        &["policy", "explain", "private", "bash", "read"],
    ];
    assert_no_secret_in(&refused, &secrets);
    assert_no_secret_in(&forced, &secrets);
    for args in commands {
        let output = hearth.run(args);
        output.assert_code(0);
        assert_no_secret_in(&output, &secrets);
    }
    let files = assert_no_secret_in_files(hearth.root(), &secrets);
    assert!(files >= 2, "checked {files} file(s)");
}

#[test]
fn import_of_dialect_000_never_leaks_a_secret() {
    import_never_leaks("dialect-000", 2);
}

#[test]
fn import_of_dialect_001_never_leaks_a_secret() {
    import_never_leaks("dialect-001", 2);
}

#[test]
fn import_of_dialect_002_never_leaks_a_secret() {
    import_never_leaks("dialect-002", 3);
}

#[test]
fn import_reports_what_it_did() {
    let hearth = Hearth::new("import-report");
    hearth.forget_on_drop("provider.ollama.apiKey");
    hearth.forget_on_drop("provider.mlx.apiKey");
    let openclaw = hearth.openclaw_file("dialect-002");
    check(
        &hearth.run(&["config", "import-openclaw", &openclaw]),
        expect![[r#"
            $ hearth config import-openclaw $TMP/openclaw.json5
            Importing from $TMP/openclaw.json5:
              mapped:     provider `ollama`: ollama at http://127.0.0.1:11434, models qwen3:30b-a3b-q4_K_M
              mapped:     provider `ollama`: inline API key goes to the secret store as `keychain:provider.ollama.apiKey`
              mapped:     provider `mlx`: openai-completions at http://127.0.0.1:8081/v1, models mlx-community/Qwen3-30B-A3B-4bit
              mapped:     provider `mlx`: inline API key goes to the secret store as `keychain:provider.mlx.apiKey`
              mapped:     alias `qwen-ollama` → `ollama/qwen3:30b-a3b-q4_K_M`
              mapped:     params for `ollama/qwen3:30b-a3b-q4_K_M`: {"think":true}
              mapped:     alias `qwen-mlx` → `mlx/mlx-community/Qwen3-30B-A3B-4bit`
              mapped:     params for `mlx/mlx-community/Qwen3-30B-A3B-4bit`: {"think":false}
              mapped:     primary model `mlx/mlx-community/Qwen3-30B-A3B-4bit`
              mapped:     agent `private` (Wren), workspace /srv/hearth-demo/agents/private, tools: profile full
              mapped:     agent `public` (Wren for visitors), workspace /srv/hearth-demo/agents/public, tools: allow only read; deny group:runtime, group:web, browser
              mapped:     binding bindings[0]: channel whatsapp, peer dm +15550100777 → agent `private`
              mapped:     binding bindings[1]: channel whatsapp → agent `public`
              mapped:     client `openclaw` (trusted): the OpenClaw gateway calls Hearth with its token (`hearth token show --client openclaw`) and reports each message's channel and peer in `x-hearth-channel`, `x-hearth-peer-kind` and `x-hearth-peer-id`, which the bindings match on
              not mapped: agents.list[1].tools.exec: settings of OpenClaw's tool runtime; Hearth only decides which tools a model may see and call
              not mapped: agents.defaults.workspace: every agent names its own workspace, so this default applies to none; Hearth has no global workspace (an agent without one uses `<data dir>/agents/<id>`)
              not mapped: models.mode: OpenClaw's catalogue merge mode; Hearth uses exactly the providers in its file
              not mapped: gateway.port: OpenClaw's own listener; Hearth's gateway has its own address (`gateway.bind`, `gateway.port`, 127.0.0.1:11500 by default)
              not mapped: gateway.auth: OpenClaw's gateway authentication; Hearth gives each caller its own token (`clients`)
              not mapped: tools.media: media understanding stays with OpenClaw; Hearth proxies speech to text to the sidecar in `voice.stt`
              not mapped: channels: channel connections (accounts, allow-lists, DM policy) stay with OpenClaw; Hearth routes on the channel and peer that a trusted client reports
              not mapped: models.providers.ollama.models[0].cost: cost and pricing are dropped: Hearth serves local models and keeps no billing (2 places, the first shown)
              warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [stderr]
            wrote $TMP/hearth/hearth.json and stored 2 API key(s) in the secret store
            created the admin token as `keychain:hearth.admin` (`hearth token show` prints it)
            created the client `openclaw` token as `keychain:hearth.client.openclaw` (`hearth token show` prints it)
            [exit 0]
        "#]],
    );
}

/// A refused import (the file exists, no `--force`) writes nothing and prints no report that
/// could suggest otherwise: it is refused before the OpenClaw file is read.
#[test]
fn a_refused_import_reports_that_nothing_was_written() {
    let hearth = Hearth::new("import-refused");
    hearth.run(&["config", "init"]).assert_code(0);
    let before = hearth.config_text();
    let openclaw = hearth.openclaw_file("dialect-002");
    let refused = hearth.run(&["config", "import-openclaw", &openclaw, "--json"]);
    refused.assert_code(1);
    assert_eq!(hearth.config_text(), before);
    assert_eq!(refused.stdout, "", "{refused}");
    assert!(refused.stderr.contains("already exists"), "{refused}");
}
