//! macOS: the login Keychain, through `apple-native-keyring-store`'s `keychain` module. This
//! file cannot be compiled on the Linux machines Hearth is developed on; it is kept to the same
//! shape as `linux.rs`, which is.

use std::sync::Arc;

use keyring_core::CredentialStore;

use super::Backend;

pub(super) const DEFAULT_ORDER: &[Backend] = &[Backend::MacosKeychain];

pub(super) fn open(backend: Backend) -> Option<keyring_core::Result<Arc<CredentialStore>>> {
    match backend {
        Backend::MacosKeychain => Some(open_keychain()),
        Backend::SecretService | Backend::KernelKeyring => None,
    }
}

fn open_keychain() -> keyring_core::Result<Arc<CredentialStore>> {
    let store: Arc<CredentialStore> = apple_native_keyring_store::keychain::Store::new()?;
    Ok(store)
}
