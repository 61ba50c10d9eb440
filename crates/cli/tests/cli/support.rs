//! The harness: a [`Hearth`] is one user's machine in miniature — its own configuration file,
//! data directory and secret-store service in a temporary directory — and [`Hearth::run`] runs
//! the real `hearth` binary there and returns what the user would see.

use std::{
    fmt::{self, Write as _},
    fs,
    io::Write as _,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::atomic::{AtomicUsize, Ordering},
    time::{SystemTime, UNIX_EPOCH},
};

use expect_test::Expect;
use hearth_secrets::{KeyringStore, SecretStore};
use tempfile::TempDir;

/// The secrets any command may create: the tokens `config init`, `import-openclaw` and
/// `token show` make. Every [`Hearth`] deletes these when it is dropped, plus what
/// [`Hearth::forget_on_drop`] adds.
const TOKEN_NAMES: [&str; 3] = [
    "hearth.admin",
    "hearth.client.default",
    "hearth.client.openclaw",
];

/// Held by the tests whose Hearth discovers and starts services on its own (the README's quick
/// start, the UI's first run): each proposes a llama-server on the first free port from 8081,
/// and two proposing at once would choose the same one.
pub fn first_run_lock() -> std::sync::MutexGuard<'static, ()> {
    static FIRST_RUN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    FIRST_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The OpenClaw fixtures of hearth-core's import tests.
pub fn openclaw_fixture(dialect: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/fixtures/openclaw")
        .join(format!("{dialect}.json5"))
}

/// A temporary Hearth installation. Dropping it deletes the temporary directory and every
/// secret its commands may have stored, so a failing test leaves nothing in the keyring.
pub struct Hearth {
    dir: TempDir,
    service: String,
    extra_secrets: std::cell::RefCell<Vec<String>>,
}

impl Hearth {
    /// A fresh installation for the test `name`: no configuration file yet, and a keyring
    /// service of its own (`hearth-test-<pid>-<name>-<n>-<nanos>`) so it never sees a user's
    /// real tokens, nor another test's.
    pub fn new(name: &str) -> Hearth {
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.subsec_nanos());
        let service = format!(
            "hearth-test-{}-{name}-{}-{nanos}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        );
        Hearth {
            dir: tempfile::Builder::new()
                .prefix("hearth-cli-test.")
                .tempdir()
                .unwrap(),
            service,
            extra_secrets: std::cell::RefCell::new(Vec::new()),
        }
    }

    /// The temporary directory; `$TMP` in normalised output.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `$TMP/hearth/hearth.json`: one level down, so the first save has to create the
    /// directory (and the test can check it does so privately).
    pub fn config_file(&self) -> PathBuf {
        self.root().join("hearth").join("hearth.json")
    }

    pub fn backup_file(&self) -> PathBuf {
        self.root().join("hearth").join("hearth.json.bak")
    }

    pub fn config_text(&self) -> String {
        fs::read_to_string(self.config_file()).unwrap()
    }

    /// Writes the configuration file directly, as a user with an editor would.
    pub fn write_config(&self, text: &str) {
        let file = self.config_file();
        fs::create_dir_all(file.parent().unwrap()).unwrap();
        fs::write(file, text).unwrap();
    }

    /// Copies an OpenClaw fixture to `$TMP/openclaw.json5` and returns that path as an argument.
    pub fn openclaw_file(&self, dialect: &str) -> String {
        let copy = self.root().join("openclaw.json5");
        fs::copy(openclaw_fixture(dialect), &copy).unwrap();
        copy.to_str().unwrap().to_owned()
    }

    /// `hearth ARGS…` in this installation, with stdin closed.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_hearth"));
        command
            .args(args)
            .env("HEARTH_CONFIG", self.config_file())
            .env("HEARTH_DATA_DIR", self.root().join("data"))
            .env("HEARTH_KEYRING_SERVICE", &self.service)
            // On a Mac, never a LaunchAgent of the developer's session.
            .env("HEARTH_SERVICE_DRIVER", "supervisor")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    pub fn run(&self, args: &[&str]) -> Output {
        let output = self.command(args).output().unwrap();
        self.output(args, output)
    }

