//! The real `KeyringStore` on Linux: set, get, overwrite and delete a uniquely named entry in the
//! kernel keyring and in whatever `KeyringStore::new` picks; an entry written by one thread read
//! by another thread and another process; and (with `--include-ignored`) the same round trip in
//! the Secret Service. An unusable backend fails the test with the store's own explanation of
//! what to install or run; nothing is skipped quietly.
//!
//! The kernel keyring needs no wrapper (the store joins a session keyring itself), only the
//! keyctl system calls, which Docker's default seccomp profile blocks. The Secret Service test
//! needs a D-Bus session with an unlocked keyring (Debian packages dbus-daemon, gnome-keyring);
//! use a throwaway HOME so the test keyring is not the user's:
//!   T=$(mktemp -d)
//!   CARGO_HOME=${CARGO_HOME:-$HOME/.cargo} RUSTUP_HOME=${RUSTUP_HOME:-$HOME/.rustup} \
//!   HOME=$T XDG_DATA_HOME=$T/data dbus-run-session -- sh -c \
//!     'printf hearth-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
//!      cargo test -p hearth-secrets --test keyring_linux -- --include-ignored'

#![cfg(target_os = "linux")]
#![expect(
    clippy::panic,
    clippy::print_stderr,
    reason = "helpers outside #[test] fns: failing loudly, and saying why, is their job"
)]

use std::time::{SystemTime, UNIX_EPOCH};

use hearth_secrets::{Backend, KeyringStore, Secret, SecretStore};

/// An entry name no other run uses, deleted again when the guard drops (even if the test fails).
struct Scratch<'a> {
    store: &'a KeyringStore,
    name: String,
}

impl<'a> Scratch<'a> {
    fn new(store: &'a KeyringStore, test: &str) -> Scratch<'a> {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_nanos());
        let name = format!("hearth-test.{test}.{}.{nanos}", std::process::id());
        Scratch { store, name }
    }
}

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.store.delete(&self.name) {
            eprintln!("could not clean up {}: {error}", self.name);
        }
    }
}

fn open(backend: Option<Backend>) -> KeyringStore {
    let opened = match backend {
        Some(backend) => KeyringStore::with_backend(backend),
        None => KeyringStore::new(),
    };
    opened.unwrap_or_else(|error| panic!("cannot open the platform secret store: {error}"))
}

/// Fails with the store's error, which says what to install or run.
fn must<T>(step: &str, store: &KeyringStore, result: Result<T, hearth_secrets::SecretsError>) -> T {
    result.unwrap_or_else(|error| panic!("{step} failed in the {}: {error}", store.backend()))
}

fn round_trip(store: &KeyringStore, test: &str) {
    let scratch = Scratch::new(store, test);
    let name = scratch.name.as_str();
    let read = |step| must(step, store, store.get(name)).map(|value| value.expose().clone());

    assert_eq!(read("first read"), None);
    must(
        "write",
        store,
        store.set(name, &Secret::new("hth_first".to_owned())),
    );
    assert_eq!(read("read after write").as_deref(), Some("hth_first"));
    must(
        "overwrite",
        store,
        store.set(name, &Secret::new("hth_second".to_owned())),
    );
    assert_eq!(read("read after overwrite").as_deref(), Some("hth_second"));
    must("delete", store, store.delete(name));
    assert_eq!(read("read after delete"), None);
    must("delete of a missing entry", store, store.delete(name));

    let debug = format!("{store:?}");
    assert!(!debug.contains("hth_"), "{debug}");
}

#[test]
fn kernel_keyring_round_trip() {
    let store = open(Some(Backend::KernelKeyring));
    assert!(!store.backend().survives_reboot());
    round_trip(&store, "kernel");
}

/// Another thread (one that never joined a session keyring) and another process must see what
/// this one wrote: that is how the CLI and the gateway share tokens.
#[test]
fn kernel_keyring_is_shared_across_threads_and_processes() {
    if let Ok(name) = std::env::var(CHILD_READS) {
        // The child process: print what the parent wrote.
        let store = open(Some(Backend::KernelKeyring));
        let value = must("read in the child process", &store, store.get(&name));
        println!(
            "child read: {:?}",
            value.map(|value| value.expose().clone())
        );
        return;
    }

    // Spawned before this thread touches the keyring, so it has no session keyring of its own.
    let (go, wait) = std::sync::mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        let name = wait.recv().unwrap();
        let store = open(Some(Backend::KernelKeyring));
        must("read in another thread", &store, store.get(&name)).map(|value| value.expose().clone())
    });

    let store = open(Some(Backend::KernelKeyring));
    let scratch = Scratch::new(&store, "shared");
    must(
        "write",
        &store,
        store.set(&scratch.name, &Secret::new("hth_shared".to_owned())),
    );

    go.send(scratch.name.clone()).unwrap();
    assert_eq!(reader.join().unwrap().as_deref(), Some("hth_shared"));

    let test = "kernel_keyring_is_shared_across_threads_and_processes";
    let child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env(CHILD_READS, &scratch.name)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&child.stdout);
    assert!(
        stdout.contains(r#"child read: Some("hth_shared")"#),
        "the child process did not read the entry:\n{stdout}\n{}",
        String::from_utf8_lossy(&child.stderr)
    );
}

const CHILD_READS: &str = "HEARTH_TEST_CHILD_READS";

#[test]
fn default_store_round_trip() {
    let store = open(None);
    eprintln!("KeyringStore::new() chose the {}", store.backend());
    round_trip(&store, "default");
}

#[test]
#[ignore = "needs a D-Bus session with an unlocked Secret Service; see this file's header"]
fn secret_service_round_trip() {
    let store = open(Some(Backend::SecretService));
    assert_eq!(
        open(None).backend(),
        Backend::SecretService,
        "the default should prefer it"
    );
    round_trip(&store, "secret-service");
}
