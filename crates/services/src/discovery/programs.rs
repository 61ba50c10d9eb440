//! The server programs installed on this machine: `ollama`, `llama-server`, `mlx_lm.server` and
//! LM Studio's `lms`, found by file name in the given programs, on PATH and in the usual
//! install folders. One entry per program file, however many names lead to it.

use std::{
    collections::BTreeSet,
    ffi::OsStr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// A server program discovery knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProgramKind {
    Ollama,
    LlamaServer,
    MlxLm,
    /// LM Studio's command-line tool (it starts LM Studio's server; it is not one).
    Lms,
}

impl ProgramKind {
    pub const ALL: [ProgramKind; 4] = [
        ProgramKind::Ollama,
        ProgramKind::LlamaServer,
        ProgramKind::MlxLm,
        ProgramKind::Lms,
    ];

    /// The program's file name.
    pub fn file_name(self) -> &'static str {
        match self {
            ProgramKind::Ollama => "ollama",
            ProgramKind::LlamaServer => "llama-server",
            ProgramKind::MlxLm => "mlx_lm.server",
            ProgramKind::Lms => "lms",
        }
    }

    fn from_file_name(name: &OsStr) -> Option<ProgramKind> {
        ProgramKind::ALL
            .into_iter()
            .find(|kind| name == kind.file_name())
    }
}

/// An installed program.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Program {
    pub kind: ProgramKind,
    /// The path it was found at (not resolved: `/opt/homebrew/bin/llama-server` stays valid
    /// across upgrades, the Cellar path it links to does not).
    pub path: PathBuf,
}

/// Finds the programs: `given` first (in order), then each of `path`'s folders, then
/// `folders`. A program found twice (a symlink, a folder listed twice) is kept once, where it
/// was first found. Notes say why a given program was not taken.
pub fn find(
    given: &[PathBuf],
    path: Option<&OsStr>,
    folders: &[PathBuf],
    notes: &mut Vec<String>,
) -> Vec<Program> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    let mut take = |kind: ProgramKind, file: &Path, found: &mut Vec<Program>| {
        let key = std::fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
        if seen.insert(key) {
            found.push(Program {
                kind,
                path: file.to_owned(),
            });
        }
    };
    for file in given {
        let Some(kind) = file.file_name().and_then(ProgramKind::from_file_name) else {
            notes.push(format!(
                "{}: not a program discovery knows (it looks for {})",
                file.display(),
                ProgramKind::ALL.map(ProgramKind::file_name).join(", ")
            ));
            continue;
        };
        match executable(file) {
            Ok(()) => take(kind, file, &mut found),
            Err(why) => notes.push(format!("{}: {why}", file.display())),
        }
    }
    let on_path = path.map(|path| std::env::split_paths(path).collect::<Vec<_>>());
    for folder in on_path.iter().flatten().chain(folders) {
        // A relative PATH entry depends on the working directory: not a place to run from.
        if !folder.is_absolute() {
            continue;
        }
        for kind in ProgramKind::ALL {
            let file = folder.join(kind.file_name());
            if executable(&file).is_ok() {
                take(kind, &file, &mut found);
            }
        }
    }
    found
}

/// Ok when `file` is (or links to) a regular file someone may execute.
fn executable(file: &Path) -> Result<(), &'static str> {
    let metadata = std::fs::metadata(file).map_err(|_| "does not exist")?;
    if !metadata.is_file() {
        return Err("is not a regular file");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if metadata.permissions().mode() & 0o111 == 0 {
            return Err("is not executable (`chmod +x` it)");
        }
    }
    Ok(())
}
