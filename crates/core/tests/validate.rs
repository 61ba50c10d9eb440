//! Validation messages, pinned: each case is a configuration and the exact findings a user sees
//! from `hearth config validate`.

use std::path::PathBuf;

use expect_test::{Expect, expect};
use hearth_core::config::{Environment, validate_str};

fn environment() -> Environment {
    Environment {
        data_dir: PathBuf::from("/data/hearth"),
        home: Some(PathBuf::from("/home/ada")),
    }
}

/// Validates `text` and pins every finding, one per line; "valid" plus warnings when it passes.
fn check(text: &str, expected: Expect) {
    let rendered = match validate_str(text, &environment()) {
        Ok(validated) => std::iter::once("valid".to_owned())
            .chain(validated.warnings.iter().map(ToString::to_string))
            .collect::<Vec<_>>()
            .join("\n"),
        Err(found) => found
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
    };
    expected.assert_eq(&rendered);
}

#[test]
fn an_empty_file_is_valid() {
    check("{}", expect!["valid"]);
}

#[test]
fn syntax_errors_give_line_and_column() {
    check(
        "{\n  \"providers\": {\n    \"ollama\": { \"api\": \"ollama\", }\n  }\n}",
        expect!["error at line 3, column 34: invalid JSON: trailing comma"],
    );
    check(
        "{\"gateway\": {\"port\": 11500}",
        expect!["error at line 1, column 27: invalid JSON: EOF while parsing an object"],
    );
}

