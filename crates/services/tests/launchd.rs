//! The launchd driver against recorded `launchctl` outputs: the plists it renders (checked by
//! Python's plistlib too), the command sequences it runs, and how it reads `launchctl print`.
//! The `print` outputs in `fixtures/launchd/` are written for these tests: the shape macOS
//! prints, own values.
//!
//! `UPDATE_EXPECT=1 cargo test -p hearth-services --test launchd` rewrites the snapshots.

#![expect(
    clippy::unwrap_used,
    reason = "test helpers outside #[test] functions fail the test the same way"
)]

use std::{cell::RefCell, collections::VecDeque, path::Path, process::Command, time::Duration};

use expect_test::{Expect, expect};
use hearth_core::config::file::{RestartPolicy, ServiceFile, ServiceTemplate};
use hearth_services::{
    ServiceSpec,
    launchd::{self, Launchctl, Launchd, Outcome, parse_print},
    spec::Layout,
    templates::{self, TemplateInput},
};

const RUNNING: &str = include_str!("fixtures/launchd/running.txt");
const CRASHED: &str = include_str!("fixtures/launchd/crashed.txt");
const NEVER_EXITED: &str = include_str!("fixtures/launchd/never-exited.txt");
const WAITING_EX_CONFIG: &str = include_str!("fixtures/launchd/waiting-ex-config.txt");
const PRINT_NOT_FOUND: &str = include_str!("fixtures/launchd/print-not-found.txt");
const BOOTSTRAP_EIO: &str = include_str!("fixtures/launchd/bootstrap-eio.txt");
const BOOTOUT_ESRCH: &str = include_str!("fixtures/launchd/bootout-esrch.txt");
const KILLED: &str = include_str!("fixtures/launchd/killed.txt");
const PRINT_DISABLED: &str = include_str!("fixtures/launchd/print-disabled.txt");
const BOOTSTRAP_DISABLED: &str = include_str!("fixtures/launchd/bootstrap-disabled.txt");

fn macos_layout() -> Layout {
    Layout {
        data_dir: "/Users/me/Library/Application Support/Hearth".into(),
        log_dir: "/Users/me/Library/Logs/Hearth".into(),
    }
}

// ---- plists ----

/// Renders the template's service, has plistlib read it back, and compares the XML.
fn check_plist(template: ServiceTemplate, input: TemplateInput, expected: Expect) {
    let file = templates::render(template, input).unwrap();
    let spec = ServiceSpec::resolve(template.as_str(), &file, &macos_layout());
    let xml = launchd::render(&spec, launchd::BUNDLE_ID).unwrap();
    validate_with_plistlib(&xml, &spec.label());
    expected.assert_eq(std::str::from_utf8(&xml).unwrap());
}

const PLISTLIB_CHECK: &str = r#"
import plistlib, sys
d = plistlib.load(open(sys.argv[1], "rb"))
def need(key, kind):
    if not isinstance(d.get(key), kind):
        sys.exit(f"{key}: expected {kind}, got {d.get(key)!r}")
need("Label", str)
if d["Label"] != sys.argv[2]:
    sys.exit(f"Label is {d['Label']!r}")
need("ProgramArguments", list)
if not d["ProgramArguments"] or not all(isinstance(a, str) for a in d["ProgramArguments"]):
    sys.exit("ProgramArguments must be non-empty strings")
need("EnvironmentVariables", dict)
if not isinstance(d["EnvironmentVariables"].get("PATH"), str):
    sys.exit("EnvironmentVariables.PATH is missing")
need("WorkingDirectory", str)
if d.get("RunAtLoad") is not True:
    sys.exit("RunAtLoad must be true")
need("KeepAlive", (bool, dict))
if isinstance(d["KeepAlive"], dict) and d["KeepAlive"] != {"SuccessfulExit": False}:
    sys.exit(f"KeepAlive is {d['KeepAlive']!r}")
if d.get("ProcessType") != "Interactive":
    sys.exit("ProcessType must be Interactive")
need("ThrottleInterval", int)
need("AssociatedBundleIdentifiers", list)
if not all(isinstance(i, str) for i in d["AssociatedBundleIdentifiers"]):
    sys.exit("AssociatedBundleIdentifiers must be strings")
