//! `hearth model list|use|unload`: which models there are, which is resident and active, and
//! switching with the progress of every step.

use std::time::Duration;

use clap::Subcommand;
use futures_util::StreamExt as _;
use hearth_core::config::store;
use hearth_services::memory;
use serde_json::{Value, json};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::{self, Admin, AdminError};

#[derive(Debug, Subcommand)]
pub enum ModelCommand {
    /// Every configured model: resident, active, size, estimated peak.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Make a model the active one: unload the others, start its service, warm it, switch.
    Use {
        /// `provider/model-id` or an alias.
        model: String,
        /// Load it even when the memory estimate says it does not fit.
        #[arg(long)]
        force: bool,
    },
    /// Unload every resident model.
    Unload,
}

pub fn run(context: &Context, command: ModelCommand) -> CliResult {
    let validated = super::load(context)?;
    let config = &validated.config;
    match command {
        ModelCommand::List { json } => {
            let body = match admin::call(
                context,
                config,
                reqwest::Method::GET,
                "/admin/models",
                None,
            ) {
                Ok(body) => body,
                Err(AdminError::NotRunning(_)) => {
                    output::note(
                        "Hearth is not running: residency unknown (`hearth serve` starts it)",
                    );
                    let models: Vec<Value> = config
                        .providers
                        .values()
                        .flat_map(|provider| {
                            provider.models.iter().map(move |model| {
                                let name = format!("{}/{}", provider.id, model.id);
                                json!({ "model": name, "active": config.primary.as_ref().is_some_and(|p| p.to_string() == name), "resident": null, "sizeBytes": model.size_bytes })
                            })
                        })
                        .collect();
                    json!({ "models": models, "active": config.primary.as_ref().map(ToString::to_string) })
                }
                Err(error) => return Err(error.into()),
            };
            if json {
                output::json(&body);
                return Ok(());
            }
            output::line(format!(
                "{:<2} {:<36} {:<9} {:>10} {:>10}  SERVICE",
                "", "MODEL", "RESIDENT", "SIZE", "PEAK"
            ));
            for model in body["models"].as_array().into_iter().flatten() {
                let size = |key: &str| {
                    model[key]
                        .as_u64()
                        .map_or_else(|| "-".to_owned(), memory::human)
                };
                output::line(format!(
                    "{:<2} {:<36} {:<9} {:>10} {:>10}  {}",
                    if model["active"].as_bool() == Some(true) {
                        "*"
                    } else {
                        ""
                    },
                    model["model"].as_str().unwrap_or("?"),
                    match model["resident"].as_bool() {
                        Some(true) => "yes",
                        Some(false) => "no",
                        None => "?",
                    },
                    size("sizeBytes"),
                    size("estimatedPeak"),
                    match (model["service"].as_str(), model["serviceState"].as_str()) {
                        (Some(service), Some(state)) => format!("{service} ({state})"),
                        (Some(service), None) => service.to_owned(),
                        _ => "-".to_owned(),
                    }
                ));
            }
            if let Some(warning) = body["contention"].as_str() {
                output::note(format!("warning: {warning}"));
            }
            if let Some(memory) = body["memory"].as_object() {
                let get = |key: &str| memory.get(key).and_then(Value::as_u64).unwrap_or(0);
                let gpu_limit = memory
                    .get("gpuLimit")
                    .and_then(|limit| limit.get("bytes"))
                    .and_then(Value::as_u64)
                    .map(|bytes| format!(", GPU limit {}", memory::human(bytes)))
                    .unwrap_or_default();
                output::line(format!(
                    "memory: {} available of {}{gpu_limit}{}",
                    memory::human(get("available")),
                    memory::human(get("total")),
                    memory
                        .get("pressure")
                        .and_then(Value::as_str)
                        .map(|pressure| format!(", pressure {pressure}"))
                        .unwrap_or_default()
                ));
            }
            Ok(())
        }
        ModelCommand::Use { model, force } => {
            let admin = Admin::new(context, config)?;
            let runtime = admin::runtime()?;
            let body = json!({ "model": model, "force": force });
            let answer = runtime.block_on(async {
                let response = admin
                    .send(
                        reqwest::Method::POST,
                        "/admin/models/activate",
                        Some(&body),
                        Duration::from_secs(3600),
                    )
                    .await?;
                follow(response).await
            });
            match answer {
                Ok(last) => finish(&last),
                Err(AdminError::NotRunning(_)) => {
                    // Offline: the choice is saved, and `hearth serve` starts its service.
                    let reference = hearth_gateway_free_resolve(config, &model)?;
                    let (mut document, _) = store::read_document(&context.paths.config_file)?;
                    store::set(
                        &mut document,
                        "models.primary",
                        Value::String(reference.clone()),
                    )
                    .map_err(|error| CliError::invalid(error.to_string()))?;
                    store::save(&context.paths, &document)?;
                    output::line(format!(
                        "Hearth is not running: {reference} is now the primary model in {}; `hearth serve` starts its service",
                        context.paths.config_file.display()
                    ));
                    Ok(())
                }
                Err(error) => Err(error.into()),
            }
        }
        ModelCommand::Unload => {
            let body = admin::call(
                context,
                config,
                reqwest::Method::POST,
                "/admin/models/unload",
                None,
            )?;
            let done = body["unloaded"].as_array().cloned().unwrap_or_default();
            if done.is_empty() {
                output::line("no model was resident");
            }
            for line in done {
                output::line(line.as_str().unwrap_or_default());
            }
            Ok(())
        }
    }
}

