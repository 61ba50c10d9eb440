//! macOS 13+: the app registers itself as its own login item with SMAppService (System Settings
//! → General → Login Items), which may need the user's approval. macOS-only, type-checked on
//! Linux (scripts/macos-check.sh) but never run there: kept to the four calls it needs. The
//! caller makes sure this macOS has the class (`has_app_service`).

use smappservice_rs::{AppService, ServiceStatus, ServiceType};

use super::LoginState;

/// The app's own registration.
#[derive(Debug)]
pub struct MainApp;

impl super::AppService for MainApp {
    /// `None` when SMAppService does not know the app (run outside its bundle): the caller uses
    /// the LaunchAgent instead.
    fn state(&self) -> Option<LoginState> {
        match AppService::new(ServiceType::MainApp).status() {
            ServiceStatus::Enabled => Some(LoginState::Enabled),
            ServiceStatus::RequiresApproval => Some(LoginState::RequiresApproval),
            ServiceStatus::NotRegistered => Some(LoginState::Disabled),
            ServiceStatus::NotFound => None,
        }
    }

    fn set(&self, enabled: bool) -> bool {
        let service = AppService::new(ServiceType::MainApp);
        if enabled {
            service.register().is_ok()
        } else {
            service.unregister().is_ok()
        }
    }
}

/// Where the user approves it.
pub fn open_settings() {
    AppService::open_system_settings_login_items();
}
