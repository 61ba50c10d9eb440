//! Where the configuration lives and how it is saved.
//!
//! A save validates first and never writes an invalid document. It is atomic: the new text goes
//! to a temporary file in the same directory (created 0600), is flushed to disk, the current
//! file is copied to `hearth.json.bak` the same way, and only then is the temporary file renamed
//! over `hearth.json`. A process killed at any point leaves either the old or the new valid
//! file in place, never a torn one.
//!
//! Edits by dotted path (`models.primary`, `agents[1].tools.deny`, `models.params["mlx/m"]`) work
//! on the JSON document rather than the typed structs, so the user's key order and layout of
//! untouched parts survive a `config set`.

use std::{
    fs,
    io::{self, Write},
    path::{Path, PathBuf},
};

use serde_json::{Map, Value};

use super::{
    diagnostic::{Diagnostic, json_kind},
    file::ConfigFile,
    validate::{Environment, Validated, parse, validate_value},
};

/// The files Hearth reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_file: PathBuf,
    /// Agents' default workspaces, logs and history live below this.
    pub data_dir: PathBuf,
}

impl Paths {
    /// `HEARTH_CONFIG` and `HEARTH_DATA_DIR` override the platform's directories:
    /// `~/Library/Application Support/Hearth/` on macOS, `$XDG_CONFIG_HOME/hearth/` and
    /// `$XDG_DATA_HOME/hearth/` on Linux.
    pub fn from_env() -> Result<Paths, StoreError> {
        let app_dir = if cfg!(target_os = "macos") {
            "Hearth"
        } else {
            "hearth"
        };
        let config_file = match std::env::var_os("HEARTH_CONFIG") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => dirs::config_dir()
                .ok_or(StoreError::NoHome)?
                .join(app_dir)
                .join("hearth.json"),
        };
        let data_dir = match std::env::var_os("HEARTH_DATA_DIR") {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => dirs::data_dir().ok_or(StoreError::NoHome)?.join(app_dir),
        };
        Ok(Paths {
            config_file,
            data_dir,
        })
    }

    pub fn backup_file(&self) -> PathBuf {
        backup_path(&self.config_file)
    }

    pub fn environment(&self) -> Environment {
        Environment {
            data_dir: self.data_dir.clone(),
            home: dirs::home_dir(),
        }
    }
}

fn backup_path(file: &Path) -> PathBuf {
    let mut name = file.file_name().unwrap_or_default().to_os_string();
    name.push(".bak");
    file.with_file_name(name)
}

/// What can go wrong reading or writing the configuration.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot tell the home directory; set HEARTH_CONFIG and HEARTH_DATA_DIR")]
    NoHome,
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("the configuration is not valid ({} problem(s))", .0.iter().filter(|d| d.is_error()).count())]
    Invalid(Vec<Diagnostic>),
    /// A save refused because the result would not be valid.
    #[error("the change would make the configuration invalid ({} problem(s)); nothing was written", .0.iter().filter(|d| d.is_error()).count())]
    Refused(Vec<Diagnostic>),
    #[error(transparent)]
    Edit(#[from] EditError),
}

/// The configuration as loaded: its document (for edits) and its validated form.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub document: Value,
    pub validated: Validated,
    /// False when no file exists yet and the defaults are in use.
    pub from_file: bool,
}

/// The document of a fresh install: an Ollama provider at its default port, an MLX server at
/// `127.0.0.1:8080/v1`, one agent, and a default client whose token the secret store holds.
pub fn default_document() -> Value {
    serde_json::json!({
        "providers": {
            "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434" },
            "mlx": { "api": "openai-completions", "baseUrl": "http://127.0.0.1:8080/v1" }
        },
        "agents": [
            { "id": "main", "name": "Main" }
        ],
        "clients": [
            { "name": "default", "token": super::file::DEFAULT_CLIENT_TOKEN_REF }
        ]
    })
}

