//! Hearth's domain model: the configuration (schema, validation, persistence, OpenClaw import),
//! routing of an identity to an agent and a model, and agents' tool policy.
//!
//! Everything here is pure or file-system only: no network, no async runtime. The gateway,
//! the services and the app build on these types.

pub mod config;
pub mod import;
pub mod policy;
pub mod routing;
pub mod secret;

pub use secret::{Secret, SecretRef, SecretRefError};
