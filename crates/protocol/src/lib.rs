//! The wire types of the APIs Hearth speaks and the pure conversions between them.
//!
//! `openai` and `ollama` hold the JSON shapes of each API exactly as they travel (serde types,
//! one API per module); `convert` turns one API's requests, responses and stream chunks into
//! another's with explicit functions and small state machines; `framing` cuts byte streams into
//! server-sent events and NDJSON lines. Nothing here does I/O, spawns, sleeps or reads a clock:
//! ids and timestamps come in as parameters, so every function is deterministic and a fuzzing
//! target. This crate sits at the bottom of the dependency graph and depends on no other Hearth
//! crate.

pub mod anthropic;
pub mod convert;
pub mod error;
pub mod framing;
pub mod ollama;
pub mod openai;
mod parse;
mod serde_util;

pub use error::ProtocolError;
pub use parse::from_json;
