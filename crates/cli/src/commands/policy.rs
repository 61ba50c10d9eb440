//! `hearth policy explain`: an agent's effective tool policy, and the rule deciding each tool.

use clap::Subcommand;
use serde_json::json;

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Print an agent's effective policy; for each TOOL given, the rule that decides it.
    Explain {
        agent: String,
        /// Tool names to decide, as a model would call them.
        tools: Vec<String>,
        /// Print as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(context: &Context, command: PolicyCommand) -> CliResult {
    let PolicyCommand::Explain { agent, tools, json } = command;
    let validated = super::load(context)?;
    let config = &validated.config;
    let Some(found) = config.agent(&agent) else {
        let known: Vec<&str> = config.agents.iter().map(|a| a.id.as_str()).collect();
        let hint = hearth_core::config::diagnostic::did_you_mean(&agent, known.iter().copied())
            .unwrap_or_else(|| format!("agents: {}", known.join(", ")));
        return Err(CliError::invalid(format!(
            "there is no agent `{agent}`; {hint}"
        )));
    };
    let decisions: Vec<_> = tools.iter().map(|tool| found.policy.decide(tool)).collect();
    if json {
        output::json(&json!({
            "agent": found.id,
            "effective": found.policy.effective(),
            "decisions": decisions,
        }));
    } else if decisions.is_empty() {
        output::line(format!("Agent `{}` ({}):", found.id, found.name));
        output::line(found.policy.effective().to_string().trim_end());
    } else {
        for decision in &decisions {
            output::line(decision);
        }
    }
    Ok(())
}
