//! `hearth doctor`: every part checked, each problem with its fix — the configuration, the
//! gateway's port, each service (program, port, plist, state), each provider (reachable, its
//! models present), memory headroom for the active model, and residency contention.

use std::time::Duration;

use hearth_core::config::{Config, file::Api};
use hearth_services::{
    ServiceSpec, launchd, memory,
    spec::{Layout, port_is_free},
};
use serde::Serialize;
use serde_json::{Value, json};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::{self, AdminError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Verdict {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    verdict: Verdict,
    part: String,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<String>,
}

#[derive(Debug, Default)]
struct Report(Vec<Check>);

impl Report {
    fn add(
        &mut self,
        verdict: Verdict,
        part: impl Into<String>,
        message: impl Into<String>,
        fix: Option<String>,
    ) {
        self.0.push(Check {
            verdict,
            part: part.into(),
            message: message.into(),
            fix,
        });
    }
}

pub fn run(context: &Context, json_out: bool) -> CliResult {
    let mut report = Report::default();
    let validated = match super::load(context) {
        Ok(validated) => validated,
        Err(error) => {
            report.add(
                Verdict::Fail,
                "config",
                error.message(),
                Some(format!(
                    "fix {} (`hearth config validate` lists every problem)",
                    context.paths.config_file.display()
                )),
            );
            return finish(&report, json_out);
        }
    };
    let config = &validated.config;
    report.add(
        if validated.warnings.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Warn
        },
        "config",
        format!(
            "{} is valid{}",
            context.paths.config_file.display(),
            match validated.warnings.len() {
                0 => String::new(),
                n => format!(" ({n} warnings: `hearth config validate`)"),
            }
        ),
        None,
    );

    // What `model: "default"` reaches: nothing answers without it.
    let default_model = config
        .agent(&config.default_agent)
        .and_then(|agent| config.agent_model(agent));
    match (default_model, config.model_count()) {
        (Some(model), _) => report.add(
            Verdict::Ok,
            "default model",
            format!("`default` is {model}"),
            None,
        ),
        (None, 0) => report.add(
            Verdict::Fail,
            "default model",
            "no model is configured: nothing can answer yet",
            Some(
                "`hearth setup` finds the servers and models on this machine; `hearth setup \
                 --apply` adds them"
                    .to_owned(),
            ),
        ),
        (None, count) => report.add(
            Verdict::Fail,
            "default model",
            format!("no primary model among the {count} configured: `default` names none"),
            Some("`hearth model use PROVIDER/MODEL` (`hearth model list` lists them)".to_owned()),
        ),
    }

    // The running instance, when there is one, knows the services' and models' states.
    let status = admin::call(context, config, reqwest::Method::GET, "/admin/status", None);
    let running = match &status {
        Ok(_) => {
            report.add(
                Verdict::Ok,
                "gateway",
                format!(
                    "Hearth is running on {}:{}",
                    config.gateway.bind, config.gateway.port
                ),
                None,
            );
            true
        }
        Err(AdminError::NotRunning(_)) if port_is_free(config.gateway.port) => {
            report.add(
                Verdict::Warn,
                "gateway",
                format!(
                    "Hearth is not running; port {} is free",
                    config.gateway.port
                ),
                Some("start it with `hearth serve`".to_owned()),
            );
            false
        }
        Err(AdminError::NotRunning(_)) => {
            report.add(
                Verdict::Fail,
                "gateway",
                format!(
                    "port {} is taken by another program, and it is not Hearth",
                    config.gateway.port
                ),
                Some("stop that program, or set another `gateway.port`".to_owned()),
            );
            false
        }
        Err(AdminError::Refused { message, .. } | AdminError::Other(message)) => {
            report.add(
                Verdict::Fail,
                "gateway",
                format!("Hearth answers, but: {message}"),
                Some("check the admin token (`hearth token show`)".to_owned()),
            );
            false
        }
    };
    let services: Vec<Value> = running
        .then(|| {
            admin::call(
                context,
                config,
                reqwest::Method::GET,
                "/admin/services",
                None,
            )
            .ok()
        })
        .flatten()
        .and_then(|body| body["services"].as_array().cloned())
        .unwrap_or_default();
    let models = running
        .then(|| admin::call(context, config, reqwest::Method::GET, "/admin/models", None).ok())
        .flatten();

    let layout = Layout::new(&context.paths.data_dir);
    for (name, file) in &config.services {
        let spec = ServiceSpec::resolve(name, file, &layout);
        check_service(&mut report, &spec, &services, running);
    }
    let runtime = admin::runtime()?;
    runtime.block_on(check_providers(&mut report, config, &layout, &services));
    check_memory(&mut report, config, models.as_ref());
    if let Some(models) = &models {
        match models["contention"].as_str() {
            Some(contention) => report.add(
                Verdict::Warn,
                "residency",
                contention,
                Some("`hearth model use MODEL` keeps one model resident".to_owned()),
            ),
            None => report.add(
                Verdict::Ok,
                "residency",
                format!(
                    "{} model(s) resident, mode {}",
                    models["resident"].as_array().map_or(0, Vec::len),
                    models["residency"].as_str().unwrap_or("?")
                ),
                None,
            ),
        }
    }
    finish(&report, json_out)
}

