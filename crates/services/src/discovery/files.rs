//! Model files on disk: Ollama's store (its JSON manifests), GGUF files in the Hugging Face hub
//! cache, in LM Studio's folders and given by hand, and MLX model folders in the hub cache.
//!
//! Only what is cheap is read: manifests, directory listings, sizes, GGUF headers (see
//! `gguf`), a model folder's `config.json`. A file that does not parse is a note and is left
//! out; a folder that does not exist is simply not there.

use std::{
    collections::BTreeSet,
    ffi::OsStr,
    fs,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{
    Options,
    gguf::{self, GgufInfo},
};

/// Largest manifest or `config.json` read (they are a few KiB).
const MAX_JSON: u64 = 1024 * 1024;
/// How deep GGUF files are looked for inside a hub snapshot.
const MAX_DEPTH: usize = 4;

/// How a model is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelFormat {
    /// A model in Ollama's store, served by Ollama.
    Ollama,
    /// A GGUF file, served by llama-server.
    Gguf,
    /// An MLX folder (safetensors + config.json), served by mlx_lm.server.
    Mlx,
}

/// Where a model was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModelSource {
    OllamaStore,
    HuggingFace,
    LmStudio,
    /// `Options::extra_model_files`.
    Given,
}

/// A model on disk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FoundModel {
    pub format: ModelFormat,
    pub source: ModelSource,
    /// What it is called: `qwen3:8b` (Ollama), `mlx-community/Qwen3-4B-4bit` (MLX), the file
    /// name without `.gguf` (and without a split file's `-00001-of-00003`) for a GGUF.
    pub name: String,
    /// The Hugging Face or LM Studio repository, `org/repo`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// The GGUF file (a split model's first part), the MLX folder, or the Ollama manifest.
    pub path: PathBuf,
    /// Size of the weights (every part of a split GGUF, every safetensors file of an MLX
    /// folder, the model layer of an Ollama model).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size_bytes: Option<u64>,
    /// Whether it has a chat template; `Some(false)` is a base model. Unknown for Ollama.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chat_template: Option<bool>,
    /// A GGUF's header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gguf: Option<GgufInfo>,
}

impl FoundModel {
    /// A model known to have no chat template: found, never proposed to chat with.
    pub fn is_base(&self) -> bool {
        self.chat_template == Some(false)
    }

    /// The context it was trained for (a GGUF's `<arch>.context_length`).
    pub fn context_length(&self) -> Option<u64> {
        self.gguf.as_ref().and_then(|info| info.context_length)
    }
}

/// Every model file `options` points at, sorted by format, name and path.
pub(super) fn scan(options: &Options, notes: &mut Vec<String>) -> Vec<FoundModel> {
    let mut found = ollama_store(&options.ollama_models, notes);
    let mut ggufs = Ggufs::default();
    for file in &options.extra_model_files {
        if file.is_file() {
            ggufs.add(file, ModelSource::Given, None, notes);
        } else {
            notes.push(format!("{}: no such model file", file.display()));
        }
    }
    hugging_face(&options.hf_cache, &mut ggufs, &mut found, notes);
    for folder in &options.lmstudio_models {
        lm_studio(folder, &mut ggufs, notes);
    }
    found.append(&mut ggufs.found);
    found.sort_by_cached_key(|model| (model.format, model.name.to_lowercase(), model.path.clone()));
    found
}

/// The entries of `folder` sorted by name; nothing when it does not exist, a note when it
/// cannot be read.
fn entries(folder: &Path, notes: &mut Vec<String>) -> Vec<PathBuf> {
    match fs::read_dir(folder) {
        Ok(read) => {
            let mut paths: Vec<PathBuf> = read
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .collect();
            paths.sort();
            paths
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(error) if error.kind() == std::io::ErrorKind::NotADirectory => Vec::new(),
        Err(error) => {
            notes.push(format!("cannot list {}: {error}", folder.display()));
            Vec::new()
        }
    }
}

/// A real directory, not a link to one (links could loop).
fn is_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|metadata| metadata.is_dir())
}

