//! Where Hearth's secrets live and how a reference in the config becomes a value. A
//! [`SecretStore`] holds named secrets; [`KeyringStore`] is the platform's own store and
//! [`MemoryStore`] the one unit tests use. [`resolve`] turns a [`SecretRef`] (`keychain:NAME` or
//! `env:NAME`) into a [`Secret`], and the [`token`](generate_token) functions create, keep and
//! rotate the admin and client tokens. No function here ever puts a secret value into an error,
//! a log line or a `Debug` string.
//!
//! # Which platform store
//!
//! - **macOS**: the login Keychain, one generic password per secret (service `app.hearth`,
//!   account `NAME`).
//! - **Linux**: the Secret Service (gnome-keyring, KeePassXC, KWallet) when one answers on the
//!   D-Bus session bus, which keeps secrets on disk, encrypted, across reboots. Otherwise the
//!   kernel keyring (keyutils), which needs no daemon and so works on headless machines, but
//!   lives in kernel memory only: its entries do **not** survive a reboot, and once no session
//!   holds them they expire after `/proc/sys/kernel/keys/persistent_keyring_expiry` (three days
//!   by default) without use. On a headless server, give Hearth its secrets as `env:NAME` references (from a
//!   systemd `EnvironmentFile=` or similar) instead; a token kept in the kernel keyring would be
//!   silently replaced by a new one after a reboot. [`Backend::survives_reboot`] lets callers
//!   warn about this.
//!
//! The choice is made once, when [`KeyringStore::new`] runs, so every process of the same user
//! session picks the same store; [`KeyringStore::with_backend`] picks one explicitly. Kernel
//! keyring entries are linked into the user's persistent keyring, which is how the `hearth` CLI
//! and a running gateway of the same user see each other's writes.
//!
//! Store calls block (a D-Bus round trip, a Keychain call that may wait for the user to allow
//! access): async code calls them from `spawn_blocking` or at startup.

mod error;
mod keyring;
mod memory;
mod resolve;
mod token;

pub use error::SecretsError;
pub use hearth_core::{Secret, SecretRef};
pub use keyring::{Backend, KeyringStore, SERVICE};
pub use memory::MemoryStore;
pub use resolve::{resolve, resolve_with_env};
pub use token::{TOKEN_PREFIX, constant_time_eq, ensure_token, generate_token, rotate_token};

/// A store of named secrets. Names follow the `keychain:NAME` rule of [`SecretRef`] (letters,
/// digits, `.`, `_`, `-`); values are never empty.
pub trait SecretStore: Send + Sync {
    /// The secret called `name`, or `None` when there is none.
    fn get(&self, name: &str) -> Result<Option<Secret<String>>, SecretsError>;

    /// Stores `value` as `name`, replacing any previous value.
    fn set(&self, name: &str, value: &Secret<String>) -> Result<(), SecretsError>;

    /// Removes `name`. Removing a secret that does not exist is not an error.
    fn delete(&self, name: &str) -> Result<(), SecretsError>;
}

/// Refuses names a `keychain:` reference could not spell, so every stored secret can be
/// referenced from the config, and the kernel keyring's `NAME@app.hearth` keys cannot collide.
fn check_name(name: &str) -> Result<(), SecretsError> {
    match format!("keychain:{name}").parse::<SecretRef>() {
        Ok(_) => Ok(()),
        Err(_) => Err(SecretsError::BadName {
            name: name.to_owned(),
        }),
    }
}

/// Refuses empty values: the kernel keyring cannot hold them, and an empty token or key is
/// always a mistake.
fn check_value(name: &str, value: &Secret<String>) -> Result<(), SecretsError> {
    if value.expose().is_empty() {
        return Err(SecretsError::EmptyValue {
            name: name.to_owned(),
        });
    }
    Ok(())
}
