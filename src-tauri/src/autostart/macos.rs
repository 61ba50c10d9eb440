//! macOS 13+: the app registers itself as its own login item with SMAppService (System Settings
//! → General → Login Items), which may need the user's approval. macOS-only and never compiled
//! on the Linux machines this is developed on: kept to the four calls it needs.

use smappservice_rs::{AppService, ServiceStatus, ServiceType};

use super::LoginState;

/// `None` when SMAppService does not know the app (run outside its bundle): the caller uses
/// the LaunchAgent instead.
pub fn state() -> Option<LoginState> {
    match AppService::new(ServiceType::MainApp).status() {
        ServiceStatus::Enabled => Some(LoginState::Enabled),
        ServiceStatus::RequiresApproval => Some(LoginState::RequiresApproval),
        ServiceStatus::NotRegistered => Some(LoginState::Disabled),
        ServiceStatus::NotFound => None,
    }
}

/// Registers or unregisters the app; `false` when SMAppService refused.
pub fn set(enabled: bool) -> bool {
    let service = AppService::new(ServiceType::MainApp);
    if enabled {
        service.register().is_ok()
    } else {
        service.unregister().is_ok()
    }
}

/// Where the user approves it.
pub fn open_settings() {
    AppService::open_system_settings_login_items();
}