fn name_of(path: &Path) -> &str {
    path.file_name().and_then(OsStr::to_str).unwrap_or_default()
}

fn read_json(path: &Path) -> Result<Value, String> {
    let length = fs::metadata(path).map_err(|error| error.to_string())?.len();
    if length > MAX_JSON {
        return Err(format!("{length} bytes is too large for it"));
    }
    let text = fs::read(path).map_err(|error| error.to_string())?;
    serde_json::from_slice(&text).map_err(|error| error.to_string())
}

// ---- Ollama's store ----

/// `manifests/<host>/<namespace>/<model>/<tag>`.
fn ollama_store(store: &Path, notes: &mut Vec<String>) -> Vec<FoundModel> {
    let mut found = Vec::new();
    for host in entries(&store.join("manifests"), notes) {
        for namespace in entries(&host, notes).into_iter().filter(|p| is_dir(p)) {
            for model in entries(&namespace, notes).into_iter().filter(|p| is_dir(p)) {
                for tag in entries(&model, notes) {
                    if !tag.is_file() {
                        continue;
                    }
                    let name = ollama_name(
                        name_of(&host),
                        name_of(&namespace),
                        name_of(&model),
                        name_of(&tag),
                    );
                    match manifest_size(&tag) {
                        Ok(size) => found.push(FoundModel {
                            format: ModelFormat::Ollama,
                            source: ModelSource::OllamaStore,
                            name,
                            repo: None,
                            path: tag,
                            size_bytes: Some(size),
                            chat_template: None,
                            gguf: None,
                        }),
                        Err(why) => notes.push(format!(
                            "Ollama's store: the manifest of {name} ({}) {why}",
                            tag.display()
                        )),
                    }
                }
            }
        }
    }
    found
}

/// `qwen3:8b` for the library, `user/model:tag` for another namespace of the registry,
/// `host/namespace/model:tag` elsewhere: the names `ollama list` shows.
fn ollama_name(host: &str, namespace: &str, model: &str, tag: &str) -> String {
    match (host, namespace) {
        ("registry.ollama.ai", "library") => format!("{model}:{tag}"),
        ("registry.ollama.ai", _) => format!("{namespace}/{model}:{tag}"),
        _ => format!("{host}/{namespace}/{model}:{tag}"),
    }
}

#[derive(Deserialize)]
struct Manifest {
    layers: Vec<Layer>,
}

#[derive(Deserialize)]
struct Layer {
    #[serde(rename = "mediaType")]
    media_type: String,
    size: u64,
}

fn manifest_size(path: &Path) -> Result<u64, String> {
    let json = read_json(path).map_err(|why| format!("cannot be read: {why}"))?;
    let manifest: Manifest = serde_json::from_value(json)
        .map_err(|error| format!("is not an image manifest: {error}"))?;
    manifest
        .layers
        .iter()
        .find(|layer| layer.media_type == "application/vnd.ollama.image.model")
        .map(|layer| layer.size)
        .ok_or_else(|| "has no model layer".to_owned())
}

// ---- GGUF files ----

/// GGUF files found so far, one per file however many paths lead to it.
#[derive(Default)]
struct Ggufs {
    seen: BTreeSet<PathBuf>,
    found: Vec<FoundModel>,
}

