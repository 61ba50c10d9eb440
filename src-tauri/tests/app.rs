//! The real app under a real X server: Xvfb, a D-Bus session, trayer as the tray host. The app
//! starts its embedded gateway and supervised llama-server, its tray icon appears in the tray,
//! its window (forced visible by `HEARTH_APP_SHOW_WINDOW=1`) shows the dashboard from the
//! embedded gateway — read through WebDriver (tauri-driver + WebKitWebDriver) — and quitting
//! leaves no process behind. A screenshot is kept in `target/tmp/app-screenshots/`.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure must fail it loudly"
)]

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use hearth_e2e::{free_port, provisioned};
use serde_json::{Value, json};

/// Processes the test started, each the leader of its own process group, killed with their
/// whole group whatever happens: `dbus-run-session` does not take tauri-driver (nor what that
/// started) down with it, which left a tauri-driver behind after every run.
struct Reaper(Vec<Child>);

impl Drop for Reaper {
    fn drop(&mut self) {
        for child in self.0.iter_mut().rev() {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .stderr(Stdio::null())
                .status();
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn need(program: &str, package: &str) -> String {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .unwrap();
    let path = String::from_utf8(found.stdout).unwrap().trim().to_owned();
    assert!(
        !path.is_empty(),
        "{program} is missing: install {package} (scripts/test.sh does)"
    );
    path
}

fn wait_for(what: &str, within: Duration, mut ready: impl FnMut() -> Option<String>) -> String {
    let deadline = Instant::now() + within;
    loop {
        if let Some(found) = ready() {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The live `hearth-app` processes started with this test's configuration file.
fn own_apps(config: &Path) -> Vec<String> {
    let wanted = format!("HEARTH_CONFIG={}", config.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|pid| pid.bytes().all(|byte| byte.is_ascii_digit()))
        .filter(|pid| {
            let named = std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "hearth-app");
            let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .is_ok_and(|stat| stat.contains(") Z "));
            let ours = std::fs::read(format!("/proc/{pid}/environ")).is_ok_and(|environ| {
                environ
                    .split(|byte| *byte == 0)
                    .any(|entry| entry == wanted.as_bytes())
            });
            named && !zombie && ours
        })
        .collect()
}

/// HTTP with curl (the test is synchronous; WebDriver and the admin API are plain JSON).
struct Http;

impl Http {
    fn request(
        &self,
        method: &str,
        url: &str,
        body: Option<&Value>,
        token: Option<&str>,
    ) -> Option<Value> {
        let mut command = Command::new("curl");
        command.args(["-s", "-f", "--max-time", "60", "-X", method]);
        if let Some(token) = token {
            command.args(["-H", &format!("Authorization: Bearer {token}")]);
        }
        if let Some(body) = body {
            command.args([
                "-H",
                "Content-Type: application/json",
                "-d",
                &body.to_string(),
            ]);
        }
        let output = command.arg(url).output().ok()?;
        if !output.status.success() {
            return None;
        }
        Some(serde_json::from_slice(&output.stdout).unwrap_or(Value::Null))
    }

    fn try_call(&self, method: &str, url: &str) -> Option<Value> {
        self.request(method, url, None, None)
    }

    fn call_with_token(&self, method: &str, url: &str, token: &str) -> Value {
        self.request(method, url, None, Some(token))
            .unwrap_or_else(|| panic!("{method} {url} failed"))
    }
}

/// One WebDriver call; the `value` of the answer (`Null` when it failed).
fn webdriver(http: &Http, method: &str, url: &str, body: Option<Value>) -> Value {
    http.request(method, url, body.as_ref(), None)
        .map_or(Value::Null, |answer| answer["value"].clone())
}

#[test]
fn the_app_shows_its_tray_icon_and_the_dashboard_and_quits_cleanly() {
    let app = PathBuf::from(env!("CARGO_BIN_EXE_hearth-app"));
    let xvfb = need("Xvfb", "xvfb");
    let trayer = need("trayer", "trayer");
    let dbus = need("dbus-run-session", "dbus");
    // Provisioned into the test cache, never taken from PATH or ~/.cargo/bin.
    let tauri_driver = provisioned("HEARTH_TAURI_DRIVER");
    need("WebKitWebDriver", "webkit2gtk-driver");
    need("xwininfo", "x11-utils");

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let runtime_dir = dir.path().join("run");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::create_dir_all(&runtime_dir).unwrap();
    let gateway = free_port();
    let llama = free_port();
    let config = dir.path().join("hearth.json");
    std::fs::write(
        &config,
        serde_json::to_string_pretty(&json!({
            "providers": { "smol": { "api": "openai-completions", "baseUrl": format!("http://127.0.0.1:{llama}/v1"),
                                     "models": [{ "id": "smollm2", "contextWindow": 2048 }] } },
            "models": { "primary": "smol/smollm2" },
            "agents": [{ "id": "main", "workspace": dir.path().join("main") }],
            "gateway": { "port": gateway, "adminToken": "env:HEARTH_APP_TEST_ADMIN" },
            "services": { "smol": {
                "program": provisioned("HEARTH_LLAMA_SERVER"),
                "args": ["-m", provisioned("HEARTH_MODEL_SMOLLM2"), "--host", "127.0.0.1", "--port", llama.to_string(),
                         "-c", "2048", "-np", "1", "-t", "1", "--alias", "smollm2"],
                "port": llama, "healthUrl": format!("http://127.0.0.1:{llama}/health"), "provider": "smol"
            } }
        }))
        .unwrap(),
    )
    .unwrap();

    let display = format!(":{}", 90 + std::process::id() % 500);
    let mut reaper = Reaper(Vec::new());
    reaper.0.push(
        Command::new(&xvfb)
            .args([&display, "-screen", "0", "1280x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let socket = format!("/tmp/.X11-unix/X{}", &display[1..]);
    wait_for("Xvfb", Duration::from_secs(20), || {
        Path::new(&socket).exists().then(String::new)
    });
    reaper.0.push(
        Command::new(&trayer)
            .args([
                "--edge",
                "top",
                "--align",
                "right",
                "--widthtype",
                "request",
                "--height",
                "32",
            ])
            .env("DISPLAY", &display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let driver_port = free_port();
    let native_port = free_port();
    let log = dir.path().join("app.log");
    reaper.0.push(
        Command::new(&dbus)
            .arg("--")
            .arg(&tauri_driver)
            .args([
                "--port",
                &driver_port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display)
            .env("HOME", &home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_RUNTIME_DIR", &runtime_dir)
            .env("HEARTH_CONFIG", &config)
            .env("HEARTH_DATA_DIR", dir.path().join("data"))
            .env("HEARTH_SERVICE_DRIVER", "supervisor")
            .env(
                "HEARTH_KEYRING_SERVICE",
                format!("hearth-app-test-{}", std::process::id()),
            )
            .env("HEARTH_APP_TEST_ADMIN", "hth_app_test_admin")
            .env("HEARTH_APP_SHOW_WINDOW", "1")
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(dir.path().join("app.err")).unwrap())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let driver = format!("http://127.0.0.1:{driver_port}");
    let http = Http;
    wait_for("tauri-driver", Duration::from_secs(30), || {
        http.try_call("GET", &format!("{driver}/status"))
            .map(|_| String::new())
    });
    let session = webdriver(
        &http,
        "POST",
        &format!("{driver}/session"),
        Some(
            json!({ "capabilities": { "alwaysMatch": { "tauri:options": { "application": app } } } }),
        ),
    );
    let id = session["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no WebDriver session: {session}"))
        .to_owned();
    let session_url = format!("{driver}/session/{id}");

    // The embedded gateway answers, and runs the active model's server.
    wait_for("the gateway", Duration::from_secs(60), || {
        http.try_call("GET", &format!("http://127.0.0.1:{gateway}/health"))
            .map(|_| String::new())
    });
    // The window shows the dashboard, signed in, with the backend up.
    let url = wait_for("the dashboard URL", Duration::from_secs(60), || {
        let url = webdriver(&http, "GET", &format!("{session_url}/url"), None);
        url.as_str()
            .filter(|url| url.contains("/ui/#/dashboard"))
            .map(str::to_owned)
    });
    assert!(
        url.starts_with(&format!("http://127.0.0.1:{gateway}/ui/")),
        "{url}"
    );
    let state = wait_for(
        "the backend shown running",
        Duration::from_secs(120),
        || {
            let element = webdriver(
                &http,
                "POST",
                &format!("{session_url}/element"),
                Some(json!({ "using": "css selector", "value": "[data-testid=\"backend-smol\"]" })),
            );
            let key = element.as_object()?.keys().next()?.clone();
            let element_id = element[&key].as_str()?.to_owned();
            let text = webdriver(
                &http,
                "GET",
                &format!("{session_url}/element/{element_id}/text"),
                None,
            );
            text.as_str()
                .filter(|text| text.contains("running"))
                .map(str::to_owned)
        },
    );
    assert!(state.contains("smol"), "{state}");

    // The tray icon sits in the tray host.
    let tree = wait_for("the tray icon", Duration::from_secs(30), || {
        let output = Command::new("xwininfo")
            .args(["-root", "-tree"])
            .env("DISPLAY", &display)
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&output.stdout).into_owned();
        text.contains("\"tray-icon tray app hearth\"")
            .then_some(text)
    });
    assert!(tree.contains("\"panel\": (\"panel\" \"trayer\")"), "{tree}");
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("app-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    // What WebDriver sees, and the whole screen with the tray.
    if let Some(png) = webdriver(&http, "GET", &format!("{session_url}/screenshot"), None).as_str()
    {
        let _ = std::fs::write(shots.join("window.base64"), png);
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "base64 -d < '{0}/window.base64' > '{0}/window.png'",
                shots.display()
            ))
            .status();
    }
    std::thread::sleep(Duration::from_secs(1));
    let _ = Command::new("import")
        .args(["-window", "root", shots.join("app.png").to_str().unwrap()])
        .env("DISPLAY", &display)
        .status();

    // The server Hearth supervises, then Quit (SIGTERM takes the same path as the menu's Quit).
    let services = http.call_with_token(
        "GET",
        &format!("http://127.0.0.1:{gateway}/admin/services"),
        "hth_app_test_admin",
    );
    let llama_pid = services["services"][0]["pid"]
        .as_u64()
        .unwrap_or_else(|| panic!("{services}"));
    let apps = own_apps(&config);
    assert_eq!(apps.len(), 1, "{apps:?}");
    Command::new("kill")
        .args(["-TERM", &apps[0]])
        .status()
        .unwrap();
    wait_for("the app to quit", Duration::from_secs(60), || {
        own_apps(&config).is_empty().then(String::new)
    });
    assert!(
        !Path::new(&format!("/proc/{llama_pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{llama_pid}/stat"))
                .is_ok_and(|stat| stat.contains(") Z ")),
        "the app's llama-server outlived it"
    );
    // Its log is in a file too (started from Finder or at login, its stderr goes nowhere).
    let logs: String = std::fs::read_dir(dir.path().join("data/logs"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains("hearth-app.log"))
        .map(|path| std::fs::read_to_string(path).unwrap())
        .collect();
    assert!(logs.contains("Hearth is listening"), "{logs}");
    let _ = http.try_call("DELETE", &session_url);
}
