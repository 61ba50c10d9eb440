//! The menu-bar icon and its menu. What the menu shows is a `Snapshot` of the gateway (built by
//! `snapshot`, compared to the last one so the menu is rebuilt only when something changed);
//! what a click does is a `TrayItem`, mapped to and from menu ids by pure functions.

use hearth_gateway::{
    Gateway,
    residency::{self, SwitchState},
};
use hearth_services::{ServiceState, memory};
use tauri::{
    AppHandle, Runtime,
    image::Image,
    menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem},
};

use crate::AppError;

/// What a menu item does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TrayItem {
    /// Make this `provider/model` the active model.
    Model(String),
    /// A one-token request to the active model.
    WarmUp,
    UnloadAll,
    /// Start the service when it is stopped, stop it when it runs.
    Toggle(String),
    /// Add what first-run discovery found (shown while no model is configured).
    UseFound,
    /// Read the tokens from the secret store again (shown while it refused).
    Unlock,
    Dashboard,
    Settings,
    LaunchAtLogin,
    Quit,
}

impl TrayItem {
    pub fn id(&self) -> String {
        match self {
            TrayItem::Model(model) => format!("model:{model}"),
            TrayItem::WarmUp => "warm-up".to_owned(),
            TrayItem::UnloadAll => "unload-all".to_owned(),
            TrayItem::Toggle(service) => format!("service:{service}"),
            TrayItem::UseFound => "use-found".to_owned(),
            TrayItem::Unlock => "unlock".to_owned(),
            TrayItem::Dashboard => "dashboard".to_owned(),
            TrayItem::Settings => "settings".to_owned(),
            TrayItem::LaunchAtLogin => "launch-at-login".to_owned(),
            TrayItem::Quit => "quit".to_owned(),
        }
    }

    /// `None` for the items that only show something (status lines).
    pub fn from_id(id: &str) -> Option<TrayItem> {
        if let Some(model) = id.strip_prefix("model:") {
            return Some(TrayItem::Model(model.to_owned()));
        }
        if let Some(service) = id.strip_prefix("service:") {
            return Some(TrayItem::Toggle(service.to_owned()));
        }
        Some(match id {
            "warm-up" => TrayItem::WarmUp,
            "unload-all" => TrayItem::UnloadAll,
            "use-found" => TrayItem::UseFound,
            "unlock" => TrayItem::Unlock,
            "dashboard" => TrayItem::Dashboard,
            "settings" => TrayItem::Settings,
            "launch-at-login" => TrayItem::LaunchAtLogin,
            "quit" => TrayItem::Quit,
            _ => return None,
        })
    }
}

/// The icon's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    Healthy,
    Degraded,
    Down,
    Switching,
}

impl Health {
    pub fn icon(self) -> &'static [u8] {
        match self {
            Health::Healthy => include_bytes!("../../icons/tray-healthy@2x.png"),
            Health::Degraded => include_bytes!("../../icons/tray-degraded@2x.png"),
            Health::Down => include_bytes!("../../icons/tray-down@2x.png"),
            Health::Switching => include_bytes!("../../icons/tray-switching@2x.png"),
        }
    }
}

/// One backend line: `● smol — smol/smollm2 (94 MiB) · 74.2 tok/s`.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendLine {
    pub service: String,
    pub state: ServiceState,
    pub text: String,
}

/// Everything the menu shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub health: Health,
    pub status: String,
    /// `provider/model`, active.
    pub models: Vec<(String, bool)>,
    pub backends: Vec<BackendLine>,
    pub memory: String,
    pub launch_at_login: crate::LoginState,
    /// While no model is configured: what discovery found, as the text of the item that adds
    /// it ("Use what was found: 1 provider, 1 service").
    pub found: Option<String>,
    /// While the secret store refuses: why (the runtime is locked, see `Runtime::load_or_lock`).
    pub locked: Option<String>,
}

/// The menu's item while the secret store refuses.
pub const UNLOCK_TEXT: &str = "Read the Keychain again…";

/// The status line while the secret store refuses: what is wrong and what still works.
pub fn locked_status(error: &str) -> String {
    format!(
        "Hearth — tokens not read from the Keychain ({error}); clients with a token are refused"
    )
}