impl Ggufs {
    fn add(
        &mut self,
        file: &Path,
        source: ModelSource,
        repo: Option<String>,
        notes: &mut Vec<String>,
    ) {
        let Some(stem) = file.file_stem().and_then(OsStr::to_str) else {
            notes.push(format!("{}: the file name is not UTF-8", file.display()));
            return;
        };
        if stem.to_ascii_lowercase().contains("mmproj") {
            return; // a vision projector, loaded alongside a model, not a model
        }
        let (name, parts) = match split_part(stem) {
            Some((_, part, _)) if part != 1 => return, // read with its first part
            Some((name, _, count)) => (name, Some(count)),
            None => (stem, None),
        };
        let key = fs::canonicalize(file).unwrap_or_else(|_| file.to_owned());
        if !self.seen.insert(key) {
            return;
        }
        let size = match parts {
            None => fs::metadata(file).map(|metadata| metadata.len()).ok(),
            Some(count) => match split_size(file, name, count) {
                Ok(size) => Some(size),
                Err(missing) => {
                    notes.push(format!(
                        "{}: part {missing} of {count} is missing; the model cannot be loaded without it",
                        file.display()
                    ));
                    return;
                }
            },
        };
        match gguf::read(file) {
            Ok(info) => self.found.push(FoundModel {
                format: ModelFormat::Gguf,
                source,
                name: name.to_owned(),
                repo,
                path: file.to_owned(),
                size_bytes: size,
                chat_template: Some(info.chat_template),
                gguf: Some(info),
            }),
            Err(error) => notes.push(format!("{}: {error}", file.display())),
        }
    }
}

/// `name-00001-of-00003` → (`name`, 1, 3).
fn split_part(stem: &str) -> Option<(&str, u32, u32)> {
    let (rest, count) = stem.rsplit_once("-of-")?;
    let (name, part) = rest.rsplit_once('-')?;
    let digits = |text: &str| text.len() == 5 && text.bytes().all(|byte| byte.is_ascii_digit());
    if !digits(part) || !digits(count) {
        return None;
    }
    Some((name, part.parse().ok()?, count.parse().ok()?))
}

/// The size of every part of a split GGUF, or the number of the first missing part.
fn split_size(first: &Path, name: &str, count: u32) -> Result<u64, u32> {
    let folder = first.parent().unwrap_or(Path::new("."));
    (1..=count).try_fold(0u64, |total, part| {
        let file = folder.join(format!("{name}-{part:05}-of-{count:05}.gguf"));
        fs::metadata(&file)
            .map(|metadata| total.saturating_add(metadata.len()))
            .map_err(|_| part)
    })
}

fn is_gguf(path: &Path) -> bool {
    path.extension()
        .and_then(OsStr::to_str)
        .is_some_and(|extension| extension.eq_ignore_ascii_case("gguf"))
}

// ---- The Hugging Face hub cache ----

/// `<cache>/models--<org>--<repo>/snapshots/<revision>/…`: GGUF files anywhere in a snapshot,
/// and MLX folders.
fn hugging_face(
    cache: &Path,
    ggufs: &mut Ggufs,
    found: &mut Vec<FoundModel>,
    notes: &mut Vec<String>,
) {
    for folder in entries(cache, notes) {
        let Some(repo) = name_of(&folder)
            .strip_prefix("models--")
            .map(|name| name.replace("--", "/"))
        else {
            continue;
        };
        let snapshots = snapshots(&folder, notes);
        // A file in several revisions is one model: the newest revision's copy is kept.
        let mut relative_seen = BTreeSet::new();
        for snapshot in &snapshots {
            let mut files = Vec::new();
            walk(snapshot, 0, &mut files, notes);
            for file in files {
                let relative = file.strip_prefix(snapshot).unwrap_or(&file).to_owned();
                if relative_seen.insert(relative) {
                    ggufs.add(&file, ModelSource::HuggingFace, Some(repo.clone()), notes);
                }
            }
        }
        if let Some(model) = snapshots
            .iter()
            .find_map(|snapshot| mlx_folder(snapshot, &repo, notes))
        {
            found.push(model);
        }
    }
}

/// A repository's snapshots, the one `refs/main` names first.
fn snapshots(repo: &Path, notes: &mut Vec<String>) -> Vec<PathBuf> {
    let mut snapshots: Vec<PathBuf> = entries(&repo.join("snapshots"), notes)
        .into_iter()
        .filter(|path| is_dir(path))
        .collect();
    if let Ok(main) = fs::read_to_string(repo.join("refs").join("main"))
        && let Some(at) = snapshots
            .iter()
            .position(|path| name_of(path) == main.trim())
    {
        let current = snapshots.remove(at);
        snapshots.insert(0, current);
    }
    snapshots
}