    /// `hearth ARGS…` with `stdin` piped in, like `printf VALUE | hearth secret set NAME`.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self.command(args).stdin(Stdio::piped()).spawn().unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let output = child.wait_with_output().unwrap();
        self.output(args, output)
    }

    fn output(&self, args: &[&str], output: std::process::Output) -> Output {
        let stdout = String::from_utf8(output.stdout).unwrap();
        let stderr = String::from_utf8(output.stderr).unwrap();
        let volatile_note = volatile_store_note();
        let noted_volatile_store = volatile_note
            .as_deref()
            .is_some_and(|note| stderr.lines().any(|line| line == note));
        let shown_stderr: String = stderr
            .lines()
            .filter(|line| Some(*line) != volatile_note.as_deref())
            .map(|line| format!("{line}\n"))
            .collect();
        Output {
            args: args.iter().map(|arg| self.normalise(arg)).collect(),
            code: output.status.code(),
            stdout: self.normalise(&stdout),
            stderr: self.normalise(&shown_stderr),
            raw_stdout: stdout,
            raw_stderr: stderr,
            noted_volatile_store,
        }
    }

    /// Replaces the temporary directory with `$TMP` and every Hearth token with `$TOKEN`, so
    /// snapshots depend on neither.
    pub fn normalise(&self, text: &str) -> String {
        mask_tokens(&text.replace(self.root().to_str().unwrap(), "$TMP"))
    }

    /// The secret store this installation's commands use.
    pub fn store(&self) -> KeyringStore {
        KeyringStore::new().unwrap().with_service(&self.service)
    }

    /// The secret `name` as the installation's commands would read it.
    pub fn secret(&self, name: &str) -> Option<String> {
        self.store()
            .get(name)
            .unwrap()
            .map(|value| value.expose().clone())
    }

    /// Deletes the secret `name` too when this installation is dropped.
    pub fn forget_on_drop(&self, name: &str) {
        self.extra_secrets.borrow_mut().push(name.to_owned());
    }
}

impl Drop for Hearth {
    fn drop(&mut self) {
        let Ok(store) = KeyringStore::new() else {
            return;
        };
        let store = store.with_service(&self.service);
        let extra = self.extra_secrets.borrow();
        for name in TOKEN_NAMES
            .iter()
            .copied()
            .chain(extra.iter().map(String::as_str))
        {
            // Best effort: a panic here, during a failing test's unwinding, would abort.
            let _ = store.delete(name);
        }
    }
}

/// The note `hearth` prints after creating a secret in a store that does not survive a
/// reboot (the kernel keyring), or `None` where the store does (a Secret Service, the macOS
/// Keychain). Which one a machine has is not the test's business, so the line is taken out of
/// the output before it is compared, and recorded in [`Output::noted_volatile_store`].
pub fn volatile_store_note() -> Option<String> {
    let backend = KeyringStore::new().unwrap().backend();
    (!backend.survives_reboot()).then(|| {
        format!(
            "note: the {backend} does not keep secrets across a reboot; on a headless machine use `env:NAME` references"
        )
    })
}

/// What one `hearth` run showed the user.
#[derive(Debug)]
pub struct Output {
    args: Vec<String>,
    /// The exit code; `None` when a signal ended the process.
    pub code: Option<i32>,
    /// With `$TMP` for the temporary directory.
    pub stdout: String,
    pub stderr: String,
    /// As printed, for looking for secrets.
    pub raw_stdout: String,
    pub raw_stderr: String,
    /// Whether stderr carried the [`volatile_store_note`] (taken out of `stderr`).
    pub noted_volatile_store: bool,
}

impl Output {
    /// Asserts the exit code, showing the whole transcript when it is not the one expected.
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Output {
        assert_eq!(self.code, Some(code), "{self}");
        self
    }

    /// Parses stdout as JSON.
    #[track_caller]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.raw_stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}):\n{self}"))
    }

    /// Whether `needle` appears anywhere in what the user saw.
    pub fn shows(&self, needle: &str) -> bool {
        self.raw_stdout.contains(needle) || self.raw_stderr.contains(needle)
    }
}

/// The transcript a user would see in a terminal: the command, stdout, then stderr (marked),
/// then the exit code.
impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = format!("$ hearth {}\n", self.args.join(" "));
        out.push_str(&self.stdout);
        if !self.stdout.is_empty() && !self.stdout.ends_with('\n') {
            out.push('\n');
        }
        if !self.stderr.is_empty() {
            out.push_str("[stderr]\n");
            out.push_str(&self.stderr);
        }
        match self.code {
            Some(code) => writeln!(out, "[exit {code}]")?,
            None => writeln!(out, "[killed by a signal]")?,
        }
        f.write_str(&out)
    }
}

/// `text` with each Hearth token (`hth_` and 64 hex digits) replaced by `$TOKEN`.
fn mask_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("hth_") {
        let (before, from) = rest.split_at(start);
        out.push_str(before);
        let hex = from["hth_".len()..]
            .bytes()
            .take_while(u8::is_ascii_hexdigit)
            .count();
        if hex == 64 {
            out.push_str("$TOKEN");
            rest = &from["hth_".len() + hex..];
        } else {
            out.push_str("hth_");
            rest = &from["hth_".len()..];
        }
    }
    out.push_str(rest);
    out
}

/// Pins a run's whole transcript.
#[track_caller]
pub fn check(output: &Output, expected: Expect) {
    expected.assert_eq(&output.to_string());
}

/// Unix permission bits of a file or directory.
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o777
}
