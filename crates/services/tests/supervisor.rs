//! The supervisor with real processes: a shell that sleeps, Python's http.server as a server
//! with a health URL. Starting waits for health; a killed process is restarted with a new PID;
//! stopping leaves no process; bad input is refused with nothing left running.

#![expect(clippy::unwrap_used, reason = "a test: a failure must fail it loudly")]

use std::{net::TcpListener, path::Path, time::Duration};

use hearth_core::config::file::ServiceFile;
use hearth_services::{ServiceSpec, ServiceState, ServicesError, Supervisor, spec::Layout};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn spec(dir: &Path, name: &str, entry: serde_json::Value) -> ServiceSpec {
    let file: ServiceFile = serde_json::from_value(entry).unwrap();
    ServiceSpec::resolve(
        name,
        &file,
        &Layout {
            data_dir: dir.to_owned(),
            log_dir: dir.join("logs"),
        },
    )
}

fn alive(pid: u32) -> bool {
    // A zombie still has a /proc entry: read its state.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.split_whitespace()
            .nth(2)
            .is_none_or(|state| state != "Z")
    })
}

fn python() -> String {
    ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|path| Path::new(path).exists())
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let found = std::process::Command::new("sh")
                .args(["-c", "command -v python3"])
                .output()
                .unwrap();
            String::from_utf8(found.stdout).unwrap().trim().to_owned()
        })
}

fn http_server(dir: &Path, port: u16) -> ServiceSpec {
    spec(
        dir,
        "web",
        serde_json::json!({
            "program": python(),
            "args": ["-m", "http.server", "--bind", "127.0.0.1", port.to_string()],
            "port": port,
            "healthUrl": format!("http://127.0.0.1:{port}/"),
            "startTimeout": "30s"
        }),
    )
}

#[tokio::test]
async fn start_waits_for_health_a_killed_process_comes_back_and_stop_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let spec = http_server(dir.path(), port);
    let supervisor = Supervisor::new();
    let mut events = supervisor.subscribe();

    let started = supervisor.start(&spec).await.unwrap();
    assert_eq!(started.state, ServiceState::Running);
    let first = started.pid.unwrap();
    assert!(alive(first));
    let answer = reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .unwrap();
    assert!(answer.status().is_success(), "healthy means it answers");
    // A second start of a running service changes nothing.
    assert_eq!(supervisor.start(&spec).await.unwrap().pid, Some(first));

    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let restarted = loop {
        let status = supervisor.status("web");
        if status.state == ServiceState::Running && status.pid.is_some_and(|pid| pid != first) {
            break status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not restarted: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(restarted.restarts, 1);
    assert!(
        restarted.last_exit.as_deref().unwrap().contains("signal 9"),
        "{restarted:?}"
    );
    let mut messages = Vec::new();
    while let Ok(event) = events.try_recv() {
        messages.push(event.message);
    }
    assert!(
        messages.iter().any(|m| m.contains("restarting in 1s")),
        "{messages:?}"
    );

    supervisor.stop("web").await;
    let second = restarted.pid.unwrap();
    assert!(!alive(second), "stopped means gone");
    assert_eq!(supervisor.status("web").state, ServiceState::Stopped);
    let log = std::fs::read_to_string(&spec.log_file).unwrap();
    assert_eq!(log.matches("--- hearth: starting").count(), 2, "{log}");
}

#[tokio::test]
async fn shutdown_stops_every_service_even_one_that_ignores_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let stubborn = spec(
        dir.path(),
        "stubborn",
        serde_json::json!({ "program": "/bin/sh", "args": ["-c", "trap '' TERM; while :; do sleep 0.1; done"] }),
    );
    let web = http_server(dir.path(), free_port());
    let supervisor = Supervisor::new();
    let a = supervisor.start(&stubborn).await.unwrap().pid.unwrap();
    let b = supervisor.start(&web).await.unwrap().pid.unwrap();
    supervisor.shutdown().await;
    assert!(!alive(a) && !alive(b));
}

#[tokio::test]
async fn a_health_check_that_never_passes_is_refused_and_nothing_is_left_running() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let never = spec(
        dir.path(),
        "never",
        serde_json::json!({
            "program": "/bin/sh",
            "args": ["-c", "echo loading forever; exec sleep 300"],
            "healthUrl": format!("http://127.0.0.1:{port}/health"),
            "startTimeout": "2s"
        }),
    );
    let supervisor = Supervisor::new();
    let mut events = supervisor.subscribe();
    let error = supervisor.start(&never).await.unwrap_err();
    let message = error.to_string();
    assert!(
        message.contains("did not pass its health check"),
        "{message}"
    );
    assert!(
        message.contains("loading forever"),
        "the log's tail is shown: {message}"
    );
    let mut pids = Vec::new();
    while let Ok(event) = events.try_recv() {
        pids.extend(event.pid);
    }
    assert!(!pids.is_empty());
    assert!(
        pids.iter().all(|pid| !alive(*pid)),
        "the half-started process is gone"
    );
    assert_eq!(supervisor.status("never").state, ServiceState::Stopped);
}

#[tokio::test]
async fn a_service_that_exits_at_once_is_refused_with_its_exit_and_log() {
    let dir = tempfile::tempdir().unwrap();
    let broken = spec(
        dir.path(),
        "broken",
        serde_json::json!({
            "program": "/bin/sh",
            "args": ["-c", "echo 'error: model file not found' >&2; exit 3"],
            "healthUrl": format!("http://127.0.0.1:{}/", free_port())
        }),
    );
    let error = Supervisor::new()
        .start(&broken)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("exited while starting (exit status 3)"),
        "{error}"
    );
    assert!(error.contains("model file not found"), "{error}");
}

#[tokio::test]
async fn a_missing_program_and_a_taken_port_are_refused_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let supervisor = Supervisor::new();
    let missing = spec(
        dir.path(),
        "missing",
        serde_json::json!({ "program": "/no/such/llama-server" }),
    );
    assert!(matches!(
        supervisor.start(&missing).await,
        Err(ServicesError::ProgramMissing { .. })
    ));
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let clash = http_server(dir.path(), port);
    let error = supervisor.start(&clash).await.unwrap_err();
    assert!(
        error
            .to_string()
            .contains(&format!("port {port} is already in use")),
        "{error}"
    );
    assert!(
        !dir.path().join("logs/web.log").exists(),
        "nothing was started"
    );
}

#[tokio::test]
async fn an_orphan_of_a_killed_hearth_is_stopped_before_the_service_starts_again() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let spec = http_server(dir.path(), port);
    // A Hearth that dies without stopping its children: its supervisor is simply forgotten
    // (the process survives because nothing reaps it), as after a SIGKILL.
    let orphan = {
        let first = Supervisor::new();
        let pid = first.start(&spec).await.unwrap().pid.unwrap();
        std::mem::forget(first);
        pid
    };
    assert!(alive(orphan));
    let second = Supervisor::new();
    let status = second.start(&spec).await.unwrap();
    assert_ne!(status.pid, Some(orphan));
    assert!(!alive(orphan), "the orphan still runs");
    second.shutdown().await;
}
