//! `hearth route simulate` and `hearth policy explain`, on the configuration imported from
//! OpenClaw's own format (fixture dialect-002): the owner's WhatsApp DMs go to `private`,
//! everyone else on WhatsApp to `public`, which may read files and nothing more.

use expect_test::expect;

use crate::support::{Hearth, check};

/// The owner's number in the fixture's first binding.
const OWNER: &str = "+15550100777";

fn imported(name: &str) -> Hearth {
    let hearth = Hearth::new(name);
    hearth.forget_on_drop("provider.ollama.apiKey");
    hearth.forget_on_drop("provider.mlx.apiKey");
    let openclaw = hearth.openclaw_file("dialect-002");
    hearth
        .run(&["config", "import-openclaw", &openclaw])
        .assert_code(0);
    hearth
}

fn agent_for(hearth: &Hearth, args: &[&str]) -> String {
    let mut command = vec!["route", "simulate", "--json"];
    command.extend_from_slice(args);
    let output = hearth.run(&command);
    output.assert_code(0);
    output.json()["agent"].as_str().unwrap().to_owned()
}

/// `hearth route simulate` for a WhatsApp DM from `peer`, relayed by the OpenClaw client.
fn whatsapp_dm(peer: &str) -> [&str; 10] {
    [
        "route",
        "simulate",
        "--client",
        "openclaw",
        "--channel",
        "whatsapp",
        "--peer-kind",
        "dm",
        "--peer-id",
        peer,
    ]
}

