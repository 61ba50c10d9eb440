//! `hearth route simulate`: which agent and model a request would reach, and why.

use clap::Subcommand;
use hearth_core::routing::{Claims, route};

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Route an identity through the bindings and explain the decision.
    Simulate {
        /// The client name its token stands for; anonymous when absent.
        #[arg(long)]
        client: Option<String>,
        /// The channel the client asserts (`whatsapp`, `telegram`, …).
        #[arg(long)]
        channel: Option<String>,
        /// The account within the channel.
        #[arg(long)]
        account: Option<String>,
        /// The peer kind (`dm`, `group`).
        #[arg(long)]
        peer_kind: Option<String>,
        /// The peer id (a phone number, a user id).
        #[arg(long)]
        peer_id: Option<String>,
        /// Print the decision as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(context: &Context, command: RouteCommand) -> CliResult {
    let RouteCommand::Simulate {
        client,
        channel,
        account,
        peer_kind,
        peer_id,
        json,
    } = command;
    let validated = super::load(context)?;
    let config = &validated.config;
    if let Some(name) = &client
        && config.client(name).is_none()
    {
        let known: Vec<&str> = config.clients.iter().map(|c| c.name.as_str()).collect();
        let hint = hearth_core::config::diagnostic::did_you_mean(name, known.iter().copied())
            .unwrap_or_else(|| format!("known clients: {}", known.join(", ")));
        return Err(CliError::invalid(format!(
            "there is no client `{name}`; {hint}"
        )));
    }
    let claims = Claims {
        channel,
        account_id: account,
        peer_kind,
        peer_id,
    };
    let decision = route(config, client.as_deref(), &claims);
    if json {
        output::json(&decision);
    } else {
        output::line(decision.to_string().trim_end());
    }
    Ok(())
}
