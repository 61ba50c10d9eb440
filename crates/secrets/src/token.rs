//! Hearth's bearer tokens (the admin token and client tokens): generated from the OS random
//! number generator, created on first use, rotated on request, compared in constant time. Only
//! `keychain:` tokens are Hearth's to create or rotate; an `env:` token belongs to whoever sets
//! the variable.

use std::ffi::OsString;

use subtle::ConstantTimeEq;

use crate::{Secret, SecretRef, SecretStore, SecretsError, resolve::resolve_with_env};

/// What every Hearth token starts with, so a leaked one is recognisable (and secret scanners can
/// be taught to find it).
pub const TOKEN_PREFIX: &str = "hth_";

const TOKEN_BYTES: usize = 32;

/// A new token: [`TOKEN_PREFIX`] and 32 bytes from the OS random number generator in lowercase
/// hex (68 characters, safe in URLs, headers and shells).
pub fn generate_token() -> Result<Secret<String>, SecretsError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).map_err(|error| SecretsError::Random {
        detail: error.to_string(),
    })?;
    let mut token = String::with_capacity(TOKEN_PREFIX.len() + 2 * TOKEN_BYTES);
    token.push_str(TOKEN_PREFIX);
    for byte in bytes {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        token.push(char::from(HEX[usize::from(byte >> 4)]));
        token.push(char::from(HEX[usize::from(byte & 0x0f)]));
    }
    Ok(Secret::new(token))
}

/// The token `reference` points at, creating and storing it first when a `keychain:` entry is
/// missing. The `bool` says whether it was created. A missing `env:` token is an error.
pub fn ensure_token(
    store: &dyn SecretStore,
    reference: &SecretRef,
) -> Result<(Secret<String>, bool), SecretsError> {
    ensure_token_with_env(store, reference, |name| std::env::var_os(name))
}

