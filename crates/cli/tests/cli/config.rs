//! `hearth config validate | init | get | set | unset`.

use std::fs;

use expect_test::expect;

use crate::support::{Hearth, check, mode};

/// Several mistakes a user makes by hand, of both kinds: ones in the file's shape (a typo in a
/// key, a value not among the allowed ones, a value of the wrong type) and ones between its
/// parts (an API key written into the file, a binding naming an agent that does not exist).
const MISTAKES: &str = r#"{
  "providers": {
    "ollama": {
      "api": "ollama",
      "baseUrl": "http://127.0.0.1:11434",
      "apiKey": "sk-live-0123456789abcdef",
      "models": [{ "id": "gemma4:26b", "contextWindw": 131072 }]
    }
  },
  "models": { "primary": "ollama/gemma4:26b" },
  "agents": [
    { "id": "private" },
    { "id": "public", "tools": { "profile": "messagin" } }
  ],
  "bindings": [{ "agent": "privat", "match": { "client": "default" } }],
  "clients": [{ "name": "default", "token": "keychain:hearth.client.default" }],
  "gateway": { "port": "11500" }
}
"#;

#[test]
fn validate_lists_every_mistake_with_its_path() {
    let hearth = Hearth::new("validate-mistakes");
    hearth.write_config(MISTAKES);
    check(
        &hearth.run(&["config", "validate"]),
        expect![[r#"
            $ hearth config validate
            error at providers.ollama.models[0]: unknown key `contextWindw`; did you mean `contextWindow`?
            error at agents[1].tools.profile: `messagin` is not one of `minimal`, `messaging`, `coding`, `full`; did you mean `messaging`?
            error at gateway.port: expected a whole number, found a string ("11500")
            error at providers.ollama.apiKey: this looks like a secret written into the file; secrets live in the secret store: run `hearth secret set NAME` and write `keychain:NAME` here (or `env:NAME`)
            error at bindings[0].agent: there is no agent `privat`; did you mean `private`?
            $TMP/hearth/hearth.json is not valid: 5 error(s), 0 warning(s)
            [stderr]
            hearth: 5 error(s) in the configuration
            [exit 1]
        "#]],
    );
}

#[test]
fn validate_json_has_every_finding() {
    let hearth = Hearth::new("validate-json");
    hearth.write_config(MISTAKES);
    let human = hearth.run(&["config", "validate"]);
    let output = hearth.run(&["config", "validate", "--json"]);
    output.assert_code(1);
    let report = output.json();
    assert_eq!(report["valid"], false, "{output}");
    assert_eq!(
        report["file"].as_str().unwrap(),
        hearth.config_file().to_str().unwrap()
    );
    let diagnostics = report["diagnostics"].as_array().unwrap();
    let errors = diagnostics
        .iter()
        .filter(|d| d["severity"] == "error")
        .count();
    assert_eq!(report["errors"], errors);
    assert_eq!(report["warnings"], diagnostics.len() - errors);
    // The same findings as the human output, path for path.
    let paths: Vec<&str> = diagnostics
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    for path in &paths {
        assert!(
            human.stdout.contains(&format!(" at {path}: ")),
            "{path}\n{human}"
        );
    }
    expect![[r#"
        [
            "providers.ollama.models[0]",
            "agents[1].tools.profile",
            "gateway.port",
            "providers.ollama.apiKey",
            "bindings[0].agent",
        ]
    "#]]
    .assert_debug_eq(&paths);
}

#[test]
fn validate_accepts_a_valid_file() {
    let hearth = Hearth::new("validate-valid");
    hearth.write_config(
        r#"{
  "providers": { "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434",
                             "models": [{ "id": "gemma4:26b" }] } },
  "models": { "primary": "ollama/gemma4:26b" },
  "agents": [{ "id": "main" }]
}"#,
    );
    check(
        &hearth.run(&["config", "validate"]),
        expect![[r#"
            $ hearth config validate
            $TMP/hearth/hearth.json is valid
            [exit 0]
        "#]],
    );
    let report = hearth.run(&["config", "validate", "--json"]).json();
    assert_eq!(report["valid"], true);
    assert_eq!(report["diagnostics"], serde_json::json!([]));
}

#[test]
fn validate_shows_where_a_syntax_error_is() {
    let hearth = Hearth::new("validate-syntax");
    hearth.write_config("{\n  \"gateway\": {\n    \"port\": 11500,\n  }\n}\n");
    check(
        &hearth.run(&["config", "validate"]),
        expect![[r#"
            $ hearth config validate
            error at line 4, column 3: invalid JSON: trailing comma
            $TMP/hearth/hearth.json is not valid: 1 error(s), 0 warning(s)
            [stderr]
            hearth: 1 error(s) in the configuration
            [exit 1]
        "#]],
    );
    let report = hearth.run(&["config", "validate", "--json"]);
    report.assert_code(1);
    let report = report.json();
    assert_eq!(report["valid"], false);
    assert_eq!(
        report["diagnostics"][0]["position"],
        serde_json::json!([4, 3])
    );
}

#[test]
fn usage_errors_exit_2() {
    let hearth = Hearth::new("usage");
    let output = hearth.run(&["config", "frobnicate"]);
    output.assert_code(2);
    assert!(
        output
            .stderr
            .contains("unrecognized subcommand 'frobnicate'"),
        "{output}"
    );
    hearth
        .run(&["config", "set", "gateway.port"])
        .assert_code(2);
    hearth.run(&["route", "simulate", "--peer"]).assert_code(2);
}

#[test]
fn init_writes_a_private_file_and_creates_the_tokens() {
    let hearth = Hearth::new("init");
    let output = hearth.run(&["config", "init"]);
    check(
        &output,
        expect![[r#"
            $ hearth config init
            [stderr]
            wrote $TMP/hearth/hearth.json
            created the admin token as `keychain:hearth.admin` (`hearth token show` prints it)
            created the client `default` token as `keychain:hearth.client.default` (`hearth token show` prints it)
            [exit 0]
        "#]],
    );
    assert_eq!(mode(&hearth.config_file()), 0o600);
    assert_eq!(mode(hearth.config_file().parent().unwrap()), 0o700);
    assert_eq!(
        output.noted_volatile_store,
        crate::support::volatile_store_note().is_some()
    );

    // The tokens exist, are Hearth tokens, and were not printed.
    for name in ["hearth.admin", "hearth.client.default"] {
        let token = hearth.secret(name).unwrap_or_else(|| panic!("no {name}"));
        assert!(token.starts_with("hth_"), "{name}");
        assert!(!output.shows(&token), "{name} printed:\n{output}");
        assert!(!hearth.config_text().contains(&token));
    }
    hearth.run(&["config", "validate"]).assert_code(0);

    // A second init changes nothing: not the file, not the tokens.
    let before = hearth.config_text();
    let admin = hearth.secret("hearth.admin");
    check(
        &hearth.run(&["config", "init"]),
        expect![[r#"
            $ hearth config init
            [stderr]
            $TMP/hearth/hearth.json exists; leaving it as it is
            [exit 0]
        "#]],
    );
    assert_eq!(hearth.config_text(), before);
    assert_eq!(hearth.secret("hearth.admin"), admin);
    assert!(
        !hearth.backup_file().exists(),
        "nothing was saved, so no backup"
    );
}

#[test]
fn init_leaves_an_edited_file_alone() {
    let hearth = Hearth::new("init-existing");
    hearth.run(&["config", "init"]).assert_code(0);
    hearth
        .run(&["config", "set", "gateway.port", "11600"])
        .assert_code(0);
    let edited = hearth.config_text();
    hearth.run(&["config", "init"]).assert_code(0);
    assert_eq!(hearth.config_text(), edited);
}

#[test]
fn set_get_and_unset() {
    let hearth = Hearth::new("set-get");
    hearth.run(&["config", "init"]).assert_code(0);
    check(
        &hearth.run(&[
            "config",
            "set",
            "models.primary",
            "ollama/gemma4:26b-a4b-it-q8_0",
        ]),
        expect![[r#"
            $ hearth config set models.primary ollama/gemma4:26b-a4b-it-q8_0
            [stderr]
            saved $TMP/hearth/hearth.json
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&["config", "get", "models.primary"]),
        expect![[r#"
            $ hearth config get models.primary
            ollama/gemma4:26b-a4b-it-q8_0
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&["config", "get", "models.primary", "--json"]),
        expect![[r#"
            $ hearth config get models.primary --json
            "ollama/gemma4:26b-a4b-it-q8_0"
            [exit 0]
        "#]],
    );

    // A number is stored as a number, and the previous file is kept as the backup.
    let before = hearth.config_text();
    hearth
        .run(&["config", "set", "gateway.port", "11600"])
        .assert_code(0);
    let saved: serde_json::Value = serde_json::from_str(&hearth.config_text()).unwrap();
    assert_eq!(saved["gateway"]["port"], serde_json::json!(11600));
    assert_eq!(fs::read_to_string(hearth.backup_file()).unwrap(), before);
    assert_eq!(mode(&hearth.backup_file()), 0o600);
    check(
        &hearth.run(&["config", "get", "gateway"]),
        expect![[r#"
            $ hearth config get gateway
            {
              "port": 11600
            }
            [exit 0]
        "#]],
    );

    // Lists and objects are JSON too; the untouched parts keep their order.
    hearth
        .run(&[
            "config",
            "set",
            "agents[0].tools.deny",
            r#"["bash","group:web"]"#,
        ])
        .assert_code(0);
    check(
        &hearth.run(&["config", "get", "agents[0]"]),
        expect![[r#"
            $ hearth config get agents[0]
            {
              "id": "main",
              "name": "Main",
              "tools": {
                "deny": [
                  "bash",
                  "group:web"
                ]
              }
            }
            [exit 0]
        "#]],
    );

    check(
        &hearth.run(&["config", "unset", "gateway.port"]),
        expect![[r#"
            $ hearth config unset gateway.port
            [stderr]
            saved $TMP/hearth/hearth.json
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&["config", "get", "gateway.port"]),
        expect![[r#"
            $ hearth config get gateway.port
            [stderr]
            hearth: nothing at `gateway.port`
            [exit 1]
        "#]],
    );
    hearth.run(&["config", "validate"]).assert_code(0);
}

#[test]
fn a_set_that_would_make_the_file_invalid_writes_nothing() {
    let hearth = Hearth::new("set-invalid");
    hearth.run(&["config", "init"]).assert_code(0);
    hearth
        .run(&["config", "set", "gateway.port", "11600"])
        .assert_code(0);
    let file = fs::read(hearth.config_file()).unwrap();
    let backup = fs::read(hearth.backup_file()).unwrap();
    let unchanged = || {
        assert_eq!(fs::read(hearth.config_file()).unwrap(), file);
        assert_eq!(fs::read(hearth.backup_file()).unwrap(), backup);
    };

    check(
        &hearth.run(&["config", "set", "gateway.bind", "0.0.0.0"]),
        expect![[r#"
            $ hearth config set gateway.bind 0.0.0.0
            [stderr]
            error at gateway.bind: `0.0.0.0` is not a loopback address; to serve other machines, also set `gateway.allowRemote: true`; every route then requires a token
            hearth: the change would make the configuration invalid (1 problem(s)); nothing was written
            [exit 1]
        "#]],
    );
    unchanged();
    check(
        &hearth.run(&["config", "set", "defaultAgent", "nobody"]),
        expect![[r#"
            $ hearth config set defaultAgent nobody
            [stderr]
            error at defaultAgent: there is no agent `nobody`
            hearth: the change would make the configuration invalid (1 problem(s)); nothing was written
            [exit 1]
        "#]],
    );
    unchanged();
    check(
        &hearth.run(&["config", "set", "gateway.port", "70000"]),
        expect![[r#"
            $ hearth config set gateway.port 70000
            [stderr]
            error at gateway.port: 70000 is out of range: expected a number from 0 to 65535
            hearth: the change would make the configuration invalid (1 problem(s)); nothing was written
            [exit 1]
        "#]],
    );
    unchanged();
    check(
        &hearth.run(&["config", "set", "models..primary", "ollama/gemma4"]),
        expect![[r#"
            $ hearth config set models..primary ollama/gemma4
            [stderr]
            hearth: `models..primary` is not a valid path: write keys with dots and indexes in brackets, like `agents[0].tools.deny` or `models.params["mlx/m"]`
            [exit 1]
        "#]],
    );
    unchanged();
    check(
        &hearth.run(&["config", "unset", "agents[0].id"]),
        expect![[r#"
            $ hearth config unset agents[0].id
            [stderr]
            error at agents[0]: missing required key `id`
            hearth: the change would make the configuration invalid (1 problem(s)); nothing was written
            [exit 1]
        "#]],
    );
    unchanged();
    check(
        &hearth.run(&["config", "get", "models.fallbacks"]),
        expect![[r#"
            $ hearth config get models.fallbacks
            [stderr]
            hearth: nothing at `models`
            [exit 1]
        "#]],
    );
}

/// Every command that reads a broken file says where it is broken, and fails. (Only the line
/// itself is checked: the summary after it, "…; nothing was written", is the save's wording
/// and reads oddly after a command that writes nothing.)
#[test]
fn commands_on_a_broken_file_say_where_it_is_broken() {
    let hearth = Hearth::new("broken-file");
    hearth.write_config("{\"gateway\": {\"port\": 1,}}\n");
    for args in [
        &["config", "get"][..],
        &["config", "set", "gateway.port", "2"],
        &["config", "init"],
        &["route", "simulate"],
        &["policy", "explain", "main"],
        &["token", "show"],
    ] {
        let output = hearth.run(args);
        output.assert_code(1);
        assert!(
            output
                .stderr
                .starts_with("error at line 1, column 24: invalid JSON: trailing comma\n"),
            "{output}"
        );
    }
    assert_eq!(hearth.config_text(), "{\"gateway\": {\"port\": 1,}}\n");
    assert!(!hearth.backup_file().exists());
}
