//! From a reference in the config to the secret itself: `keychain:NAME` reads the store,
//! `env:NAME` reads Hearth's environment. A reference that leads nowhere is an error naming the
//! reference and the fix, never an empty secret.

use std::ffi::OsString;

use crate::{Secret, SecretRef, SecretStore, SecretsError};

/// The secret `reference` points at, reading `env:` references from the process environment.
pub fn resolve(
    store: &dyn SecretStore,
    reference: &SecretRef,
) -> Result<Secret<String>, SecretsError> {
    resolve_with_env(store, reference, |name| std::env::var_os(name))
}

/// [`resolve`] with the environment given as a lookup function (tests cannot set variables:
/// `std::env::set_var` is unsafe and this workspace forbids unsafe code).
pub fn resolve_with_env(
    store: &dyn SecretStore,
    reference: &SecretRef,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Secret<String>, SecretsError> {
    match reference {
        SecretRef::Keychain(name) => match store.get(name)? {
            Some(value) => Ok(value),
            None => Err(SecretsError::MissingEntry { name: name.clone() }),
        },
        SecretRef::Env(name) => {
            let name = name.clone();
            match env(&name).map(OsString::into_string) {
                None => Err(SecretsError::MissingEnv { name }),
                Some(Err(_)) => Err(SecretsError::EnvNotText { name }),
                Some(Ok(value)) if value.is_empty() => Err(SecretsError::EmptyEnv { name }),
                Some(Ok(value)) => Ok(Secret::new(value)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;
    use crate::MemoryStore;

    /// Resolves `reference` against a store holding `hearth.admin` and an environment holding
    /// `OPENAI_API_KEY` and an empty `EMPTY`, and prints the value or the error.
    fn check(reference: &str, expected: Expect) {
        let store = MemoryStore::new();
        store
            .set("hearth.admin", &Secret::new("hth_admin".to_owned()))
            .unwrap();
        let env = |name: &str| match name {
            "OPENAI_API_KEY" => Some(OsString::from("sk-from-env")),
            "EMPTY" => Some(OsString::new()),
            _ => None,
        };
        let reference: SecretRef = reference.parse().unwrap();
        let actual = match resolve_with_env(&store, &reference, env) {
            Ok(value) => format!("ok: {}", value.expose()),
            Err(error) => format!("error: {error}"),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn keychain_references_read_the_store() {
        check("keychain:hearth.admin", expect!["ok: hth_admin"]);
        check(
            "keychain:hearth.client.default",
            expect![
                "error: `keychain:hearth.client.default` is not in the secret store: run `hearth secret set hearth.client.default`, or write `env:VARIABLE` in the config to read it from the environment"
            ],
        );
    }

    #[test]
    fn env_references_read_the_environment() {
        check("env:OPENAI_API_KEY", expect!["ok: sk-from-env"]);
        check(
            "env:ANTHROPIC_API_KEY",
            expect![
                "error: `env:ANTHROPIC_API_KEY` refers to the environment variable ANTHROPIC_API_KEY, which is not set in Hearth's environment: set it there, or run `hearth secret set NAME` and write `keychain:NAME`"
            ],
        );
        check(
            "env:EMPTY",
            expect![
                "error: `env:EMPTY` refers to the environment variable EMPTY, which is empty: give it a value, or run `hearth secret set NAME` and write `keychain:NAME`"
            ],
        );
    }

    #[cfg(unix)]
    #[test]
    fn env_values_must_be_text() {
        use std::os::unix::ffi::OsStringExt;

        let store = MemoryStore::new();
        let reference: SecretRef = "env:BINARY".parse().unwrap();
        let env = |_: &str| Some(OsString::from_vec(b"sk-\xff".to_vec()));
        let error = resolve_with_env(&store, &reference, env).unwrap_err();
        expect![[r#"
            the environment variable BINARY (from `env:BINARY`) is not valid UTF-8 text
            EnvNotText { name: "BINARY" }"#]]
        .assert_eq(&format!("{error}\n{error:?}"));
    }

    #[test]
    fn the_process_environment_is_the_default() {
        // PATH is set wherever tests run; this pins that `resolve` reads the real environment.
        let store = MemoryStore::new();
        let path = resolve(&store, &"env:PATH".parse().unwrap()).unwrap();
        assert_eq!(
            Some(path.expose().as_str()),
            std::env::var("PATH").ok().as_deref()
        );
    }
}
