//! Routing: identity → binding → agent → model → provider.
//!
//! A request's identity is the client its token names (or none: anonymous) plus what a client
//! claims about the conversation it relays (channel, account, peer kind and id). Only trusted
//! clients may make claims; an untrusted client's claims are dropped, and the decision says so.
//! Anonymous callers skip the bindings and get the anonymous agent, which is the
//! least-privileged agent unless the config names one.
//!
//! Among the bindings whose every field matches, the most specific wins (peer id > peer kind >
//! account > channel > client > catch-all), ties by order. No binding: the default agent.

use std::fmt;

use serde::Serialize;

use crate::config::{
    Config, ModelRef,
    model::{Binding, Match},
};

/// What the caller asserts about the conversation, from `x-hearth-*` headers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Claims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
}

impl Claims {
    pub fn is_empty(&self) -> bool {
        *self == Claims::default()
    }
}

/// The outcome of routing one identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Route {
    pub agent: String,
    /// The agent's model (its own, else the global primary); none when neither is set.
    pub model: Option<ModelRef>,
    pub provider: Option<String>,
    pub reason: Reason,
    /// Claims that were dropped because the client is not trusted (or anonymous).
    pub ignored_claims: Option<Claims>,
    /// Every binding and why it did or did not decide.
    pub bindings: Vec<Verdict>,
}

/// Why the agent was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Reason {
    /// A binding matched and was the most specific.
    Binding { index: usize, rank: &'static str },
    /// No binding matched.
    DefaultAgent,
    /// No token: the anonymous agent.
    Anonymous { configured: bool },
}

/// What one binding did with this identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub index: usize,
    pub agent: String,
    pub outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase", tag = "kind")]
pub enum Outcome {
    Won,
    /// Matched, but another binding was more specific, or as specific and earlier.
    Outranked {
        by: usize,
    },
    /// A field did not match.
    Mismatch {
        field: &'static str,
        wanted: String,
        got: Option<String>,
    },
    /// Anonymous requests do not consult bindings.
    Skipped,
}

/// Routes an identity. `client` is the authenticated client's name, `None` for anonymous.
pub fn route(config: &Config, client: Option<&str>, claims: &Claims) -> Route {
    let client = client.and_then(|name| config.client(name));
    let trusted = client.is_some_and(|client| client.trusted);
    let ignored_claims = (!trusted && !claims.is_empty()).then(|| claims.clone());
    let empty = Claims::default();
    let claims = if trusted { claims } else { &empty };

    let Some(client) = client else {
        let agent = config.anonymous_agent.agent.clone();
        let bindings = config
            .bindings
            .iter()
            .map(|binding| Verdict {
                index: binding.index,
                agent: binding.agent.clone(),
                outcome: Outcome::Skipped,
            })
            .collect();
        return finish(
            config,
            agent,
            Reason::Anonymous {
                configured: config.anonymous_agent.configured,
            },
            ignored_claims,
            bindings,
        );
    };

    let mut verdicts: Vec<Verdict> = Vec::new();
    let mut best: Option<&Binding> = None;
    for binding in &config.bindings {
        let outcome = match mismatch(&binding.matcher, &client.name, claims) {
            Some(outcome) => outcome,
            None => {
                let better = best
                    .is_none_or(|best| binding.matcher.specificity() > best.matcher.specificity());
                if better {
                    best = Some(binding);
                }
                Outcome::Won
            }
        };
        verdicts.push(Verdict {
            index: binding.index,
            agent: binding.agent.clone(),
            outcome,
        });
    }
    if let Some(winner) = best {
        for verdict in &mut verdicts {
            if verdict.outcome == Outcome::Won && verdict.index != winner.index {
                verdict.outcome = Outcome::Outranked { by: winner.index };
            }
        }
        let reason = Reason::Binding {
            index: winner.index,
            rank: winner.matcher.rank_name(),
        };
        return finish(
            config,
            winner.agent.clone(),
            reason,
            ignored_claims,
            verdicts,
        );
    }
    finish(
        config,
        config.default_agent.clone(),
        Reason::DefaultAgent,
        ignored_claims,
        verdicts,
    )
}

fn finish(
    config: &Config,
    agent: String,
    reason: Reason,
    ignored_claims: Option<Claims>,
    bindings: Vec<Verdict>,
) -> Route {
    let model = config
        .agent(&agent)
        .and_then(|found| config.agent_model(found))
        .cloned();
    let provider = model.as_ref().map(|model| model.provider.clone());
    Route {
        agent,
        model,
        provider,
        reason,
        ignored_claims,
        bindings,
    }
}

