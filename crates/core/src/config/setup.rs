//! First-run setup: what discovery proposes to add to the configuration, and the one way it is
//! added. Discovery itself (probing servers, finding programs and model files) is I/O and lives
//! in hearth-services; this module is the data it produces and a pure merge, so `hearth setup
//! --apply`, the admin API and a first `hearth serve` apply a proposal identically.
//!
//! The merge never overwrites what the user wrote: a provider, service or primary model that is
//! already there is kept as it is (a provider at the same address only gains the models it did
//! not list), and every entry kept instead of added is reported.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::file::{ProviderFile, ServiceFile};

/// What discovery found and proposes, ready to apply.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Proposal {
    /// Providers to add (or, for one already configured at the same address, models to add).
    #[serde(default)]
    pub providers: Vec<ProposedProvider>,
    /// Services to add: an installed server program with a model file it can serve.
    #[serde(default)]
    pub services: Vec<ProposedService>,
    /// The model to make primary (`provider/model-id`) when none is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary: Option<String>,
    /// What was found but is not proposed, and why (a program with no model, a server that did
    /// not answer as expected), in one line each.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Proposal {
    /// True when there is nothing to add.
    pub fn is_empty(&self) -> bool {
        self.providers.is_empty() && self.services.is_empty() && self.primary.is_none()
    }
}

/// A provider discovery proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposedProvider {
    /// The provider id (a key of `providers`).
    pub id: String,
    pub provider: ProviderFile,
    /// Where it came from, for a person: "Ollama running at http://127.0.0.1:11434".
    pub origin: String,
    /// True when a server answered there during discovery; false when it is served by a
    /// proposed service that is not running yet.
    pub running: bool,
}

/// A service discovery proposes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ProposedService {
    /// The service name (a key of `services`).
    pub name: String,
    pub service: ServiceFile,
    /// Where it came from: "llama-server at /opt/homebrew/bin/llama-server with
    /// ~/.cache/huggingface/hub/…/qwen2.5-7b-instruct-q4_k_m.gguf (4.4 GB)".
    pub origin: String,
}

/// What applying a proposal did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Applied {
    /// What was added, one line each (`provider ollama`, `model ollama/qwen3:8b`,
    /// `service llama-smollm2`, `primary ollama/qwen3:8b`).
    pub added: Vec<String>,
    /// What was already configured and kept as it is, with why.
    pub kept: Vec<String>,
}

impl Applied {
    pub fn changed(&self) -> bool {
        !self.added.is_empty()
    }
}

/// Why a proposal could not be merged into a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SetupError {
    #[error("the configuration's `{0}` is not a JSON object")]
    NotAnObject(&'static str),
    #[error("cannot write the proposed {what} `{name}`: {message}")]
    Serialize {
        what: &'static str,
        name: String,
        message: String,
    },
}

/// Merges `proposal` into `document` (a `hearth.json` document), never overwriting anything.
/// The caller validates and saves the result like any other edit.
pub fn apply(document: &mut Value, proposal: &Proposal) -> Result<Applied, SetupError> {
    let mut applied = Applied::default();
    for proposed in &proposal.providers {
        merge_provider(document, proposed, &mut applied)?;
    }
    for proposed in &proposal.services {
        let services = section(document, "services")?;
        if services.contains_key(&proposed.name) {
            applied.kept.push(format!(
                "service {}: already configured, kept as it is",
                proposed.name
            ));
            continue;
        }
        services.insert(
            proposed.name.clone(),
            to_value("service", &proposed.name, &proposed.service)?,
        );
        applied.added.push(format!("service {}", proposed.name));
    }
    if let Some(primary) = &proposal.primary {
        let models = section(document, "models")?;
        match models.get("primary").and_then(Value::as_str) {
            Some(existing) if existing != primary => applied.kept.push(format!(
                "primary {existing}: already set, kept (proposed {primary})"
            )),
            Some(_) => {}
            None => {
                models.insert("primary".to_owned(), Value::String(primary.clone()));
                applied.added.push(format!("primary {primary}"));
            }
        }
    }
    Ok(applied)
}

