//! Launch at login, read from and written to the real registration (the checkbox never
//! guesses). Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/app.hearth.Hearth.desktop`.
//! macOS: SMAppService's main-app registration (macOS 13+; it may require the user's approval,
//! and the menu says so), and where that is not available (an unbundled build) a LaunchAgent for
//! the app, `~/Library/LaunchAgents/app.hearth.Hearth.plist`. The two file formats are plain
//! code, written and tested the same way on every OS; `current()` picks one.

#[cfg(target_os = "macos")]
mod macos;

use std::path::{Path, PathBuf};

use crate::AppError;

/// The login item's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LoginState {
    Enabled,
    Disabled,
    /// Registered, but the user has to allow it in System Settings (macOS).
    RequiresApproval,
}

/// Where the registration lives and what it starts.
#[derive(Debug, Clone)]
pub enum LoginItem {
    /// An XDG autostart `.desktop` file.
    Xdg { file: PathBuf, program: PathBuf },
    /// A LaunchAgent plist.
    LaunchAgent { file: PathBuf, program: PathBuf },
}

/// The app's bundle identifier (tauri.conf.json's, checked by tests/bundle.rs): the one the
/// services' LaunchAgents name as theirs, so System Settings lists them under Hearth.
const ID: &str = hearth_services::launchd::BUNDLE_ID;

impl LoginItem {
    /// This platform's login item for the running program.
    pub fn current() -> Result<LoginItem, AppError> {
        let program =
            std::env::current_exe().map_err(|error| AppError::Login(error.to_string()))?;
        let home = std::env::var_os("HOME").map(PathBuf::from);
        if cfg!(target_os = "macos") {
            let home = home.ok_or_else(|| AppError::Login("HOME is not set".to_owned()))?;
            Ok(LoginItem::LaunchAgent {
                file: home
                    .join("Library/LaunchAgents")
                    .join(format!("{ID}.plist")),
                program,
            })
        } else {
            let config = std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .filter(|dir| dir.is_absolute())
                .or_else(|| home.map(|home| home.join(".config")))
                .ok_or_else(|| {
                    AppError::Login("neither XDG_CONFIG_HOME nor HOME is set".to_owned())
                })?;
            Ok(LoginItem::Xdg {
                file: config.join("autostart").join(format!("{ID}.desktop")),
                program,
            })
        }
    }

    pub fn file(&self) -> &Path {
        match self {
            LoginItem::Xdg { file, .. } | LoginItem::LaunchAgent { file, .. } => file,
        }
    }

    fn contents(&self) -> Result<Vec<u8>, AppError> {
        match self {
            LoginItem::Xdg { program, .. } => Ok(format!(
                "[Desktop Entry]\nType=Application\nName=Hearth\nComment=Private AI on this machine\nExec=\"{}\"\nIcon=hearth\nTerminal=false\nX-GNOME-Autostart-enabled=true\n",
                program.display().to_string().replace('\\', "\\\\").replace('"', "\\\"")
            )
            .into_bytes()),
            LoginItem::LaunchAgent { program, .. } => {
                let plist = plist_dictionary(program);
                let mut bytes = Vec::new();
                plist::to_writer_xml(&mut bytes, &plist)
                    .map_err(|error| AppError::Login(error.to_string()))?;
                Ok(bytes)
            }
        }
    }

    /// Enabled when the file is there and starts this program (on macOS, first what
    /// SMAppService says).
    pub fn state(&self) -> LoginState {
        #[cfg(target_os = "macos")]
        if let Some(state) = macos::state()
            && state != LoginState::Disabled
        {
            return state;
        }
        match std::fs::read(self.file()) {
            Ok(found) if self.contents().is_ok_and(|wanted| wanted == found) => LoginState::Enabled,
            _ => LoginState::Disabled,
        }
    }

    /// Registers or removes the login item; returns the state it then has.
    pub fn set(&self, enabled: bool) -> Result<LoginState, AppError> {
        let file = self.file();
        #[cfg(target_os = "macos")]
        if macos::set(enabled) && enabled {
            return Ok(self.state());
        }
        if enabled {
            if let Some(dir) = file.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|error| AppError::Login(format!("{}: {error}", dir.display())))?;
            }
            let temporary = file.with_extension("tmp");
            std::fs::write(&temporary, self.contents()?)
                .and_then(|()| std::fs::rename(&temporary, file))
                .map_err(|error| AppError::Login(format!("{}: {error}", file.display())))?;
        } else {
            match std::fs::remove_file(file) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => return Err(AppError::Login(format!("{}: {error}", file.display()))),
            }
        }
        Ok(self.state())
    }
}

fn plist_dictionary(program: &Path) -> plist::Value {
    let mut dictionary = plist::Dictionary::new();
    dictionary.insert("Label".to_owned(), plist::Value::String(ID.to_owned()));
    dictionary.insert(
        "ProgramArguments".to_owned(),
        plist::Value::Array(vec![plist::Value::String(program.display().to_string())]),
    );
    dictionary.insert("RunAtLoad".to_owned(), plist::Value::Boolean(true));
    dictionary.insert(
        "ProcessType".to_owned(),
        plist::Value::String("Interactive".to_owned()),
    );
    dictionary.insert(
        "AssociatedBundleIdentifiers".to_owned(),
        plist::Value::Array(vec![plist::Value::String(ID.to_owned())]),
    );
    plist::Value::Dictionary(dictionary)
}

/// Shows the user where to approve the login item (macOS); elsewhere there is nothing to approve.
pub fn open_approval_settings() {
    #[cfg(target_os = "macos")]
    macos::open_settings();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_xdg_entry_is_written_read_back_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let item = LoginItem::Xdg {
            file: dir.path().join("autostart/app.hearth.Hearth.desktop"),
            program: "/opt/Hearth/hearth-app".into(),
        };
        assert_eq!(item.state(), LoginState::Disabled);
        assert_eq!(item.set(true).unwrap(), LoginState::Enabled);
        let text = std::fs::read_to_string(item.file()).unwrap();
        assert!(text.contains("Exec=\"/opt/Hearth/hearth-app\""), "{text}");
        // An entry for another program is not ours.
        let other = LoginItem::Xdg {
            file: item.file().to_owned(),
            program: "/elsewhere/app".into(),
        };
        assert_eq!(other.state(), LoginState::Disabled);
        assert_eq!(item.set(false).unwrap(), LoginState::Disabled);
        assert!(!item.file().exists());
        assert_eq!(
            item.set(false).unwrap(),
            LoginState::Disabled,
            "removing twice is fine"
        );
    }

    #[test]
    fn a_launch_agent_runs_the_app_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let item = LoginItem::LaunchAgent {
            file: dir.path().join("LaunchAgents/app.hearth.Hearth.plist"),
            program: "/Applications/Hearth.app/Contents/MacOS/hearth-app".into(),
        };
        assert_eq!(item.set(true).unwrap(), LoginState::Enabled);
        let value = plist::Value::from_file(item.file()).unwrap();
        let dictionary = value.as_dictionary().unwrap();
        assert_eq!(dictionary["RunAtLoad"].as_boolean(), Some(true));
        assert_eq!(dictionary["Label"].as_string(), Some("app.hearth.Hearth"));
    }
}