#[test]
fn the_owner_reaches_private_everyone_else_public() {
    let hearth = imported("route");
    check(
        &hearth.run(&whatsapp_dm(OWNER)),
        expect![[r#"
            $ hearth route simulate --client openclaw --channel whatsapp --peer-kind dm --peer-id +15550100777
            agent:    private
            model:    mlx/mlx-community/Qwen3-30B-A3B-4bit (provider mlx)
            because:  bindings[0] matched, the most specific match (peer id)
              bindings[0] → private: chosen
              bindings[1] → public: matched, but bindings[0] is more specific or comes first
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&whatsapp_dm("+15550100000")),
        expect![[r#"
            $ hearth route simulate --client openclaw --channel whatsapp --peer-kind dm --peer-id +15550100000
            agent:    public
            model:    mlx/mlx-community/Qwen3-30B-A3B-4bit (provider mlx)
            because:  bindings[1] matched, the most specific match (channel)
              bindings[0] → private: peer id is `+15550100000`, rule wants `+15550100777`
              bindings[1] → public: chosen
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    // A group chat whose id is the owner's number is not the owner's DM.
    let group = [
        "--client",
        "openclaw",
        "--channel",
        "whatsapp",
        "--peer-kind",
        "group",
        "--peer-id",
        OWNER,
    ];
    assert_eq!(agent_for(&hearth, &group), "public");
    // Another channel matches no binding, and the import sets no `defaultAgent`: the first
    // agent, as in OpenClaw (README: "No match: `defaultAgent` (else the first agent)").
    assert_eq!(
        agent_for(&hearth, &["--client", "openclaw", "--channel", "telegram"]),
        "private"
    );
}

#[test]
fn without_a_client_the_claims_are_ignored() {
    let hearth = imported("route-anonymous");
    check(
        &hearth.run(&[
            "route",
            "simulate",
            "--channel",
            "whatsapp",
            "--peer-kind",
            "dm",
            "--peer-id",
            OWNER,
        ]),
        expect![[r#"
            $ hearth route simulate --channel whatsapp --peer-kind dm --peer-id +15550100777
            agent:    public
            model:    mlx/mlx-community/Qwen3-30B-A3B-4bit (provider mlx)
            because:  no token: anonymous callers get the least-privileged agent
            ignored:  {"channel":"whatsapp","peerKind":"dm","peerId":"+15550100777"}: only trusted clients may assert channel, account or peer
              bindings[0] → private: not consulted for anonymous callers
              bindings[1] → public: not consulted for anonymous callers
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    let decision = hearth
        .run(&[
            "route",
            "simulate",
            "--json",
            "--channel",
            "whatsapp",
            "--peer-id",
            OWNER,
        ])
        .json();
    assert_eq!(decision["agent"], "public");
    assert_eq!(decision["ignoredClaims"]["peerId"], OWNER);
}

#[test]
fn an_unknown_client_is_an_error() {
    let hearth = imported("route-unknown-client");
    check(
        &hearth.run(&["route", "simulate", "--client", "opencla"]),
        expect![[r#"
            $ hearth route simulate --client opencla
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            hearth: there is no client `opencla`; did you mean `openclaw`?
            [exit 1]
        "#]],
    );
    check(
        &hearth.run(&["route", "simulate", "--client", "nobody"]),
        expect![[r#"
            $ hearth route simulate --client nobody
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            hearth: there is no client `nobody`; known clients: openclaw
            [exit 1]
        "#]],
    );
}

#[test]
fn policy_explain_shows_the_effective_policy() {
    let hearth = imported("policy");
    check(
        &hearth.run(&["policy", "explain", "public"]),
        expect![[r#"
            $ hearth policy explain public
            Agent `public` (Wren for visitors):
            profile: none
            families:
              exec               denied by deny[0] `group:runtime`, which includes the `exec` family
              process            denied by deny[0] `group:runtime`, which includes the `process` family
              read               allowed by allow[0] `read`
              write              not allowed: it is not in the allow-list
              edit               not allowed: it is not in the allow-list
              apply_patch        not allowed: it is not in the allow-list
              ls                 not allowed: it is not in the allow-list
              glob               not allowed: it is not in the allow-list
              grep               not allowed: it is not in the allow-list
              delete_file        not allowed: it is not in the allow-list
              web_search         denied by deny[1] `group:web`, which includes the `web_search` family
              web_fetch          denied by deny[1] `group:web`, which includes the `web_fetch` family
              browser            denied by deny[2] `browser`
              canvas             not allowed: it is not in the allow-list
              computer           not allowed: it is not in the allow-list
              message            not allowed: it is not in the allow-list
              sessions_list      not allowed: it is not in the allow-list
              sessions_history   not allowed: it is not in the allow-list
              sessions_send      not allowed: it is not in the allow-list
              sessions_spawn     not allowed: it is not in the allow-list
              session_status     not allowed: it is not in the allow-list
              memory_search      not allowed: it is not in the allow-list
              memory_get         not allowed: it is not in the allow-list
              memory_write       not allowed: it is not in the allow-list
              cron               not allowed: it is not in the allow-list
              gateway            not allowed: it is not in the allow-list
              nodes              not allowed: it is not in the allow-list
              image              not allowed: it is not in the allow-list
              code_interpreter   not allowed: it is not in the allow-list
            groups:
              group:runtime      none allowed
              group:fs           partly: read allowed
              group:web          none allowed
              group:ui           none allowed
              group:messaging    none allowed
              group:sessions     none allowed
              group:memory       none allowed
              group:automation   none allowed
              group:nodes        none allowed
            other tools: not allowed unless an allow entry covers them and no deny entry does
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&[
            "policy",
            "explain",
            "public",
            "bash",
            "web_fetch",
            "read",
            "Write",
        ]),
        expect![[r#"
            $ hearth policy explain public bash web_fetch read Write
            `bash` is denied by deny[0] `group:runtime`, which includes the `exec` family.
            `web_fetch` is denied by deny[1] `group:web`, which includes the `web_fetch` family.
            `read` is allowed by allow[0] `read`.
            `Write` is not allowed: it is not in the allow-list.
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    check(
        &hearth.run(&["policy", "explain", "private", "bash"]),
        expect![[r#"
            $ hearth policy explain private bash
            `bash` is allowed by profile full.
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            [exit 0]
        "#]],
    );
    let explained = hearth
        .run(&["policy", "explain", "public", "bash", "read", "--json"])
        .json();
    assert_eq!(explained["agent"], "public");
    assert_eq!(explained["decisions"].as_array().unwrap().len(), 2);
}

#[test]
fn policy_explain_of_an_unknown_agent_is_an_error() {
    let hearth = imported("policy-unknown");
    check(
        &hearth.run(&["policy", "explain", "pubic"]),
        expect![[r#"
            $ hearth policy explain pubic
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            hearth: there is no agent `pubic`; did you mean `public`?
            [exit 1]
        "#]],
    );
    check(
        &hearth.run(&["policy", "explain", "nobody", "bash"]),
        expect![[r#"
            $ hearth policy explain nobody bash
            [stderr]
            warning at defaultAgent: not set, so requests that no binding matches go to the first agent, `private`, which is not the least-privileged one; name the agent for unmatched requests, e.g. `hearth config set defaultAgent public`
            hearth: there is no agent `nobody`; agents: private, public
            [exit 1]
        "#]],
    );
}
