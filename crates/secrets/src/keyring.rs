//! The platform's secret store, reached through `keyring-core` and one store crate per platform
//! (the keyring 4 family). Every secret is the entry (service [`SERVICE`], user `NAME`). The
//! platform files only say which backends exist and how to open one; everything else, including
//! the translation of keyring errors into [`SecretsError`]s that carry no secret bytes, is here.

use std::{fmt, sync::Arc};

use keyring_core::{CredentialStore, Entry, Error as KeyringError};

use crate::{Secret, SecretStore, SecretsError, check_name, check_value};

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
use linux as platform;

#[cfg(target_os = "macos")]
mod macos;
#[cfg(target_os = "macos")]
use macos as platform;

#[cfg(not(any(target_os = "linux", target_os = "macos")))]
mod platform {
    //! No supported store on this platform: every backend is absent.
    use super::{Backend, CredentialStore};

    pub(super) const DEFAULT_ORDER: &[Backend] = &[];

    pub(super) fn open(
        _: Backend,
    ) -> Option<keyring_core::Result<std::sync::Arc<CredentialStore>>> {
        None
    }
}

/// The keyring service every Hearth secret is filed under; the secret's name is the user.
pub const SERVICE: &str = "app.hearth";

/// The store behind a [`KeyringStore`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// The macOS login Keychain.
    MacosKeychain,
    /// A freedesktop Secret Service (gnome-keyring, KeePassXC, KWallet) on the D-Bus session bus.
    SecretService,
    /// The Linux kernel keyring (keyutils): the session keyring, linked to the user's persistent
    /// keyring. In kernel memory only.
    KernelKeyring,
}

impl Backend {
    /// Whether secrets written to this backend are still there after a reboot.
    pub fn survives_reboot(self) -> bool {
        match self {
            Backend::MacosKeychain | Backend::SecretService => true,
            Backend::KernelKeyring => false,
        }
    }

    /// What the user can do when this backend is not usable.
    pub(crate) fn fix(self) -> &'static str {
        match self {
            Backend::MacosKeychain => {
                "unlock the login keychain (Keychain Access) and allow Hearth when macOS asks"
            }
            Backend::SecretService => {
                "run and unlock a Secret Service in this D-Bus session (Debian: package \
                 gnome-keyring, then `gnome-keyring-daemon --unlock`; or KeePassXC with Secret \
                 Service integration), or write `env:NAME` references in the config instead"
            }
            Backend::KernelKeyring => {
                "run Hearth from a login session or wrap the command in `keyctl session - \
                 COMMAND` (Debian: package keyutils); in a container, allow the keyctl, add_key \
                 and request_key system calls (Docker's default seccomp profile blocks them); or \
                 write `env:NAME` references in the config instead"
            }
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::MacosKeychain => "macOS Keychain",
            Backend::SecretService => "Secret Service",
            Backend::KernelKeyring => "kernel keyring",
        })
    }
}

/// The platform's secret store. See the crate docs for which backend each platform uses.
pub struct KeyringStore {
    backend: Backend,
    store: Arc<CredentialStore>,
    service: String,
}