/// The tray item's text for a discovery proposal; `None` when there is nothing to add.
pub fn found_text(proposal: &hearth_core::config::setup::Proposal) -> Option<String> {
    let plural = |count: usize, what: &str| match count {
        1 => format!("1 {what}"),
        n => format!("{n} {what}s"),
    };
    let mut parts = Vec::new();
    if !proposal.providers.is_empty() {
        parts.push(plural(proposal.providers.len(), "provider"));
    }
    if !proposal.services.is_empty() {
        parts.push(plural(proposal.services.len(), "service"));
    }
    (!parts.is_empty()).then(|| format!("Use what was found: {}", parts.join(", ")))
}

/// Reads the gateway's state now; `found` is what discovery proposed at start-up.
pub async fn snapshot(
    gateway: &Gateway,
    launch_at_login: crate::LoginState,
    found: Option<String>,
) -> Snapshot {
    let runtime = gateway.runtime();
    let config = &runtime.config;
    let residency_state = gateway.residency();
    let resident = residency::resident(gateway).await;
    let recent = gateway.recent_requests();
    let mut backends = Vec::new();
    let mut failed = 0;
    let mut primary_up = config.primary.is_none();
    for spec in residency::specs(&runtime, residency_state.layout()) {
        let status = residency_state.services().status(&spec).await;
        let model = resident
            .iter()
            .find(|model| model.service.as_deref() == Some(spec.name.as_str()));
        let speed = model.and_then(|model| {
            recent
                .iter()
                .rev()
                .find(|sample| sample.model == model.model)
                .and_then(|sample| sample.tokens_per_second)
        });
        if matches!(
            status.state,
            ServiceState::Failed | ServiceState::Restarting
        ) {
            failed += 1;
        }
        if let (Some(primary), Some(provider)) = (&config.primary, &spec.provider)
            && &primary.provider == provider
            && status.state == ServiceState::Running
        {
            primary_up = true;
        }
        let dot = match status.state {
            ServiceState::Running => "●",
            ServiceState::Starting | ServiceState::Restarting => "◐",
            ServiceState::Failed => "✕",
            ServiceState::Stopped | ServiceState::Unknown => "○",
        };
        let mut text = format!("{dot} {} — {}", spec.name, status.state.as_str());
        if let Some(model) = model {
            text.push_str(&format!(", {}", model.model));
            if let Some(size) = model.size {
                text.push_str(&format!(" ({})", memory::human(size)));
            }
        }
        if let Some(speed) = speed {
            text.push_str(&format!(" · {speed:.1} tok/s"));
        }
        backends.push(BackendLine {
            service: spec.name.clone(),
            state: status.state,
            text,
        });
    }
    // A primary served by a provider without a service: it is up if its backend answers.
    if !primary_up
        && let Some(primary) = &config.primary
        && residency::service_for(&runtime, residency_state.layout(), &primary.provider).is_none()
    {
        primary_up = true;
    }
    let switching = residency_state
        .last_switch()
        .filter(|progress| progress.state == SwitchState::Running);
    let contention = residency::contention(&resident);
    let no_model = config
        .agent(&config.default_agent)
        .and_then(|agent| config.agent_model(agent))
        .is_none();
    let (health, status) = if let Some(progress) = &switching {
        let step = progress
            .current
            .and_then(|index| progress.steps.get(index))
            .map(|step| step.title.clone())
            .unwrap_or_default();
        (
            Health::Switching,
            format!(
                "Switching to {}: {}/{} {step}…",
                progress.model,
                progress.current.map_or(0, |index| index + 1),
                progress.steps.len()
            ),
        )
    } else if let Some(locked) = &runtime.locked {
        // Before the model's state: until the Keychain answers, no client with a token gets in.
        (Health::Degraded, locked_status(&locked.error))
    } else if no_model {
        (
            Health::Down,
            if config.model_count() == 0 {
                "Hearth — no model yet".to_owned()
            } else {
                "Hearth — no active model: choose one below".to_owned()
            },
        )
    } else if !primary_up {
        (
            Health::Down,
            format!(
                "Hearth — the active model {} is not running",
                config
                    .primary
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
        )
    } else if failed > 0 || contention.is_some() {
        (
            Health::Degraded,
            match (&contention, failed) {
                (Some(_), _) => format!("Hearth — {} models resident at once", resident.len()),
                (None, n) => format!("Hearth — {n} backend(s) failing"),
            },
        )
    } else {
        (
            Health::Healthy,
            format!(
                "Hearth — {}",
                config
                    .primary
                    .as_ref()
                    .map_or_else(|| "no active model".to_owned(), |model| model.to_string())
            ),
        )
    };
    let status = match residency_state.last_switch() {
        Some(progress) if progress.state == SwitchState::Failed && switching.is_none() => format!(
            "{status} (last switch failed: {})",
            progress.error.unwrap_or_default()
        ),
        _ => status,
    };
    let models = config
        .providers
        .values()
        .flat_map(|provider| {
            provider.models.iter().map(|model| {
                let name = format!("{}/{}", provider.id, model.id);
                let active = config
                    .primary
                    .as_ref()
                    .is_some_and(|primary| primary.to_string() == name);
                (name, active)
            })
        })
        .collect();
    let memory = memory::sample().map_or_else(
        || "Memory: unknown".to_owned(),
        |sample| {
            format!(
                "Memory: {} used of {}{}",
                memory::human(sample.total.saturating_sub(sample.available)),
                memory::human(sample.total),
                sample
                    .pressure
                    .map(|pressure| format!(" · pressure {}", pressure.as_str()))
                    .unwrap_or_default()
            )
        },
    );
    Snapshot {
        health,
        status,
        models,
        backends,
        memory,
        launch_at_login,
        found: found.filter(|_| config.model_count() == 0),
        locked: runtime.locked.as_ref().map(|locked| locked.error.clone()),
    }
}

/// The menu's items, kept so that a change of state updates their text and checks in place:
/// a menu rebuilt while it is open would lose the user's click.
pub struct MenuHandles<R: Runtime> {
    /// The models and services the menu has items for; another set needs a new menu.
    shape: Vec<String>,
    status: MenuItem<R>,
    models: Vec<CheckMenuItem<R>>,
    backends: Vec<MenuItem<R>>,
    memory: MenuItem<R>,
    toggles: Vec<MenuItem<R>>,
    login: CheckMenuItem<R>,
}

impl<R: Runtime> std::fmt::Debug for MenuHandles<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MenuHandles")
            .field("shape", &self.shape)
            .finish_non_exhaustive()
    }
}

