//! `run_app` under Tauri's mock runtime (no window system): the configuration is loaded (a first
//! run writes the default one), the gateway serves in process, and quitting stops it.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use hearth_core::config::store::Paths;
use hearth_e2e::free_port;
use hearth_secrets::{Backend, MemoryStore, Secret, SecretStore, SecretsError};

#[test]
fn run_app_serves_the_gateway_in_process_and_quits() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("hearth.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "agents": [{ "id": "main", "workspace": dir.path().join("main") }],
            "gateway": { "port": port }
        })
        .to_string(),
    )
    .unwrap();
    let service = format!("hearth-mock-{}", std::process::id());
    let options = hearth_app::Options {
        paths: Paths {
            config_file: config,
            data_dir: dir.path().join("data"),
        },
        keyring_service: Some(service.clone()),
        show_window: false,
        tray: false,
        secrets: None,
    };
    let app = hearth_app::run_app(
        tauri::test::mock_builder(),
        tauri::test::mock_context(tauri::test::noop_assets()),
        options,
    );
    let app = match app {
        Ok(app) => app,
        Err(error) => panic!("run_app failed: {error}"),
    };
    let health = format!("http://127.0.0.1:{port}/health");
    let answered = tauri::async_runtime::block_on(async {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(response) = reqwest::get(&health).await {
                return response.status().as_u16();
            }
            assert!(Instant::now() < deadline, "the gateway never answered");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    assert_eq!(answered, 200);
    hearth_app::quit(app.handle().clone());
    let gone = tauri::async_runtime::block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if reqwest::get(&health).await.is_err() {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    });
    assert!(gone, "the gateway still answers after quit");
    // The admin token the first run created, in this test's own keyring service.
    use hearth_secrets::SecretStore as _;
    let store = hearth_secrets::KeyringStore::new()
        .unwrap()
        .with_service(&service);
    assert!(store.get("hearth.admin").unwrap().is_some());
    store.delete("hearth.admin").unwrap();
}

/// The Keychain as a user who clicked "Deny" (or "Cancel") sees it: every read fails with the
/// error macOS gives, until they allow it; reads are counted.
struct Refusing {
    refuse: AtomicBool,
    reads: AtomicUsize,
    store: MemoryStore,
}

impl SecretStore for Refusing {
    fn get(&self, name: &str) -> Result<Option<Secret<String>>, SecretsError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        if self.refuse.load(Ordering::SeqCst) {
            return Err(SecretsError::Store {
                backend: Backend::MacosKeychain,
                action: "read",
                name: name.to_owned(),
                detail: "User canceled the operation. (-128)".to_owned(),
            });
        }
        self.store.get(name)
    }

    fn set(&self, name: &str, value: &Secret<String>) -> Result<(), SecretsError> {
        self.store.set(name, value)
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        self.store.delete(name)
    }
}

#[test]
fn a_keychain_that_refuses_does_not_stop_the_app() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = dir.path().join("hearth.json");
    std::fs::write(
        &config,
        serde_json::json!({
            "agents": [{ "id": "main", "workspace": dir.path().join("main") }],
            "clients": [{ "name": "agent", "token": "keychain:hearth.client.agent" }],
            "gateway": { "port": port }
        })
        .to_string(),
    )
    .unwrap();
    let store = Arc::new(Refusing {
        refuse: AtomicBool::new(true),
        reads: AtomicUsize::new(0),
        store: MemoryStore::new(),
    });
    let admin = "hth_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let client = "hth_fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";
    store
        .store
        .set("hearth.admin", &Secret::new(admin.to_owned()))
        .unwrap();
    store
        .store
        .set("hearth.client.agent", &Secret::new(client.to_owned()))
        .unwrap();
    let shared: Arc<dyn SecretStore> = store.clone();
    let options = hearth_app::Options {
        paths: Paths {
            config_file: config,
            data_dir: dir.path().join("data"),
        },
        keyring_service: None,
        secrets: Some(shared),
        show_window: false,
        tray: false,
    };
    let app = match hearth_app::run_app(
        tauri::test::mock_builder(),
        tauri::test::mock_context(tauri::test::noop_assets()),
        options,
    ) {
        Ok(app) => app,
        Err(error) => panic!("a refused Keychain stopped the app: {error}"),
    };
    assert_eq!(
        store.reads.load(Ordering::SeqCst),
        1,
        "after the first refusal the app asks no more (each read may prompt again)"
    );
    let handle = app.handle().clone();
    let base = format!("http://127.0.0.1:{port}");
    let status = |token: &str| {
        let url = format!("{base}/admin/status");
        tauri::async_runtime::block_on(async move {
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match reqwest::Client::new()
                    .get(&url)
                    .bearer_auth(token)
                    .send()
                    .await
                {
                    Ok(response) => return response.status().as_u16(),
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(error) => panic!("the gateway never answered: {error}"),
                }
            }
        })
    };
    // Serving, but no token is in force: the real ones are refused rather than guessed.
    assert_eq!(status(admin), 401);
    let health = tauri::async_runtime::block_on(reqwest::get(format!("{base}/health")))
        .unwrap()
        .status();
    assert_eq!(
        health.as_u16(),
        200,
        "anonymous loopback callers are served"
    );
    // The menu says what is wrong and offers to try again.
    let snapshot = tauri::async_runtime::block_on(hearth_app::tray_snapshot(&handle));
    assert_eq!(snapshot.health, hearth_app::Health::Degraded);
    expect_test::expect!["Hearth — tokens not read from the Keychain (could not read `hearth.admin` in the macOS Keychain: User canceled the operation. (-128)); clients with a token are refused"]
        .assert_eq(&snapshot.status);
    assert!(snapshot.locked.is_some());
    // Still refused: a click changes nothing but asks again.
    hearth_app::click(&handle, hearth_app::TrayItem::Unlock);
    let deadline = Instant::now() + Duration::from_secs(10);
    while store.reads.load(Ordering::SeqCst) == 1 {
        assert!(
            Instant::now() < deadline,
            "the click did not read the Keychain again"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(status(admin), 401);
    // The user allows it; "Try again" puts every token in force.
    store.refuse.store(false, Ordering::SeqCst);
    hearth_app::click(&handle, hearth_app::TrayItem::Unlock);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(admin) != 200 {
        assert!(
            Instant::now() < deadline,
            "the admin token never came into force"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        status(client),
        403,
        "the client's token is known again (not an admin)"
    );
    let snapshot = tauri::async_runtime::block_on(hearth_app::tray_snapshot(&handle));
    assert_eq!(snapshot.locked, None);
    hearth_app::quit(handle);
}
