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
