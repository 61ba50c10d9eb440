//! The LaunchAgent property list of a service, and where it lives.

use std::path::{Path, PathBuf};

use hearth_core::config::file::RestartPolicy;
use plist::{Dictionary, Value};

use crate::{ServiceSpec, ServicesError};

/// The menu-bar app's bundle identifier. macOS names it in System Settings → Login Items as the
/// owner of the agents, instead of listing each one under its program's name.
pub const BUNDLE_ID: &str = "app.hearth.Hearth";

/// Seconds launchd waits before starting a service again after it exited.
const THROTTLE_INTERVAL: u64 = 10;

/// The XML plist of `spec`'s LaunchAgent, keys in a fixed order.
pub fn render(spec: &ServiceSpec, bundle_id: &str) -> Result<Vec<u8>, ServicesError> {
    let mut plist = Dictionary::new();
    plist.insert("Label".into(), spec.label().into());
    let arguments = std::iter::once(path_value(&spec.program))
        .chain(spec.args.iter().map(|arg| Value::from(arg.as_str())))
        .collect::<Vec<_>>();
    plist.insert("ProgramArguments".into(), Value::Array(arguments));
    let env = spec
        .env
        .iter()
        .map(|(key, value)| (key.clone(), Value::from(value.as_str())))
        .collect::<Dictionary>();
    plist.insert("EnvironmentVariables".into(), Value::Dictionary(env));
    plist.insert("WorkingDirectory".into(), path_value(&spec.working_dir));
    plist.insert("RunAtLoad".into(), true.into());
    plist.insert("KeepAlive".into(), keep_alive(spec.restart));
    plist.insert("ProcessType".into(), "Interactive".into());
    plist.insert("ThrottleInterval".into(), THROTTLE_INTERVAL.into());
    plist.insert(
        "AssociatedBundleIdentifiers".into(),
        Value::Array(vec![bundle_id.into()]),
    );
    plist.insert("StandardOutPath".into(), path_value(&spec.log_file));
    plist.insert("StandardErrorPath".into(), path_value(&spec.log_file));

    let mut xml = Vec::new();
    Value::Dictionary(plist)
        .to_writer_xml(&mut xml)
        .map_err(|error| ServicesError::Plist {
            label: spec.label(),
            detail: error.to_string(),
        })?;
    xml.push(b'\n');
    Ok(xml)
}

/// `<agents_dir>/<label>.plist`.
pub fn plist_path(agents_dir: &Path, spec: &ServiceSpec) -> PathBuf {
    agents_dir.join(format!("{}.plist", spec.label()))
}

/// `$HOME/Library/LaunchAgents`, where launchd looks for a user's agents at login.
pub fn launch_agents_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join("Library/LaunchAgents"))
}

/// launchd restarts a service that exits while `KeepAlive` holds; `SuccessfulExit: false`
/// restarts it only after a non-zero exit or a signal.
fn keep_alive(restart: RestartPolicy) -> Value {
    match restart {
        RestartPolicy::Always => true.into(),
        RestartPolicy::OnFailure => {
            let mut conditions = Dictionary::new();
            conditions.insert("SuccessfulExit".into(), false.into());
            Value::Dictionary(conditions)
        }
        RestartPolicy::Never => false.into(),
    }
}

/// Paths in the configuration come from JSON strings, so they are UTF-8; a lossy conversion
/// only ever applies to a path that could not have been configured.
fn path_value(path: &Path) -> Value {
    Value::String(path.to_string_lossy().into_owned())
}
