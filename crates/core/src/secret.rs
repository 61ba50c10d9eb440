//! Secrets as a type. The config file never holds a secret, only a reference to where one lives:
//! `keychain:NAME` (the platform's secret store) or `env:NAME` (an environment variable). A loaded
//! secret is a `Secret<T>`, which prints `*****` in Debug, Display and Serialize.

use std::{fmt, str::FromStr};

/// A secret value. Its Debug, Display and Serialize print `*****`; only `expose` gives the value.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Secret<T> {
        Secret(value)
    }

    /// The secret itself. Call sites are easy to audit: grep for `expose`.
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Secret<T> {
    fn from(value: T) -> Secret<T> {
        Secret(value)
    }
}

const REDACTED: &str = "*****";

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> serde::Serialize for Secret<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(REDACTED)
    }
}

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretRef {
    /// An entry in the platform secret store (Keychain on macOS, keyring on Linux).
    Keychain(String),
    /// An environment variable of the Hearth process.
    Env(String),
}

/// Why a string is not a secret reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    #[error(
        "this looks like a secret written into the file; secrets live in the secret store: \
         run `hearth secret set NAME` and write `keychain:NAME` here (or `env:NAME`)"
    )]
    Literal,
    #[error("`{0}` is not a valid name after `keychain:` (letters, digits, `.`, `_`, `-`)")]
    BadKeychainName(String),
    #[error("`{0}` is not a valid environment variable name after `env:`")]
    BadEnvName(String),
}

impl SecretRef {
    pub fn keychain(name: &str) -> SecretRef {
        SecretRef::Keychain(name.to_owned())
    }

    pub fn name(&self) -> &str {
        match self {
            SecretRef::Keychain(name) | SecretRef::Env(name) => name,
        }
    }
}

pub(crate) fn is_keychain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl FromStr for SecretRef {
    type Err = SecretRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if let Some(name) = text.strip_prefix("keychain:") {
            if is_keychain_name(name) {
                Ok(SecretRef::Keychain(name.to_owned()))
            } else {
                Err(SecretRefError::BadKeychainName(name.to_owned()))
            }
        } else if let Some(name) = text.strip_prefix("env:") {
            if is_env_name(name) {
                Ok(SecretRef::Env(name.to_owned()))
            } else {
                Err(SecretRefError::BadEnvName(name.to_owned()))
            }
        } else {
            Err(SecretRefError::Literal)
        }
    }
}

impl fmt::Display for SecretRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretRef::Keychain(name) => write!(f, "keychain:{name}"),
            SecretRef::Env(name) => write!(f, "env:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints_its_value() {
        let secret = Secret::new("sk-live-123".to_owned());
        assert_eq!(format!("{secret:?}"), "*****");
        assert_eq!(format!("{secret}"), "*****");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"*****\"");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(*****)");
        assert_eq!(secret.expose(), "sk-live-123");
    }

    #[test]
    fn parses_both_kinds_and_prints_them_back() {
        for text in [
            "keychain:hearth.admin",
            "env:OPENAI_API_KEY",
            "keychain:mlx-key_2",
        ] {
            let parsed: SecretRef = text.parse().unwrap();
            assert_eq!(parsed.to_string(), text);
        }
    }

    #[test]
    fn refuses_literals_and_bad_names() {
        assert_eq!(
            "sk-abc123".parse::<SecretRef>(),
            Err(SecretRefError::Literal)
        );
        assert_eq!(
            "ollama-local".parse::<SecretRef>(),
            Err(SecretRefError::Literal)
        );
        assert!(matches!(
            "keychain:".parse::<SecretRef>(),
            Err(SecretRefError::BadKeychainName(_))
        ));
        assert!(matches!(
            "keychain:a b".parse::<SecretRef>(),
            Err(SecretRefError::BadKeychainName(_))
        ));
        assert!(matches!(
            "env:1X".parse::<SecretRef>(),
            Err(SecretRefError::BadEnvName(_))
        ));
    }
}
