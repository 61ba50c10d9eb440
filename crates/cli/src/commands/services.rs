//! `hearth services`: list, install, uninstall, start, stop, restart, logs, plist. Start, stop
//! and restart ask the running Hearth (it owns the processes); install and uninstall edit the
//! configuration file (a running Hearth takes the change at once); logs and plist work on the
//! files alone.

use clap::Subcommand;
use hearth_core::config::{file::ServiceTemplate, store};
use hearth_services::{ServiceSpec, health, launchd, spec::Layout, templates};
use serde_json::{Value, json};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

use super::admin::{self, AdminError};

#[derive(Debug, Subcommand)]
pub enum ServicesCommand {
    /// Every service, its state, PID and command.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Add a service from a template (ollama, mlx-lm, llama-server, whisper, tts, custom).
    Install {
        name: String,
        #[arg(long, value_parser = parse_template)]
        template: ServiceTemplate,
        /// The program's absolute path (each template knows the usual one).
        #[arg(long)]
        program: Option<String>,
        /// The model it serves (a .gguf file, an MLX path or id).
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        port: Option<u16>,
        /// The provider it serves: activating one of that provider's models starts it.
        #[arg(long)]
        provider: Option<String>,
        /// More arguments for the program, after `--`.
        #[arg(last = true)]
        args: Vec<String>,
    },
    /// Stop a service and remove it from the configuration.
    Uninstall { name: String },
    /// Start a service and wait until it is healthy.
    Start { name: String },
    /// Stop a service.
    Stop { name: String },
    /// Stop and start a service.
    Restart { name: String },
    /// The end of a service's log.
    Logs {
        name: String,
        /// How many lines.
        #[arg(short = 'n', long, default_value_t = 50)]
        lines: usize,
    },
    /// The LaunchAgent property list Hearth writes for a service (macOS).
    Plist { name: String },
}

fn parse_template(text: &str) -> Result<ServiceTemplate, String> {
    ServiceTemplate::ALL
        .into_iter()
        .find(|template| template.as_str() == text)
        .ok_or_else(|| {
            format!(
                "unknown template `{text}`; one of: {}",
                ServiceTemplate::ALL.map(ServiceTemplate::as_str).join(", ")
            )
        })
}

