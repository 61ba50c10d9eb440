//! Launch at login, read from and written to the real registration (the checkbox never
//! guesses). Linux: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/app.hearth.Hearth.desktop`.
//! macOS: SMAppService's main-app registration (macOS 13+; it may require the user's approval,
//! and the menu says so), and where that is not available (macOS 12, whose Objective-C runtime
//! has no SMAppService class — calling it would abort the app — or an unbundled build) a
//! LaunchAgent for the app, `~/Library/LaunchAgents/app.hearth.Hearth.plist`. Once SMAppService
//! registers the app, a LaunchAgent left from an earlier fallback is removed, so the app never
//! starts twice at login. SMAppService sits behind [`AppService`]; the file formats, the version
//! check and every decision around them are plain code, tested on every OS.

#[cfg(target_os = "macos")]
mod macos;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

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

/// The system's registration of the app as its own login item (macOS 13+: SMAppService).
pub trait AppService: std::fmt::Debug + Send + Sync {
    /// `None` when the system does not know the app (run outside its bundle).
    fn state(&self) -> Option<LoginState>;
    /// Registers or unregisters the app; `false` when the system refused.
    fn set(&self, enabled: bool) -> bool;
}

/// Where the registration lives and what it starts.
#[derive(Debug, Clone)]
pub enum LoginItem {
    /// An XDG autostart `.desktop` file.
    Xdg { file: PathBuf, program: PathBuf },
    /// A LaunchAgent plist, the fallback where `app_service` is `None` or refuses.
    LaunchAgent {
        file: PathBuf,
        program: PathBuf,
        app_service: Option<Arc<dyn AppService>>,
    },
}

/// The app's bundle identifier (tauri.conf.json's, checked by tests/bundle.rs): the one the
/// services' LaunchAgents name as theirs, so System Settings lists them under Hearth.
const ID: &str = hearth_services::launchd::BUNDLE_ID;

/// Where macOS says which version it is (a plist; no process to run).
pub const SYSTEM_VERSION: &str = "/System/Library/CoreServices/SystemVersion.plist";

/// Whether this macOS has SMAppService (13 and later), from its `SystemVersion.plist`.
/// Unreadable means no: the LaunchAgent works everywhere, a missing class aborts.
pub fn has_app_service(system_version: &Path) -> bool {
    let Ok(value) = plist::Value::from_file(system_version) else {
        return false;
    };
    value
        .as_dictionary()
        .and_then(|dictionary| dictionary.get("ProductVersion"))
        .and_then(plist::Value::as_string)
        .and_then(|version| version.split('.').next())
        .and_then(|major| major.trim().parse::<u32>().ok())
        .is_some_and(|major| major >= 13)
}

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
                app_service: system_app_service(),
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

    fn app_service(&self) -> Option<&dyn AppService> {
        match self {
            LoginItem::LaunchAgent {
                app_service: Some(service),
                ..
            } => Some(service.as_ref()),
            _ => None,
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
        if let Some(state) = self.app_service().and_then(AppService::state)
            && state != LoginState::Disabled
        {
            return state;
        }
        match std::fs::read(self.file()) {
            Ok(found) if self.contents().is_ok_and(|wanted| wanted == found) => LoginState::Enabled,
            _ => LoginState::Disabled,
        }
    }

    /// Registers or removes the login item; returns the state it then has. With SMAppService
    /// the file is only the fallback: registered there, a leftover file is removed (or the app
    /// would start twice); refused there, the file is written.
    pub fn set(&self, enabled: bool) -> Result<LoginState, AppError> {
        let registered = self
            .app_service()
            .is_some_and(|service| service.set(enabled));
        if enabled && !registered {
            self.write_file()?;
        } else {
            self.remove_file()?;
        }
        Ok(self.state())
    }

    fn write_file(&self) -> Result<(), AppError> {
        let file = self.file();
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|error| AppError::Login(format!("{}: {error}", dir.display())))?;
        }
        let temporary = file.with_extension("tmp");
        std::fs::write(&temporary, self.contents()?)
            .and_then(|()| std::fs::rename(&temporary, file))
            .map_err(|error| AppError::Login(format!("{}: {error}", file.display())))
    }

    fn remove_file(&self) -> Result<(), AppError> {
        let file = self.file();
        match std::fs::remove_file(file) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(AppError::Login(format!("{}: {error}", file.display()))),
        }
    }
}

