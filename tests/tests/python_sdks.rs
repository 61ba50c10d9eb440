//! The official Python SDKs (`openai` and `ollama`, from the venv scripts/provision.sh builds)
//! against Hearth in front of a real llama-server: the tests themselves are in tests/python/, run
//! by pytest.

#![expect(
    clippy::panic,
    clippy::print_stdout,
    reason = "the pytest runner fails the test with pytest's own report, and shows it"
)]

use std::process::Command;

use hearth_e2e::{APP_TOKEN, Hearth, LlamaServer, provisioned, two_agents};

/// Runs the pytest file `tests/python/<file>` against a fresh Hearth in front of a real
/// llama-server and checks that exactly `passed` tests passed.
async fn pytest(file: &str, passed: usize) {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let python = provisioned("HEARTH_TEST_PYTHON");
    let tests = format!("{}/python/{file}", env!("CARGO_MANIFEST_DIR"));
    let base = hearth.base.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(&python)
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", &tests])
            .env("HEARTH_URL", base)
            .env("HEARTH_TOKEN", APP_TOKEN)
            .output()
    })
    .await
    .unwrap_or_else(|error| panic!("pytest did not run: {error}"))
    .unwrap_or_else(|error| panic!("cannot run pytest; run scripts/provision.sh: {error}"));
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    println!("{report}");
    assert!(
        output.status.success(),
        "pytest failed:\n{report}\nllama-server:\n{}",
        llama.logs()
    );
    assert!(report.contains(&format!("{passed} passed")), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_python_sdk_works_against_hearth() {
    pytest("test_openai_sdk.py", 7).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ollama_python_client_works_against_hearth() {
    pytest("test_ollama_sdk.py", 9).await;
}