fn merge_provider(
    document: &mut Value,
    proposed: &ProposedProvider,
    applied: &mut Applied,
) -> Result<(), SetupError> {
    let providers = section(document, "providers")?;
    let Some(existing) = providers.get_mut(&proposed.id) else {
        providers.insert(
            proposed.id.clone(),
            to_value("provider", &proposed.id, &proposed.provider)?,
        );
        applied.added.push(format!("provider {}", proposed.id));
        applied.added.extend(
            proposed
                .provider
                .models
                .iter()
                .map(|model| format!("model {}/{}", proposed.id, model.id)),
        );
        return Ok(());
    };
    let same_place = existing.get("api").and_then(Value::as_str)
        == Some(proposed.provider.api.as_str())
        && existing
            .get("baseUrl")
            .and_then(Value::as_str)
            .is_some_and(|url| same_url(url, &proposed.provider.base_url));
    if !same_place {
        applied.kept.push(format!(
            "provider {}: already configured with another address or API, kept as it is",
            proposed.id
        ));
        return Ok(());
    }
    let Some(object) = existing.as_object_mut() else {
        return Err(SetupError::NotAnObject("providers.<id>"));
    };
    let models = object
        .entry("models")
        .or_insert_with(|| Value::Array(Vec::new()));
    let Some(models) = models.as_array_mut() else {
        return Err(SetupError::NotAnObject("providers.<id>.models"));
    };
    for model in &proposed.provider.models {
        let listed = models
            .iter()
            .any(|entry| entry.get("id").and_then(Value::as_str) == Some(model.id.as_str()));
        let reference = format!("{}/{}", proposed.id, model.id);
        if listed {
            applied
                .kept
                .push(format!("model {reference}: already listed, kept as it is"));
        } else {
            models.push(to_value("model", &reference, model)?);
            applied.added.push(format!("model {reference}"));
        }
    }
    Ok(())
}

/// Two base URLs name the same server when they differ only by a trailing `/`.
fn same_url(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

fn section<'d>(
    document: &'d mut Value,
    key: &'static str,
) -> Result<&'d mut serde_json::Map<String, Value>, SetupError> {
    let Some(root) = document.as_object_mut() else {
        return Err(SetupError::NotAnObject("(root)"));
    };
    root.entry(key)
        .or_insert_with(|| Value::Object(serde_json::Map::new()))
        .as_object_mut()
        .ok_or(SetupError::NotAnObject(key))
}