/// Reads the document at `path`; the defaults when the file does not exist. Syntax errors come
/// back as `Invalid` with line and column.
pub fn read_document(path: &Path) -> Result<(Value, bool), StoreError> {
    match fs::read_to_string(path) {
        Ok(text) => parse(&text)
            .map(|value| (value, true))
            .map_err(|diagnostic| StoreError::Invalid(vec![diagnostic])),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok((default_document(), false)),
        Err(source) => Err(StoreError::Read {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Reads and validates the configuration.
pub fn load(paths: &Paths) -> Result<Loaded, StoreError> {
    let (document, from_file) = read_document(&paths.config_file)?;
    let validated = validate_value(&document, &paths.environment()).map_err(StoreError::Invalid)?;
    Ok(Loaded {
        document,
        validated,
        from_file,
    })
}

/// Validates `document` and, only if it is valid, writes it atomically, keeping the previous
/// file as `.bak`.
pub fn save(paths: &Paths, document: &Value) -> Result<Validated, StoreError> {
    let validated = validate_value(document, &paths.environment()).map_err(StoreError::Refused)?;
    let mut text = serde_json::to_string_pretty(document).map_err(|error| StoreError::Write {
        path: paths.config_file.clone(),
        source: io::Error::other(error),
    })?;
    text.push('\n');
    write_atomically(&paths.config_file, text.as_bytes(), true)?;
    Ok(validated)
}

/// Saves typed file types (from an import) through the same validated, atomic path.
pub fn save_file(paths: &Paths, file: &ConfigFile) -> Result<Validated, StoreError> {
    let document = serde_json::to_value(file).map_err(|error| StoreError::Write {
        path: paths.config_file.clone(),
        source: io::Error::other(error),
    })?;
    save(paths, &document)
}

fn write_atomically(target: &Path, bytes: &[u8], keep_backup: bool) -> Result<(), StoreError> {
    let write_error = |source| StoreError::Write {
        path: target.to_owned(),
        source,
    };
    let dir = target
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    create_private_dir(dir).map_err(write_error)?;
    if keep_backup {
        match fs::read(target) {
            Ok(previous) => {
                write_then_rename(dir, &backup_path(target), &previous).map_err(write_error)?
            }
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StoreError::Read {
                    path: target.to_owned(),
                    source,
                });
            }
        }
    }
    write_then_rename(dir, target, bytes).map_err(write_error)
}

/// Writes `bytes` to a fresh 0600 temporary file in `dir`, syncs it, renames it to `target` and
/// syncs the directory, so the rename itself is durable.
fn write_then_rename(dir: &Path, target: &Path, bytes: &[u8]) -> io::Result<()> {
    let prefix = format!(
        ".{}.",
        target.file_name().unwrap_or_default().to_string_lossy()
    );
    // tempfile creates the file with mode 0600 on Unix.
    let mut temporary = tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    temporary.persist(target).map_err(|error| error.error)?;
    sync_dir(dir)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(unix)]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

#[cfg(not(unix))]
fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)
}

/// A dotted path that does not fit the document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(
        "`{0}` is not a valid path: write keys with dots and indexes in brackets, like `agents[0].tools.deny` or `models.params[\"mlx/m\"]`"
    )]
    BadPath(String),
    #[error("nothing at `{0}`")]
    Missing(String),
    #[error("`{path}` is {found}, so `{segment}` cannot be looked up in it")]
    NotAContainer {
        path: String,
        segment: String,
        found: &'static str,
    },
    #[error("index {index} is past the end of `{path}` ({len} element(s)); use {len} to append")]
    OutOfRange {
        path: String,
        index: usize,
        len: usize,
    },
    #[error("a path has at most {MAX_PATH_SEGMENTS} keys and indexes")]
    TooDeep,
}

