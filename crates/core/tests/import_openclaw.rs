//! Importing OpenClaw configurations: one fixture per config dialect of the seeds (written for
//! these tests, same shapes, own values), each pinned as the Hearth config it becomes plus the
//! import's report, then checked to mean the same thing as the others.
//!
//! `UPDATE_EXPECT=1 cargo test -p hearth-core --test import_openclaw` rewrites the snapshots.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{
    collections::{BTreeMap, BTreeSet},
    fmt::Write as _,
    fs,
    path::PathBuf,
};

use expect_test::expect_file;
use hearth_core::{
    config::{
        diagnostic::JsonPath,
        file::{ConfigFile, Profile},
    },
    import::{Imported, import_openclaw},
    policy::ToolPolicy,
};

const DIALECTS: [&str; 3] = ["dialect-000", "dialect-001", "dialect-002"];

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/openclaw")
        .join(format!("{name}.json5"));
    fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn import(name: &str) -> Imported {
    import_openclaw(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

/// The Hearth config as it would be saved, then the secrets' names and the report.
fn report(imported: &Imported) -> String {
    let mut out = serde_json::to_string_pretty(&imported.config).unwrap();
    out.push_str("\n\nsecrets:\n");
    for (name, value) in &imported.secrets {
        writeln!(out, "  {name} = {value}").unwrap();
    }
    out.push_str("\nmapped:\n");
    for line in &imported.mapped {
        writeln!(out, "  {line}").unwrap();
    }
    out.push_str("\nunmapped:\n");
    for unmapped in &imported.unmapped {
        writeln!(out, "  {unmapped}").unwrap();
    }
    out
}

#[test]
fn dialect_000_inference_providers_instances_and_routing_rules() {
    expect_file!["fixtures/openclaw/dialect-000.expected"]
        .assert_eq(&report(&import("dialect-000")));
}

#[test]
fn dialect_001_gateway_template() {
    expect_file!["fixtures/openclaw/dialect-001.expected"]
        .assert_eq(&report(&import("dialect-001")));
}

#[test]
fn dialect_002_openclaw_json5() {
    expect_file!["fixtures/openclaw/dialect-002.expected"]
        .assert_eq(&report(&import("dialect-002")));
}

/// What the three imports must agree on. "Equivalent" means: a client routed by the result
/// reaches the same agent, which runs the same model on the same backend, whatever dialect
/// the file was written in. So it compares
/// - providers by what they are (protocol, base URL, model ids and the models' limits), not by
///   id: each dialect names its providers its own way (`ollama`, `ollama_engine`,
///   `ollama_box`), so every model reference is rewritten with the provider's protocol in
///   place of its id (unique in these fixtures, which is asserted);
/// - the primary model, the aliases and the `think` parameter, as rewritten references;
/// - the agents' ids, workspaces and models, in order;
/// - the bindings' agent, channel, account and peer id, in order. The peer kind is compared
///   only where both dialects can state one: the gateway template's `peer` is a bare id.
///
/// Not compared: display names (free text), the secret names (they carry the provider id),
/// and the tool lists, whose vocabularies differ by design; what they must achieve is checked
/// by `the_public_agent_loses_shell_process_and_web_tools_in_every_dialect` instead.
#[derive(Debug, PartialEq)]
struct Meaning {
    providers: BTreeSet<ProviderMeaning>,
    primary: Option<String>,
    aliases: BTreeMap<String, String>,
    think: BTreeMap<String, Option<bool>>,
    agents: Vec<AgentMeaning>,
    bindings: Vec<BindingMeaning>,
}

#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ProviderMeaning {
    api: &'static str,
    base_url: String,
    /// Id, context window and output budget of each model.
    models: Vec<(String, Option<u64>, Option<u64>)>,
    has_key: bool,
}

#[derive(Debug, PartialEq)]
struct AgentMeaning {
    id: String,
    workspace: Option<String>,
    model: Option<String>,
}

#[derive(Debug, PartialEq)]
struct BindingMeaning {
    agent: String,
    channel: Option<String>,
    account_id: Option<String>,
    peer_id: Option<String>,
}

fn meaning(config: &ConfigFile) -> Meaning {
    let protocol_of: BTreeMap<&str, &str> = (config.providers.iter())
        .map(|(id, provider)| (id.as_str(), provider.api.as_str()))
        .collect();
    let protocols: BTreeSet<&str> = protocol_of.values().copied().collect();
    assert_eq!(
        protocols.len(),
        protocol_of.len(),
        "one provider per protocol"
    );
    let canonical = |reference: &str| match reference.split_once('/') {
        Some((provider, model)) => format!("{}/{model}", protocol_of[provider]),
        None => reference.to_owned(),
    };
    Meaning {
        providers: (config.providers.values())
            .map(|provider| ProviderMeaning {
                api: provider.api.as_str(),
                base_url: provider.base_url.clone(),
                models: (provider.models.iter())
                    .map(|m| (m.id.clone(), m.context_window, m.max_tokens))
                    .collect(),
                has_key: provider.api_key.is_some(),
            })
            .collect(),
        primary: config.models.primary.as_deref().map(canonical),
        aliases: (config.models.aliases.iter())
            .map(|(alias, target)| (alias.clone(), canonical(target)))
            .collect(),
        think: (config.models.params.iter())
            .map(|(reference, params)| (canonical(reference), params.think))
            .collect(),
        agents: (config.agents.iter())
            .map(|agent| AgentMeaning {
                id: agent.id.clone(),
                workspace: agent.workspace.clone(),
                model: agent.model.as_deref().map(canonical),
            })
            .collect(),
        bindings: (config.bindings.iter())
            .map(|binding| BindingMeaning {
                agent: binding.agent.clone(),
                channel: binding.matcher.channel.clone(),
                account_id: binding.matcher.account_id.clone(),
                peer_id: binding.matcher.peer.as_ref().and_then(|p| p.id.clone()),
            })
            .collect(),
    }
}

#[test]
fn the_three_dialects_import_to_equivalent_configs() {
    let reference = import("dialect-002").config;
    let expected = meaning(&reference);
    for name in DIALECTS {
        let config = import(name).config;
        assert_eq!(
            meaning(&config),
            expected,
            "{name} differs from dialect-002"
        );
        for (binding, reference) in config.bindings.iter().zip(&reference.bindings) {
            let kind = binding.matcher.peer.as_ref().and_then(|p| p.kind.as_ref());
            let reference_kind = (reference.matcher.peer.as_ref()).and_then(|p| p.kind.as_ref());
            if let (Some(kind), Some(reference_kind)) = (kind, reference_kind) {
                assert_eq!(kind, reference_kind, "{name}: peer kind of {binding:?}");
            }
        }
    }
    // And the shared meaning is the one the fixtures describe.
    let mlx = "openai-completions/mlx-community/Qwen3-30B-A3B-4bit";
    assert_eq!(expected.primary.as_deref(), Some(mlx));
    assert_eq!(expected.aliases["qwen-mlx"], mlx);
    assert_eq!(expected.think[mlx], Some(false));
    assert_eq!(expected.think["ollama/qwen3:30b-a3b-q4_K_M"], Some(true));
    let ids: Vec<&str> = expected.agents.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["private", "public"]);
    let whatsapp = |agent: &str, peer_id: Option<&str>| BindingMeaning {
        agent: agent.to_owned(),
        channel: Some("whatsapp".to_owned()),
        account_id: None,
        peer_id: peer_id.map(str::to_owned),
    };
    assert_eq!(
        expected.bindings,
        [
            whatsapp("private", Some("+15550100777")),
            whatsapp("public", None)
        ]
    );
}

