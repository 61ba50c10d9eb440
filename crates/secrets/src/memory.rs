//! The in-memory store: what unit tests of this and other crates use instead of the platform
//! keyring. It checks names and values like the real store does, and its `Debug` lists names only.

use std::{
    collections::BTreeMap,
    fmt,
    sync::{Mutex, MutexGuard, PoisonError},
};

use crate::{Secret, SecretStore, SecretsError, check_name, check_value};

/// Secrets in a map behind a mutex; gone when the store is dropped.
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<BTreeMap<String, Secret<String>>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }

    /// The names held, in order.
    pub fn names(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, Secret<String>>> {
        // A panic while holding the lock cannot leave a map half-updated: every operation on it is
        // a single insert, remove or lookup.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, name: &str) -> Result<Option<Secret<String>>, SecretsError> {
        check_name(name)?;
        Ok(self.entries().get(name).cloned())
    }

    fn set(&self, name: &str, value: &Secret<String>) -> Result<(), SecretsError> {
        check_name(name)?;
        check_value(name, value)?;
        self.entries().insert(name.to_owned(), value.clone());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), SecretsError> {
        check_name(name)?;
        self.entries().remove(name);
        Ok(())
    }
}

impl fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryStore")
            .field("names", &self.names())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{Expect, expect};

    use super::*;

    /// Runs `steps` (`set NAME VALUE`, `get NAME`, `delete NAME`) against one store and prints
    /// what each returned, then the store's `Debug`.
    fn check(steps: &[&str], expected: Expect) {
        let store = MemoryStore::new();
        let mut log = String::new();
        for step in steps {
            let words: Vec<&str> = step.split(' ').collect();
            let outcome = match words.as_slice() {
                ["set", name, value] => store
                    .set(name, &Secret::new((*value).to_owned()))
                    .map(|()| "ok".to_owned()),
                ["get", name] => store.get(name).map(|found| match found {
                    Some(value) => format!("Some({})", value.expose()),
                    None => "None".to_owned(),
                }),
                ["delete", name] => store.delete(name).map(|()| "ok".to_owned()),
                _ => panic!("unknown step {step:?}"),
            };
            let outcome = outcome.unwrap_or_else(|error| format!("error: {error}"));
            log.push_str(&format!("{step:<24} -> {outcome}\n"));
        }
        log.push_str(&format!("{store:?}\n"));
        expected.assert_eq(&log);
    }

    #[test]
    fn round_trip() {
        check(
            &[
                "get hearth.admin",
                "set hearth.admin hth_one",
                "get hearth.admin",
                "set hearth.admin hth_two",
                "get hearth.admin",
                "set openai-key sk-live",
                "delete hearth.admin",
                "get hearth.admin",
                "delete hearth.admin",
            ],
            expect![[r#"
                get hearth.admin         -> None
                set hearth.admin hth_one -> ok
                get hearth.admin         -> Some(hth_one)
                set hearth.admin hth_two -> ok
                get hearth.admin         -> Some(hth_two)
                set openai-key sk-live   -> ok
                delete hearth.admin      -> ok
                get hearth.admin         -> None
                delete hearth.admin      -> ok
                MemoryStore { names: ["openai-key"] }
            "#]],
        );
    }

    #[test]
    fn refuses_bad_names_and_empty_values() {
        check(
            &["set a@b x", "get a/b", "delete ", "set ok "],
            expect![[r#"
                set a@b x                -> error: `a@b` is not a valid secret name (letters, digits, `.`, `_`, `-`; at most 128)
                get a/b                  -> error: `a/b` is not a valid secret name (letters, digits, `.`, `_`, `-`; at most 128)
                delete                   -> error: `` is not a valid secret name (letters, digits, `.`, `_`, `-`; at most 128)
                set ok                   -> error: refusing to store an empty secret as `ok`
                MemoryStore { names: [] }
            "#]],
        );
    }

    #[test]
    fn debug_shows_names_never_values() {
        let store = MemoryStore::new();
        store
            .set("openai-key", &Secret::new("sk-live-123".to_owned()))
            .unwrap();
        let debug = format!("{store:?} {:?}", store.get("openai-key").unwrap());
        assert!(!debug.contains("sk-live-123"), "{debug}");
        expect![[r#"MemoryStore { names: ["openai-key"] } Some(*****)"#]].assert_eq(&debug);
    }
}
