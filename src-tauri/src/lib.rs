//! Hearth's menu-bar app: the gateway and the service supervisor run in this process, on
//! Tauri's async runtime; the tray icon shows their state and switches the model; one window
//! shows the web UI the gateway serves at `/ui`. The only crate that depends on tauri.
//!
//! The window gets into the admin API the way a browser does: the app mints a one-time login
//! link in process and opens the window on it, so the admin token itself never reaches the
//! page. Quit stops the gateway gracefully: in-flight requests finish, supervised services
//! stop (LaunchAgents keep running). Closing the window keeps the app in the menu bar.

mod autostart;
mod tray;

use std::sync::{Arc, Mutex};

use hearth_core::config::store::{self, Paths};
use hearth_gateway::{Gateway, Runtime as GatewayRuntime};
use hearth_secrets::SecretStore;
use tauri::{
    App, AppHandle, Builder, Context, Manager, Runtime, WebviewUrl, WebviewWindowBuilder,
    image::Image, tray::TrayIconBuilder,
};

pub use autostart::{LoginItem, LoginState};
pub use tray::{Health, Snapshot, TrayItem};

/// The tray icon's id.
pub const TRAY_ID: &str = "hearth";
const WINDOW: &str = "main";

/// Why the app could not do something.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("the configuration: {0}")]
    Config(#[from] store::StoreError),
    #[error("the secret store: {0}")]
    Secrets(#[from] hearth_secrets::SecretsError),
    #[error("the gateway: {0}")]
    Gateway(#[from] hearth_gateway::RuntimeError),
    #[error("cannot listen on {address}: {detail}")]
    Listen { address: String, detail: String },
    #[error("the window system: {0}")]
    Tauri(#[from] tauri::Error),
    #[error("launch at login: {0}")]
    Login(String),
}

/// How the app starts.
#[derive(Clone)]
pub struct Options {
    pub paths: Paths,
    /// The service name of the keyring entries (tests use their own).
    pub keyring_service: Option<String>,
    /// A secret store to use instead of the platform's (tests: one that refuses, as a denied
    /// Keychain prompt does).
    pub secrets: Option<Arc<dyn SecretStore>>,
    /// Open the dashboard window at start (a hidden window cannot be driven by tests).
    pub show_window: bool,
    /// Make the tray icon (the mock runtime of unit tests has none).
    pub tray: bool,
}

impl Options {
    /// From the environment: `HEARTH_CONFIG`, `HEARTH_DATA_DIR`, `HEARTH_KEYRING_SERVICE`,
    /// `HEARTH_APP_SHOW_WINDOW=1`.
    pub fn from_env() -> Result<Options, AppError> {
        Ok(Options {
            paths: Paths::from_env()?,
            keyring_service: std::env::var("HEARTH_KEYRING_SERVICE")
                .ok()
                .filter(|service| !service.is_empty()),
            show_window: std::env::var("HEARTH_APP_SHOW_WINDOW").is_ok_and(|value| value == "1"),
            tray: true,
            secrets: None,
        })
    }
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("paths", &self.paths)
            .field("keyring_service", &self.keyring_service)
            .field("secrets", &self.secrets.as_ref().map(|_| "custom"))
            .field("show_window", &self.show_window)
            .field("tray", &self.tray)
            .finish()
    }
}

/// Where the app writes its log: `~/Library/Logs/Hearth` on macOS (where Console.app looks, beside
/// the services' logs), `<data dir>/logs` elsewhere (beside `hearth serve`'s).
pub fn log_dir(paths: &Paths) -> std::path::PathBuf {
    let home = std::env::var_os("HOME").filter(|home| !home.is_empty());
    match home {
        Some(home) if cfg!(target_os = "macos") => {
            std::path::PathBuf::from(home).join("Library/Logs/Hearth")
        }
        _ => paths.data_dir.join("logs"),
    }
}

/// What the app keeps while it runs (`app.manage`).
struct Host {
    gateway: Gateway,
    /// Sent once to stop the gateway.
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    /// The gateway's task; it ends once the services are stopped.
    task: Mutex<Option<tauri::async_runtime::JoinHandle<std::io::Result<()>>>>,
    login: Option<LoginItem>,
    /// While no model is configured: the tray item's text for what discovery found at start.
    found: Mutex<Option<String>>,
}

/// Loads the configuration (writing the default one on a first run), resolves the tokens,
/// starts the gateway and the services on Tauri's runtime, and makes the tray icon.
pub fn run_app<R: Runtime>(
    builder: Builder<R>,
    context: Context<R>,
    options: Options,
) -> Result<App<R>, AppError> {
    let app = builder
        .plugin(tauri_plugin_notification::init())
        .build(context)?;
    // A menu-bar app: no Dock icon. Set on the `App` (`&mut`: it goes to the event loop before
    // it starts, so it holds from launch); `AppHandle`'s version is a message the loop reads
    // only once it runs.
    #[cfg(target_os = "macos")]
    let app = {
        let mut app = app;
        app.set_activation_policy(tauri::ActivationPolicy::Accessory);
        app
    };
    let gateway_host = start_gateway(&options)?;
    let login = LoginItem::current().ok();
    app.manage(Arc::new(gateway_host.with_login(login)));
    let handle = app.handle().clone();
    if options.tray {
        let host = host(&handle);
        let snapshot = tauri::async_runtime::block_on(tray::snapshot(
            &host.gateway,
            launch_state(&host),
            found(&host),
        ));
        let (menu, _) = tray::menu(&handle, &snapshot)?;
        TrayIconBuilder::with_id(TRAY_ID)
            .icon(Image::from_bytes(snapshot.health.icon())?)
            .icon_as_template(true)
            .tooltip(&snapshot.status)
            .menu(&menu)
            .show_menu_on_left_click(true)
            .on_menu_event(|app, event| clicked(app, event.id().as_ref()))
            .build(&handle)?;
        tauri::async_runtime::spawn(keep_tray_current(handle.clone()));
    }
    apply_launch_at_login(&handle);
    if let Some(locked) = &host(&handle).gateway.runtime().locked {
        notify(&handle, &locked_notice(&locked.error));
    }
    if options.show_window {
        open_window(&handle, "dashboard")?;
    }
    tauri::async_runtime::spawn(quit_on_sigterm(handle));
    Ok(app)
}

impl Host {
    fn with_login(mut self, login: Option<LoginItem>) -> Host {
        self.login = login;
        self
    }
}

fn host<R: Runtime>(app: &AppHandle<R>) -> Arc<Host> {
    Arc::clone(&app.state::<Arc<Host>>())
}

/// The gateway of `hearth serve`, in this process.
fn start_gateway(options: &Options) -> Result<Host, AppError> {
    let paths = &options.paths;
    let startup = tauri::async_runtime::block_on(hearth_gateway::setup::load_for_start(
        paths,
        &hearth_services::discovery::Options::from_env(),
    ))?;
    if let Some(applied) = &startup.first_run {
        tracing::info!(added = ?applied.added, "first run: wrote the default configuration");
    }
    let found = startup.proposal.as_ref().and_then(tray::found_text);
    let validated = startup.validated;
    let secrets: Arc<dyn SecretStore> = match &options.secrets {
        Some(store) => Arc::clone(store),
        None => {
            let keyring = hearth_secrets::KeyringStore::new()?;
            Arc::new(match &options.keyring_service {
                Some(service) => keyring.with_service(service),
                None => keyring,
            })
        }
    };
    let listen = validated.config.gateway.clone();
    // A denied or cancelled Keychain prompt must not stop the app: it starts locked, says so in
    // the menu and a notification, and reads the Keychain again when asked.
    let runtime =
        GatewayRuntime::load_or_lock(validated.config, validated.warnings, secrets.as_ref())?;
    if let Some(locked) = &runtime.locked {
        tracing::warn!(error = %locked.error, "the secret store refused; starting locked");
    }
    let gateway = Gateway::new(runtime, secrets, Some(paths.clone()));
    let address = format!("{}:{}", listen.bind, listen.port);
    let listener =
        tauri::async_runtime::block_on(tokio::net::TcpListener::bind((listen.bind, listen.port)))
            .map_err(|error| AppError::Listen {
            address: address.clone(),
            detail: if error.kind() == std::io::ErrorKind::AddrInUse {
                format!("{error} (is `hearth serve` or another Hearth running?)")
            } else {
                error.to_string()
            },
        })?;
    tracing::info!(%address, "Hearth is listening");
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let task = tauri::async_runtime::spawn(hearth_gateway::run(
        gateway.clone(),
        listener,
        paths.clone(),
        async move {
            let _ = stopped.await;
        },
    ));
    Ok(Host {
        gateway,
        stop: Mutex::new(Some(stop)),
        task: Mutex::new(Some(task)),
        login: None,
        found: Mutex::new(found),
    })
}

fn found(host: &Host) -> Option<String> {
    host.found.lock().ok().and_then(|found| found.clone())
}

fn launch_state(host: &Host) -> LoginState {
    host.login
        .as_ref()
        .map_or(LoginState::Disabled, LoginItem::state)
}

/// The configuration's `app.launchAtLogin` is the wish; the registration follows it (at start
/// and whenever the file changes, e.g. from the settings window).
fn apply_launch_at_login<R: Runtime>(app: &AppHandle<R>) {
    let host = host(app);
    let wanted = host.gateway.runtime().config.app.launch_at_login;
    if let Some(login) = &host.login
        && login.state() != LoginState::RequiresApproval
        && (login.state() == LoginState::Enabled) != wanted
        && let Err(error) = login.set(wanted)
    {
        tracing::warn!(%error, "cannot change launch at login");
    }
}

/// Rebuilds the menu and the icon whenever the gateway's state changes (events), and every
/// few seconds for what has no event (memory, speed).
async fn keep_tray_current<R: Runtime>(app: AppHandle<R>) {
    let host = host(&app);
    let mut switches = host.gateway.residency().subscribe();
    let mut services = host.gateway.residency().services().subscribe();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3));
    let mut last: Option<Snapshot> = None;
    let mut handles = None;
    let mut last_pressure = None;
    loop {
        tokio::select! {
            event = services.recv() => {
                if let Ok(event) = event {
                    use hearth_services::ServiceState;
                    if matches!(event.state, ServiceState::Restarting | ServiceState::Failed) {
                        notify(&app, &format!("Backend {} {}", event.service, event.message));
                    }
                }
            }
            _ = switches.recv() => {}
            _ = tick.tick() => {}
        }
        let pressure = hearth_services::memory::pressure();
        if pressure == Some(hearth_services::memory::Pressure::Critical)
            && last_pressure != pressure
        {
            notify(
                &app,
                "Memory pressure is critical: unload a model or quit memory-hungry apps",
            );
        }
        last_pressure = pressure;
        apply_launch_at_login(&app);
        let snapshot = tray::snapshot(&host.gateway, launch_state(&host), found(&host)).await;
        if last.as_ref() != Some(&snapshot) {
            if let Err(error) = tray::show(&app, &mut handles, &snapshot) {
                tracing::warn!(%error, "cannot update the tray menu");
            }
            last = Some(snapshot);
        }
    }
}

