//! The runtime configuration: what `validate` produces from the file and what the rest of Hearth
//! uses. Every reference in here has been resolved and checked: agent ids exist, model
//! references name a provider, secret references are well-formed, tool policies are compiled.

use std::{collections::BTreeMap, fmt, net::IpAddr, path::PathBuf, time::Duration};

use serde::Serialize;

use super::file::{Api, AppFile, ConfigFile, ModelFile, ModelParams, ServiceFile, VoiceFile};
use crate::{policy::ToolPolicy, secret::SecretRef};

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from, as written (for `config get` and the admin API).
    pub file: ConfigFile,
    pub providers: BTreeMap<String, Provider>,
    pub primary: Option<ModelRef>,
    /// The one model the providers list, when they list exactly one: what `default` means
    /// when neither the agent nor `models.primary` names a model.
    pub sole_model: Option<ModelRef>,
    pub fallbacks: Vec<ModelRef>,
    /// Alias (lower-case) to model.
    pub aliases: BTreeMap<String, ModelRef>,
    pub params: BTreeMap<ModelRef, ModelParams>,
    pub agents: Vec<Agent>,
    pub default_agent: String,
    pub anonymous_agent: AnonymousAgent,
    pub clients: Vec<Client>,
    pub bindings: Vec<Binding>,
    pub gateway: Gateway,
    pub services: BTreeMap<String, ServiceFile>,
    pub voice: VoiceFile,
    pub app: AppFile,
}

impl Config {
    pub fn agent(&self, id: &str) -> Option<&Agent> {
        self.agents.iter().find(|agent| agent.id == id)
    }

    pub fn client(&self, name: &str) -> Option<&Client> {
        self.clients.iter().find(|client| client.name == name)
    }

    /// The model an agent uses, and what a request's `model: "default"` means: the agent's
    /// own, else the global primary, else the one model configured when there is exactly one.
    pub fn agent_model<'a>(&'a self, agent: &'a Agent) -> Option<&'a ModelRef> {
        agent
            .model
            .as_ref()
            .or(self.primary.as_ref())
            .or(self.sole_model.as_ref())
    }

    /// How many models the providers list (aliases not counted).
    pub fn model_count(&self) -> usize {
        self.providers
            .values()
            .map(|provider| provider.models.len())
            .sum()
    }

    /// Whether a caller routed to `agent` may use `target`: anonymous callers only local
    /// models; an agent with `models` only those (and its own model and fallbacks); one
    /// without, local models and the cloud models the configuration names as defaults (the
    /// primary, the global fallbacks, its own model and fallbacks).
    pub fn may_use(
        &self,
        agent: &str,
        anonymous: bool,
        target: &ModelRef,
    ) -> Result<(), ModelRefused> {
        let local = self
            .providers
            .get(&target.provider)
            .is_some_and(Provider::is_local);
        if anonymous && !local {
            return Err(ModelRefused::AnonymousCloud {
                model: target.to_string(),
            });
        }
        let Some((index, agent)) = self.agents.iter().enumerate().find(|(_, a)| a.id == agent)
        else {
            return Ok(());
        };
        let own = agent.model.as_ref() == Some(target)
            || agent
                .fallbacks
                .iter()
                .flatten()
                .any(|model| model == target);
        if own {
            return Ok(());
        }
        match &agent.models {
            Some(patterns) if patterns.iter().any(|pattern| pattern.matches(target)) => Ok(()),
            Some(_) => Err(ModelRefused::NotListed {
                agent: agent.id.clone(),
                index,
                model: target.to_string(),
            }),
            None => {
                let default = self.primary.as_ref() == Some(target)
                    || self.fallbacks.iter().any(|model| model == target);
                if local || default {
                    Ok(())
                } else {
                    Err(ModelRefused::CloudNotNamed {
                        agent: agent.id.clone(),
                        index,
                        model: target.to_string(),
                    })
                }
            }
        }
    }

    /// Whether the configuration names `target` anywhere a request may reach it by: a
    /// provider's list, an alias, the primary, the fallbacks, an agent's model, fallbacks or
    /// `models` (a `provider/*` entry names none in particular).
    pub fn names_model(&self, target: &ModelRef) -> bool {
        let listed = self
            .providers
            .get(&target.provider)
            .is_some_and(|provider| provider.model(&target.model).is_some());
        listed
            || self.aliases.values().any(|model| model == target)
            || self.primary.as_ref() == Some(target)
            || self.fallbacks.iter().any(|model| model == target)
            || self.agents.iter().any(|agent| {
                agent.model.as_ref() == Some(target)
                    || agent
                        .fallbacks
                        .iter()
                        .flatten()
                        .any(|model| model == target)
                    || agent
                        .models
                        .iter()
                        .flatten()
                        .any(|pattern| *pattern == ModelPattern::Model(target.clone()))
            })
    }