#[test]
fn the_public_agent_loses_shell_process_and_web_tools_in_every_dialect() {
    let taken_away = [
        "bash",
        "exec",
        "shell",
        "shell_execution",
        "run_terminal_cmd",
        "process",
        "system_process",
        "web_search",
        "internet_search",
        "web_fetch",
        "fetch",
        "network_scrape",
        "curl",
        "browser",
        "browser_automation",
    ];
    for name in DIALECTS {
        let config = import(name).config;
        for agent in &config.agents {
            let path = JsonPath::root().key("agents").key(&agent.id).key("tools");
            let (policy, diagnostics) = ToolPolicy::compile(&agent.tools, &path);
            assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
            let policy = policy.unwrap();
            for tool in taken_away {
                let allowed = policy.decide(tool).is_allowed();
                match agent.id.as_str() {
                    "private" => assert!(allowed, "{name}: private may not use {tool}"),
                    _ => assert!(!allowed, "{name}: public may use {tool}"),
                }
            }
            for tool in ["read", "file_read", "read_file"] {
                assert!(
                    policy.decide(tool).is_allowed(),
                    "{name}: {} may not {tool}",
                    agent.id
                );
            }
        }
        let private = config.agents.iter().find(|a| a.id == "private").unwrap();
        assert_eq!(private.tools.profile, Some(Profile::Full), "{name}");
    }
}