need("StandardOutPath", str)
need("StandardErrorPath", str)
"#;

fn validate_with_plistlib(xml: &[u8], label: &str) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("agent.plist");
    std::fs::write(&path, xml).unwrap();
    let output = Command::new("python3")
        .args(["-c", PLISTLIB_CHECK])
        .arg(&path)
        .arg(label)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "plistlib refused the plist ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn ollama_plist() {
    check_plist(
        ServiceTemplate::Ollama,
        TemplateInput {
            program: Some("/opt/homebrew/bin/ollama".into()),
            provider: Some("ollama".into()),
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.ollama</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/opt/homebrew/bin/ollama</string>
            		<string>serve</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>OLLAMA_FLASH_ATTENTION</key>
            		<string>1</string>
            		<key>OLLAMA_HOST</key>
            		<string>127.0.0.1:11434</string>
            		<key>OLLAMA_KEEP_ALIVE</key>
            		<string>24h</string>
            		<key>OLLAMA_KV_CACHE_TYPE</key>
            		<string>q8_0</string>
            		<key>PATH</key>
            		<string>/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/ollama</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/ollama.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/ollama.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn mlx_lm_plist() {
    check_plist(
        ServiceTemplate::MlxLm,
        TemplateInput {
            model: Some("mlx-community/Qwen3-30B-A3B-4bit".into()),
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.mlx-lm</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/opt/homebrew/bin/mlx_lm.server</string>
            		<string>--model</string>
            		<string>mlx-community/Qwen3-30B-A3B-4bit</string>
            		<string>--host</string>
            		<string>127.0.0.1</string>
            		<string>--port</string>
            		<string>8080</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>PATH</key>
            		<string>/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/mlx-lm</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/mlx-lm.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/mlx-lm.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn llama_server_plist() {
    check_plist(
        ServiceTemplate::LlamaServer,
        TemplateInput {
            model: Some("/Users/me/models/Qwen3 8B Q4_K_M.gguf".into()),
            port: Some(9001),
            extra_args: vec!["--jinja".into(), "-c".into(), "32768".into()],
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.llama-server</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/opt/homebrew/bin/llama-server</string>
            		<string>-m</string>
            		<string>/Users/me/models/Qwen3 8B Q4_K_M.gguf</string>
            		<string>--host</string>
            		<string>127.0.0.1</string>
            		<string>--port</string>
            		<string>9001</string>
            		<string>--jinja</string>
            		<string>-c</string>
            		<string>32768</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>PATH</key>
            		<string>/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/llama-server</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/llama-server.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/llama-server.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn whisper_plist() {
    check_plist(
        ServiceTemplate::Whisper,
        TemplateInput {
            model: Some("/Users/me/models/ggml-large-v3-turbo.bin".into()),
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.whisper</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/opt/homebrew/bin/whisper-server</string>
            		<string>--host</string>
            		<string>127.0.0.1</string>
            		<string>--port</string>
            		<string>8178</string>
            		<string>--model</string>
            		<string>/Users/me/models/ggml-large-v3-turbo.bin</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>PATH</key>
            		<string>/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/whisper</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/whisper.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/whisper.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn tts_plist() {
    check_plist(
        ServiceTemplate::Tts,
        TemplateInput {
            program: Some("/Users/me/.local/bin/kokoro-server".into()),
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.tts</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/Users/me/.local/bin/kokoro-server</string>
            		<string>--host</string>
            		<string>127.0.0.1</string>
            		<string>--port</string>
            		<string>8179</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>PATH</key>
            		<string>/Users/me/.local/bin:/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/tts</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/tts.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/tts.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn custom_plist_escapes_xml() {
    check_plist(
        ServiceTemplate::Custom,
        TemplateInput {
            program: Some("/Users/me/bin/serve & log".into()),
            extra_args: vec!["--banner=<hearth>".into()],
            ..TemplateInput::default()
        },
        expect![[r#"
            <?xml version="1.0" encoding="UTF-8"?>
            <!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
            <plist version="1.0">
            <dict>
            	<key>Label</key>
            	<string>app.hearth.custom</string>
            	<key>ProgramArguments</key>
            	<array>
            		<string>/Users/me/bin/serve &amp; log</string>
            		<string>--banner=&lt;hearth&gt;</string>
            	</array>
            	<key>EnvironmentVariables</key>
            	<dict>
            		<key>PATH</key>
            		<string>/Users/me/bin:/opt/homebrew/bin:/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin</string>
            	</dict>
            	<key>WorkingDirectory</key>
            	<string>/Users/me/Library/Application Support/Hearth/services/custom</string>
            	<key>RunAtLoad</key>
            	<true/>
            	<key>KeepAlive</key>
            	<dict>
            		<key>SuccessfulExit</key>
            		<false/>
            	</dict>
            	<key>ProcessType</key>
            	<string>Interactive</string>
            	<key>ThrottleInterval</key>
            	<integer>10</integer>
            	<key>AssociatedBundleIdentifiers</key>
            	<array>
            		<string>app.hearth.Hearth</string>
            	</array>
            	<key>StandardOutPath</key>
            	<string>/Users/me/Library/Logs/Hearth/custom.log</string>
            	<key>StandardErrorPath</key>
            	<string>/Users/me/Library/Logs/Hearth/custom.log</string>
            </dict>
            </plist>
        "#]],
    );
}

#[test]
fn keep_alive_follows_the_restart_policy() {
    let file = templates::render(
        ServiceTemplate::Custom,
        TemplateInput {
            program: Some("/usr/bin/true".into()),
            ..TemplateInput::default()
        },
    )
    .unwrap();
    let keep_alive = |restart| {
        let spec = ServiceSpec::resolve(
            "x",
            &ServiceFile {
                restart,
                ..file.clone()
            },
            &macos_layout(),
        );
        let xml = launchd::render(&spec, launchd::BUNDLE_ID).unwrap();
        validate_with_plistlib(&xml, &spec.label());
        let value = plist::Value::from_reader_xml(xml.as_slice()).unwrap();
        let keep_alive = value
            .as_dictionary()
            .unwrap()
            .get("KeepAlive")
            .unwrap()
            .clone();
        format!("{}: {keep_alive:?}", restart.as_str())
    };
    let actual = [
        RestartPolicy::Always,
        RestartPolicy::OnFailure,
        RestartPolicy::Never,
    ]
    .map(keep_alive)
    .join("\n");
    expect![[r#"
        always: Boolean(true)
        on-failure: Dictionary({"SuccessfulExit": Boolean(false)})
        never: Boolean(false)"#]]
    .assert_eq(&actual);
}

#[test]
fn plists_live_in_the_launch_agents_dir_under_their_label() {
    let file = templates::render(
        ServiceTemplate::Custom,
        TemplateInput {
            program: Some("/usr/bin/true".into()),
            ..TemplateInput::default()
        },
    )
    .unwrap();
    let spec = ServiceSpec::resolve("llama", &file, &macos_layout());
    assert_eq!(
        launchd::plist_path(Path::new("/Users/me/Library/LaunchAgents"), &spec),
        Path::new("/Users/me/Library/LaunchAgents/app.hearth.llama.plist")
    );
    if let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) {
        assert_eq!(
            launchd::launch_agents_dir(),
            Some(Path::new(&home).join("Library/LaunchAgents"))
        );
    }
}

// ---- launchctl print ----

fn check_print(text: &str, restart: RestartPolicy, expected: Expect) {
    let info = parse_print(text);
    let state = info.service_state(restart);
    expected.assert_eq(&format!("{info:?}\n{}", state.as_str()));
}

#[test]
fn print_of_each_fixture() {
    let table = [
        ("running", RUNNING, RestartPolicy::OnFailure),
        ("crashed", CRASHED, RestartPolicy::OnFailure),
        ("crashed", CRASHED, RestartPolicy::Never),
        ("never-exited", NEVER_EXITED, RestartPolicy::OnFailure),
        ("killed", KILLED, RestartPolicy::OnFailure),
        ("killed", KILLED, RestartPolicy::Never),
        (
            "waiting-ex-config",
            WAITING_EX_CONFIG,
            RestartPolicy::Always,
        ),
        ("print-not-found", PRINT_NOT_FOUND, RestartPolicy::OnFailure),
    ];
    let actual = table
        .iter()
        .map(|(name, text, restart)| {
            let info = parse_print(text);
            let state = info.service_state(*restart);
            format!(
                "{name} ({}) => {}\n  {info:?}\n",
                restart.as_str(),
                state.as_str()
            )
        })
        .collect::<String>();
    expect![[r#"
        running (on-failure) => running
          PrintInfo { state: Some("running"), pid: Some(48213), last_exit_code: Some("(never exited)"), runs: Some(1), last_signal: None }
        crashed (on-failure) => restarting
          PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("1"), runs: Some(4), last_signal: None }
        crashed (never) => failed
          PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("1"), runs: Some(4), last_signal: None }
        never-exited (on-failure) => stopped
          PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("(never exited)"), runs: Some(0), last_signal: None }
        killed (on-failure) => restarting
          PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("(never exited)"), runs: Some(1), last_signal: Some("Killed: 9") }
        killed (never) => failed
          PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("(never exited)"), runs: Some(1), last_signal: Some("Killed: 9") }
        waiting-ex-config (always) => restarting
          PrintInfo { state: Some("waiting"), pid: None, last_exit_code: Some("78: EX_CONFIG"), runs: Some(2), last_signal: None }
        print-not-found (on-failure) => unknown
          PrintInfo { state: None, pid: None, last_exit_code: None, runs: None, last_signal: None }
    "#]].assert_eq(&actual);
}

#[test]
fn print_is_read_loosely() {
    // CRLF line ends.
    check_print(
        &RUNNING.replace('\n', "\r\n"),
        RestartPolicy::OnFailure,
        expect![[r#"
            PrintInfo { state: Some("running"), pid: Some(48213), last_exit_code: Some("(never exited)"), runs: Some(1), last_signal: None }
            running"#]],
    );
    // No enclosing block, odd indentation, unknown lines, a clean exit.
    check_print(
        "  state = not running\n\tweird line\n      last exit code = 0\nruns = 2\n",
        RestartPolicy::Always,
        expect![[r#"
            PrintInfo { state: Some("not running"), pid: None, last_exit_code: Some("0"), runs: Some(2), last_signal: None }
            stopped"#]],
    );
    // Keys only inside nested blocks do not count.
    check_print(
        "gui/501/app.hearth.x = {\n\tevent triggers = {\n\t\tstate = running\n\t\tpid = 7\n\t}\n}\n",
        RestartPolicy::OnFailure,
        expect![[r#"
            PrintInfo { state: None, pid: None, last_exit_code: None, runs: None, last_signal: None }
            unknown"#]],
    );
    // Not print output at all.
    check_print(
        PRINT_NOT_FOUND,
        RestartPolicy::OnFailure,
        expect![[r#"
            PrintInfo { state: None, pid: None, last_exit_code: None, runs: None, last_signal: None }
            unknown"#]],
    );
    check_print(
        "",
        RestartPolicy::OnFailure,
        expect![[r#"
            PrintInfo { state: None, pid: None, last_exit_code: None, runs: None, last_signal: None }
            unknown"#]],
    );
}

// ---- command sequences ----

/// A `launchctl` that expects a script of commands and answers each with its recorded outcome.
struct Recorded {
    script: RefCell<VecDeque<(String, Outcome)>>,
    ran: RefCell<Vec<String>>,
}

impl Launchctl for Recorded {
    fn run(&self, args: &[String]) -> std::io::Result<Outcome> {
        let command = args.join(" ");
        self.ran.borrow_mut().push(command.clone());
        match self.script.borrow_mut().pop_front() {
            Some((expected, outcome)) if expected == command => Ok(outcome),
            Some((expected, _)) => Err(std::io::Error::other(format!("expected `{expected}`"))),
            None => Err(std::io::Error::other("no more commands expected")),
        }
    }
}

fn ok(stdout: &str) -> Outcome {
    Outcome {
        code: 0,
        stdout: stdout.to_owned(),
        stderr: String::new(),
    }
}

fn fails(code: i32, stderr: &str) -> Outcome {
    Outcome {
        code,
        stdout: String::new(),
        stderr: stderr.to_owned(),
    }
}

/// A service whose program exists, in a scratch agents dir and data dir.
struct Scratch {
    dir: tempfile::TempDir,
    spec: ServiceSpec,
}

impl Scratch {
    fn new(program: &str, restart: RestartPolicy) -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let file = templates::render(
            ServiceTemplate::Custom,
            TemplateInput {
                program: Some(program.into()),
                ..TemplateInput::default()
            },
        )
        .unwrap();
        let layout = Layout {
            data_dir: dir.path().join("data"),
            log_dir: dir.path().join("logs"),
        };
        let spec = ServiceSpec::resolve("llama", &ServiceFile { restart, ..file }, &layout);
        Scratch { dir, spec }
    }

    fn agents_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("LaunchAgents")
    }

    /// Runs `action` against `script` (`$PLIST` stands for the plist path); checks every scripted
    /// command ran, in order, and nothing else; returns the result.
    fn run<T: std::fmt::Debug>(
        &self,
        script: Vec<(&str, Outcome)>,
        action: impl FnOnce(
            &Launchd<&Recorded>,
            &ServiceSpec,
        ) -> Result<T, hearth_services::ServicesError>,
    ) -> String {
        let plist = self.agents_dir().join("app.hearth.llama.plist");
        let expected: Vec<String> = script
            .iter()
            .map(|(command, _)| command.replace("$PLIST", &plist.to_string_lossy()))
            .collect();
        let recorded = Recorded {
            script: RefCell::new(
                expected
                    .iter()
                    .cloned()
                    .zip(script.into_iter().map(|(_, o)| o))
                    .collect(),
            ),
            ran: RefCell::default(),
        };
        let driver = Launchd::new(&recorded, "gui/501".to_owned(), self.agents_dir())
            .with_retry_delay(Duration::ZERO);
        let result = action(&driver, &self.spec);
        assert_eq!(*recorded.ran.borrow(), expected);
        match result {
            Ok(value) => format!("{value:?}"),
            Err(error) => format!("error: {error}"),
        }
    }

    /// A service whose plist is installed.
    fn installed(program: &str) -> Scratch {
        let scratch = Scratch::new(program, RestartPolicy::OnFailure);
        let installed = scratch.run(vec![], |driver, spec| driver.install(spec));
        assert!(!installed.starts_with("error"), "{installed}");
        scratch
    }
}

#[test]
fn start_when_not_loaded_bootstraps() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(vec![("bootstrap gui/501 $PLIST", ok(""))], |d, s| {
        d.start(s)
    });
    expect!["()"].assert_eq(&result);
}

#[test]
fn start_when_loaded_and_running_does_not_bootstrap_again() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            ("bootstrap gui/501 $PLIST", fails(5, BOOTSTRAP_EIO)),
            ("print gui/501/app.hearth.llama", ok(RUNNING)),
        ],
        |d, s| d.start(s),
    );
    expect!["()"].assert_eq(&result);
}

#[test]
fn start_when_loaded_but_not_running_kickstarts() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            (
                "bootstrap gui/501 $PLIST",
                fails(37, "Bootstrap failed: 37: Operation already in progress\n"),
            ),
            ("print gui/501/app.hearth.llama", ok(CRASHED)),
            ("kickstart gui/501/app.hearth.llama", ok("")),
        ],
        |d, s| d.start(s),
    );
    expect!["()"].assert_eq(&result);
}

#[test]
fn start_while_booting_out_retries_the_bootstrap() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            ("bootstrap gui/501 $PLIST", fails(5, BOOTSTRAP_EIO)),
            (
                "print gui/501/app.hearth.llama",
                fails(113, PRINT_NOT_FOUND),
            ),
            ("bootstrap gui/501 $PLIST", ok("")),
        ],
        |d, s| d.start(s),
    );
    expect!["()"].assert_eq(&result);
}

#[test]
fn start_gives_up_after_five_attempts_and_says_what_to_do() {
    let scratch = Scratch::installed("/bin/sh");
    let script = (0..5)
        .flat_map(|_| {
            [
                ("bootstrap gui/501 $PLIST", fails(5, BOOTSTRAP_EIO)),
                (
                    "print gui/501/app.hearth.llama",
                    fails(113, PRINT_NOT_FOUND),
                ),
            ]
        })
        .collect();
    let mut script: Vec<(&str, Outcome)> = script;
    script.push(("print-disabled gui/501", ok(PRINT_DISABLED)));
    let result = scratch.run(script, |d, s| d.start(s));
    expect!["error: launchctl bootstrap failed for app.hearth.llama: exit 5: Bootstrap failed: 5: Input/output error (after 5 attempts; try `launchctl bootout gui/501/app.hearth.llama` and start again)"].assert_eq(&result);
}

#[test]
fn start_of_a_service_that_is_not_installed_runs_nothing() {
    let scratch = Scratch::new("/bin/sh", RestartPolicy::OnFailure);
    let result = scratch.run(vec![], |d, s| d.start(s));
    let result = result.replace(&*scratch.dir.path().to_string_lossy(), "$TMP");
    expect!["error: launchctl bootstrap failed for app.hearth.llama: $TMP/LaunchAgents/app.hearth.llama.plist does not exist; install the service first"].assert_eq(&result);
}

#[test]
fn start_reports_other_bootstrap_failures_at_once() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![(
            "bootstrap gui/501 $PLIST",
            fails(1, "Bootstrap failed: 1: Operation not permitted\n"),
        )],
        |d, s| d.start(s),
    );
    expect!["error: launchctl bootstrap failed for app.hearth.llama: exit 1: Bootstrap failed: 1: Operation not permitted"].assert_eq(&result);
}

#[test]
fn stop_boots_out_waits_until_unloaded_and_removes_the_plist() {
    // The plist stays only while the service should run: launchd loads every plist in
    // ~/Library/LaunchAgents at login, so a stopped service must not leave one behind.
    let scratch = Scratch::installed("/bin/sh");
    let plist = scratch.agents_dir().join("app.hearth.llama.plist");
    assert!(plist.is_file());
    let result = scratch.run(
        vec![
            ("bootout gui/501/app.hearth.llama", ok("")),
            // Still on its way out, then gone.
            ("print gui/501/app.hearth.llama", ok(RUNNING)),
            (
                "print gui/501/app.hearth.llama",
                fails(113, PRINT_NOT_FOUND),
            ),
        ],
        |d, s| d.stop(s),
    );
    expect!["()"].assert_eq(&result);
    assert!(
        !plist.exists(),
        "a stopped service does not come back at login"
    );
}

#[test]
fn stop_keeps_the_plist_when_launchd_refuses() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![(
            "bootout gui/501/app.hearth.llama",
            fails(1, "Boot-out failed: 1: Operation not permitted\n"),
        )],
        |d, s| d.stop(s),
    );
    expect!["error: launchctl bootout failed for app.hearth.llama: exit 1: Boot-out failed: 1: Operation not permitted"].assert_eq(&result);
    assert!(
        scratch
            .agents_dir()
            .join("app.hearth.llama.plist")
            .is_file()
    );
}

#[test]
fn stop_of_a_service_that_will_not_unload_says_so() {
    let scratch = Scratch::installed("/bin/sh");
    let mut script = vec![("bootout gui/501/app.hearth.llama", ok(""))];
    script.extend((0..5).map(|_| ("print gui/501/app.hearth.llama", ok(RUNNING))));
    let result = scratch.run(script, |d, s| d.stop(s));
    expect!["error: launchctl bootout failed for app.hearth.llama: the service is still loaded after 5 checks; see `launchctl print gui/501/app.hearth.llama`"].assert_eq(&result);
}

#[test]
fn stop_when_not_loaded_is_fine() {
    let scratch = Scratch::new("/bin/sh", RestartPolicy::OnFailure);
    for outcome in [
        fails(
            113,
            "Boot-out failed: 113: Could not find specified service\n",
        ),
        fails(3, BOOTOUT_ESRCH),
    ] {
        let result = scratch.run(
            vec![("bootout gui/501/app.hearth.llama", outcome)],
            |d, s| d.stop(s),
        );
        assert_eq!(result, "()");
    }
}

#[test]
fn stop_reports_other_failures() {
    let scratch = Scratch::new("/bin/sh", RestartPolicy::OnFailure);
    let result = scratch.run(
        vec![("bootout gui/501/app.hearth.llama", fails(150, "Boot-out failed: 150: Operation not permitted while System Integrity Protection is engaged\n"))],
        |d, s| d.stop(s),
    );
    expect!["error: launchctl bootout failed for app.hearth.llama: exit 150: Boot-out failed: 150: Operation not permitted while System Integrity Protection is engaged"].assert_eq(&result);
}

#[test]
fn restart_unloads_and_loads_the_current_plist() {
    // Not `kickstart -k`, which would start the definition launchd loaded before the change.
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            ("bootout gui/501/app.hearth.llama", ok("")),
            (
                "print gui/501/app.hearth.llama",
                fails(113, PRINT_NOT_FOUND),
            ),
            ("bootstrap gui/501 $PLIST", ok("")),
        ],
        |d, s| d.restart(s),
    );
    expect!["()"].assert_eq(&result);
    assert!(
        scratch
            .agents_dir()
            .join("app.hearth.llama.plist")
            .is_file(),
        "a restarted service keeps its plist"
    );
}

#[test]
fn restart_when_not_loaded_bootstraps() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            (
                "bootout gui/501/app.hearth.llama",
                fails(
                    113,
                    "Boot-out failed: 113: Could not find specified service\n",
                ),
            ),
            ("bootstrap gui/501 $PLIST", ok("")),
        ],
        |d, s| d.restart(s),
    );
    expect!["()"].assert_eq(&result);
}

#[test]
fn start_of_a_label_switched_off_in_login_items_says_where_to_switch_it_on() {
    let expected = expect![[
        r#"error: launchctl bootstrap failed for app.hearth.llama: macOS does not allow it to run: it is switched off in System Settings → General → Login Items (under "Allow in the Background", as Hearth), or was disabled with `launchctl disable`. Switch Hearth on there (or run `launchctl enable gui/501/app.hearth.llama`) and start it again"#
    ]];
    // launchd says so: 119.
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![("bootstrap gui/501 $PLIST", fails(119, BOOTSTRAP_DISABLED))],
        |d, s| d.start(s),
    );
    expected.assert_eq(&result);
    // launchd answers only 5, not loaded, every time; print-disabled tells why.
    let disabled = PRINT_DISABLED.replace("app.hearth.llama-server", "app.hearth.llama");
    let mut script: Vec<(&str, Outcome)> = (0..5)
        .flat_map(|_| {
            [
                ("bootstrap gui/501 $PLIST", fails(5, BOOTSTRAP_EIO)),
                (
                    "print gui/501/app.hearth.llama",
                    fails(113, PRINT_NOT_FOUND),
                ),
            ]
        })
        .collect();
    script.push(("print-disabled gui/501", ok(&disabled)));
    let result = scratch.run(script, |d, s| d.start(s));
    expected.assert_eq(&result);
}

#[test]
fn print_disabled_lists_the_labels_switched_off() {
    let labels = launchd::parse_disabled(PRINT_DISABLED);
    expect![[r#"["com.apple.ScreenReaderUIServer", "app.hearth.llama-server"]"#]]
        .assert_eq(&format!("{labels:?}"));
    // Before macOS 13 the values were booleans; login item associations are not services.
    let old = "disabled services = {\n\t\"app.hearth.ollama\" => true\n\t\"app.hearth.x\" => false\n}\nlogin item associations = {\n\t\"app.hearth.y\" => disabled\n}\n";
    expect![[r#"["app.hearth.ollama"]"#]].assert_eq(&format!("{:?}", launchd::parse_disabled(old)));
}

#[test]
fn status_reads_print() {
    let check = |restart, print: Outcome, expected: Expect| {
        let scratch = Scratch::new("/bin/sh", restart);
        let result = scratch.run(vec![("print gui/501/app.hearth.llama", print)], |d, s| {
            d.status(s)
        });
        expected.assert_eq(&result);
    };
    check(
        RestartPolicy::OnFailure,
        ok(RUNNING),
        expect![[
            r#"ServiceStatus { name: "llama", state: Running, pid: Some(48213), restarts: 0, last_exit: None }"#
        ]],
    );
    check(
        RestartPolicy::OnFailure,
        ok(CRASHED),
        expect![[
            r#"ServiceStatus { name: "llama", state: Restarting, pid: None, restarts: 3, last_exit: Some("exit status 1") }"#
        ]],
    );
    check(
        RestartPolicy::Never,
        ok(CRASHED),
        expect![[
            r#"ServiceStatus { name: "llama", state: Failed, pid: None, restarts: 3, last_exit: Some("exit status 1") }"#
        ]],
    );
    check(
        RestartPolicy::OnFailure,
        ok(NEVER_EXITED),
        expect![[
            r#"ServiceStatus { name: "llama", state: Stopped, pid: None, restarts: 0, last_exit: None }"#
        ]],
    );
    // Killed by the system (or anyone but Hearth, which unloads what it stops): not "stopped".
    check(
        RestartPolicy::Never,
        ok(KILLED),
        expect![[
            r#"ServiceStatus { name: "llama", state: Failed, pid: None, restarts: 0, last_exit: Some("signal 9 (Killed)") }"#
        ]],
    );
    check(
        RestartPolicy::Always,
        ok(WAITING_EX_CONFIG),
        expect![[
            r#"ServiceStatus { name: "llama", state: Restarting, pid: None, restarts: 1, last_exit: Some("exit status 78 (EX_CONFIG)") }"#
        ]],
    );
    check(
        RestartPolicy::OnFailure,
        fails(113, PRINT_NOT_FOUND),
        expect![[
            r#"ServiceStatus { name: "llama", state: Stopped, pid: None, restarts: 0, last_exit: None }"#
        ]],
    );
    check(
        RestartPolicy::OnFailure,
        ok("gibberish\n"),
        expect![[
            r#"ServiceStatus { name: "llama", state: Unknown, pid: None, restarts: 0, last_exit: None }"#
        ]],
    );
}

#[test]
fn install_writes_the_plist_and_the_directories_it_names() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new("/bin/sh", RestartPolicy::OnFailure);
    let path = scratch.run(vec![], |d, s| d.install(s));
    let plist = scratch.agents_dir().join("app.hearth.llama.plist");
    assert_eq!(path, format!("{plist:?}"));
    assert_eq!(
        std::fs::read(&plist).unwrap(),
        launchd::render(&scratch.spec, launchd::BUNDLE_ID).unwrap()
    );
    assert_eq!(
        std::fs::metadata(&plist).unwrap().permissions().mode() & 0o777,
        0o644
    );
    let entries: Vec<_> = std::fs::read_dir(scratch.agents_dir())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(
        entries,
        ["app.hearth.llama.plist"],
        "no temporary file is left behind"
    );
    assert!(scratch.spec.log_file.parent().unwrap().is_dir());
    assert!(scratch.spec.working_dir.is_dir());
}

#[test]
fn install_refuses_a_missing_program_and_writes_nothing() {
    let scratch = Scratch::new("/no/such/llama-server", RestartPolicy::OnFailure);
    let result = scratch.run(vec![], |d, s| d.install(s));
    expect!["error: service `llama`: program /no/such/llama-server does not exist; install it or fix `services.llama.program`"].assert_eq(&result);
    assert!(!scratch.agents_dir().exists());
}

#[test]
fn uninstall_boots_out_and_removes_the_plist() {
    let scratch = Scratch::installed("/bin/sh");
    let result = scratch.run(
        vec![
            ("bootout gui/501/app.hearth.llama", ok("")),
            (
                "print gui/501/app.hearth.llama",
                fails(113, PRINT_NOT_FOUND),
            ),
        ],
        |d, s| d.uninstall(s),
    );
    assert_eq!(result, "()");
    assert!(!scratch.agents_dir().join("app.hearth.llama.plist").exists());
    // Again, with nothing loaded and no file left.
    let result = scratch.run(
        vec![("bootout gui/501/app.hearth.llama", fails(3, BOOTOUT_ESRCH))],
        |d, s| d.uninstall(s),
    );
    assert_eq!(result, "()");
}