/// SMAppService where this macOS has it; `None` below 13 and off macOS.
fn system_app_service() -> Option<Arc<dyn AppService>> {
    if !has_app_service(Path::new(SYSTEM_VERSION)) {
        return None;
    }
    #[cfg(target_os = "macos")]
    return Some(Arc::new(macos::MainApp));
    #[cfg(not(target_os = "macos"))]
    None
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

/// Shows the user where to approve the login item (macOS 13+); elsewhere there is nothing to
/// approve.
pub fn open_approval_settings() {
    #[cfg(target_os = "macos")]
    if has_app_service(Path::new(SYSTEM_VERSION)) {
        macos::open_settings();
    }
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
            app_service: None,
        };
        assert_eq!(item.set(true).unwrap(), LoginState::Enabled);
        let value = plist::Value::from_file(item.file()).unwrap();
        let dictionary = value.as_dictionary().unwrap();
        assert_eq!(dictionary["RunAtLoad"].as_boolean(), Some(true));
        assert_eq!(dictionary["Label"].as_string(), Some("app.hearth.Hearth"));
    }

    /// SMAppService as a test double: what it answers, and what it was asked.
    #[derive(Debug)]
    struct FakeAppService {
        accepts: bool,
        registered: std::sync::Mutex<Option<bool>>,
    }

    impl AppService for FakeAppService {
        fn state(&self) -> Option<LoginState> {
            if !self.accepts {
                return None;
            }
            let registered = *self.registered.lock().unwrap();
            Some(if registered == Some(true) {
                LoginState::Enabled
            } else {
                LoginState::Disabled
            })
        }

        fn set(&self, enabled: bool) -> bool {
            if self.accepts {
                *self.registered.lock().unwrap() = Some(enabled);
            }
            self.accepts
        }
    }

    fn mac_item(dir: &Path, accepts: bool) -> (LoginItem, Arc<FakeAppService>) {
        let service = Arc::new(FakeAppService {
            accepts,
            registered: std::sync::Mutex::new(None),
        });
        let app_service: Arc<dyn AppService> = service.clone();
        let item = LoginItem::LaunchAgent {
            file: dir.join("LaunchAgents/app.hearth.Hearth.plist"),
            program: "/Applications/Hearth.app/Contents/MacOS/hearth-app".into(),
            app_service: Some(app_service),
        };
        (item, service)
    }

    #[test]
    fn registered_with_smappservice_a_leftover_launch_agent_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        // An earlier run (unbundled, or macOS 12) left the fallback.
        let (fallback, _) = mac_item(dir.path(), false);
        assert_eq!(fallback.set(true).unwrap(), LoginState::Enabled);
        assert!(fallback.file().is_file());
        // Now SMAppService knows the app: it registers, and the file goes.
        let (item, service) = mac_item(dir.path(), true);
        assert_eq!(item.set(true).unwrap(), LoginState::Enabled);
        assert_eq!(*service.registered.lock().unwrap(), Some(true));
        assert!(!item.file().exists(), "the app would start twice at login");
        assert_eq!(item.set(false).unwrap(), LoginState::Disabled);
        assert_eq!(*service.registered.lock().unwrap(), Some(false));
    }

    #[test]
    fn refused_by_smappservice_the_launch_agent_stands_in() {
        let dir = tempfile::tempdir().unwrap();
        let (item, _) = mac_item(dir.path(), false);
        assert_eq!(item.set(true).unwrap(), LoginState::Enabled);
        assert!(item.file().is_file());
        assert_eq!(item.set(false).unwrap(), LoginState::Disabled);
        assert!(!item.file().exists());
    }

    #[test]
    fn smappservice_is_used_from_macos_13_only() {
        let dir = tempfile::tempdir().unwrap();
        let check = |version: &str| {
            // The shape of /System/Library/CoreServices/SystemVersion.plist.
            let path = dir.path().join(format!("{version}.plist"));
            let mut dictionary = plist::Dictionary::new();
            dictionary.insert("ProductName".into(), "macOS".into());
            dictionary.insert("ProductBuildVersion".into(), "21G920".into());
            dictionary.insert("ProductVersion".into(), version.into());
            plist::Value::Dictionary(dictionary)
                .to_file_xml(&path)
                .unwrap();
            has_app_service(&path)
        };
        assert!(!check("12.7.6"), "Monterey has no SMAppService class");
        assert!(check("13.0"));
        assert!(check("14.6.1"));
        assert!(check("26.1"));
        assert!(!check("garbage"));
        assert!(!has_app_service(&dir.path().join("missing.plist")));
    }
}
