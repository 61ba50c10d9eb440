//! `hearth`: the command line of a Hearth gateway. The offline commands here work on the
//! configuration file and the secret store alone; they need no running instance.

mod commands;
mod error;
mod output;

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use hearth_core::config::store::Paths;

use crate::error::{CliError, CliResult};

/// Hearth: a private AI host. Routes agents' model traffic to local inference servers.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about, propagate_version = true)]
struct Cli {
    /// The configuration file (default: the platform's config dir, or $HEARTH_CONFIG).
    #[arg(long, global = true, value_name = "FILE", env = "HEARTH_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the gateway in the foreground (headless); Ctrl-C stops it.
    Serve,
    /// Ask the running gateway how it is.
    Status {
        /// Print the admin API's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Read, check and edit the configuration.
    #[command(subcommand)]
    Config(commands::config::ConfigCommand),
    /// Which agent and model a request would reach, and why.
    #[command(subcommand)]
    Route(commands::route::RouteCommand),
    /// An agent's effective tool policy.
    #[command(subcommand)]
    Policy(commands::policy::PolicyCommand),
    /// Show or rotate the admin and client tokens.
    #[command(subcommand)]
    Token(commands::token::TokenCommand),
    /// Put secrets (API keys) into the secret store, or remove them.
    #[command(subcommand)]
    Secret(commands::token::SecretCommand),
    /// The inference servers Hearth runs: list, install, start, stop, logs, plist.
    #[command(subcommand)]
    Services(commands::services::ServicesCommand),
    /// The models: which is resident and active; switch with `use`.
    #[command(subcommand)]
    Model(commands::model::ModelCommand),
    /// Open the dashboard in the browser, signed in by a one-time link.
    Open {
        /// Print the link instead of opening it.
        #[arg(long)]
        print: bool,
    },
    /// Find what this machine runs (servers, programs, model files) and propose providers,
    /// services and a primary model; a dry run unless --apply.
    Setup {
        /// Add the proposal to the configuration (never overwriting an entry already there).
        #[arg(long)]
        apply: bool,
        #[arg(long)]
        json: bool,
        /// A server program to consider besides those found (llama-server, mlx_lm.server, ollama).
        #[arg(long = "program", value_name = "PATH")]
        programs: Vec<PathBuf>,
        /// A model file (.gguf) to consider besides those found.
        #[arg(long = "model-file", value_name = "PATH")]
        model_files: Vec<PathBuf>,
    },
    /// Check every part (ports, services, backends, models, memory) and say how to fix it.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Decode tokens/s and time to first token of a model, in isolation; keeps a history.
    Bench {
        /// `provider/model-id` or an alias; the active model by default.
        model: Option<String>,
        #[arg(long, default_value_t = 3)]
        runs: u32,
        #[arg(long, default_value_t = 64)]
        max_tokens: u32,
        #[arg(long)]
        json: bool,
    },
}

/// Everything a command needs to find its files and secrets.
#[derive(Debug)]
pub struct Context {
    pub paths: Paths,
}

impl Context {
    /// The platform secret store; `HEARTH_KEYRING_SERVICE` names the service its entries live
    /// under (tests use their own, so they never touch a user's real tokens).
    pub fn secret_store(&self) -> Result<hearth_secrets::KeyringStore, CliError> {
        let store = hearth_secrets::KeyringStore::new()?;
        Ok(match std::env::var("HEARTH_KEYRING_SERVICE") {
            Ok(service) if !service.is_empty() => store.with_service(&service),
            _ => store,
        })
    }
}

fn run(cli: Cli) -> CliResult {
    let mut paths = Paths::from_env().map_err(CliError::environment)?;
    if let Some(config) = cli.config {
        paths.config_file = config;
    }
    let context = Context { paths };
    match cli.command {
        Command::Serve => commands::serve::serve(&context),
        Command::Status { json } => commands::serve::status(&context, json),
        Command::Config(command) => commands::config::run(&context, command),
        Command::Route(command) => commands::route::run(&context, command),
        Command::Policy(command) => commands::policy::run(&context, command),
        Command::Token(command) => commands::token::run_token(&context, command),
        Command::Secret(command) => commands::token::run_secret(&context, command),
        Command::Services(command) => commands::services::run(&context, command),
        Command::Model(command) => commands::model::run(&context, command),
        Command::Setup {
            apply,
            json,
            programs,
            model_files,
        } => commands::setup::run(
            &context,
            commands::setup::SetupArgs {
                apply,
                json,
                programs,
                model_files,
            },
        ),
        Command::Doctor { json } => commands::doctor::run(&context, json),
        Command::Open { print } => commands::open::run(&context, print),
        Command::Bench {
            model,
            runs,
            max_tokens,
            json,
        } => commands::bench::run(&context, model, runs, max_tokens, json),
    }
}

/// mimalloc: a gateway request allocates and frees dozens of small buffers (JSON values,
/// headers, strings); glibc's malloc and free were about 13% of `hearth serve`'s profile under
/// load (`scripts/bench.sh`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            output::note(format!("hearth: {}", error.message()));
            error.exit_code()
        }
    }
}