fn check_service(report: &mut Report, spec: &ServiceSpec, services: &[Value], running: bool) {
    let part = format!("service {}", spec.name);
    match spec.check_program() {
        Ok(()) => report.add(
            Verdict::Ok,
            &part,
            format!(
                "{} is executable; its PATH is set explicitly",
                spec.program.display()
            ),
            None,
        ),
        Err(error) => report.add(
            Verdict::Fail,
            &part,
            error.to_string(),
            Some(format!(
                "install the server, or `hearth config set services.{}.program /absolute/path`",
                spec.name
            )),
        ),
    }
    match launchd::render(spec, launchd::BUNDLE_ID)
        .map(|xml| plist::Value::from_reader_xml(xml.as_slice()))
    {
        Ok(Ok(_)) => report.add(
            Verdict::Ok,
            &part,
            format!(
                "its LaunchAgent plist is valid (`hearth services plist {}`)",
                spec.name
            ),
            None,
        ),
        Ok(Err(error)) => report.add(
            Verdict::Fail,
            &part,
            format!("its plist does not parse: {error}"),
            None,
        ),
        Err(error) => report.add(Verdict::Fail, &part, error.to_string(), None),
    }
    let state = services
        .iter()
        .find(|service| service["name"].as_str() == Some(spec.name.as_str()));
    let up = state
        .and_then(|service| service["state"].as_str())
        .is_some_and(|state| matches!(state, "running" | "starting" | "restarting"));
    if let Some(port) = spec.port {
        if up {
            report.add(
                Verdict::Ok,
                &part,
                format!(
                    "running on port {port} (pid {})",
                    state.and_then(|s| s["pid"].as_u64()).unwrap_or(0)
                ),
                None,
            );
        } else if port_is_free(port) {
            report.add(
                Verdict::Ok,
                &part,
                format!("port {port} is free for it"),
                None,
            );
        } else {
            report.add(
                Verdict::Fail,
                &part,
                format!("port {port} is taken by another process, so it cannot start"),
                Some(format!(
                    "stop that process, or `hearth config set services.{}.port N`",
                    spec.name
                )),
            );
        }
    }
    if let Some(service) = state {
        if service["state"].as_str() == Some("failed") {
            report.add(
                Verdict::Fail,
                &part,
                format!("it failed: {}", service["lastExit"].as_str().unwrap_or("?")),
                Some(format!("`hearth services logs {}` shows why", spec.name)),
            );
        } else if !up && running && spec.provider.is_none() {
            report.add(
                Verdict::Warn,
                &part,
                "stopped",
                Some(format!("`hearth services start {}`", spec.name)),
            );
        }
    }
    if let Some(position) = spec
        .args
        .iter()
        .position(|arg| arg == "-m" || arg == "--model")
        && let Some(model) = spec.args.get(position + 1)
        && model.starts_with('/')
        && !std::path::Path::new(model).exists()
    {
        report.add(
            Verdict::Fail,
            &part,
            format!("its model file {model} does not exist"),
            Some("download the model, or fix the service's arguments".to_owned()),
        );
    }
}