/// The notification while the secret store refuses.
fn locked_notice(error: &str) -> String {
    format!(
        "Hearth cannot read its tokens from the Keychain ({error}). Local apps without a token \
         still work; choose “{}” in the menu to try again.",
        tray::UNLOCK_TEXT
    )
}

fn notify<R: Runtime>(app: &AppHandle<R>, text: &str) {
    use tauri_plugin_notification::NotificationExt as _;
    if !host(app).gateway.runtime().config.app.notifications {
        return;
    }
    if let Err(error) = app
        .notification()
        .builder()
        .title("Hearth")
        .body(text)
        .show()
    {
        tracing::debug!(%error, "no notification shown");
    }
}

/// What the menu shows now (tests read it; the tray shows the same).
pub async fn tray_snapshot<R: Runtime>(app: &AppHandle<R>) -> Snapshot {
    let host = host(app);
    tray::snapshot(&host.gateway, launch_state(&host), found(&host)).await
}

/// What a click on the menu does.
fn clicked<R: Runtime>(app: &AppHandle<R>, id: &str) {
    if let Some(item) = TrayItem::from_id(id) {
        click(app, item);
    }
}

/// Does what the menu item does when clicked (the tray's handler; tests call it too).
pub fn click<R: Runtime>(app: &AppHandle<R>, item: TrayItem) {
    let host = host(app);
    let gateway = host.gateway.clone();
    match item {
        TrayItem::Model(model) => {
            tauri::async_runtime::spawn(async move {
                match hearth_gateway::residency::activate(&gateway, &model, false, None).await {
                    Ok(progress) => {
                        if let Some(error) = progress.error {
                            tracing::warn!(%error, "model switch failed");
                        }
                    }
                    Err(error) => tracing::warn!(%error, "model switch refused"),
                }
            });
        }
        TrayItem::WarmUp => {
            tauri::async_runtime::spawn(async move {
                let active = gateway
                    .runtime()
                    .config
                    .primary
                    .as_ref()
                    .map(ToString::to_string);
                if let Some(model) = active {
                    let _ =
                        hearth_gateway::residency::activate(&gateway, &model, false, None).await;
                }
            });
        }
        TrayItem::UseFound => {
            tauri::async_runtime::spawn(async move {
                match hearth_gateway::setup::apply_discovered(&gateway).await {
                    Ok((applied, _)) => {
                        tracing::info!(added = ?applied.added, "added what was found");
                        if let Ok(mut found) = host.found.lock() {
                            *found = None;
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot add what was found"),
                }
            });
        }
        TrayItem::Unlock => {
            let app = app.clone();
            tauri::async_runtime::spawn(async move {
                match hearth_gateway::unlock_secrets(&gateway).await {
                    Ok(_) => notify(
                        &app,
                        "Hearth read its tokens from the Keychain: everything works again",
                    ),
                    Err(error) => {
                        tracing::warn!(%error, "the secret store still refuses");
                        notify(&app, &locked_notice(&error.to_string()));
                    }
                }
            });
        }
        TrayItem::UnloadAll => {
            tauri::async_runtime::spawn(async move {
                hearth_gateway::residency::unload_all(&gateway).await;
            });
        }
        TrayItem::Toggle(name) => {
            tauri::async_runtime::spawn(async move {
                let runtime = gateway.runtime();
                let residency = gateway.residency();
                let Ok(spec) =
                    hearth_gateway::residency::service(&runtime, residency.layout(), &name)
                else {
                    return;
                };
                let _one_at_a_time = residency.one_at_a_time().await;
                let start = !residency.services().status(&spec).await.state.is_up();
                let result = if start {
                    residency.services().start(&spec).await.map(|_| ())
                } else {
                    residency.services().stop(&spec).await
                };
                if let Err(error) = result {
                    tracing::warn!(%error, service = %name, "service action failed");
                }
            });
        }
        TrayItem::Dashboard => {
            if let Err(error) = open_window(app, "dashboard") {
                tracing::warn!(%error, "cannot open the dashboard");
            }
        }
        TrayItem::Settings => {
            if let Err(error) = open_window(app, "bindings") {
                tracing::warn!(%error, "cannot open the settings");
            }
        }
        TrayItem::LaunchAtLogin => {
            if let Some(login) = &host.login {
                if login.state() == LoginState::RequiresApproval {
                    autostart::open_approval_settings();
                    return;
                }
                let wanted = login.state() != LoginState::Enabled;
                // The file says what the user wants; the registration follows it.
                tauri::async_runtime::spawn(async move {
                    let _ = set_config_flag(&gateway, wanted).await;
                });
                if let Err(error) = login.set(wanted) {
                    tracing::warn!(%error, "cannot change launch at login");
                }
            }
        }
        TrayItem::Quit => quit(app.clone()),
    }
}

/// `app.launchAtLogin` in the configuration file, the way every edit is made.
async fn set_config_flag(gateway: &Gateway, enabled: bool) -> Result<(), String> {
    if gateway.paths().is_none() {
        return Ok(());
    }
    hearth_gateway::config_edit::edit_config(gateway, move |document| {
        store::set(
            document,
            "app.launchAtLogin",
            serde_json::Value::Bool(enabled),
        )
        .map_err(|error| error.to_string())
    })
    .await
    .map(|_| ())
    .map_err(|error| error.to_string())
}

/// The UI in the app's window, signed in by a one-time link; `page` is its tab.
fn open_window<R: Runtime>(app: &AppHandle<R>, page: &str) -> Result<(), AppError> {
    let host = host(app);
    let link = host
        .gateway
        .login_link()
        .ok_or_else(|| AppError::Login("cannot make a login link".to_owned()))?;
    let url: tauri::Url = format!("{link}&page={page}")
        .parse()
        .map_err(|error| AppError::Login(format!("{error}")))?;
    if let Some(window) = app.get_webview_window(WINDOW) {
        window.navigate(url)?;
        window.show()?;
        window.set_focus()?;
        return Ok(());
    }
    WebviewWindowBuilder::new(app, WINDOW, WebviewUrl::External(url))
        .title("Hearth")
        .inner_size(1100.0, 800.0)
        .build()?;
    Ok(())
}

/// Stops the gateway (requests finish, supervised services stop), then leaves.
pub fn quit<R: Runtime>(app: AppHandle<R>) {
    let host = host(&app);
    let stop = host.stop.lock().ok().and_then(|mut stop| stop.take());
    let task = host.task.lock().ok().and_then(|mut task| task.take());
    tauri::async_runtime::spawn(async move {
        if let Some(stop) = stop {
            let _ = stop.send(());
        }
        if let Some(task) = task {
            let _ = tokio::time::timeout(std::time::Duration::from_secs(40), task).await;
        }
        app.exit(0);
    });
}

/// SIGTERM (the system logging out, a test) quits the same way the menu does.
async fn quit_on_sigterm<R: Runtime>(app: AppHandle<R>) {
    #[cfg(unix)]
    if let Ok(mut terminate) =
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
    {
        terminate.recv().await;
        tracing::info!("SIGTERM: quitting");
        quit(app);
    }
}