fn shape(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .locked
        .iter()
        .map(|_| "unlock".to_owned())
        .chain(snapshot.found.iter().map(|_| "use-found".to_owned()))
        .chain(snapshot.models.iter().map(|(model, _)| model.clone()))
        .chain(
            snapshot
                .backends
                .iter()
                .map(|backend| format!("service:{}", backend.service)),
        )
        .collect()
}

/// The login item's menu text: it says when macOS wants the user's approval.
fn login_text(state: crate::LoginState) -> &'static str {
    match state {
        crate::LoginState::RequiresApproval => "Launch at Login (approve in System Settings…)",
        crate::LoginState::Enabled | crate::LoginState::Disabled => "Launch at Login",
    }
}

fn toggle_text(backend: &BackendLine) -> String {
    if backend.state.is_up() {
        format!("Stop {}", backend.service)
    } else {
        format!("Start {}", backend.service)
    }
}

/// The menu for `snapshot`, and its items.
pub fn menu<R: Runtime>(
    app: &AppHandle<R>,
    snapshot: &Snapshot,
) -> Result<(Menu<R>, MenuHandles<R>), AppError> {
    let menu = Menu::new(app)?;
    let info = |text: &str| MenuItem::new(app, text, false, None::<&str>);
    let action =
        |item: TrayItem, text: &str| MenuItem::with_id(app, item.id(), text, true, None::<&str>);
    let status = info(&snapshot.status)?;
    menu.append(&status)?;
    if snapshot.locked.is_some() {
        menu.append(&action(TrayItem::Unlock, UNLOCK_TEXT)?)?;
    }
    if let Some(found) = &snapshot.found {
        menu.append(&action(TrayItem::UseFound, found)?)?;
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let mut models = Vec::new();
    for (model, active) in &snapshot.models {
        let item = CheckMenuItem::with_id(
            app,
            TrayItem::Model(model.clone()).id(),
            model,
            true,
            *active,
            None::<&str>,
        )?;
        menu.append(&item)?;
        models.push(item);
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    let mut backends = Vec::new();
    for backend in &snapshot.backends {
        let item = info(&backend.text)?;
        menu.append(&item)?;
        backends.push(item);
    }
    let memory = info(&snapshot.memory)?;
    menu.append(&memory)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&action(TrayItem::WarmUp, "Warm up")?)?;
    menu.append(&action(TrayItem::UnloadAll, "Unload all")?)?;
    let mut toggles = Vec::new();
    for backend in &snapshot.backends {
        let item = action(
            TrayItem::Toggle(backend.service.clone()),
            &toggle_text(backend),
        )?;
        menu.append(&item)?;
        toggles.push(item);
    }
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&action(TrayItem::Dashboard, "Open Dashboard…")?)?;
    menu.append(&action(TrayItem::Settings, "Settings…")?)?;
    let login = CheckMenuItem::with_id(
        app,
        TrayItem::LaunchAtLogin.id(),
        login_text(snapshot.launch_at_login),
        true,
        snapshot.launch_at_login != crate::LoginState::Disabled,
        None::<&str>,
    )?;
    menu.append(&login)?;
    menu.append(&PredefinedMenuItem::separator(app)?)?;
    menu.append(&action(TrayItem::Quit, "Quit Hearth")?)?;
    let handles = MenuHandles {
        shape: shape(snapshot),
        status,
        models,
        backends,
        memory,
        toggles,
        login,
    };
    Ok((menu, handles))
}