    /// Resolves what a client or the config names a model by: an alias (any case) or a
    /// `provider/model-id` reference whose provider exists.
    pub fn resolve_model(&self, name: &str) -> Result<ModelRef, UnknownModel> {
        resolve_model(&self.providers, &self.aliases, name)
    }
}

/// How the agent for anonymous callers was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AnonymousAgent {
    pub agent: String,
    /// True when `anonymousAgent` names it; false when Hearth picked the least-privileged.
    pub configured: bool,
}

/// `provider/model-id`. The model id may itself contain `/` (MLX paths); the provider id may not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ModelRef {
    pub provider: String,
    pub model: String,
}

impl ModelRef {
    /// Splits at the first `/`; `None` when there is none or a side is empty.
    pub fn parse(text: &str) -> Option<ModelRef> {
        let (provider, model) = text.split_once('/')?;
        (!provider.is_empty() && !model.is_empty()).then(|| ModelRef {
            provider: provider.to_owned(),
            model: model.to_owned(),
        })
    }
}

impl fmt::Display for ModelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.provider, self.model)
    }
}

/// Why a model name did not resolve.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnknownModel {
    #[error("`{name}` is neither an alias nor a `provider/model-id` reference")]
    NotAReference {
        name: String,
        suggestion: Option<String>,
    },
    #[error("`{name}` names provider `{provider}`, which is not configured")]
    UnknownProvider {
        name: String,
        provider: String,
        suggestion: Option<String>,
    },
    #[error("provider `{provider}` has no model `{model}`")]
    UnknownModelId {
        provider: String,
        model: String,
        suggestion: Option<String>,
    },
}

impl UnknownModel {
    pub fn suggestion(&self) -> Option<&str> {
        match self {
            UnknownModel::NotAReference { suggestion, .. }
            | UnknownModel::UnknownProvider { suggestion, .. }
            | UnknownModel::UnknownModelId { suggestion, .. } => suggestion.as_deref(),
        }
    }
}

pub(crate) fn resolve_model(
    providers: &BTreeMap<String, Provider>,
    aliases: &BTreeMap<String, ModelRef>,
    name: &str,
) -> Result<ModelRef, UnknownModel> {
    if let Some(target) = aliases.get(&name.to_lowercase()) {
        return Ok(target.clone());
    }
    let Some(reference) = ModelRef::parse(name) else {
        let known = aliases.keys().map(String::as_str).chain(
            providers
                .values()
                .flat_map(|p| p.models.iter().map(|m| m.id.as_str())),
        );
        let suggestion = super::diagnostic::nearest(name, known).map(|found| {
            // A bare model id is suggested as its full reference.
            providers
                .values()
                .find(|p| p.models.iter().any(|m| m.id == found))
                .map_or_else(|| found.to_owned(), |p| format!("{}/{found}", p.id))
        });
        return Err(UnknownModel::NotAReference {
            name: name.to_owned(),
            suggestion,
        });
    };
    let Some(provider) = providers.get(&reference.provider) else {
        return Err(UnknownModel::UnknownProvider {
            name: name.to_owned(),
            provider: reference.provider.clone(),
            suggestion: super::diagnostic::nearest(
                &reference.provider,
                providers.keys().map(String::as_str),
            )
            .map(|found| format!("{found}/{}", reference.model)),
        });
    };
    // A provider that lists no models serves whatever its backend has, as far as the
    // configuration goes (what a request may name is `Config::names_model`'s to say).
    if !provider.models.is_empty()
        && !provider.any_model
        && !provider.models.iter().any(|m| m.id == reference.model)
    {
        return Err(UnknownModel::UnknownModelId {
            provider: reference.provider.clone(),
            model: reference.model.clone(),
            suggestion: super::diagnostic::nearest(
                &reference.model,
                provider.models.iter().map(|m| m.id.as_str()),
            )
            .map(|found| format!("{}/{found}", provider.id)),
        });
    }
    Ok(reference)
}

