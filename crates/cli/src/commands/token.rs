//! `hearth token …` and `hearth secret …`: the admin and client tokens, and other secrets, in
//! the platform secret store. Values are printed only where the user asked for one.

use std::io::Read;

use clap::Subcommand;
use hearth_core::{Secret, SecretRef, config::Config};
use hearth_secrets::{KeyringStore, SecretStore, ensure_token, rotate_token};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Print the admin token (or a client's), creating it if it does not exist yet.
    Show {
        /// The client whose token to print, instead of the admin token.
        #[arg(long)]
        client: Option<String>,
    },
    /// Replace the admin token (or a client's) with a new one and print it.
    Rotate {
        /// The client whose token to rotate, instead of the admin token.
        #[arg(long)]
        client: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SecretCommand {
    /// Store a secret read from standard input; the config refers to it as `keychain:NAME`.
    Set { name: String },
    /// Remove a secret from the store.
    Delete { name: String },
}

/// Which token a command is about: the admin token or a named client's.
fn token_ref(config: &Config, client: Option<&str>) -> Result<(String, SecretRef), CliError> {
    match client {
        None => Ok(("admin".to_owned(), config.gateway.admin_token.clone())),
        Some(name) => match config.client(name) {
            Some(found) => Ok((format!("client `{name}`"), found.token.clone())),
            None => {
                let known: Vec<&str> = config.clients.iter().map(|c| c.name.as_str()).collect();
                let hint =
                    hearth_core::config::diagnostic::did_you_mean(name, known.iter().copied())
                        .unwrap_or_else(|| format!("clients: {}", known.join(", ")));
                Err(CliError::invalid(format!(
                    "there is no client `{name}`; {hint}"
                )))
            }
        },
    }
}

fn warn_if_volatile(store: &KeyringStore) {
    if !store.backend().survives_reboot() {
        output::note(format!(
            "note: the {} does not keep secrets across a reboot; on a headless machine use `env:NAME` references",
            store.backend()
        ));
    }
}

pub fn run_token(context: &Context, command: TokenCommand) -> CliResult {
    let validated = super::load(context)?;
    let config = &validated.config;
    match command {
        TokenCommand::Show { client } => {
            let (what, reference) = token_ref(config, client.as_deref())?;
            // A client's token from the running Hearth: this process then reads only the
            // admin token from the Keychain, not one item per client (each may prompt).
            if let Some(name) = &client
                && let Some(token) = through_gateway(context, config, name, "reveal")?
            {
                output::line(token.expose());
                return Ok(());
            }
            let store = context.secret_store()?;
            let (token, created) = ensure_token(&store, &reference)?;
            if created {
                output::note(format!("created the {what} token as `{reference}`"));
                warn_if_volatile(&store);
            }
            output::line(token.expose());
        }
        TokenCommand::Rotate { client } => {
            let (what, reference) = token_ref(config, client.as_deref())?;
            let name = client.as_deref().unwrap_or("admin");
            // A running Hearth rotates it and puts the new token in force at once; rotated
            // here, it would keep accepting the old one until it restarts.
            let token = match through_gateway(context, config, name, "rotate")? {
                Some(token) => token,
                None => rotate_token(&context.secret_store()?, &reference)?,
            };
            output::note(format!(
                "rotated the {what} token (`{reference}`); the old one no longer works"
            ));
            output::line(token.expose());
        }
    }
    Ok(())
}

/// `POST /admin/tokens/NAME/ACTION` to the running Hearth; `None` when none is running.
fn through_gateway(
    context: &Context,
    config: &Config,
    name: &str,
    action: &str,
) -> Result<Option<Secret<String>>, CliError> {
    if !super::admin::listening(config) {
        return Ok(None);
    }
    let path = format!("/admin/tokens/{name}/{action}");
    match super::admin::call(context, config, reqwest::Method::POST, &path, None) {
        Ok(body) => match body["token"].as_str() {
            Some(token) => Ok(Some(Secret::new(token.to_owned()))),
            None => Err(CliError::environment(
                "the running Hearth answered without a token",
            )),
        },
        Err(super::admin::AdminError::NotRunning(_)) => Ok(None),
        Err(error) => Err(error.into()),
    }
}

/// Creates the admin token and every client's `keychain:` token that does not exist yet.
pub fn ensure_tokens(context: &Context, config: &Config) -> CliResult {
    let store = context.secret_store()?;
    let wanted = std::iter::once(("admin".to_owned(), &config.gateway.admin_token)).chain(
        config
            .clients
            .iter()
            .map(|client| (format!("client `{}`", client.name), &client.token)),
    );
    let mut created_any = false;
    for (what, reference) in wanted {
        if matches!(reference, SecretRef::Env(_)) {
            continue;
        }
        let (_, created) = ensure_token(&store, reference)?;
        if created {
            created_any = true;
            output::note(format!(
                "created the {what} token as `{reference}` (`hearth token show` prints it)"
            ));
        }
    }
    if created_any {
        warn_if_volatile(&store);
    }
    Ok(())
}

pub fn run_secret(context: &Context, command: SecretCommand) -> CliResult {
    let store = context.secret_store()?;
    match command {
        SecretCommand::Set { name } => {
            let mut value = String::new();
            std::io::stdin()
                .read_to_string(&mut value)
                .map_err(|error| {
                    CliError::invalid(format!("cannot read standard input: {error}"))
                })?;
            let value = value.trim_end_matches(['\r', '\n']).to_owned();
            if value.is_empty() {
                return Err(CliError::invalid(
                    "standard input was empty; pipe the secret in, e.g. `printf %s \"$API_KEY\" | hearth secret set NAME`",
                ));
            }
            store.set(&name, &Secret::new(value))?;
            output::note(format!("stored; refer to it as `keychain:{name}`"));
            warn_if_volatile(&store);
        }
        SecretCommand::Delete { name } => {
            store.delete(&name)?;
            output::note(format!("deleted `keychain:{name}`"));
        }
    }
    Ok(())
}