/// The most keys and indexes a dotted path may have. The configuration nests a few levels; the
/// bound keeps a path from a request body (the admin API takes one) from building a document
/// deep enough to exhaust the stack of whatever drops or saves it.
pub const MAX_PATH_SEGMENTS: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(text: &str) -> Result<Vec<Segment>, EditError> {
    let bad = || EditError::BadPath(text.to_owned());
    let mut segments = Vec::new();
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut expect_key = true;
    while !rest.is_empty() {
        if segments.len() > MAX_PATH_SEGMENTS {
            return Err(EditError::TooDeep);
        }
        if let Some(after) = rest.strip_prefix('[') {
            let close = after.find(']').ok_or_else(bad)?;
            let inside = &after[..close];
            if inside.starts_with('"') {
                // A quoted key may contain `]`; find the closing quote by parsing JSON.
                let mut stream = serde_json::Deserializer::from_str(after).into_iter::<String>();
                let key = stream.next().ok_or_else(bad)?.map_err(|_| bad())?;
                let consumed = stream.byte_offset();
                let tail = after[consumed..].strip_prefix(']').ok_or_else(bad)?;
                segments.push(Segment::Key(key));
                rest = tail;
            } else {
                segments.push(Segment::Index(inside.parse().map_err(|_| bad())?));
                rest = &after[close + 1..];
            }
            expect_key = false;
        } else if let Some(after) = rest.strip_prefix('.') {
            if expect_key {
                return Err(bad());
            }
            rest = after;
            expect_key = true;
        } else {
            if !expect_key {
                return Err(bad());
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            let key = &rest[..end];
            if key.is_empty() {
                return Err(bad());
            }
            segments.push(match key.parse::<usize>() {
                Ok(index) => Segment::Index(index),
                Err(_) => Segment::Key(key.to_owned()),
            });
            rest = &rest[end..];
            expect_key = false;
        }
    }
    if expect_key {
        return Err(bad());
    }
    if segments.len() > MAX_PATH_SEGMENTS {
        return Err(EditError::TooDeep);
    }
    Ok(segments)
}

fn render(segments: &[Segment]) -> String {
    let mut path = super::diagnostic::JsonPath::root();
    for segment in segments {
        path = match segment {
            Segment::Key(key) => path.key(key),
            Segment::Index(index) => path.index(*index),
        };
    }
    path.to_string()
}

/// The value at a dotted path.
pub fn get<'v>(document: &'v Value, path: &str) -> Result<&'v Value, EditError> {
    let segments = parse_path(path)?;
    let mut current = document;
    for (depth, segment) in segments.iter().enumerate() {
        let next = match (segment, current) {
            (Segment::Key(key), Value::Object(members)) => members.get(key),
            (Segment::Index(index), Value::Array(items)) => items.get(*index),
            (Segment::Index(index), Value::Object(members)) => members.get(&index.to_string()),
            (_, other) => {
                return Err(EditError::NotAContainer {
                    path: render(&segments[..depth]),
                    segment: render(&segments[depth..=depth]),
                    found: json_kind(other),
                });
            }
        };
        current = next.ok_or_else(|| EditError::Missing(render(&segments[..=depth])))?;
    }
    Ok(current)
}

/// Sets the value at a dotted path, creating objects on the way. Appending to an array is
/// `set(doc, "agents[N]", ...)` with N the current length.
pub fn set(document: &mut Value, path: &str, value: Value) -> Result<(), EditError> {
    let segments = parse_path(path)?;
    let mut current = document;
    for (depth, segment) in segments.iter().enumerate() {
        let last = depth + 1 == segments.len();
        // Rendered only for an error: on every step, that made a long path cost cubic time.
        let here = || render(&segments[..depth]);
        current = match segment {
            Segment::Key(key) => {
                if current.is_null() {
                    *current = Value::Object(Map::new());
                }
                let found = json_kind(current);
                let Value::Object(members) = current else {
                    return Err(EditError::NotAContainer {
                        path: here(),
                        segment: key.clone(),
                        found,
                    });
                };
                if last {
                    members.insert(key.clone(), value);
                    return Ok(());
                }
                members.entry(key.clone()).or_insert(Value::Null)
            }
            Segment::Index(index) => {
                let found = json_kind(current);
                let Value::Array(items) = current else {
                    return Err(EditError::NotAContainer {
                        path: here(),
                        segment: format!("[{index}]"),
                        found,
                    });
                };
                if *index > items.len() {
                    return Err(EditError::OutOfRange {
                        path: here(),
                        index: *index,
                        len: items.len(),
                    });
                }
                if *index == items.len() {
                    items.push(Value::Null);
                }
                if last {
                    items[*index] = value;
                    return Ok(());
                }
                &mut items[*index]
            }
        };
    }
    Ok(())
}

/// Removes the value at a dotted path; returns it.
pub fn unset(document: &mut Value, path: &str) -> Result<Value, EditError> {
    let segments = parse_path(path)?;
    let Some((last, parents)) = segments.split_last() else {
        return Err(EditError::BadPath(path.to_owned()));
    };
    let parent_path = render(parents);
    let parent = if parents.is_empty() {
        document
    } else {
        get_mut(document, parents)?
    };
    let missing = || EditError::Missing(render(&segments));
    match (last, parent) {
        (Segment::Key(key), Value::Object(members)) => {
            members.shift_remove(key).ok_or_else(missing)
        }
        (Segment::Index(index), Value::Array(items)) if *index < items.len() => {
            Ok(items.remove(*index))
        }
        (Segment::Index(_), Value::Array(_)) => Err(missing()),
        (segment, other) => Err(EditError::NotAContainer {
            path: parent_path,
            segment: render(std::slice::from_ref(segment)),
            found: json_kind(other),
        }),
    }
}