#[test]
fn every_structural_mistake_is_listed_at_once() {
    check(
        r#"{
          "providers": {
            "mlx": {
              "api": "openai-completion",
              "baseUrl": "http://127.0.0.1:8080/v1",
              "models": [{ "id": "m1", "contextWindw": 131072, "reasoning": "yes" }]
            },
            "ollama": { "api": "ollama" }
          },
          "agents": [
            { "id": "private" },
            { "id": "public", "tools": { "profile": "messagin", "deny": "bash" } }
          ],
          "bindigs": [],
          "gateway": { "port": 70000, "timeouts": { "idle": "5 minutes" } }
        }"#,
        expect![[r#"
            error at providers.mlx.api: `openai-completion` is not one of `ollama`, `openai-completions`, `openai-responses`, `anthropic-messages`; did you mean `openai-completions`?
            error at providers.mlx.models[0]: unknown key `contextWindw`; did you mean `contextWindow`?
            error at providers.mlx.models[0].reasoning: expected a boolean, found a string ("yes")
            error at providers.ollama: missing required key `baseUrl`
            error at agents[1].tools.profile: `messagin` is not one of `minimal`, `messaging`, `coding`, `full`; did you mean `messaging`?
            error at agents[1].tools.deny: expected an array, found a string ("bash")
            error: unknown key `bindigs`; did you mean `bindings`?
            error at gateway.port: 70000 is out of range: expected a number from 0 to 65535
            error at gateway.timeouts.idle: `5 minutes` is not valid here: expected a whole number and a unit: `500ms`, `30s`, `10m`, `24h`."#]],
    );
}

#[test]
fn every_cross_reference_mistake_is_listed_at_once() {
    check(
        r#"{
          "providers": {
            "ollama": {
              "api": "ollama",
              "baseUrl": "http://127.0.0.1:11434",
              "apiKey": "sk-live-0123456789",
              "models": [{ "id": "gemma4:26b", "contextWindow": 8192, "maxTokens": 16384 }]
            },
            "mlx": { "api": "openai-completions", "baseUrl": "127.0.0.1:8080/v1" }
          },
          "models": {
            "primary": "olama/gemma4:26b",
            "fallbacks": ["ollama/gemma4:27b"],
            "aliases": { "fast": "ollama/gemma4:26b", "FAST": "ollama/gemma4:26b", "gemma4:26b": "mlx/other" }
          },
          "agents": [
            { "id": "Private", "workspace": "relative/dir" },
            { "id": "public", "tools": { "deny": ["group:shel"] } }
          ],
          "defaultAgent": "pubic",
          "clients": [{ "name": "openclaw", "token": "keychain:" }],
          "bindings": [
            { "agent": "privat", "match": { "channel": "whatsapp" } },
            { "agent": "public", "match": { "client": "opencla" } }
          ],
          "gateway": { "bind": "0.0.0.0", "adminToken": "hunter2" }
        }"#,
        expect![[r#"
            error at providers.mlx.baseUrl: `127.0.0.1:8080/v1` is not a URL; write it in full, like `http://127.0.0.1:11434`
            error at providers.ollama.apiKey: this looks like a secret written into the file; secrets live in the secret store: run `hearth secret set NAME` and write `keychain:NAME` here (or `env:NAME`)
            error at providers.ollama.models[0].maxTokens: maxTokens (16384) is larger than the context window (8192)
            error at models.aliases.fast: alias `fast` is ambiguous: `FAST` differs only in case
            error at models.aliases["gemma4:26b"]: alias `gemma4:26b` is ambiguous: it is also the id of model `ollama/gemma4:26b`
            error at models.primary: `olama/gemma4:26b` names provider `olama`, which is not configured; did you mean `ollama/gemma4:26b`?
            error at models.fallbacks[0]: provider `ollama` has no model `gemma4:27b`; did you mean `ollama/gemma4:26b`?
            error at agents[0].id: `Private` is not a valid agent id; use lower-case letters, digits, `-` and `_`
            error at agents[0].workspace: `relative/dir` is not an absolute path; write a full path or one starting with `~/`
            error at agents[1].tools.deny[0]: unknown tool group `group:shel`; known groups: group:runtime, group:fs, group:web, group:ui, group:messaging, group:sessions, group:memory, group:automation, group:nodes
            error at defaultAgent: there is no agent `pubic`; did you mean `public`?
            error at clients[0].token: `` is not a valid name after `keychain:` (letters, digits, `.`, `_`, `-`)
            error at bindings[0].agent: there is no agent `privat`; did you mean `Private`?
            error at bindings[1].match.client: there is no client `opencla`; did you mean `openclaw`?
            error at gateway.bind: `0.0.0.0` is not a loopback address; to serve other machines, also set `gateway.allowRemote: true`; every route then requires a token
            error at gateway.adminToken: this looks like a secret written into the file; secrets live in the secret store: run `hearth secret set NAME` and write `keychain:NAME` here (or `env:NAME`)
            warning at bindings[0].match: matches on channel, account or peer, but no client is trusted to assert them, so it never matches; mark the client that relays these messages `"trusted": true`"#]],
    );
}

#[test]
fn warnings_do_not_block_but_are_shown() {
    check(
        r#"{
          "providers": { "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434",
                         "models": [{ "id": "gemma4:26b" }, { "id": "gemma4:e4b" }] } },
          "agents": [{ "id": "private" }, { "id": "public", "tools": { "profile": "messaging" } }],
          "clients": [{ "name": "openclaw", "token": "keychain:hearth.client.openclaw", "trusted": true }],
          "bindings": [
            { "agent": "public", "match": {} },
            { "agent": "private", "match": { "channel": "whatsapp", "peer": { "kind": "dm", "id": "+15550100777" } } },
            { "agent": "public", "match": {} }
          ]
        }"#,
        expect![[r#"
            valid
            warning at bindings[2]: never wins: bindings[0] has the same match and comes first
            warning at bindings[0]: a catch-all placed before more specific rules (bindings[1]); they still win by specificity, but the order misleads readers; move the catch-all to the end of the list
            warning at models.primary: no primary model, and 2 agent(s) name no model of their own; set one with `hearth config set models.primary PROVIDER/MODEL`
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`"#]],
    );
}

#[test]
fn claims_without_a_trusted_client_are_a_warning() {
    check(
        r#"{
          "agents": [{ "id": "private" }, { "id": "public" }],
          "clients": [{ "name": "openclaw", "token": "env:OPENCLAW_TOKEN" }],
          "bindings": [{ "agent": "private", "match": { "peer": { "id": "+15550100777" } } }]
        }"#,
        expect![[r#"
            valid
            warning at bindings[0].match: matches on channel, account or peer, but no client is trusted to assert them, so it never matches; mark the client that relays these messages `"trusted": true`"#]],
    );
}

#[test]
fn structural_and_cross_reference_mistakes_are_listed_together() {
    check(
        r#"{
          "providers": {
            "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434",
                        "models": [{ "id": "gemma4:26b", "contextWindw": 131072 }] }
          },
          "models": { "primary": "ollama/gemma4:27b" },
          "agents": [{ "id": "public", "tools": { "deny": ["group:web"], "alow": ["read"] } }],
          "defaultAgent": "pubic"
        }"#,
        expect![[r#"
            error at providers.ollama.models[0]: unknown key `contextWindw`; did you mean `contextWindow`?
            error at agents[0].tools: unknown key `alow`; did you mean `allow`?
            error at models.primary: provider `ollama` has no model `gemma4:27b`; did you mean `ollama/gemma4:26b`?
            error at defaultAgent: there is no agent `pubic`; did you mean `public`?"#]],
    );
}

#[test]
fn an_ollama_provider_pointed_at_v1_is_a_warning() {
    check(
        r#"{ "providers": { "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434/v1" } } }"#,
        expect![[r#"
            valid
            warning at providers.ollama.baseUrl: an `ollama` provider speaks Ollama's native API at the server's root; `/v1` is its OpenAI-compatible API, which ignores keep_alive; write the root, like `http://127.0.0.1:11434`"#]],
    );
}