/// Puts `snapshot` on the tray icon: updates the menu's items in place (a new menu only when
/// the models or services changed), the icon and the tooltip.
pub fn show<R: Runtime>(
    app: &AppHandle<R>,
    handles: &mut Option<MenuHandles<R>>,
    snapshot: &Snapshot,
) -> Result<(), AppError> {
    let Some(tray) = app.tray_by_id(crate::TRAY_ID) else {
        return Ok(());
    };
    match handles {
        Some(current) if current.shape == shape(snapshot) => {
            current.status.set_text(&snapshot.status)?;
            for (item, (_, active)) in current.models.iter().zip(&snapshot.models) {
                item.set_checked(*active)?;
            }
            for ((item, toggle), backend) in current
                .backends
                .iter()
                .zip(&current.toggles)
                .zip(&snapshot.backends)
            {
                item.set_text(&backend.text)?;
                toggle.set_text(toggle_text(backend))?;
            }
            current.memory.set_text(&snapshot.memory)?;
            current
                .login
                .set_checked(snapshot.launch_at_login != crate::LoginState::Disabled)?;
            current
                .login
                .set_text(login_text(snapshot.launch_at_login))?;
        }
        _ => {
            let (menu, built) = menu(app, snapshot)?;
            tray.set_menu(Some(menu))?;
            *handles = Some(built);
        }
    }
    tray.set_icon(Some(Image::from_bytes(snapshot.health.icon())?))?;
    tray.set_icon_as_template(true)?;
    tray.set_tooltip(Some(&snapshot.status))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_survives_its_menu_id() {
        for item in [
            TrayItem::Model("mlx/mlx-community/Qwen3-30B-A3B-4bit".to_owned()),
            TrayItem::WarmUp,
            TrayItem::UnloadAll,
            TrayItem::Toggle("smol".to_owned()),
            TrayItem::UseFound,
            TrayItem::Unlock,
            TrayItem::Dashboard,
            TrayItem::Settings,
            TrayItem::LaunchAtLogin,
            TrayItem::Quit,
        ] {
            assert_eq!(TrayItem::from_id(&item.id()), Some(item));
        }
        assert_eq!(TrayItem::from_id("status"), None);
    }

    #[test]
    fn what_was_found_is_offered_in_one_item_and_nothing_found_offers_none() {
        use hearth_core::config::setup::Proposal;
        let proposal: Proposal = serde_json::from_value(serde_json::json!({
            "providers": [
                { "id": "ollama", "origin": "Ollama running", "running": true,
                  "provider": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434" } },
                { "id": "lmstudio", "origin": "LM Studio running", "running": true,
                  "provider": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:1234/v1" } }
            ],
            "services": [
                { "name": "llama-qwen", "origin": "llama-server with qwen.gguf",
                  "service": { "program": "/opt/homebrew/bin/llama-server" } }
            ]
        }))
        .unwrap();
        assert_eq!(
            found_text(&proposal).as_deref(),
            Some("Use what was found: 2 providers, 1 service")
        );
        assert_eq!(found_text(&Proposal::default()), None);
    }
}
