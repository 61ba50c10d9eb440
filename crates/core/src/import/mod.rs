//! Import from other tools' configuration files into a Hearth [`ConfigFile`].
//!
//! An import is pure: it takes the text of the other tool's file and returns the Hearth
//! configuration, the secrets found written inline (for the caller to put into the secret
//! store), and a report of what was mapped and what was not. Nothing here touches the disk,
//! the secret store or the network; `hearth config import-openclaw` does that with the result.
//!
//! An importer never widens what a rule grants: a binding whose match cannot be expressed in
//! full is left out (and reported) rather than imported with a criterion missing, and a tool
//! policy that cannot be read gives the agent the `minimal` profile rather than every tool.

mod openclaw;

use std::fmt;

use crate::{config::ConfigFile, secret::Secret};

pub use openclaw::{OPENCLAW_CLIENT, import_openclaw};

/// The result of an import.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// The Hearth configuration. Secret fields hold references (`keychain:NAME`, `env:NAME`).
    pub config: ConfigFile,
    /// Secrets that the source file held inline, by the keychain name `config` refers to them
    /// with. The caller stores them before it saves `config`.
    pub secrets: Vec<(String, Secret<String>)>,
    /// One plain line per thing mapped, in the order the import did it.
    pub mapped: Vec<String>,
    /// What the import left out, and why.
    pub unmapped: Vec<Unmapped>,
}

/// A part of the source file the import left out.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unmapped {
    /// Where in the source file, written like diagnostics' paths: `agents.list[1].tools.exec`.
    pub path: String,
    /// Why it was left out, in plain words. Never contains a secret value.
    pub reason: String,
}

impl fmt::Display for Unmapped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.reason)
    }
}

/// Why a file could not be imported at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The text is not JSON5. `position` is the 1-based line and column, when known.
    #[error("the file is not valid JSON5{}: {message}", at(*.position))]
    Syntax {
        message: String,
        position: Option<(usize, usize)>,
    },
    /// The document is valid but is not an object (`found` names what it is).
    #[error("an OpenClaw configuration is a JSON object, but this file holds {found}")]
    NotAnObject { found: &'static str },
    /// Nothing in the document maps to Hearth; `unmapped` says what was there and why.
    #[error(
        "nothing in this file could be imported: it has no providers, models, agents or \
         bindings that Hearth understands"
    )]
    NothingToImport { unmapped: Vec<Unmapped> },
}

fn at(position: Option<(usize, usize)>) -> String {
    match position {
        Some((line, column)) => format!(" at line {line}, column {column}"),
        None => String::new(),
    }
}