async fn check_providers(
    report: &mut Report,
    config: &Config,
    layout: &Layout,
    services: &[Value],
) {
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap_or_default();
    for provider in config.providers.values() {
        let part = format!("provider {}", provider.id);
        let service = config
            .services
            .iter()
            .map(|(name, file)| ServiceSpec::resolve(name, file, layout))
            .find(|spec| spec.provider.as_deref() == Some(provider.id.as_str()));
        let service_up = service.as_ref().is_some_and(|spec| {
            services.iter().any(|s| {
                s["name"].as_str() == Some(spec.name.as_str())
                    && s["state"].as_str() == Some("running")
            })
        });
        let url = match provider.api {
            Api::Ollama => format!("{}/api/tags", provider.base_url),
            _ => format!("{}/models", provider.base_url),
        };
        let answer = http.get(&url).send().await;
        match answer {
            Ok(response) if response.status().is_success() => {
                let body: Value = response.json().await.unwrap_or(Value::Null);
                let listed: Vec<String> = match provider.api {
                    Api::Ollama => body["models"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["name"].as_str().map(str::to_owned))
                        .collect(),
                    _ => body["data"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|m| m["id"].as_str().map(str::to_owned))
                        .collect(),
                };
                report.add(
                    Verdict::Ok,
                    &part,
                    format!("{} answers", provider.base_url),
                    None,
                );
                for model in &provider.models {
                    if listed.iter().any(|id| id == &model.id) {
                        report.add(
                            Verdict::Ok,
                            &part,
                            format!("model {} is present", model.id),
                            None,
                        );
                    } else {
                        report.add(Verdict::Warn, &part, format!("the backend does not list model {} (it lists: {})", model.id, if listed.is_empty() { "nothing".to_owned() } else { listed.join(", ") }), Some("pull the model, or fix the model id (llama-server lists its --alias)".to_owned()));
                    }
                }
            }
            Ok(response) => report.add(
                Verdict::Fail,
                &part,
                format!("{url} answered {}", response.status()),
                Some("is this address a model server? fix `baseUrl`".to_owned()),
            ),
            Err(_) => match &service {
                Some(spec)
                    if !service_up
                        && config.file.models.residency.is_exclusive()
                        && config
                            .primary
                            .as_ref()
                            .is_none_or(|primary| primary.provider != provider.id) =>
                {
                    report.add(Verdict::Ok, &part, format!("not loaded: service {} is stopped (exclusive residency; the active model is elsewhere)", spec.name), None);
                }
                Some(spec) => report.add(
                    Verdict::Fail,
                    &part,
                    format!("cannot reach {}", provider.base_url),
                    Some(format!(
                        "`hearth services start {}` (its log: `hearth services logs {}`)",
                        spec.name, spec.name
                    )),
                ),
                None => report.add(
                    Verdict::Fail,
                    &part,
                    format!("cannot reach {}", provider.base_url),
                    Some("start the server, or fix `baseUrl`".to_owned()),
                ),
            },
        }
    }
}

fn check_memory(report: &mut Report, config: &Config, models: Option<&Value>) {
    let Some(sample) = memory::sample() else {
        report.add(
            Verdict::Warn,
            "memory",
            "this platform does not report memory",
            None,
        );
        return;
    };
    let pressure = sample
        .pressure
        .map(|p| format!(", pressure {}", p.as_str()))
        .unwrap_or_default();
    let gpu_limit = sample
        .gpu_limit
        .map(|limit| format!(", GPU limit {}", limit.describe()))
        .unwrap_or_default();
    let verdict = match sample.pressure {
        Some(memory::Pressure::Critical) => Verdict::Fail,
        Some(memory::Pressure::Warn) => Verdict::Warn,
        _ => Verdict::Ok,
    };
    report.add(
        verdict,
        "memory",
        format!(
            "{} available of {}, swap {} used{gpu_limit}{pressure}",
            memory::human(sample.available),
            memory::human(sample.total),
            memory::human(sample.swap_used)
        ),
        (verdict != Verdict::Ok)
            .then(|| "unload models (`hearth model unload`) or quit memory-hungry apps".to_owned()),
    );
    let Some(primary) = &config.primary else {
        return;
    };
    let peak = models
        .and_then(|models| models["models"].as_array().cloned())
        .into_iter()
        .flatten()
        .find(|model| model["model"].as_str() == Some(primary.to_string().as_str()))
        .and_then(|model| {
            let size = model["sizeBytes"].as_u64()?;
            let context = model["contextWindow"].as_u64();
            Some((
                memory::estimate(size, context),
                model["resident"].as_bool().unwrap_or(false),
            ))
        });
    match peak {
        Some((_, true)) => report.add(
            Verdict::Ok,
            "memory",
            format!("the active model {primary} is resident"),
            None,
        ),
        Some((estimate, false)) => match memory::fit(&estimate, &sample, 0) {
            Ok(detail) => report.add(
                Verdict::Ok,
                "memory",
                format!("the active model {primary} fits: {detail}"),
                None,
            ),
            Err(refusal) => report.add(
                Verdict::Fail,
                "memory",
                format!(
                    "the active model {primary} does not fit: {}",
                    refusal.detail
                ),
                Some(refusal.remedy),
            ),
        },
        None => {}
    }
}

fn finish(report: &Report, json_out: bool) -> CliResult {
    let failed = report
        .0
        .iter()
        .filter(|check| check.verdict == Verdict::Fail)
        .count();
    let warned = report
        .0
        .iter()
        .filter(|check| check.verdict == Verdict::Warn)
        .count();
    if json_out {
        output::json(&json!({ "checks": report.0, "failed": failed, "warned": warned }));
    } else {
        for check in &report.0 {
            let mark = match check.verdict {
                Verdict::Ok => "ok  ",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            output::line(format!("{mark}  {:<22} {}", check.part, check.message));
            if let Some(fix) = &check.fix {
                output::line(format!("      {:<22} fix: {fix}", ""));
            }
        }
        output::line(format!(
            "{} checks: {failed} failed, {warned} warnings",
            report.0.len()
        ));
    }
    if failed > 0 {
        Err(CliError::invalid(format!("{failed} check(s) failed")))
    } else {
        Ok(())
    }
}