fn get_mut<'v>(document: &'v mut Value, segments: &[Segment]) -> Result<&'v mut Value, EditError> {
    let mut current = document;
    for (depth, segment) in segments.iter().enumerate() {
        let found = json_kind(current);
        let next = match (segment, current) {
            (Segment::Key(key), Value::Object(members)) => members.get_mut(key),
            (Segment::Index(index), Value::Array(items)) => items.get_mut(*index),
            _ => {
                return Err(EditError::NotAContainer {
                    path: render(&segments[..depth]),
                    segment: render(&segments[depth..=depth]),
                    found,
                });
            }
        };
        current = next.ok_or_else(|| EditError::Missing(render(&segments[..=depth])))?;
    }
    Ok(current)
}

/// How `hearth config set` reads a value: JSON when it parses as JSON (`true`, `11500`,
/// `["a","b"]`, `"quoted"`), otherwise the text itself as a string.
pub fn parse_cli_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use expect_test::expect;
    use serde_json::json;

    use super::*;

    #[test]
    fn get_and_set_by_dotted_path() {
        let mut document = json!({"models": {"primary": "a/b"}, "agents": [{"id": "x"}]});
        assert_eq!(get(&document, "models.primary").unwrap(), "a/b");
        assert_eq!(get(&document, "agents[0].id").unwrap(), "x");
        assert_eq!(get(&document, "agents.0.id").unwrap(), "x");
        set(
            &mut document,
            "models.params[\"mlx/qwen2.5\"].think",
            json!(true),
        )
        .unwrap();
        set(&mut document, "agents[1]", json!({"id": "y"})).unwrap();
        set(&mut document, "gateway.port", json!(11600)).unwrap();
        assert_eq!(
            document,
            json!({
                "models": {"primary": "a/b", "params": {"mlx/qwen2.5": {"think": true}}},
                "agents": [{"id": "x"}, {"id": "y"}],
                "gateway": {"port": 11600}
            })
        );
        assert_eq!(
            unset(&mut document, "agents[0]").unwrap(),
            json!({"id": "x"})
        );
        assert_eq!(get(&document, "agents[0].id").unwrap(), "y");
    }

    #[test]
    fn path_errors_say_what_is_wrong() {
        let mut document = json!({"models": {"primary": "a/b"}, "agents": []});
        let errors = [
            get(&document, "models.fallbacks").unwrap_err(),
            get(&document, "models.primary.x").unwrap_err(),
            get(&document, "models..primary").unwrap_err(),
            set(&mut document, "agents[3]", json!({})).unwrap_err(),
            unset(&mut document, "gateway").unwrap_err(),
        ];
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        expect![[r#"
            [
                "nothing at `models.fallbacks`",
                "`models.primary` is a string, so `x` cannot be looked up in it",
                "`models..primary` is not a valid path: write keys with dots and indexes in brackets, like `agents[0].tools.deny` or `models.params[\"mlx/m\"]`",
                "index 3 is past the end of `agents` (0 element(s)); use 0 to append",
                "nothing at `gateway`",
            ]
        "#]]
        .assert_debug_eq(&text);
    }

    /// Found by fuzzing (fuzz/ `config_edit`): `set` on a path of 2,000 keys took over a second
    /// (cubic: every step rendered the path so far for an error it might not raise), ten times
    /// that for 4,000, and built a document deep enough to exhaust a thread's stack when it was
    /// dropped or saved; the admin API takes a path from a request body.
    #[test]
    fn paths_have_a_depth_limit() {
        let mut document = default_document();
        let deep = format!("a{}", ".a".repeat(2000));
        let errors = [
            set(&mut document, &deep, json!(1)).unwrap_err(),
            get(&document, &deep).unwrap_err(),
            unset(&mut document, &deep).unwrap_err(),
        ];
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        expect![[r#"
            [
                "a path has at most 32 keys and indexes",
                "a path has at most 32 keys and indexes",
                "a path has at most 32 keys and indexes",
            ]
        "#]]
        .assert_debug_eq(&text);
        assert_eq!(document, default_document());
        let limit = format!("a{}", ".a".repeat(31));
        set(&mut document, &limit, json!(1)).unwrap();
        assert_eq!(get(&document, &limit).unwrap(), &json!(1));
    }

    #[test]
    fn cli_values_are_json_when_they_parse() {
        assert_eq!(parse_cli_value("11500"), json!(11500));
        assert_eq!(parse_cli_value("true"), json!(true));
        assert_eq!(parse_cli_value("[\"bash\"]"), json!(["bash"]));
        assert_eq!(
            parse_cli_value("ollama/gemma4:26b-a4b-it-q8_0"),
            json!("ollama/gemma4:26b-a4b-it-q8_0")
        );
        assert_eq!(parse_cli_value("\"123\""), json!("123"));
    }
}
