//! One module per command group.

pub mod admin;
pub mod bench;
pub mod config;
pub mod doctor;
pub mod model;
pub mod open;
pub mod policy;
pub mod route;
pub mod serve;
pub mod services;
pub mod setup;
pub mod token;

use hearth_core::config::{Validated, store};

use crate::{Context, error::CliError, output};

/// Loads and validates the configuration, printing warnings; errors are printed and fail.
pub fn load(context: &Context) -> Result<Validated, CliError> {
    let loaded = store::load(&context.paths)?;
    output::diagnostics(&loaded.validated.warnings);
    Ok(loaded.validated)
}
