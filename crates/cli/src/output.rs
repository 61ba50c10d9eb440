//! Writing to the terminal. Results go to stdout, problems to stderr; a closed pipe
//! (`hearth config get | head`) is not an error worth a panic.

use std::io::{self, Write};

use hearth_core::config::Diagnostic;

/// Prints a line to stdout.
pub fn line(text: impl std::fmt::Display) {
    let _ = writeln!(io::stdout().lock(), "{text}");
}

/// Prints a line to stderr.
pub fn note(text: impl std::fmt::Display) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Pretty JSON to stdout.
pub fn json(value: &impl serde::Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => line(text),
        Err(error) => note(format!("error: cannot print JSON: {error}")),
    }
}

/// Each diagnostic on its own line, to stderr.
pub fn diagnostics(found: &[Diagnostic]) {
    for diagnostic in found {
        note(diagnostic);
    }
}
