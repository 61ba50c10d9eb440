//! The official Python SDKs (`openai`, `anthropic` and `ollama`, from the venv
//! scripts/provision.sh builds)
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
    run(&hearth, &llama, file, &[], passed).await;
}

/// Runs pytest on `file` (with `args`, a selection) against `hearth`; checks that exactly
/// `passed` tests passed.
async fn run(hearth: &Hearth, llama: &LlamaServer, file: &str, args: &[&str], passed: usize) {
    let python = provisioned("HEARTH_TEST_PYTHON");
    let tests = format!("{}/python/{file}", env!("CARGO_MANIFEST_DIR"));
    let base = hearth.base.clone();
    let state = hearth.dir.path().join("pytest-state.json");
    let mut command = Command::new(&python);
    command
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", &tests])
        .args(args)
        .env("HEARTH_URL", base)
        .env("HEARTH_TOKEN", APP_TOKEN)
        .env("HEARTH_STATE", state);
    let output = tokio::task::spawn_blocking(move || command.output())
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_anthropic_python_sdk_works_against_hearth() {
    pytest("test_anthropic_sdk.py", 10).await;
}

/// The Responses API over a chat-completions backend, and a conversation that goes on across
/// a restart of Hearth: the first run leaves a response id, a new Hearth over the same
/// directories continues from it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openai_responses_api_works_against_hearth_and_survives_a_restart() {
    let llama = LlamaServer::smollm2();
    let hearth = Hearth::start(|dir| two_agents(&llama.base_url(), dir)).await;
    let file = "test_openai_responses.py";
    run(&hearth, &llama, file, &["-k", "not after_restart"], 12).await;
    let stored = std::fs::read_dir(hearth.workspace("public").join("responses"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    // Nine responses were stored (one was deleted; refused requests store nothing).
    assert_eq!(stored, 9, "responses stored in the agent's workspace");
    let hearth = hearth.restart().await;
    run(&hearth, &llama, file, &["-k", "after_restart"], 2).await;
}