fn ensure_token_with_env(
    store: &dyn SecretStore,
    reference: &SecretRef,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<(Secret<String>, bool), SecretsError> {
    match reference {
        SecretRef::Env(_) => Ok((resolve_with_env(store, reference, env)?, false)),
        SecretRef::Keychain(name) => match store.get(name)? {
            Some(token) => Ok((token, false)),
            None => Ok((store_new_token(store, name)?, true)),
        },
    }
}

/// Replaces the `keychain:` token `reference` points at with a new one and returns it. Clients
/// holding the old token are refused from then on. An `env:` token cannot be rotated here.
pub fn rotate_token(
    store: &dyn SecretStore,
    reference: &SecretRef,
) -> Result<Secret<String>, SecretsError> {
    match reference {
        SecretRef::Env(name) => Err(SecretsError::EnvNotRotatable { name: name.clone() }),
        SecretRef::Keychain(name) => store_new_token(store, name),
    }
}

/// Writes a new token and returns what the store then holds: reading back catches a store that
/// drops writes, and narrows the window in which two processes creating the same token at once
/// would each return their own.
fn store_new_token(store: &dyn SecretStore, name: &str) -> Result<Secret<String>, SecretsError> {
    store.set(name, &generate_token()?)?;
    store.get(name)?.ok_or_else(|| SecretsError::NotKept {
        name: name.to_owned(),
    })
}

/// Whether `a` and `b` are equal, taking the same time wherever they differ, so comparing a
/// presented token with the real one leaks nothing about how much of it was right. Uses `subtle`
/// (already a dependency of the Secret Service client) rather than a hand-written loop, which
/// the optimiser is free to turn back into an early exit. Unequal lengths return at once: a
/// token's length is public.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use expect_test::expect;

    use super::*;
    use crate::MemoryStore;

    fn reference(text: &str) -> SecretRef {
        text.parse().unwrap()
    }

    #[test]
    fn tokens_are_prefixed_hex_and_unique() {
        let tokens: BTreeSet<String> = (0..1000)
            .map(|_| generate_token().unwrap().expose().clone())
            .collect();
        assert_eq!(tokens.len(), 1000);
        for token in &tokens {
            assert_eq!(token.len(), 68, "{token}");
            let hex = token.strip_prefix(TOKEN_PREFIX).unwrap();
            assert!(
                hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                "{token}"
            );
        }
        expect!["*****"].assert_eq(&format!("{:?}", generate_token().unwrap()));
    }

    #[test]
    fn ensure_creates_once_then_keeps() {
        let store = MemoryStore::new();
        let admin = reference(hearth_core::config::file::ADMIN_TOKEN_REF);
        let (first, created) = ensure_token(&store, &admin).unwrap();
        assert!(created);
        let (again, created) = ensure_token(&store, &admin).unwrap();
        assert!(!created);
        assert_eq!(first, again);
        assert_eq!(store.get("hearth.admin").unwrap(), Some(first));
    }

    #[test]
    fn rotate_replaces_the_stored_token() {
        let store = MemoryStore::new();
        let client = reference(hearth_core::config::file::DEFAULT_CLIENT_TOKEN_REF);
        let (old, _) = ensure_token(&store, &client).unwrap();
        let new = rotate_token(&store, &client).unwrap();
        assert_ne!(old, new);
        assert_eq!(store.get("hearth.client.default").unwrap(), Some(new));
    }

    #[test]
    fn env_tokens_are_read_never_created_or_rotated() {
        let store = MemoryStore::new();
        let token = reference("env:HEARTH_ADMIN_TOKEN");
        let env = |_: &str| Some(OsString::from("hth_from_env"));
        let (found, created) = ensure_token_with_env(&store, &token, env).unwrap();
        assert_eq!((found.expose().as_str(), created), ("hth_from_env", false));

        let missing = ensure_token_with_env(&store, &token, |_| None).unwrap_err();
        let rotate = rotate_token(&store, &token).unwrap_err();
        expect![[r#"
            `env:HEARTH_ADMIN_TOKEN` refers to the environment variable HEARTH_ADMIN_TOKEN, which is not set in Hearth's environment: set it there, or run `hearth secret set NAME` and write `keychain:NAME`
            `env:HEARTH_ADMIN_TOKEN` is read from the environment, so Hearth cannot rotate it: put a new value in HEARTH_ADMIN_TOKEN where Hearth's environment is defined and restart Hearth, or write `keychain:NAME` in the config to let Hearth manage it
            EnvNotRotatable { name: "HEARTH_ADMIN_TOKEN" }"#]].assert_eq(&format!("{missing}\n{rotate}\n{rotate:?}"));
        assert_eq!(store.names(), Vec::<String>::new());
    }

    #[test]
    fn a_store_that_drops_writes_is_caught() {
        struct Forgetful;
        impl SecretStore for Forgetful {
            fn get(&self, _: &str) -> Result<Option<Secret<String>>, SecretsError> {
                Ok(None)
            }
            fn set(&self, _: &str, _: &Secret<String>) -> Result<(), SecretsError> {
                Ok(())
            }
            fn delete(&self, _: &str) -> Result<(), SecretsError> {
                Ok(())
            }
        }
        let error = ensure_token(&Forgetful, &reference("keychain:hearth.admin")).unwrap_err();
        expect!["the secret store read back nothing for `hearth.admin` right after writing it, so it is not keeping secrets: check its setup, or use `env:NAME` references instead"].assert_eq(&error.to_string());
    }

    #[test]
    fn constant_time_eq_is_plain_equality() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"hth_abc", b"hth_abc", true),
            (b"hth_abc", b"hth_abd", false),
            (b"hth_abc", b"hth_ab", false),
            (b"", b"", true),
            (b"", b"x", false),
        ];
        for &(a, b, equal) in cases {
            assert_eq!(constant_time_eq(a, b), equal, "{a:?} {b:?}");
        }
    }
}