/// The GGUF files under `folder`, at most `MAX_DEPTH` folders down.
fn walk(folder: &Path, depth: usize, files: &mut Vec<PathBuf>, notes: &mut Vec<String>) {
    for path in entries(folder, notes) {
        if is_dir(&path) {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, files, notes);
            }
        } else if is_gguf(&path) && path.is_file() {
            files.push(path);
        }
    }
}

/// An MLX model: `config.json` and `*.safetensors`, from `mlx-community` or quantized by MLX
/// (`quantization` in its config).
fn mlx_folder(snapshot: &Path, repo: &str, notes: &mut Vec<String>) -> Option<FoundModel> {
    let config = snapshot.join("config.json");
    if !config.is_file() {
        return None;
    }
    let weights: Vec<PathBuf> = entries(snapshot, notes)
        .into_iter()
        .filter(|path| {
            path.extension().and_then(OsStr::to_str) == Some("safetensors") && path.is_file()
        })
        .collect();
    if weights.is_empty() {
        return None;
    }
    let quantized = match read_json(&config) {
        Ok(json) => json.get("quantization").is_some(),
        Err(why) => {
            notes.push(format!("{}: cannot be read: {why}", config.display()));
            false
        }
    };
    if !repo.starts_with("mlx-community/") && !quantized {
        return None;
    }
    let size = weights.iter().try_fold(0u64, |total, file| {
        fs::metadata(file)
            .ok()
            .map(|metadata| total.saturating_add(metadata.len()))
    });
    Some(FoundModel {
        format: ModelFormat::Mlx,
        source: ModelSource::HuggingFace,
        name: repo.to_owned(),
        repo: Some(repo.to_owned()),
        path: snapshot.to_owned(),
        size_bytes: size,
        chat_template: mlx_chat_template(snapshot),
        gguf: None,
    })
}

/// Whether an MLX folder has a chat template: in `tokenizer_config.json` or a
/// `chat_template.jinja`/`.json` beside it; unknown without a tokenizer config.
fn mlx_chat_template(folder: &Path) -> Option<bool> {
    if folder.join("chat_template.jinja").is_file() || folder.join("chat_template.json").is_file() {
        return Some(true);
    }
    let config = read_json(&folder.join("tokenizer_config.json")).ok()?;
    Some(
        config
            .get("chat_template")
            .is_some_and(|template| !template.is_null()),
    )
}

// ---- LM Studio ----

/// `<folder>/<publisher>/<repo>/*.gguf`.
fn lm_studio(folder: &Path, ggufs: &mut Ggufs, notes: &mut Vec<String>) {
    for publisher in entries(folder, notes).into_iter().filter(|p| is_dir(p)) {
        for repo in entries(&publisher, notes).into_iter().filter(|p| is_dir(p)) {
            let id = format!("{}/{}", name_of(&publisher), name_of(&repo));
            for file in entries(&repo, notes) {
                if is_gguf(&file) && file.is_file() {
                    ggufs.add(&file, ModelSource::LmStudio, Some(id.clone()), notes);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_parts_and_ollama_names_read_as_their_tools_write_them() {
        assert_eq!(
            split_part("Qwen3-30B-Q4_K_M-00001-of-00003"),
            Some(("Qwen3-30B-Q4_K_M", 1, 3))
        );
        assert_eq!(split_part("model-00002-of-00003"), Some(("model", 2, 3)));
        assert_eq!(split_part("model-of-the-year"), None);
        assert_eq!(split_part("model-1-of-3"), None);
        assert_eq!(
            ollama_name("registry.ollama.ai", "library", "qwen3", "8b"),
            "qwen3:8b"
        );
        assert_eq!(
            ollama_name("registry.ollama.ai", "alice", "tiny", "latest"),
            "alice/tiny:latest"
        );
        assert_eq!(
            ollama_name("hf.co", "bartowski", "Qwen3-8B-GGUF", "Q4_K_M"),
            "hf.co/bartowski/Qwen3-8B-GGUF:Q4_K_M"
        );
    }
}
