//! Linux: the Secret Service when one answers on the D-Bus session bus (persistent), else the
//! kernel keyring (always there, but in memory only). Opening the Secret Service store connects
//! to it, so a failed open is the signal to fall back.
//!
//! The kernel keyring store files each entry in the calling thread's session keyring and links
//! it into the user's persistent keyring, which is where other threads and processes find it.
//! A thread that never joined a session keyring (a container shell, `docker exec`, a thread that
//! predates the join) falls back to the user-session keyring, which it does not possess: the
//! first entry it builds adds keys it cannot link into the persistent keyring (EACCES) and
//! searches where the persistent keyring is not linked (a false "missing", after which
//! `ensure_token` would replace a live token). So before every entry is built the thread joins
//! an anonymous session keyring if it has none, as `keyctl session -` does for a whole command.

use std::{any::Any, collections::HashMap, fmt, sync::Arc};

use keyring_core::{
    CredentialPersistence, CredentialStore, Entry, Error as KeyringError, api::CredentialStoreApi,
};
use linux_keyutils::{KeyRing, KeyRingIdentifier};

use super::Backend;

pub(super) const DEFAULT_ORDER: &[Backend] = &[Backend::SecretService, Backend::KernelKeyring];

pub(super) fn open(backend: Backend) -> Option<keyring_core::Result<Arc<CredentialStore>>> {
    match backend {
        Backend::SecretService => Some(open_secret_service()),
        Backend::KernelKeyring => Some(open_kernel_keyring()),
        Backend::MacosKeychain => None,
    }
}

fn open_secret_service() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = dbus_secret_service_keyring_store::Store::new()?;
    Ok(store)
}

fn open_kernel_keyring() -> keyring_core::Result<Arc<CredentialStore>> {
    join_session_keyring()?;
    let store: Arc<CredentialStore> =
        Arc::new(KernelKeyring(linux_keyutils_keyring_store::Store::new()?));
    Ok(store)
}

/// Gives the calling thread a session keyring of its own unless it has one (one syscall).
fn join_session_keyring() -> keyring_core::Result<()> {
    match KeyRing::from_special_id(KeyRingIdentifier::Session, true) {
        Ok(_) => Ok(()),
        Err(error) => Err(KeyringError::NoStorageAccess(Box::new(error))),
    }
}

/// The keyutils store, joining a session keyring before each entry is built.
struct KernelKeyring(Arc<linux_keyutils_keyring_store::Store>);

impl CredentialStoreApi for KernelKeyring {
    fn vendor(&self) -> String {
        self.0.vendor()
    }

    fn id(&self) -> String {
        self.0.id()
    }

    fn build(
        &self,
        service: &str,
        user: &str,
        modifiers: Option<&HashMap<&str, &str>>,
    ) -> keyring_core::Result<Entry> {
        join_session_keyring()?;
        self.0.build(service, user, modifiers)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn persistence(&self) -> CredentialPersistence {
        self.0.persistence()
    }

    fn debug_fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}