/// One inference backend.
#[derive(Debug, Clone)]
pub struct Provider {
    pub id: String,
    pub api: Api,
    /// Without a trailing slash.
    pub base_url: String,
    pub api_key: Option<SecretRef>,
    pub models: Vec<ModelFile>,
    /// Requests may name model ids it does not list.
    pub any_model: bool,
}

impl Provider {
    pub fn model(&self, id: &str) -> Option<&ModelFile> {
        self.models.iter().find(|model| model.id == id)
    }

    /// Whether the provider runs on this machine or the local network — no paid key is spent
    /// on it: its base URL's host is `localhost`, a `.local` name, or a loopback, private or
    /// link-local address. Anything else is a cloud provider.
    pub fn is_local(&self) -> bool {
        let Ok(url) = url::Url::parse(&self.base_url) else {
            return false;
        };
        match url.host() {
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                name == "localhost" || name.ends_with(".local")
            }
            Some(url::Host::Ipv4(ip)) => ip.is_loopback() || ip.is_private() || ip.is_link_local(),
            Some(url::Host::Ipv6(ip)) => {
                ip.is_loopback()
                    || ip.is_unique_local()
                    || ip.is_unicast_link_local()
                    || ip
                        .to_ipv4_mapped()
                        .is_some_and(|v4| v4.is_loopback() || v4.is_private())
            }
            None => false,
        }
    }
}

/// An entry of an agent's `models`: one model, or every model of a provider (`provider/*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelPattern {
    Model(ModelRef),
    Provider(String),
}

impl ModelPattern {
    pub fn matches(&self, target: &ModelRef) -> bool {
        match self {
            ModelPattern::Model(model) => model == target,
            ModelPattern::Provider(provider) => *provider == target.provider,
        }
    }
}

/// Why a caller may not use a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelRefused {
    #[error(
        "`{model}` is a cloud model, and a caller without a client token reaches local models only; send a client's token (`hearth token show --client NAME`)"
    )]
    AnonymousCloud { model: String },
    #[error(
        "agent `{agent}` may not use `{model}`: it is not in the agent's `models` (agents[{index}].models)"
    )]
    NotListed {
        agent: String,
        index: usize,
        model: String,
    },
    #[error(
        "agent `{agent}` may not use the cloud model `{model}`: an agent reaches the cloud models the configuration names as defaults, or those in its `models` (agents[{index}].models)"
    )]
    CloudNotNamed {
        agent: String,
        index: usize,
        model: String,
    },
}

/// One agent persona.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub workspace: PathBuf,
    pub model: Option<ModelRef>,
    pub fallbacks: Option<Vec<ModelRef>>,
    /// The models its callers may name; `None`: local ones and the configured defaults.
    pub models: Option<Vec<ModelPattern>>,
    pub policy: ToolPolicy,
}

/// A caller identified by its token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub name: String,
    pub token: SecretRef,
    pub trusted: bool,
}

/// A routing rule, with its position in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub index: usize,
    pub agent: String,
    pub matcher: Match,
}

/// What a binding matches on. Channel and peer kind compare case-insensitively (they are
/// stored lower-case); account and peer ids compare exactly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Match {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_id: Option<String>,
}

impl Match {
    pub fn is_catch_all(&self) -> bool {
        *self == Match::default()
    }

    /// Precedence: peer id > peer kind > account > channel > client > catch-all. Compared
    /// lexicographically, so a rule with a peer id beats any rule without one.
    pub fn specificity(&self) -> [bool; 5] {
        [
            self.peer_id.is_some(),
            self.peer_kind.is_some(),
            self.account_id.is_some(),
            self.channel.is_some(),
            self.client.is_some(),
        ]
    }

    /// The most specific field present, for explanations.
    pub fn rank_name(&self) -> &'static str {
        match self.specificity() {
            [true, ..] => "peer id",
            [false, true, ..] => "peer kind",
            [false, false, true, ..] => "account",
            [false, false, false, true, _] => "channel",
            [false, false, false, false, true] => "client",
            [false, false, false, false, false] => "catch-all",
        }
    }
}

/// Where and how the gateway listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gateway {
    pub bind: IpAddr,
    pub port: u16,
    pub allow_remote: bool,
    pub admin_token: SecretRef,
    pub timeouts: Timeouts,
    pub body_limit_bytes: usize,
    /// How many responses `/v1/responses` keeps per agent, and for how long.
    pub responses_max_stored: usize,
    pub responses_max_age: Duration,
    pub responses_max_bytes: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    pub connect: Duration,
    pub first_token: Duration,
    pub idle: Duration,
    pub total: Duration,
}