pub fn run(context: &Context, command: ServicesCommand) -> CliResult {
    let validated = super::load(context)?;
    let config = &validated.config;
    let layout = Layout::new(&context.paths.data_dir);
    let spec = |name: &str| -> Result<ServiceSpec, CliError> {
        let file = config.services.get(name).ok_or_else(|| {
            CliError::invalid(format!(
                "there is no service `{name}`{}",
                if config.services.is_empty() {
                    "; add one with `hearth services install`".to_owned()
                } else {
                    format!(
                        "; configured: {}",
                        config
                            .services
                            .keys()
                            .cloned()
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ))
        })?;
        Ok(ServiceSpec::resolve(name, file, &layout))
    };
    match command {
        ServicesCommand::List { json } => {
            let answer = admin::call(
                context,
                config,
                reqwest::Method::GET,
                "/admin/services",
                None,
            );
            let services: Vec<Value> = match answer {
                Ok(body) => body["services"].as_array().cloned().unwrap_or_default(),
                Err(AdminError::NotRunning(_)) => {
                    output::note(
                        "Hearth is not running: states unknown (`hearth serve` starts it)",
                    );
                    config
                        .services
                        .iter()
                        .map(|(name, file)| {
                            let spec = ServiceSpec::resolve(name, file, &layout);
                            json!({
                                "name": name, "state": "unknown", "pid": null, "port": spec.port,
                                "provider": spec.provider, "driver": spec.driver.as_str(),
                                "command": spec.command_line(),
                            })
                        })
                        .collect()
                }
                Err(error) => return Err(error.into()),
            };
            if json {
                output::json(&json!({ "services": services }));
                return Ok(());
            }
            if services.is_empty() {
                output::line(
                    "no services; add one with `hearth services install NAME --template llama-server ...`",
                );
                return Ok(());
            }
            output::line(format!(
                "{:<14} {:<11} {:>7} {:>6}  {:<12} {:<10} COMMAND",
                "NAME", "STATE", "PID", "PORT", "PROVIDER", "DRIVER"
            ));
            for service in &services {
                output::line(format!(
                    "{:<14} {:<11} {:>7} {:>6}  {:<12} {:<10} {}",
                    service["name"].as_str().unwrap_or("?"),
                    service["state"].as_str().unwrap_or("?"),
                    service["pid"]
                        .as_u64()
                        .map_or_else(|| "-".to_owned(), |pid| pid.to_string()),
                    service["port"]
                        .as_u64()
                        .map_or_else(|| "-".to_owned(), |port| port.to_string()),
                    service["provider"].as_str().unwrap_or("-"),
                    service["driver"].as_str().unwrap_or("?"),
                    service["command"].as_str().unwrap_or(""),
                ));
                if let Some(exit) = service["lastExit"].as_str() {
                    output::line(format!(
                        "{:<14} last exit: {exit}, restarts: {}",
                        "", service["restarts"]
                    ));
                }
            }
            Ok(())
        }
        ServicesCommand::Install {
            name,
            template,
            program,
            model,
            port,
            provider,
            args,
        } => {
            if !hearth_core::config::is_id(&name) {
                return Err(CliError::invalid(format!(
                    "`{name}` is not a valid service name: use lower-case letters, digits, `-` and `_`"
                )));
            }
            if config.services.contains_key(&name) {
                return Err(CliError::invalid(format!(
                    "service `{name}` exists already; `hearth services uninstall {name}` first"
                )));
            }
            let entry = templates::render(
                template,
                templates::TemplateInput {
                    program,
                    port,
                    model,
                    provider,
                    extra_args: args,
                },
            )
            .map_err(|error| CliError::invalid(error.to_string()))?;
            let candidate = ServiceSpec::resolve(&name, &entry, &layout);
            candidate
                .check_program()
                .map_err(|error| CliError::invalid(error.to_string()))?;
            let (mut document, _) = store::read_document(&context.paths.config_file)?;
            let value = serde_json::to_value(&entry).map_err(CliError::environment)?;
            store::set(&mut document, &format!("services.{name}"), value)
                .map_err(|error| CliError::invalid(error.to_string()))?;
            store::save(&context.paths, &document)?;
            output::line(format!(
                "installed service `{name}`: {}",
                candidate.command_line()
            ));
            output::note(format!(
                "start it with `hearth services start {name}`{}",
                candidate
                    .provider
                    .as_ref()
                    .map(|provider| format!(", or activate one of provider `{provider}`'s models with `hearth model use`"))
                    .unwrap_or_default()
            ));
            Ok(())
        }
        ServicesCommand::Uninstall { name } => {
            spec(&name)?;
            match admin::call(
                context,
                config,
                reqwest::Method::DELETE,
                &format!("/admin/services/{name}"),
                None,
            ) {
                Ok(_) => {}
                Err(AdminError::NotRunning(_)) => {
                    let (mut document, _) = store::read_document(&context.paths.config_file)?;
                    store::unset(&mut document, &format!("services.{name}"))
                        .map_err(|error| CliError::invalid(error.to_string()))?;
                    store::save(&context.paths, &document)?;
                }
                Err(error) => return Err(error.into()),
            }
            output::line(format!("uninstalled service `{name}`"));
            Ok(())
        }
        ServicesCommand::Start { name } => {
            spec(&name)?;
            act(context, config, &name, "start")
        }
        ServicesCommand::Stop { name } => {
            spec(&name)?;
            act(context, config, &name, "stop")
        }
        ServicesCommand::Restart { name } => {
            spec(&name)?;
            act(context, config, &name, "restart")
        }
        ServicesCommand::Logs { name, lines } => {
            let spec = spec(&name)?;
            match health::tail(&spec.log_file, lines) {
                Ok(text) => {
                    if !text.is_empty() {
                        output::line(text);
                    }
                    Ok(())
                }
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                    output::note(format!(
                        "{} does not exist yet: the service has not run",
                        spec.log_file.display()
                    ));
                    Ok(())
                }
                Err(error) => Err(CliError::environment(format!(
                    "cannot read {}: {error}",
                    spec.log_file.display()
                ))),
            }
        }
        ServicesCommand::Plist { name } => {
            let spec = spec(&name)?;
            let xml = launchd::render(&spec, launchd::BUNDLE_ID)
                .map_err(|error| CliError::invalid(error.to_string()))?;
            output::line(String::from_utf8_lossy(&xml).trim_end());
            Ok(())
        }
    }
}

fn act(
    context: &Context,
    config: &hearth_core::config::Config,
    name: &str,
    action: &str,
) -> CliResult {
    if action != "stop" {
        output::note(format!(
            "{action}ing `{name}` and waiting for its health check…"
        ));
    }
    let body = admin::call(
        context,
        config,
        reqwest::Method::POST,
        &format!("/admin/services/{name}/{action}"),
        None,
    )?;
    output::line(format!(
        "{name}: {}{}",
        body["state"].as_str().unwrap_or("?"),
        body["pid"]
            .as_u64()
            .map(|pid| format!(" (pid {pid})"))
            .unwrap_or_default()
    ));
    Ok(())
}