/// The first field of `matcher` that the identity does not satisfy.
fn mismatch(matcher: &Match, client: &str, claims: &Claims) -> Option<Outcome> {
    let lower = |text: &Option<String>| text.as_deref().map(str::to_lowercase);
    let checks: [(&'static str, &Option<String>, Option<String>); 5] = [
        ("client", &matcher.client, Some(client.to_owned())),
        ("channel", &matcher.channel, lower(&claims.channel)),
        ("account", &matcher.account_id, claims.account_id.clone()),
        ("peer kind", &matcher.peer_kind, lower(&claims.peer_kind)),
        ("peer id", &matcher.peer_id, claims.peer_id.clone()),
    ];
    checks.into_iter().find_map(|(field, wanted, got)| {
        let wanted = wanted.as_ref()?;
        (got.as_ref() != Some(wanted)).then(|| Outcome::Mismatch {
            field,
            wanted: wanted.clone(),
            got,
        })
    })
}

impl fmt::Display for Route {
    /// The explanation `hearth route simulate` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "agent:    {}", self.agent)?;
        match &self.model {
            Some(model) => writeln!(f, "model:    {model} (provider {})", model.provider)?,
            None => writeln!(
                f,
                "model:    none (set models.primary or the agent's model)"
            )?,
        }
        let because = match &self.reason {
            Reason::Binding { index, rank } => {
                format!("bindings[{index}] matched, the most specific match ({rank})")
            }
            Reason::DefaultAgent => "no binding matched, so the default agent".to_owned(),
            Reason::Anonymous { configured: true } => {
                "no token: anonymous callers get `anonymousAgent`".to_owned()
            }
            Reason::Anonymous { configured: false } => {
                "no token: anonymous callers get the least-privileged agent".to_owned()
            }
        };
        writeln!(f, "because:  {because}")?;
        if let Some(claims) = &self.ignored_claims {
            let listed = serde_json::to_string(claims).unwrap_or_default();
            writeln!(
                f,
                "ignored:  {listed}: only trusted clients may assert channel, account or peer"
            )?;
        }
        for verdict in &self.bindings {
            let what = match &verdict.outcome {
                Outcome::Won => "chosen".to_owned(),
                Outcome::Outranked { by } => {
                    format!("matched, but bindings[{by}] is more specific or comes first")
                }
                Outcome::Mismatch { field, wanted, got } => match got {
                    Some(got) => format!("{field} is `{got}`, rule wants `{wanted}`"),
                    None => format!("no {field} given, rule wants `{wanted}`"),
                },
                Outcome::Skipped => "not consulted for anonymous callers".to_owned(),
            };
            writeln!(
                f,
                "  bindings[{}] → {}: {what}",
                verdict.index, verdict.agent
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use expect_test::{Expect, expect};

    use super::*;
    use crate::config::{Environment, validate_str};

    const CONFIG: &str = r#"{
      "providers": {
        "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434",
                    "models": [{ "id": "gemma4:26b" }] },
        "mlx": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:8080/v1",
                 "models": [{ "id": "mlx-community/gemma-4-26B" }] }
      },
      "models": { "primary": "mlx/mlx-community/gemma-4-26B", "aliases": { "q8": "ollama/gemma4:26b" } },
      "agents": [
        { "id": "private" },
        { "id": "public", "model": "q8", "tools": { "profile": "messaging" } },
        { "id": "work", "tools": { "profile": "coding" } },
        { "id": "family" }
      ],
      "defaultAgent": "work",
      "clients": [
        { "name": "openclaw", "token": "keychain:c1", "trusted": true },
        { "name": "script", "token": "keychain:c2" }
      ],
      "bindings": [
        { "agent": "public", "match": { "channel": "whatsapp" } },
        { "agent": "private", "match": { "channel": "whatsapp", "peer": { "kind": "dm", "id": "+15550100777" } } },
        { "agent": "family", "match": { "channel": "whatsapp", "peer": { "kind": "group" } } },
        { "agent": "work", "match": { "channel": "slack", "accountId": "acme" } },
        { "agent": "public", "match": { "client": "script" } },
        { "agent": "family", "match": { "channel": "whatsapp" } }
      ]
    }"#;

    fn claims(channel: &str, account: &str, kind: &str, id: &str) -> Claims {
        let some = |text: &str| (!text.is_empty()).then(|| text.to_owned());
        Claims {
            channel: some(channel),
            account_id: some(account),
            peer_kind: some(kind),
            peer_id: some(id),
        }
    }

    /// Routes (client, claims) through CONFIG and pins the explanation `hearth route simulate`
    /// prints.
    fn check(client: Option<&str>, claims: Claims, expected: Expect) {
        let environment = Environment {
            data_dir: PathBuf::from("/data"),
            home: None,
        };
        let config = match validate_str(CONFIG, &environment) {
            Ok(validated) => validated.config,
            Err(found) => panic!("{found:?}"),
        };
        expected.assert_eq(&route(&config, client, &claims).to_string());
    }

    #[test]
    fn the_owners_dm_beats_the_channel_rule_placed_before_it() {
        check(
            Some("openclaw"),
            claims("whatsapp", "", "dm", "+15550100777"),
            expect![[r#"
                agent:    private
                model:    mlx/mlx-community/gemma-4-26B (provider mlx)
                because:  bindings[1] matched, the most specific match (peer id)
                  bindings[0] → public: matched, but bindings[1] is more specific or comes first
                  bindings[1] → private: chosen
                  bindings[2] → family: peer kind is `dm`, rule wants `group`
                  bindings[3] → work: channel is `whatsapp`, rule wants `slack`
                  bindings[4] → public: client is `openclaw`, rule wants `script`
                  bindings[5] → family: matched, but bindings[1] is more specific or comes first
            "#]],
        );
    }

    #[test]
    fn another_peer_falls_to_the_first_channel_rule_and_ties_go_to_the_earlier() {
        check(
            Some("openclaw"),
            claims("WhatsApp", "", "DM", "+15550100123"),
            expect![[r#"
                agent:    public
                model:    ollama/gemma4:26b (provider ollama)
                because:  bindings[0] matched, the most specific match (channel)
                  bindings[0] → public: chosen
                  bindings[1] → private: peer id is `+15550100123`, rule wants `+15550100777`
                  bindings[2] → family: peer kind is `dm`, rule wants `group`
                  bindings[3] → work: channel is `whatsapp`, rule wants `slack`
                  bindings[4] → public: client is `openclaw`, rule wants `script`
                  bindings[5] → family: matched, but bindings[0] is more specific or comes first
            "#]],
        );
    }

    #[test]
    fn peer_kind_beats_channel_and_account_beats_channel() {
        check(
            Some("openclaw"),
            claims("whatsapp", "", "group", "book-club"),
            expect![[r#"
                agent:    family
                model:    mlx/mlx-community/gemma-4-26B (provider mlx)
                because:  bindings[2] matched, the most specific match (peer kind)
                  bindings[0] → public: matched, but bindings[2] is more specific or comes first
                  bindings[1] → private: peer kind is `group`, rule wants `dm`
                  bindings[2] → family: chosen
                  bindings[3] → work: channel is `whatsapp`, rule wants `slack`
                  bindings[4] → public: client is `openclaw`, rule wants `script`
                  bindings[5] → family: matched, but bindings[2] is more specific or comes first
            "#]],
        );
        check(
            Some("openclaw"),
            claims("slack", "globex", "", ""),
            expect![[r#"
                agent:    work
                model:    mlx/mlx-community/gemma-4-26B (provider mlx)
                because:  no binding matched, so the default agent
                  bindings[0] → public: channel is `slack`, rule wants `whatsapp`
                  bindings[1] → private: channel is `slack`, rule wants `whatsapp`
                  bindings[2] → family: channel is `slack`, rule wants `whatsapp`
                  bindings[3] → work: account is `globex`, rule wants `acme`
                  bindings[4] → public: client is `openclaw`, rule wants `script`
                  bindings[5] → family: channel is `slack`, rule wants `whatsapp`
            "#]],
        );
    }

    #[test]
    fn an_untrusted_client_cannot_claim_to_be_the_owner() {
        check(
            Some("script"),
            claims("whatsapp", "", "dm", "+15550100777"),
            expect![[r#"
                agent:    public
                model:    ollama/gemma4:26b (provider ollama)
                because:  bindings[4] matched, the most specific match (client)
                ignored:  {"channel":"whatsapp","peerKind":"dm","peerId":"+15550100777"}: only trusted clients may assert channel, account or peer
                  bindings[0] → public: no channel given, rule wants `whatsapp`
                  bindings[1] → private: no channel given, rule wants `whatsapp`
                  bindings[2] → family: no channel given, rule wants `whatsapp`
                  bindings[3] → work: no channel given, rule wants `slack`
                  bindings[4] → public: chosen
                  bindings[5] → family: no channel given, rule wants `whatsapp`
            "#]],
        );
    }

    #[test]
    fn anonymous_callers_get_the_least_privileged_agent() {
        check(
            None,
            claims("whatsapp", "", "dm", "+15550100777"),
            expect![[r#"
                agent:    public
                model:    ollama/gemma4:26b (provider ollama)
                because:  no token: anonymous callers get the least-privileged agent
                ignored:  {"channel":"whatsapp","peerKind":"dm","peerId":"+15550100777"}: only trusted clients may assert channel, account or peer
                  bindings[0] → public: not consulted for anonymous callers
                  bindings[1] → private: not consulted for anonymous callers
                  bindings[2] → family: not consulted for anonymous callers
                  bindings[3] → work: not consulted for anonymous callers
                  bindings[4] → public: not consulted for anonymous callers
                  bindings[5] → family: not consulted for anonymous callers
            "#]],
        );
    }
}
