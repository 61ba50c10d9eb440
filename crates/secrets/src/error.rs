//! The crate's one error type. Every message names what failed and what to do about it, and no
//! variant holds a secret value: only names, references and the platform's own description of
//! what went wrong.

use crate::keyring::Backend;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("`{name}` is not a valid secret name (letters, digits, `.`, `_`, `-`; at most 128)")]
    BadName { name: String },

    #[error("refusing to store an empty secret as `{name}`")]
    EmptyValue { name: String },

    #[error(
        "`keychain:{name}` is not in the secret store: run `hearth secret set {name}`, \
         or write `env:VARIABLE` in the config to read it from the environment"
    )]
    MissingEntry { name: String },

    #[error(
        "`env:{name}` refers to the environment variable {name}, which is not set in Hearth's \
         environment: set it there, or run `hearth secret set NAME` and write `keychain:NAME`"
    )]
    MissingEnv { name: String },

    #[error(
        "`env:{name}` refers to the environment variable {name}, which is empty: give it a \
         value, or run `hearth secret set NAME` and write `keychain:NAME`"
    )]
    EmptyEnv { name: String },

    #[error("the environment variable {name} (from `env:{name}`) is not valid UTF-8 text")]
    EnvNotText { name: String },

    #[error(
        "`env:{name}` is read from the environment, so Hearth cannot rotate it: put a new \
         value in {name} where Hearth's environment is defined and restart Hearth, or write \
         `keychain:NAME` in the config to let Hearth manage it"
    )]
    EnvNotRotatable { name: String },

    #[error("the secret `{name}` is not UTF-8 text: replace it with `hearth secret set {name}`")]
    NotText { name: String },

    #[error(
        "the {backend} holds {count} entries for `{name}` (service `app.hearth`): delete them \
         with the store's own tool (e.g. Seahorse), then run `hearth secret set {name}`"
    )]
    Ambiguous {
        backend: Backend,
        name: String,
        count: usize,
    },

    #[error("the {backend} is not usable ({detail}): {}", .backend.fix())]
    Unavailable { backend: Backend, detail: String },

    #[error("could not {action} `{name}` in the {backend}: {detail}")]
    Store {
        backend: Backend,
        action: &'static str,
        name: String,
        detail: String,
    },

    #[error("the {backend} is not available on this platform")]
    NotOnThisPlatform { backend: Backend },

    #[error(
        "this platform has no supported secret store: write `env:NAME` references in the \
         config and give Hearth its secrets through the environment"
    )]
    NoPlatformStore,

    #[error(
        "the secret store read back nothing for `{name}` right after writing it, so it is not \
         keeping secrets: check its setup, or use `env:NAME` references instead"
    )]
    NotKept { name: String },

    #[error("the operating system's random number generator failed ({detail}); try again")]
    Random { detail: String },
}