/// A model name as the configuration resolves it.
fn hearth_gateway_free_resolve(
    config: &hearth_core::config::Config,
    name: &str,
) -> Result<String, CliError> {
    config
        .resolve_model(name)
        .map(|reference| reference.to_string())
        .map_err(|error| CliError::invalid(format!("unknown model: {error}")))
}

/// Prints each step as it starts and ends; returns the last progress.
async fn follow(response: reqwest::Response) -> Result<Value, AdminError> {
    let mut stream = response.bytes_stream();
    let mut buffer = Vec::new();
    let mut last = Value::Null;
    let mut shown: Vec<String> = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|error| {
            AdminError::Other(format!("the switch's progress stream broke: {error}"))
        })?;
        buffer.extend_from_slice(&chunk);
        while let Some(end) = buffer.iter().position(|byte| *byte == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            let Ok(progress) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            show(&progress, &mut shown);
            last = progress;
        }
    }
    if last.is_null() {
        return Err(AdminError::Other(
            "Hearth ended the switch without a word".to_owned(),
        ));
    }
    Ok(last)
}

/// One line per step state not shown yet: `[2/6] stop service smollm … done: stopped`.
fn show(progress: &Value, shown: &mut Vec<String>) {
    let steps = progress["steps"].as_array().cloned().unwrap_or_default();
    if shown.is_empty() {
        output::line(format!(
            "Switching to {}",
            progress["model"].as_str().unwrap_or("?")
        ));
        shown.push(String::new());
    }
    for (index, step) in steps.iter().enumerate() {
        let state = step["state"].as_str().unwrap_or("?");
        if state == "pending" {
            continue;
        }
        let key = format!("{index}:{state}");
        if shown.contains(&key) {
            continue;
        }
        shown.push(key);
        let title = step["title"].as_str().unwrap_or("?");
        let detail = step["detail"]
            .as_str()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        let number = format!("[{}/{}]", index + 1, steps.len());
        output::line(match state {
            "running" => format!("  {number} {title} …"),
            other => format!("  {number} {title}: {other}{detail}"),
        });
    }
}

fn finish(last: &Value) -> CliResult {
    #[expect(clippy::cast_precision_loss, reason = "seconds for display")]
    let seconds = last["elapsedMs"].as_u64().unwrap_or(0) as f64 / 1000.0;
    match last["state"].as_str() {
        Some("done") => {
            output::line(format!(
                "Active model: {} ({seconds:.1} s)",
                last["model"].as_str().unwrap_or("?")
            ));
            Ok(())
        }
        _ => Err(CliError::invalid(
            last["error"]
                .as_str()
                .unwrap_or("the switch failed")
                .to_owned(),
        )),
    }
}