#[test]
fn no_inline_secret_survives_anywhere_but_the_secrets_list() {
    for name in DIALECTS {
        let imported = import(name);
        assert_eq!(imported.secrets.len(), 2, "{name}: both providers' keys");
        let config = serde_json::to_string(&imported.config).unwrap();
        let mapped = imported.mapped.join("\n");
        let unmapped = imported
            .unmapped
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>();
        let unmapped = unmapped.join("\n");
        let debug = format!("{imported:?}");
        for (secret_name, value) in &imported.secrets {
            let value = value.expose();
            assert!(
                fixture(name).contains(value.as_str()),
                "{name}: {secret_name} came from the file"
            );
            for (what, text) in [
                ("config", &config),
                ("mapped", &mapped),
                ("unmapped", &unmapped),
                ("Debug", &debug),
            ] {
                assert!(
                    !text.contains(value.as_str()),
                    "{name}: {secret_name} leaked into {what}"
                );
            }
        }
        for provider in imported.config.providers.values() {
            let key = provider.api_key.as_deref().unwrap_or_default();
            assert!(key.starts_with("keychain:provider."), "{name}: {key}");
        }
    }
    // The gateway token in dialect-002 is not a provider key: it is left out, and not echoed.
    let imported = import("dialect-002");
    let everything = format!(
        "{}\n{}",
        report(&imported),
        serde_json::to_string(&imported.unmapped).unwrap()
    );
    assert!(!everything.contains("d002-gateway-token"));
}

/// The whole chain a user relies on after `hearth config import-openclaw`: the imported config
/// validates, the owner's WhatsApp DM (relayed by the trusted OpenClaw client) reaches the
/// private agent, every other WhatsApp peer reaches the public one, and the public agent can
/// use no shell, process or web tool under any of its names.
#[test]
fn imported_configs_validate_route_the_owner_privately_and_lock_down_the_public_agent() {
    use hearth_core::{
        config::{Environment, validate::validate_file},
        import::OPENCLAW_CLIENT,
        routing::{Claims, route},
    };
    let environment = Environment {
        data_dir: PathBuf::from("/data/hearth"),
        home: Some(PathBuf::from("/home/ada")),
    };
    let whatsapp = |kind: &str, id: &str| Claims {
        channel: Some("WhatsApp".to_owned()),
        account_id: None,
        peer_kind: Some(kind.to_owned()),
        peer_id: Some(id.to_owned()),
    };
    for name in DIALECTS {
        let imported = import(name);
        let validated = validate_file(imported.config, &environment).unwrap_or_else(|found| {
            let listed: Vec<String> = found.iter().map(ToString::to_string).collect();
            panic!("{name} does not validate:\n{}", listed.join("\n"))
        });
        // The one warning is deliberate: OpenClaw sends unmatched messages to the first
        // agent, the private one, and Hearth keeps that meaning but says so.
        let warned: Vec<&str> = validated.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(warned, ["defaultAgent"], "{name}: {:?}", validated.warnings);
        let config = &validated.config;
        let client = Some(OPENCLAW_CLIENT);

        let owner = route(config, client, &whatsapp("dm", "+15550100777"));
        assert_eq!(owner.agent, "private", "{name}: the owner's DM\n{owner}");

        for (kind, peer) in [
            ("dm", "+15550100123"),
            ("dm", "+4915112345678"),
            ("group", "family-chat"),
        ] {
            let other = route(config, client, &whatsapp(kind, peer));
            assert_eq!(other.agent, "public", "{name}: {kind} {peer}\n{other}");
        }

        // Without a token the same claims count for nothing: the least-privileged agent.
        let anonymous = route(config, None, &whatsapp("dm", "+15550100777"));
        assert_eq!(anonymous.agent, "public", "{name}: anonymous\n{anonymous}");
        assert!(
            anonymous.ignored_claims.is_some(),
            "{name}: claims were not reported ignored"
        );

        let public = config.agent("public").unwrap();
        for tool in [
            "bash",
            "Bash",
            "shell",
            "shell_exec",
            "shell_execution",
            "exec",
            "run_command",
            "process",
            "system_process",
            "web_search",
            "web_fetch",
            "fetch",
            "external_fetch",
            "network_scrape",
            "browser",
        ] {
            let decision = public.policy.decide(tool);
            assert!(
                !decision.is_allowed(),
                "{name}: public may call {tool}: {decision}"
            );
        }
        assert!(
            public.policy.decide("read").is_allowed(),
            "{name}: public cannot read"
        );
        assert!(
            config
                .agent("private")
                .unwrap()
                .policy
                .decide("bash")
                .is_allowed()
        );
    }
}
