//! First-run discovery: what this machine already has for Hearth to use, and what to add to the
//! configuration for it.
//!
//! `discover` looks (I/O, bounded, never failing): the servers answering on their usual ports
//! (`servers`), the server programs installed (`programs`), and the model files on disk —
//! Ollama's store, GGUF files and MLX folders (`files`, reading GGUF headers with `gguf`).
//! Anything odd it meets is a note. `propose` (pure) turns those findings and the current
//! configuration into a `hearth_core::config::setup::Proposal`: providers for running servers,
//! services made with the same templates as `hearth services install` for programs that have
//! models to serve, and a primary model. `hearth setup`, the admin API and a first `hearth
//! serve` all call these two and apply the proposal with `setup::apply`.

use std::{ffi::OsString, path::PathBuf, time::Duration};

use serde::{Deserialize, Serialize};

mod files;
pub mod gguf;
mod programs;
mod propose;
mod servers;

pub use files::{FoundModel, ModelFormat, ModelSource};
pub use gguf::GgufInfo;
pub use programs::{Program, ProgramKind};
pub use propose::{MAX_FIRST_CONTEXT, propose};
pub use servers::{RunningServer, ServedModel, ServerKind};

/// Where to look.
#[derive(Debug, Clone)]
pub struct Options {
    /// Whose `~/.ollama`, `~/.cache/huggingface`, `~/.lmstudio`.
    pub home: PathBuf,
    /// The PATH to search programs on; `None`: no PATH search.
    pub path: Option<OsString>,
    /// Folders searched besides PATH: `/opt/homebrew/bin`, `/usr/local/bin` and the app
    /// bundles' (`/Applications/Ollama.app/Contents/Resources`, `~/.lmstudio/bin`).
    pub program_dirs: Vec<PathBuf>,
    /// Programs given explicitly (`hearth setup --program PATH`), taken before any found.
    pub extra_programs: Vec<PathBuf>,
    /// GGUF files given explicitly (`hearth setup --model-file PATH`).
    pub extra_model_files: Vec<PathBuf>,
    /// Where running servers are probed: `127.0.0.1`.
    pub host: String,
    pub ports: Ports,
    /// The Hugging Face hub cache: `$HF_HUB_CACHE`, else `$HF_HOME/hub`, else
    /// `~/.cache/huggingface/hub`.
    pub hf_cache: PathBuf,
    /// Ollama's store: `$OLLAMA_MODELS`, else `~/.ollama/models`.
    pub ollama_models: PathBuf,
    /// LM Studio's model folders: `~/.lmstudio/models`, `~/.cache/lm-studio/models`.
    pub lmstudio_models: Vec<PathBuf>,
    /// How long one HTTP probe may take.
    pub probe_timeout: Duration,
}

/// The ports running servers are probed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ports {
    /// Ollama: 11434.
    pub ollama: u16,
    /// LM Studio: 1234.
    pub lmstudio: u16,
    /// OpenAI-compatible servers: 8080 (mlx_lm.server, llama-server), 8000 (vLLM).
    pub openai: Vec<u16>,
}

impl Default for Ports {
    fn default() -> Self {
        Ports {
            ollama: 11434,
            lmstudio: 1234,
            openai: vec![8080, 8000],
        }
    }
}

impl Ports {
    /// `HEARTH_DISCOVERY_PORTS`'s form: `ollama=11434,lmstudio=1234,openai=8080+8000` — each
    /// kind named replaces its default; `None` for text that is not of that form.
    pub fn parse(text: &str) -> Option<Ports> {
        let mut ports = Ports::default();
        for part in text
            .split(',')
            .map(str::trim)
            .filter(|part| !part.is_empty())
        {
            let (kind, value) = part.split_once('=')?;
            let numbers: Option<Vec<u16>> = value
                .split('+')
                .map(|port| port.trim().parse().ok())
                .collect();
            let numbers = numbers.filter(|numbers| !numbers.is_empty())?;
            match (kind.trim(), numbers.as_slice()) {
                ("ollama", [port]) => ports.ollama = *port,
                ("lmstudio", [port]) => ports.lmstudio = *port,
                ("openai", _) => ports.openai = numbers,
                _ => return None,
            }
        }
        Some(ports)
    }
}

/// The default probe timeout.
pub const PROBE_TIMEOUT: Duration = Duration::from_millis(800);

