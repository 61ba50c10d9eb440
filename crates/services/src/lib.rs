//! Inference servers as services. A `ServiceSpec` is one `services.<name>` entry of the
//! configuration made concrete (log file, working directory, an explicit PATH); `templates`
//! writes the entries for the common servers. Two drivers run them: `launchd` (macOS
//! LaunchAgents: the plist and the `launchctl` command sequences) and `supervisor` (any OS:
//! Hearth spawns the process, restarts it with backoff, stops it by PID). `memory` samples the
//! machine's memory and estimates a model's peak before it is loaded; `health` waits for a
//! server to answer; `logs` keeps the services' log files to a size.
//! `discovery` finds the servers, programs and model files a first run can use, and proposes.
//!
//! No HTTP server here and no knowledge of client APIs: the gateway's residency manager decides
//! *what* runs, this crate runs it.

pub mod discovery;
mod error;
pub mod health;
pub mod launchd;
pub mod logs;
pub mod memory;
pub mod services;
pub mod spec;
pub mod supervisor;
pub mod templates;

pub use error::ServicesError;
pub use spec::{ServiceSpec, ServiceState, ServiceStatus};
pub use supervisor::{ServiceEvent, Supervisor};
