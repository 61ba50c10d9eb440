//! `run_app` under Tauri's mock runtime (no window system): the configuration is loaded (a first
//! run writes the default one), the gateway serves in process, and quitting stops it.

use std::time::{Duration, Instant};

use hearth_core::config::store::Paths;
use hearth_e2e::free_port;

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