impl Options {
    /// The real defaults: the user's HOME, PATH, and the `HF_HUB_CACHE`, `HF_HOME`,
    /// `OLLAMA_MODELS` and `HEARTH_DISCOVERY_PORTS` variables.
    pub fn from_env() -> Options {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let mut options = Options::for_home(home);
        let set = |name: &str| std::env::var_os(name).filter(|value| !value.is_empty());
        if let Some(cache) = set("HF_HUB_CACHE") {
            options.hf_cache = PathBuf::from(cache);
        } else if let Some(hf_home) = set("HF_HOME") {
            options.hf_cache = PathBuf::from(hf_home).join("hub");
        }
        if let Some(store) = set("OLLAMA_MODELS") {
            options.ollama_models = PathBuf::from(store);
        }
        options.path = std::env::var_os("PATH");
        // Servers on other ports than their defaults (and tests, which cannot use those).
        match std::env::var("HEARTH_DISCOVERY_PORTS") {
            Ok(text) if !text.trim().is_empty() => match Ports::parse(&text) {
                Some(ports) => options.ports = ports,
                None => tracing::warn!(
                    %text,
                    "HEARTH_DISCOVERY_PORTS ignored: write it as ollama=11434,lmstudio=1234,openai=8080+8000"
                ),
            },
            _ => {}
        }
        options
    }

    /// The same defaults rooted at `home`, without reading the environment: no PATH search.
    /// The system folders (`/opt/homebrew/bin`, `/usr/local/bin`, `/Applications/…`) stay in
    /// `program_dirs`; a test that must not see this machine's programs clears it.
    pub fn for_home(home: PathBuf) -> Options {
        Options {
            path: None,
            program_dirs: vec![
                PathBuf::from("/opt/homebrew/bin"),
                PathBuf::from("/usr/local/bin"),
                PathBuf::from("/Applications/Ollama.app/Contents/Resources"),
                home.join(".lmstudio/bin"),
            ],
            extra_programs: Vec::new(),
            extra_model_files: Vec::new(),
            host: "127.0.0.1".to_owned(),
            ports: Ports::default(),
            hf_cache: home.join(".cache/huggingface/hub"),
            ollama_models: home.join(".ollama/models"),
            lmstudio_models: vec![
                home.join(".lmstudio/models"),
                home.join(".cache/lm-studio/models"),
            ],
            probe_timeout: PROBE_TIMEOUT,
            home,
        }
    }
}

/// What discovery found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Findings {
    /// Servers that answered, by port.
    pub servers: Vec<RunningServer>,
    /// Installed programs, the given ones first, then in search order.
    pub programs: Vec<Program>,
    /// Model files, by format, name and path.
    pub model_files: Vec<FoundModel>,
    /// What was odd (a server answering garbage, a manifest that does not parse, a truncated
    /// GGUF), one line each.
    pub notes: Vec<String>,
}

impl Findings {
    /// The first program of `kind` (the given ones come first).
    pub fn program(&self, kind: ProgramKind) -> Option<&Program> {
        self.programs.iter().find(|program| program.kind == kind)
    }
}

/// Looks at the machine. The probes run at once, each bounded by `options.probe_timeout`,
/// while a blocking thread reads the disk; nothing here fails: problems become notes.
///
/// `http` should not use a proxy (`crate::health::client()`): the probes are local.
pub async fn discover(http: &reqwest::Client, options: &Options) -> Findings {
    let disk = tokio::task::spawn_blocking({
        let options = options.clone();
        move || {
            let mut notes = Vec::new();
            let programs = programs::find(
                &options.extra_programs,
                options.path.as_deref(),
                &options.program_dirs,
                &mut notes,
            );
            let model_files = files::scan(&options, &mut notes);
            (programs, model_files, notes)
        }
    });
    let (servers, mut notes) = servers::probe(http, options).await;
    match disk.await {
        Ok((programs, model_files, mut disk_notes)) => {
            notes.append(&mut disk_notes);
            Findings {
                servers,
                programs,
                model_files,
                notes,
            }
        }
        Err(error) => {
            notes.push(format!(
                "looking for programs and model files failed: {error}"
            ));
            Findings {
                servers,
                notes,
                ..Findings::default()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Ports;

    #[test]
    fn discovery_ports_are_read_as_written_and_refused_when_garbled() {
        assert_eq!(
            Ports::parse("openai=9001+9002, ollama=9003"),
            Some(Ports {
                ollama: 9003,
                lmstudio: 1234,
                openai: vec![9001, 9002],
            })
        );
        assert_eq!(Ports::parse(""), Some(Ports::default()));
        for garbled in ["openai", "ollama=1+2", "vllm=8000", "openai=x", "openai="] {
            assert_eq!(Ports::parse(garbled), None, "{garbled}");
        }
    }
}