fn to_value(what: &'static str, name: &str, item: &impl Serialize) -> Result<Value, SetupError> {
    serde_json::to_value(item).map_err(|error| SetupError::Serialize {
        what,
        name: name.to_owned(),
        message: error.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::*;

    fn proposal() -> Proposal {
        serde_json::from_value(json!({
            "providers": [
                { "id": "ollama", "origin": "Ollama running at http://127.0.0.1:11434", "running": true,
                  "provider": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434/",
                    "models": [{ "id": "qwen3:8b", "sizeBytes": 5200000000u64 }, { "id": "gemma3:1b" }] } },
                { "id": "lmstudio", "origin": "LM Studio running at http://127.0.0.1:1234", "running": true,
                  "provider": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:1234/v1",
                    "models": [{ "id": "qwen2.5-7b-instruct" }] } }
            ],
            "services": [
                { "name": "llama-smollm2", "origin": "llama-server with smollm2.gguf",
                  "service": { "template": "llama-server", "program": "/usr/bin/llama-server",
                    "args": ["-m", "/m/smollm2.gguf", "--port", "8081"], "port": 8081,
                    "provider": "llama-smollm2" } }
            ],
            "primary": "ollama/qwen3:8b",
            "notes": []
        }))
        .unwrap()
    }

    fn check(
        mut document: Value,
        expected_document: expect_test::Expect,
        expected: expect_test::Expect,
    ) {
        let applied = apply(&mut document, &proposal()).unwrap();
        expected_document.assert_eq(&serde_json::to_string_pretty(&document).unwrap());
        expected.assert_debug_eq(&applied);
    }

    #[test]
    fn a_fresh_document_takes_everything() {
        check(
            json!({ "agents": [{ "id": "main" }] }),
            expect![[r#"
                {
                  "agents": [
                    {
                      "id": "main"
                    }
                  ],
                  "providers": {
                    "ollama": {
                      "api": "ollama",
                      "baseUrl": "http://127.0.0.1:11434/",
                      "models": [
                        {
                          "id": "qwen3:8b",
                          "sizeBytes": 5200000000
                        },
                        {
                          "id": "gemma3:1b"
                        }
                      ]
                    },
                    "lmstudio": {
                      "api": "openai-completions",
                      "baseUrl": "http://127.0.0.1:1234/v1",
                      "models": [
                        {
                          "id": "qwen2.5-7b-instruct"
                        }
                      ]
                    }
                  },
                  "services": {
                    "llama-smollm2": {
                      "template": "llama-server",
                      "program": "/usr/bin/llama-server",
                      "args": [
                        "-m",
                        "/m/smollm2.gguf",
                        "--port",
                        "8081"
                      ],
                      "port": 8081,
                      "restart": "on-failure",
                      "startTimeout": "3m",
                      "provider": "llama-smollm2"
                    }
                  },
                  "models": {
                    "primary": "ollama/qwen3:8b"
                  }
                }"#]],
            expect![[r#"
                Applied {
                    added: [
                        "provider ollama",
                        "model ollama/qwen3:8b",
                        "model ollama/gemma3:1b",
                        "provider lmstudio",
                        "model lmstudio/qwen2.5-7b-instruct",
                        "service llama-smollm2",
                        "primary ollama/qwen3:8b",
                    ],
                    kept: [],
                }
            "#]],
        );
    }

    #[test]
    fn nothing_the_user_wrote_is_overwritten() {
        check(
            json!({
                "providers": {
                    "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434",
                                "models": [{ "id": "gemma3:1b", "contextWindow": 8192 }] },
                    "lmstudio": { "api": "openai-completions", "baseUrl": "http://10.0.0.2:1234/v1" }
                },
                "services": { "llama-smollm2": { "program": "/opt/mine", "port": 9000 } },
                "models": { "primary": "ollama/gemma3:1b" }
            }),
            expect![[r#"
                {
                  "providers": {
                    "ollama": {
                      "api": "ollama",
                      "baseUrl": "http://127.0.0.1:11434",
                      "models": [
                        {
                          "id": "gemma3:1b",
                          "contextWindow": 8192
                        },
                        {
                          "id": "qwen3:8b",
                          "sizeBytes": 5200000000
                        }
                      ]
                    },
                    "lmstudio": {
                      "api": "openai-completions",
                      "baseUrl": "http://10.0.0.2:1234/v1"
                    }
                  },
                  "services": {
                    "llama-smollm2": {
                      "program": "/opt/mine",
                      "port": 9000
                    }
                  },
                  "models": {
                    "primary": "ollama/gemma3:1b"
                  }
                }"#]],
            expect![[r#"
                Applied {
                    added: [
                        "model ollama/qwen3:8b",
                    ],
                    kept: [
                        "model ollama/gemma3:1b: already listed, kept as it is",
                        "provider lmstudio: already configured with another address or API, kept as it is",
                        "service llama-smollm2: already configured, kept as it is",
                        "primary ollama/gemma3:1b: already set, kept (proposed ollama/qwen3:8b)",
                    ],
                }
            "#]],
        );
    }

    #[test]
    fn applying_twice_adds_nothing_the_second_time() {
        let mut document = json!({});
        apply(&mut document, &proposal()).unwrap();
        let first = document.clone();
        let again = apply(&mut document, &proposal()).unwrap();
        assert!(!again.changed(), "{again:?}");
        assert_eq!(document, first);
    }
}
