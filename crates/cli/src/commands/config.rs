//! `hearth config …`: path, validate, schema, get, set, unset, init and import-openclaw.

use std::path::PathBuf;

use clap::Subcommand;
use hearth_core::{
    config::{
        Diagnostic, Severity,
        schema::json_schema,
        store::{self, StoreError},
        validate::{validate_file, validate_value},
    },
    import::import_openclaw,
};
use hearth_secrets::SecretStore;
use serde_json::json;

use crate::{
    Context,
    error::{CliError, CliResult},
    output,
};

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the configuration file's path.
    Path,
    /// Check the configuration and list every problem with its path.
    Validate {
        /// Print the findings as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print the JSON Schema of the configuration file.
    Schema,
    /// Print a value by dotted path (`models.primary`, `agents[0].tools`), or the whole file.
    Get {
        path: Option<String>,
        /// Print strings as JSON (quoted) too.
        #[arg(long)]
        json: bool,
    },
    /// Set a value by dotted path; the file is validated before it is saved.
    Set {
        path: String,
        /// JSON (`true`, `11500`, `["bash"]`) or plain text for a string.
        value: String,
    },
    /// Remove a value by dotted path; the file is validated before it is saved.
    Unset { path: String },
    /// Write the default configuration (if there is none yet) and create the tokens.
    Init,
    /// Import an OpenClaw configuration (JSON5); inline API keys move to the secret store.
    ImportOpenclaw {
        /// The OpenClaw file (default: ~/.openclaw/openclaw.json).
        file: Option<PathBuf>,
        /// Show the result without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Replace an existing Hearth configuration (it is kept as hearth.json.bak).
        #[arg(long)]
        force: bool,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(context: &Context, command: ConfigCommand) -> CliResult {
    let paths = &context.paths;
    match command {
        ConfigCommand::Path => {
            output::line(paths.config_file.display());
            Ok(())
        }
        ConfigCommand::Validate { json } => validate(context, json),
        ConfigCommand::Schema => {
            output::json(json_schema());
            Ok(())
        }
        ConfigCommand::Get { path, json } => {
            let (document, _) = store::read_document(&paths.config_file)?;
            let value = match &path {
                Some(path) => store::get(&document, path).map_err(StoreError::from)?,
                None => &document,
            };
            match value {
                serde_json::Value::String(text) if !json => output::line(text),
                other => output::json(other),
            }
            Ok(())
        }
        ConfigCommand::Set { path, value } => {
            let (mut document, _) = store::read_document(&paths.config_file)?;
            let value = store::parse_cli_value(&value);
            store::set(&mut document, &path, value).map_err(StoreError::from)?;
            let validated = store::save(paths, &document)?;
            output::diagnostics(&validated.warnings);
            output::note(format!("saved {}", paths.config_file.display()));
            Ok(())
        }
        ConfigCommand::Unset { path } => {
            let (mut document, _) = store::read_document(&paths.config_file)?;
            store::unset(&mut document, &path).map_err(StoreError::from)?;
            let validated = store::save(paths, &document)?;
            output::diagnostics(&validated.warnings);
            output::note(format!("saved {}", paths.config_file.display()));
            Ok(())
        }
        ConfigCommand::Init => init(context),
        ConfigCommand::ImportOpenclaw {
            file,
            dry_run,
            force,
            json,
        } => import(context, file, dry_run, force, json),
    }
}

fn validate(context: &Context, json: bool) -> CliResult {
    let paths = &context.paths;
    let found = match store::read_document(&paths.config_file) {
        Ok((document, from_file)) => {
            if !from_file {
                output::note(format!(
                    "no file at {}; checking the defaults (`hearth config init` writes them)",
                    paths.config_file.display()
                ));
            }
            match validate_value(&document, &paths.environment()) {
                Ok(validated) => validated.warnings,
                Err(found) => found,
            }
        }
        Err(StoreError::Invalid(found)) => found,
        Err(other) => return Err(other.into()),
    };
    let errors = found
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = found.len() - errors;
    if json {
        output::json(&json!({
            "file": paths.config_file,
            "valid": errors == 0,
            "errors": errors,
            "warnings": warnings,
            "diagnostics": found,
        }));
    } else {
        for diagnostic in &found {
            output::line(diagnostic);
        }
        output::line(summary(
            errors,
            warnings,
            &paths.config_file.display().to_string(),
        ));
    }
    if errors == 0 {
        Ok(())
    } else {
        Err(CliError::invalid(format!(
            "{errors} error(s) in the configuration"
        )))
    }
}

fn summary(errors: usize, warnings: usize, file: &str) -> String {
    match (errors, warnings) {
        (0, 0) => format!("{file} is valid"),
        (0, w) => format!("{file} is valid, with {w} warning(s)"),
        (e, w) => format!("{file} is not valid: {e} error(s), {w} warning(s)"),
    }
}

/// Writes the defaults when no file exists, then makes sure the admin and client tokens exist.
fn init(context: &Context) -> CliResult {
    let paths = &context.paths;
    let (document, from_file) = store::read_document(&paths.config_file)?;
    let validated = if from_file {
        output::note(format!(
            "{} exists; leaving it as it is",
            paths.config_file.display()
        ));
        validate_value(&document, &paths.environment()).map_err(StoreError::Invalid)?
    } else {
        let validated = store::save(paths, &document)?;
        output::note(format!("wrote {}", paths.config_file.display()));
        validated
    };
    super::token::ensure_tokens(context, &validated.config)
}

fn import(
    context: &Context,
    file: Option<PathBuf>,
    dry_run: bool,
    force: bool,
    json: bool,
) -> CliResult {
    let paths = &context.paths;
    let source = match file {
        Some(file) => file,
        None => home_openclaw()?,
    };
    // Refuse before reading or reporting anything, so no report can suggest a write happened.
    if !dry_run && !force && paths.config_file.exists() {
        return Err(CliError::invalid(format!(
            "{} already exists; run again with --force to replace it (the current file is kept as {}), or with --dry-run to see the result",
            paths.config_file.display(),
            paths.backup_file().display()
        )));
    }
    let text = std::fs::read_to_string(&source)
        .map_err(|error| CliError::invalid(format!("cannot read {}: {error}", source.display())))?;
    let imported = import_openclaw(&text)
        .map_err(|error| CliError::invalid(format!("{}: {error}", source.display())))?;

    // The imported configuration must validate before anything is stored or written.
    let check = validate_file(imported.config.clone(), &paths.environment());
    let diagnostics: Vec<Diagnostic> = match &check {
        Ok(validated) => validated.warnings.clone(),
        Err(found) => found.clone(),
    };
    let will_write = !dry_run && check.is_ok();
    if json {
        let secret_names: Vec<&str> = imported
            .secrets
            .iter()
            .map(|(name, _)| name.as_str())
            .collect();
        output::json(&json!({
            "source": source,
            "config": imported.config,
            "mapped": imported.mapped,
            "unmapped": imported.unmapped,
            "secrets": secret_names,
            "diagnostics": diagnostics,
            "written": will_write,
        }));
    } else {
        let heading = if will_write {
            "Importing"
        } else {
            "Would import (nothing is written)"
        };
        output::line(format!("{heading} from {}:", source.display()));
        for line in &imported.mapped {
            output::line(format!("  mapped:     {line}"));
        }
        for unmapped in &imported.unmapped {
            output::line(format!(
                "  not mapped: {}: {}",
                unmapped.path, unmapped.reason
            ));
        }
        for diagnostic in &diagnostics {
            output::line(format!("  {diagnostic}"));
        }
        if dry_run && check.is_ok() {
            output::line("The configuration it would write:");
            output::json(&imported.config);
        }
    }
    if let Err(found) = check {
        let errors = found.iter().filter(|d| d.is_error()).count();
        return Err(CliError::invalid(format!(
            "the imported configuration has {errors} error(s); nothing was written"
        )));
    }
    if dry_run {
        return Ok(());
    }
    let secrets = context.secret_store()?;
    for (name, value) in &imported.secrets {
        secrets.set(name, value)?;
    }
    let validated = store::save_file(paths, &imported.config)?;
    output::note(format!(
        "wrote {}{}",
        paths.config_file.display(),
        match imported.secrets.len() {
            0 => String::new(),
            n => format!(" and stored {n} API key(s) in the secret store"),
        }
    ));
    super::token::ensure_tokens(context, &validated.config)
}

fn home_openclaw() -> Result<PathBuf, CliError> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".openclaw").join("openclaw.json"))
        .ok_or_else(|| CliError::invalid("no file given and $HOME is not set"))
}
