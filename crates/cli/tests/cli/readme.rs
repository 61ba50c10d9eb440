//! The README is tested: its "Quick start" shell blocks run as written, in a fresh `HOME`, with
//! `scripts/run.sh` — discovery, the small default model provisioned from the test cache, a
//! supervised llama-server, `hearth serve` — and the official Python SDKs of the test venv as
//! the `python3` they call. What the user would read is checked: each snippet prints an answer
//! from the real model, and stopping Hearth leaves no server behind.
//!
//! Two things differ from a user's machine, both to let the suite run in parallel and next to a
//! Hearth of the developer's own: the gateway's port (the configuration names a free port
//! before the first run; the blocks' `11500` is replaced by it) and the secret store's service
//! name (`HEARTH_KEYRING_SERVICE`). `HEARTH_BIN` makes `scripts/run.sh` use the binary under
//! test instead of building a release one.

use std::{
    os::unix::process::CommandExt as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use hearth_e2e::{free_port, provisioned};

use crate::real::alive;

/// The ```sh blocks of the README's `## Quick start` section, in order.
fn quick_start_blocks(readme: &str) -> Vec<String> {
    let section = readme
        .split("\n## ")
        .find(|section| section.starts_with("Quick start"))
        .unwrap_or_else(|| panic!("README.md has no `## Quick start` section"));
    let mut blocks = Vec::new();
    let mut lines = section.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "```sh" {
            let block: Vec<&str> = lines
                .by_ref()
                .take_while(|line| line.trim() != "```")
                .collect();
            blocks.push(block.join("\n"));
        }
    }
    assert!(
        !blocks.is_empty(),
        "the Quick start section has no ```sh block"
    );
    blocks
}

/// The processes of `group` that are still alive.
fn group_members(group: u32) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|entry| entry.ok()?.file_name().to_str().map(str::to_owned))
        .filter(|pid| pid.bytes().all(|byte| byte.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                let fields: Vec<&str> = stat
                    .rsplit_once(") ")
                    .map(|(_, rest)| rest.split_whitespace().collect())
                    .unwrap_or_default();
                fields.first().is_some_and(|state| *state != "Z")
                    && fields.get(2).is_some_and(|pgrp| *pgrp == group.to_string())
            })
        })
        .collect()
}

/// Kills the shell's process group (the background `scripts/run.sh`, i.e. `hearth serve`) with
/// SIGTERM when dropped, so a failing test leaves nothing running either.
struct Group(u32);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !group_members(self.0).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0)])
            .stderr(Stdio::null())
            .status();
    }
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A checkout as the README's reader has one: `scripts/` and `target/release/hearth` (the
/// binary under test).
fn checkout(dir: &Path) -> PathBuf {
    let root = dir.join("hearth");
    std::fs::create_dir_all(root.join("target/release")).unwrap();
    std::os::unix::fs::symlink(repo().join("scripts"), root.join("scripts")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_hearth"),
        root.join("target/release/hearth"),
    )
    .unwrap();
    root
}

#[test]
fn the_readme_quick_start_answers_from_a_real_model_in_a_fresh_home() {
    // Discovery skips busy ports, but two first runs at once could both pick the same free one.
    let _first_run = crate::support::first_run_lock();
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let port = free_port();
    let blocks: Vec<String> = quick_start_blocks(&readme)
        .into_iter()
        .map(|block| block.replace("11500", &port.to_string()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let root = checkout(dir.path());
    let python = PathBuf::from(provisioned("HEARTH_TEST_PYTHON"));
    let venv_bin = python.parent().unwrap();
    let cache = hearth_e2e::env_file().parent().unwrap().to_owned();
    let keyring = format!("hearth-test-readme-{}", std::process::id());
    let path = format!(
        "{}:{}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        root.join("target/release").display(),
        venv_bin.display()
    );
    let environment = [
        ("HOME", home.display().to_string()),
        ("PATH", path),
        ("HEARTH_TEST_CACHE", cache.display().to_string()),
        (
            "HEARTH_BIN",
            root.join("target/release/hearth").display().to_string(),
        ),
        ("HEARTH_KEYRING_SERVICE", keyring.clone()),
        // On a Mac, never a LaunchAgent of the developer's session.
        ("HEARTH_SERVICE_DRIVER", "supervisor".to_owned()),
        ("LANG", "C.UTF-8".to_owned()),
    ];
    let hearth = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_hearth"))
            .args(args)
            .env_clear()
            .envs(environment.iter().map(|(key, value)| (key, value)))
            .output()
            .unwrap()
    };
    // The one difference from a first run: the port (see the module's doc).
    let set = hearth(&["config", "set", "gateway.port", &port.to_string()]);
    assert!(set.status.success(), "{set:?}");

    let script = format!("set -euo pipefail\n{}\n", blocks.join("\n"));
    // Output to files, not pipes: the background `scripts/run.sh` keeps its copy of them open.
    let (stdout_file, stderr_file) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let mut shell = Command::new("bash")
        .args(["-c", &script])
        .current_dir(&root)
        .env_clear()
        .envs(environment.iter().map(|(key, value)| (key, value)))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout_file).unwrap())
        .stderr(std::fs::File::create(&stderr_file).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let group = Group(shell.id());
    let status = shell.wait().unwrap();
    let stdout = std::fs::read_to_string(&stdout_file).unwrap();
    let stderr = std::fs::read_to_string(&stderr_file).unwrap();
    assert!(
        status.success(),
        "the Quick start failed ({status}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    // Three snippets, three answers: Chat Completions, Responses (a second turn), Messages.
    let answers: Vec<&str> = stdout
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert!(
        answers.len() >= 3,
        "expected an answer from each Python snippet:\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert!(
        stderr.contains("provisioning the small default model")
            || stderr.contains("hearth setup --apply"),
        "run.sh did not say what it set up:\n{stderr}"
    );
    // What run.sh configured: the default model as a supervised service and the primary.
    let primary = hearth(&["config", "get", "models.primary"]);
    let primary = String::from_utf8_lossy(&primary.stdout).trim().to_owned();
    assert!(
        primary.contains("smollm2"),
        "primary: {primary:?}\n{stderr}"
    );
    let service = hearth(&["services", "list", "--json"]);
    let services: serde_json::Value = serde_json::from_slice(&service.stdout).unwrap();
    let pid = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|service| service["state"] == "running")
        .and_then(|service| service["pid"].as_u64())
        .unwrap_or_else(|| panic!("no running service: {services}"));

    drop(group);
    assert!(
        !alive(pid),
        "the default model's llama-server ({pid}) outlived Hearth"
    );
    // The tokens the run created, under this test's own service name.
    if let Ok(store) = hearth_secrets::KeyringStore::new() {
        let store = store.with_service(&keyring);
        for name in ["hearth.admin", "hearth.client.default"] {
            let _ = hearth_secrets::SecretStore::delete(&store, name);
        }
    }
}
