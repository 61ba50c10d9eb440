//! Embeds the web UI (`ui/` at the workspace root) into the binary: every file becomes an entry
//! of `ASSETS` in `$OUT_DIR/ui_assets.rs`, served at `/ui/<path>`. No Node, no bundler: the UI
//! is plain HTML, CSS and ES modules.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

fn files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, found);
        } else if path.is_file() {
            found.push(path);
        }
    }
}

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let ui = manifest.join("../../ui");
    println!("cargo::rerun-if-changed={}", ui.display());
    let mut found = Vec::new();
    files(&ui, &mut found);
    found.sort();
    let mut code = String::from(
        "/// The web UI's files: path below `ui/`, contents.\npub static ASSETS: &[(&str, &[u8])] = &[\n",
    );
    for path in &found {
        println!("cargo::rerun-if-changed={}", path.display());
        let Ok(relative) = path.strip_prefix(&ui) else {
            continue;
        };
        let relative = relative.to_string_lossy().replace('\\', "/");
        let _ = writeln!(
            code,
            "    ({relative:?}, include_bytes!({:?})),",
            path.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(error) = std::fs::write(out.join("ui_assets.rs"), code) {
        println!("cargo::error=cannot write ui_assets.rs: {error}");
    }
}