impl KeyringStore {
    /// The platform's usual store: on macOS the Keychain; on Linux the Secret Service when one
    /// answers on the D-Bus session bus, else the kernel keyring.
    pub fn new() -> Result<KeyringStore, SecretsError> {
        let mut last_error = SecretsError::NoPlatformStore;
        for &backend in platform::DEFAULT_ORDER {
            match KeyringStore::with_backend(backend) {
                Ok(store) => return Ok(store),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    /// The given backend, or an error when it is not on this platform or cannot be opened.
    pub fn with_backend(backend: Backend) -> Result<KeyringStore, SecretsError> {
        match platform::open(backend) {
            None => Err(SecretsError::NotOnThisPlatform { backend }),
            Some(Err(error)) => Err(SecretsError::Unavailable {
                backend,
                detail: error.to_string(),
            }),
            Some(Ok(store)) => Ok(KeyringStore {
                backend,
                store,
                service: SERVICE.to_owned(),
            }),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Files entries under another service than [`SERVICE`]. Tests use their own, so they
    /// never read or replace a user's real tokens.
    pub fn with_service(mut self, service: &str) -> KeyringStore {
        service.clone_into(&mut self.service);
        self
    }

    pub fn service(&self) -> &str {
        &self.service
    }

    fn entry(&self, action: &'static str, name: &str) -> Result<Entry, SecretsError> {
        check_name(name)?;
        self.store
            .build(&self.service, name, None)
            .map_err(|error| self.error(action, name, error))
    }

    /// Translates a keyring error. `BadEncoding` and `BadDataFormat` carry the stored bytes, so
    /// they are never formatted, only named.
    fn error(&self, action: &'static str, name: &str, error: KeyringError) -> SecretsError {
        let backend = self.backend;
        let name = name.to_owned();
        match error {
            KeyringError::BadEncoding(_) | KeyringError::BadDataFormat(..) => {
                SecretsError::NotText { name }
            }
            KeyringError::Ambiguous(entries) => SecretsError::Ambiguous {
                backend,
                name,
                count: entries.len(),
            },
            KeyringError::NoStorageAccess(detail) => SecretsError::Unavailable {
                backend,
                detail: detail.to_string(),
            },
            other => SecretsError::Store {
                backend,
                action,
                name,
                detail: other.to_string(),
            },
        }
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, name: &str) -> Result<Option<Secret<String>>, SecretsError> {
        match self.entry("read", name)?.get_password() {
            Ok(value) => Ok(Some(Secret::new(value))),
            Err(KeyringError::NoEntry) => Ok(None),
            Err(error) => Err(self.error("read", name, error)),
        }
    }

    fn set(&self, name: &str, value: &Secret<String>) -> Result<(), SecretsError> {
        check_value(name, value)?;
        let entry = self.entry("write", name)?;
        entry
            .set_password(value.expose())
            .map_err(|error| self.error("write", name, error))
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        match self.entry("delete", name)?.delete_credential() {
            Ok(()) | Err(KeyringError::NoEntry) => Ok(()),
            Err(error) => Err(self.error("delete", name, error)),
        }
    }
}

impl fmt::Debug for KeyringStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyringStore")
            .field("backend", &self.backend)
            .field("service", &self.service)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    fn check_error(error: SecretsError, expected: Expect) {
        expected.assert_eq(&format!("{error}\n{error:?}"));
    }

    #[test]
    fn unusable_backends_say_what_to_do() {
        check_error(
            SecretsError::Unavailable {
                backend: Backend::KernelKeyring,
                detail: "AccessDenied".to_owned(),
            },
            expect![[r#"
                the kernel keyring is not usable (AccessDenied): run Hearth from a login session or wrap the command in `keyctl session - COMMAND` (Debian: package keyutils); in a container, allow the keyctl, add_key and request_key system calls (Docker's default seccomp profile blocks them); or write `env:NAME` references in the config instead
                Unavailable { backend: KernelKeyring, detail: "AccessDenied" }"#]],
        );
        check_error(
            SecretsError::Unavailable {
                backend: Backend::SecretService,
                detail: "Secret Service: no result found".to_owned(),
            },
            expect![[r#"
                the Secret Service is not usable (Secret Service: no result found): run and unlock a Secret Service in this D-Bus session (Debian: package gnome-keyring, then `gnome-keyring-daemon --unlock`; or KeePassXC with Secret Service integration), or write `env:NAME` references in the config instead
                Unavailable { backend: SecretService, detail: "Secret Service: no result found" }"#]],
        );
        check_error(
            SecretsError::Unavailable {
                backend: Backend::MacosKeychain,
                detail: "locked".to_owned(),
            },
            expect![[r#"
                the macOS Keychain is not usable (locked): unlock the login keychain (Keychain Access) and allow Hearth when macOS asks
                Unavailable { backend: MacosKeychain, detail: "locked" }"#]],
        );
    }

    #[test]
    fn stored_bytes_never_reach_an_error() {
        let store = over_mock();
        let bad_bytes = b"sk-live-\xff".to_vec();
        let error = store.error("read", "openai-key", KeyringError::BadEncoding(bad_bytes));
        check_error(
            error,
            expect![[r#"
            the secret `openai-key` is not UTF-8 text: replace it with `hearth secret set openai-key`
            NotText { name: "openai-key" }"#]],
        );
    }

    /// A `KeyringStore` over keyring-core's in-memory mock: the translation layer without a
    /// platform store (the real ones are exercised in `tests/keyring_linux.rs`).
    fn over_mock() -> KeyringStore {
        KeyringStore {
            backend: Backend::KernelKeyring,
            store: keyring_core::mock::Store::new().unwrap(),
            service: SERVICE.to_owned(),
        }
    }

    #[test]
    fn round_trip_over_the_mock_store() {
        let store = over_mock();
        assert!(store.get("hearth.admin").unwrap().is_none());
        store
            .set("hearth.admin", &Secret::new("hth_one".to_owned()))
            .unwrap();
        assert_eq!(
            store.get("hearth.admin").unwrap().unwrap().expose(),
            "hth_one"
        );
        store.delete("hearth.admin").unwrap();
        store.delete("hearth.admin").unwrap();
        expect![[r#"KeyringStore { backend: KernelKeyring, service: "app.hearth" }"#]]
            .assert_eq(&format!("{store:?}"));
    }
}
