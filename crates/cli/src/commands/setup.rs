//! `hearth setup`: what is on this machine — inference servers that answer, installed server
//! programs, model files — and the providers, services and primary model Hearth proposes for
//! them. A dry run by default; `--apply` adds the proposal to the configuration, never
//! overwriting an entry the user wrote. It works on the file alone: a running Hearth picks the
//! change up within a second (and starts a new primary model's service).

use std::path::PathBuf;

use hearth_core::config::{
    setup::{self, Proposal},
    store,
};
use hearth_gateway::setup::discover;
use hearth_services::{
    discovery::{Findings, Options},
    memory::human,
};
use serde_json::json;

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

/// What `hearth setup` was asked.
#[derive(Debug, Clone, Default)]
pub struct SetupArgs {
    pub apply: bool,
    pub json: bool,
    /// Server programs to consider besides those found (e.g. a provisioned llama-server).
    pub programs: Vec<PathBuf>,
    /// Model files to consider besides those found.
    pub model_files: Vec<PathBuf>,
}

pub fn run(context: &Context, args: SetupArgs) -> CliResult {
    let mut options = Options::from_env();
    options.extra_programs = existing("--program", &args.programs)?;
    options.extra_model_files = existing("--model-file", &args.model_files)?;
    let loaded = store::load(&context.paths)?;
    let found =
        super::admin::runtime()?.block_on(discover(&loaded.validated.config.file, &options));
    let mut applied = None;
    if args.apply && !found.proposal.is_empty() {
        let mut document = loaded.document;
        let done = setup::apply(&mut document, &found.proposal)
            .map_err(|error| CliError::invalid(error.to_string()))?;
        let validated = store::save(&context.paths, &document)?;
        output::diagnostics(&validated.warnings);
        super::token::ensure_tokens(context, &validated.config)?;
        applied = Some(done);
    }
    if args.json {
        output::json(&json!({
            "findings": found.findings,
            "proposal": found.proposal,
            "applied": applied,
            "configFile": context.paths.config_file,
        }));
        return Ok(());
    }
    for line in findings_lines(&found.findings) {
        output::line(format!("found: {line}"));
    }
    print_proposal(&found.proposal);
    match applied {
        Some(applied) => {
            for line in &applied.added {
                output::line(format!("added: {line}"));
            }
            for line in &applied.kept {
                output::line(format!("kept: {line}"));
            }
            output::line(format!(
                "wrote {} (a running Hearth applies it within a second; otherwise `hearth serve`)",
                context.paths.config_file.display()
            ));
        }
        None if found.proposal.is_empty() => {
            let anything =
                !found.findings.servers.is_empty() || !found.findings.model_files.is_empty();
            if anything {
                output::line(
                    "nothing to add: the configuration already has what this machine runs (`hearth model list`)",
                );
            }
        }
        None if args.apply => {}
        None => output::line(
            "dry run: nothing was written; `hearth setup --apply` adds the above to the configuration",
        ),
    }
    Ok(())
}

/// The paths given on the command line, each checked to exist (absolute, for the services).
fn existing(flag: &str, paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    paths
        .iter()
        .map(|path| {
            std::fs::canonicalize(path)
                .map_err(|error| CliError::invalid(format!("{flag} {}: {error}", path.display())))
        })
        .collect()
}

/// What discovery saw, one line each: servers, programs, model files.
fn findings_lines(findings: &Findings) -> Vec<String> {
    let servers = findings.servers.iter().map(|server| {
        format!(
            "{} at {} ({} model{})",
            server.kind.describe(),
            server.url,
            server.models.len(),
            if server.models.len() == 1 { "" } else { "s" }
        )
    });
    let programs = findings
        .programs
        .iter()
        .map(|program| format!("{} at {}", program.kind.file_name(), program.path.display()));
    let files = findings.model_files.iter().map(|model| {
        let mut line = format!("{} ({})", model.name, model.path.display());
        if let Some(size) = model.size_bytes {
            line.push_str(&format!(", {}", human(size)));
        }
        if model.is_base() {
            line.push_str(", a base model (no chat template)");
        }
        line
    });
    servers.chain(programs).chain(files).collect()
}

fn print_proposal(proposal: &Proposal) {
    if proposal.is_empty() && proposal.notes.is_empty() {
        output::line(
            "found no inference server, server program or model file: install Ollama, LM Studio, \
             llama.cpp (llama-server) or mlx-lm and run `hearth setup` again, or run \
             scripts/run.sh, which provisions a small default model",
        );
        return;
    }
    for proposed in &proposal.providers {
        let provider = &proposed.provider;
        output::line(format!(
            "provider {} ({}, {}): {}",
            proposed.id,
            provider.api.as_str(),
            provider.base_url,
            proposed.origin
        ));
        for model in &provider.models {
            let mut line = format!("    model {}/{}", proposed.id, model.id);
            if let Some(size) = model.size_bytes {
                line.push_str(&format!(", {}", human(size)));
            }
            if let Some(context) = model.context_window {
                line.push_str(&format!(", context {context}"));
            }
            output::line(line);
        }
    }
    for proposed in &proposal.services {
        output::line(format!("service {}: {}", proposed.name, proposed.origin));
        let mut command = vec![proposed.service.program.clone()];
        command.extend(proposed.service.args.iter().cloned());
        output::line(format!("    runs {}", command.join(" ")));
    }
    if let Some(primary) = &proposal.primary {
        output::line(format!("primary model: {primary}"));
    }
    for note in &proposal.notes {
        output::line(format!("note: {note}"));
    }
}
