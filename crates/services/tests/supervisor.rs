//! The supervisor with real processes: a shell that sleeps, Python's http.server as a server
//! with a health URL. Starting waits for health; a killed process is restarted with a new PID;
//! stopping leaves no process; bad input is refused with nothing left running.

#![expect(clippy::unwrap_used, reason = "a test: a failure must fail it loudly")]

use std::{net::TcpListener, path::Path, time::Duration};

use hearth_core::config::file::ServiceFile;
use hearth_services::{ServiceSpec, ServiceState, ServicesError, Supervisor, spec::Layout};

/// Never the same port twice in this process (the tests run in parallel threads).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
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

/// The processes of process group `group` that are not zombies (a zombie is dead; whoever
/// inherited it reaps it), read from /proc.
fn living_members(group: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let fields: Vec<String> = stat
                    .rsplit_once(')')
                    .map(|(_, rest)| rest.split_whitespace().map(str::to_owned).collect())
                    .unwrap_or_default();
                fields.first().is_some_and(|state| state != "Z")
                    && fields.get(2).is_some_and(|pgrp| *pgrp == group.to_string())
            })
        })
        .collect()
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
async fn shutdown_stops_every_service_and_their_children_even_ones_that_ignore_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let stubborn = |name: &str| {
        spec(
            dir.path(),
            name,
            serde_json::json!({ "program": "/bin/sh", "args": ["-c", "trap '' TERM; sleep 300 & while :; do sleep 0.1; done"] }),
        )
    };
    let web = http_server(dir.path(), free_port());
    let supervisor = Supervisor::new();
    let mut groups = Vec::new();
    for spec in [stubborn("one"), stubborn("two"), web] {
        groups.push(supervisor.start(&spec).await.unwrap().pid.unwrap());
    }
    let started = std::time::Instant::now();
    supervisor.shutdown().await;
    // One grace period for all of them, not one each (two would be 20 s).
    assert!(
        started.elapsed() < hearth_services::supervisor::STOP_GRACE + Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    for group in groups {
        let left = living_members(group);
        assert!(left.is_empty(), "process group {group} still has {left:?}");
    }
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

/// Field 22 of /proc/PID/stat, as the supervisor records it.
fn start_time(pid: u32) -> String {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn an_orphan_of_a_killed_hearth_is_stopped_before_the_service_starts_again() {
    use std::os::unix::process::CommandExt as _;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let spec = http_server(dir.path(), port);
    // What a Hearth killed outright leaves: its server still running in its own process
    // group, and the pid file it wrote.
    let mut orphan = std::process::Command::new(&spec.program)
        .args(&spec.args)
        .process_group(0)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid = orphan.id();
    std::fs::create_dir_all(spec.pid_file.parent().unwrap()).unwrap();
    std::fs::write(&spec.pid_file, format!("{pid} {}\n", start_time(pid))).unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while reqwest::get(format!("http://127.0.0.1:{port}/"))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the orphan never listened"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let supervisor = Supervisor::new();
    let status = supervisor.start(&spec).await.unwrap();
    assert_ne!(status.pid, Some(pid));
    let _ = orphan.wait(); // it was stopped: reap it
    assert!(!alive(pid), "the orphan still runs");
    supervisor.shutdown().await;

    // A pid file naming some other process (same PID, other start time) kills nothing.
    let mut bystander = std::process::Command::new("/bin/sleep")
        .arg("30")
        .spawn()
        .unwrap();
    std::fs::write(&spec.pid_file, format!("{} 1\n", bystander.id())).unwrap();
    let supervisor = Supervisor::new();
    supervisor.start(&spec).await.unwrap();
    assert!(
        alive(bystander.id()),
        "a process that is not the orphan was killed"
    );
    supervisor.shutdown().await;
    let _ = bystander.kill();
    let _ = bystander.wait();
}
