//! First-run discovery against the real formats: model stores built in a temporary home from
//! the published layouts (Ollama's manifests, the Hugging Face hub cache, LM Studio's folders,
//! GGUF headers written as ggml's spec lays them out), fixture servers answering Ollama's and
//! OpenAI's documented bodies, and a real llama-server with a real model. Proposals are
//! checked as data: findings and a configuration in, the proposal's JSON out.

#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "a test: a failure must fail it loudly"
)]

use std::{
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use expect_test::{Expect, expect};
use hearth_core::config::{ConfigFile, store::default_document};
use hearth_services::{
    discovery::{self, Findings, ModelFormat, Options, Ports, ProgramKind, ServerKind},
    memory::Memory,
};
use serde_json::{Value, json};

// ---- fixtures: files ----

/// One GGUF key/value, typed as the spec types them.
enum Kv<'a> {
    Str(&'a str, &'a str),
    U32(&'a str, u32),
    Strings(&'a str, &'a [&'a str]),
    F32s(&'a str, &'a [f32]),
}

/// A GGUF v3 file: magic, version, no tensors, the key/values.
fn gguf(kvs: &[Kv]) -> Vec<u8> {
    fn string(bytes: &mut Vec<u8>, text: &str) {
        bytes.extend_from_slice(&(text.len() as u64).to_le_bytes());
        bytes.extend_from_slice(text.as_bytes());
    }
    let mut bytes = b"GGUF".to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&(kvs.len() as u64).to_le_bytes());
    for kv in kvs {
        match kv {
            Kv::Str(key, value) => {
                string(&mut bytes, key);
                bytes.extend_from_slice(&8u32.to_le_bytes());
                string(&mut bytes, value);
            }
            Kv::U32(key, value) => {
                string(&mut bytes, key);
                bytes.extend_from_slice(&4u32.to_le_bytes());
                bytes.extend_from_slice(&value.to_le_bytes());
            }
            Kv::Strings(key, values) => {
                string(&mut bytes, key);
                bytes.extend_from_slice(&9u32.to_le_bytes());
                bytes.extend_from_slice(&8u32.to_le_bytes());
                bytes.extend_from_slice(&(values.len() as u64).to_le_bytes());
                for value in *values {
                    string(&mut bytes, value);
                }
            }
            Kv::F32s(key, values) => {
                string(&mut bytes, key);
                bytes.extend_from_slice(&9u32.to_le_bytes());
                bytes.extend_from_slice(&6u32.to_le_bytes());
                bytes.extend_from_slice(&(values.len() as u64).to_le_bytes());
                for value in *values {
                    bytes.extend_from_slice(&value.to_le_bytes());
                }
            }
        }
    }
    bytes
}

/// A chat model's header: architecture, name, context length, vocabulary, chat template.
fn chat_gguf(architecture: &str, name: &str, context: u32) -> Vec<u8> {
    let context_key = format!("{architecture}.context_length");
    gguf(&[
        Kv::Str("general.architecture", architecture),
        Kv::Str("general.name", name),
        Kv::U32(&context_key, context),
        Kv::Strings(
            "tokenizer.ggml.tokens",
            &["<|im_start|>", "<|im_end|>", "hello"],
        ),
        Kv::F32s("tokenizer.ggml.scores", &[0.0, 0.0, -1.5]),
        Kv::Str(
            "tokenizer.chat_template",
            "{% for message in messages %}<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n{% endfor %}",
        ),
    ])
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A file of the hub cache: the bytes in `blobs/`, a relative symlink in the snapshot.
fn hub_file(cache: &Path, repo: &str, revision: &str, file: &str, bytes: &[u8]) {
    let folder = cache.join(format!("models--{}", repo.replace('/', "--")));
    let blob = format!("{:016x}{}", bytes.len(), file.len());
    write(&folder.join("blobs").join(&blob), bytes);
    write(&folder.join("refs/main"), revision);
    let link = folder.join("snapshots").join(revision).join(file);
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    let depth = file.matches('/').count() + 2;
    let target = format!("{}blobs/{blob}", "../".repeat(depth));
    std::os::unix::fs::symlink(target, &link).unwrap();
    assert!(link.is_file(), "{} resolves", link.display());
}

/// An Ollama image manifest, as `ollama pull` writes it.
fn ollama_manifest(model_size: u64) -> Value {
    json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": { "mediaType": "application/vnd.docker.container.image.v1+json",
                    "digest": "sha256:d8ba2f9a17b3bbdeb5690efaa409b3fcb0b56296a777c7a69c78aa33bbddf182", "size": 556 },
        "layers": [
            { "mediaType": "application/vnd.ollama.image.model",
              "digest": "sha256:a3de86cd1c132c822487ededd47a324c50491393e6565cd14bafa40d0b8e686f", "size": model_size },
            { "mediaType": "application/vnd.ollama.image.template",
              "digest": "sha256:eb4402837c7829a690fa845de4d7f3fd842c2adee476d5341da8a46ea9255175", "size": 1309 },
            { "mediaType": "application/vnd.ollama.image.params",
              "digest": "sha256:d18a5cc71b84bc4af394a31116bd3932b42241de70c77d2b76d69a314ec8aa12", "size": 148 }
        ]
    })
}

/// A home with every store discovery reads, and what should not be taken from them.
fn home_with_models() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let root = home.path();

    let manifests = root.join(".ollama/models/manifests");
    write(
        &manifests.join("registry.ollama.ai/library/qwen3/8b"),
        ollama_manifest(5_225_376_047).to_string(),
    );
    write(
        &manifests.join("registry.ollama.ai/alice/tiny/latest"),
        ollama_manifest(91_739_413).to_string(),
    );
    write(
        &manifests.join("hf.co/bartowski/SmolLM2-135M-Instruct-GGUF/Q4_K_M"),
        ollama_manifest(105_464_704).to_string(),
    );
    write(
        &manifests.join("registry.ollama.ai/library/broken/latest"),
        "{ not json",
    );

    let hub = root.join(".cache/huggingface/hub");
    hub_file(
        &hub,
        "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
        "5a1f2c",
        "smollm2-135m-instruct-q8_0.gguf",
        &chat_gguf("llama", "SmolLM2 135M Instruct", 8192),
    );
    // A vision projector beside it is not a model.
    hub_file(
        &hub,
        "HuggingFaceTB/SmolLM2-135M-Instruct-GGUF",
        "5a1f2c",
        "mmproj-SmolLM2-f16.gguf",
        &gguf(&[Kv::Str("general.architecture", "clip")]),
    );
    // A split model: one entry, the first part, with the size of both parts.
    hub_file(
        &hub,
        "unsloth/Qwen3-30B-A3B-GGUF",
        "0c9e1d",
        "Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf",
        &chat_gguf("qwen3moe", "Qwen3 30B A3B", 40_960),
    );
    hub_file(
        &hub,
        "unsloth/Qwen3-30B-A3B-GGUF",
        "0c9e1d",
        "Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00002-of-00002.gguf",
        &[0u8; 1000],
    );
    // A base model: found, and said to be one.
    hub_file(
        &hub,
        "Qwen/Qwen2.5-0.5B-GGUF",
        "77aa01",
        "qwen2.5-0.5b-q8_0.gguf",
        &gguf(&[
            Kv::Str("general.architecture", "qwen2"),
            Kv::U32("qwen2.context_length", 32_768),
        ]),
    );
    // An MLX folder, and a safetensors model that is not MLX.
    let mlx = "mlx-community/Qwen3-4B-4bit";
    hub_file(
        &hub,
        mlx,
        "9f00aa",
        "config.json",
        br#"{"model_type":"qwen3","quantization":{"group_size":64,"bits":4}}"#,
    );
    hub_file(
        &hub,
        mlx,
        "9f00aa",
        "tokenizer_config.json",
        br#"{"chat_template":"{% for m in messages %}{{ m.content }}{% endfor %}"}"#,
    );
    hub_file(&hub, mlx, "9f00aa", "model.safetensors", &[1u8; 3000]);
    hub_file(&hub, mlx, "9f00aa", "model.safetensors.index.json", b"{}");
    hub_file(
        &hub,
        "openai-community/gpt2",
        "11bb22",
        "config.json",
        br#"{"model_type":"gpt2"}"#,
    );
    hub_file(
        &hub,
        "openai-community/gpt2",
        "11bb22",
        "model.safetensors",
        &[2u8; 500],
    );

    let lmstudio = root.join(".lmstudio/models/lmstudio-community/gemma-3-1b-it-GGUF");
    write(
        &lmstudio.join("gemma-3-1b-it-Q4_K_M.gguf"),
        chat_gguf("gemma3", "Gemma 3 1b It", 32_768),
    );
    // A download cut short: its header ends in the middle of a key.
    let mut cut = chat_gguf("gemma3", "Gemma 3 4b It", 131_072);
    cut.truncate(60);
    write(&lmstudio.join("gemma-3-4b-it-Q4_K_M.gguf"), cut);
    home
}

/// Options that look only inside `home` and probe only ports where nothing listens.
fn quiet_options(home: &Path) -> Options {
    let mut options = Options::for_home(home.to_owned());
    options.program_dirs.clear();
    options.ports = Ports {
        ollama: free_port(),
        lmstudio: free_port(),
        openai: vec![free_port()],
    };
    options
}

/// Findings as JSON, with the temporary home written `~`.
fn show(value: &impl serde::Serialize, home: &Path) -> String {
    serde_json::to_string_pretty(value)
        .unwrap()
        .replace(&home.display().to_string(), "~")
}

#[tokio::test]
async fn model_files_are_found_in_ollama_the_hub_cache_and_lm_studio() {
    let home = home_with_models();
    let options = quiet_options(home.path());
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;

    let summary: Vec<String> = findings
        .model_files
        .iter()
        .map(|model| {
            let gguf = model.gguf.as_ref().map_or(String::new(), |info| {
                format!(
                    " {} ctx={:?} chat={}",
                    info.architecture.as_deref().unwrap_or("?"),
                    info.context_length,
                    info.chat_template
                )
            });
            format!(
                "{:?} {:?} {} size={:?}{gguf} repo={:?}",
                model.format, model.source, model.name, model.size_bytes, model.repo
            )
        })
        .collect();
    expect![[r#"
        [
            "Ollama OllamaStore alice/tiny:latest size=Some(91739413) repo=None",
            "Ollama OllamaStore hf.co/bartowski/SmolLM2-135M-Instruct-GGUF:Q4_K_M size=Some(105464704) repo=None",
            "Ollama OllamaStore qwen3:8b size=Some(5225376047) repo=None",
            "Gguf LmStudio gemma-3-1b-it-Q4_K_M size=Some(452) gemma3 ctx=Some(32768) chat=true repo=Some(\"lmstudio-community/gemma-3-1b-it-GGUF\")",
            "Gguf HuggingFace qwen2.5-0.5b-q8_0 size=Some(105) qwen2 ctx=Some(32768) chat=false repo=Some(\"Qwen/Qwen2.5-0.5B-GGUF\")",
            "Gguf HuggingFace Qwen3-30B-A3B-Q4_K_M size=Some(1456) qwen3moe ctx=Some(40960) chat=true repo=Some(\"unsloth/Qwen3-30B-A3B-GGUF\")",
            "Gguf HuggingFace smollm2-135m-instruct-q8_0 size=Some(458) llama ctx=Some(8192) chat=true repo=Some(\"HuggingFaceTB/SmolLM2-135M-Instruct-GGUF\")",
            "Mlx HuggingFace mlx-community/Qwen3-4B-4bit size=Some(3000) repo=Some(\"mlx-community/Qwen3-4B-4bit\")",
        ]
    "#]]
    .assert_debug_eq(&summary);

    // The split model is its first part; the MLX model is its snapshot folder.
    let split = findings
        .model_files
        .iter()
        .find(|model| model.name == "Qwen3-30B-A3B-Q4_K_M")
        .unwrap();
    assert!(
        split
            .path
            .ends_with("Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf")
    );
    let mlx = findings.model_files.last().unwrap();
    assert_eq!(mlx.format, ModelFormat::Mlx);
    assert!(mlx.path.ends_with("snapshots/9f00aa"));
    assert_eq!(mlx.chat_template, Some(true));

    // What could not be read is a note, and nothing else is.
    expect![[r#"
        [
          "Ollama's store: the manifest of broken:latest (~/.ollama/models/manifests/registry.ollama.ai/library/broken/latest) cannot be read: key must be a string at line 1 column 3",
          "~/.lmstudio/models/lmstudio-community/gemma-3-1b-it-GGUF/gemma-3-4b-it-Q4_K_M.gguf: its header ends early (truncated or corrupt)"
        ]"#]]
    .assert_eq(&show(&findings.notes, home.path()));
    assert!(findings.servers.is_empty());
    assert!(findings.programs.is_empty());
}

#[tokio::test]
async fn a_given_file_that_is_not_a_gguf_is_a_note() {
    let home = tempfile::tempdir().unwrap();
    let not_gguf = home.path().join("notes.gguf");
    write(&not_gguf, "these are my notes");
    let mut options = quiet_options(home.path());
    options.extra_model_files = vec![not_gguf, home.path().join("missing.gguf")];
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;
    assert!(findings.model_files.is_empty());
    expect![[r#"
        [
          "~/notes.gguf: it is not a GGUF file (no `GGUF` magic)",
          "~/missing.gguf: no such model file"
        ]"#]]
    .assert_eq(&show(&findings.notes, home.path()));
}

// ---- fixtures: programs ----

fn program(path: &Path, executable: bool) {
    write(path, "#!/bin/sh\nexit 0\n");
    let mode = if executable { 0o755 } else { 0o644 };
    std::fs::set_permissions(
        path,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(mode),
    )
    .unwrap();
}

#[tokio::test]
async fn programs_are_found_by_name_once_each_given_ones_first() {
    let home = tempfile::tempdir().unwrap();
    let root = home.path();
    program(&root.join("bin/llama-server"), true);
    program(&root.join("bin/ollama"), false); // not executable: not a program
    program(&root.join("brew/ollama"), true);
    std::fs::create_dir_all(root.join("brew/mlx_lm.server")).unwrap(); // a folder, not a file
    std::os::unix::fs::symlink(
        root.join("bin/llama-server"),
        root.join("brew/llama-server"),
    )
    .unwrap();
    program(&root.join("provisioned/llama-server"), true);
    program(&root.join("venv/bin/mlx_lm.server"), true);
    program(&root.join(".lmstudio/bin/lms"), true);
    program(&root.join("tools/python3"), true);

    let mut options = Options::for_home(root.to_owned());
    options.program_dirs = vec![root.join("brew"), root.join(".lmstudio/bin")];
    options.path = Some(
        std::env::join_paths([
            root.join("bin"),
            PathBuf::from("relative/bin"),
            root.join("venv/bin"),
        ])
        .unwrap(),
    );
    options.extra_programs = vec![
        root.join("provisioned/llama-server"),
        root.join("tools/python3"),
        root.join("gone/ollama"),
    ];
    options.ports = quiet_options(root).ports;
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;
    expect![[r#"
        [
          {
            "kind": "llama-server",
            "path": "~/provisioned/llama-server"
          },
          {
            "kind": "llama-server",
            "path": "~/bin/llama-server"
          },
          {
            "kind": "mlx-lm",
            "path": "~/venv/bin/mlx_lm.server"
          },
          {
            "kind": "ollama",
            "path": "~/brew/ollama"
          },
          {
            "kind": "lms",
            "path": "~/.lmstudio/bin/lms"
          }
        ]"#]]
    .assert_eq(&show(&findings.programs, root));
    assert_eq!(
        findings.program(ProgramKind::LlamaServer).unwrap().path,
        root.join("provisioned/llama-server"),
        "the given program is the one used"
    );
    expect![[r#"
        [
          "~/tools/python3: not a program discovery knows (it looks for ollama, llama-server, mlx_lm.server, lms)",
          "~/gone/ollama: does not exist"
        ]"#]]
    .assert_eq(&show(&findings.notes, root));
}

// ---- fixtures: servers ----

/// Never the same port twice in this process (the tests run in parallel threads).
fn free_port() -> u16 {
    static GIVEN: std::sync::Mutex<Vec<u16>> = std::sync::Mutex::new(Vec::new());
    let mut given = GIVEN.lock().unwrap();
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if !given.contains(&port) {
            given.push(port);
            return port;
        }
    }
}

/// One canned answer.
#[derive(Clone)]
struct Answer {
    status: u16,
    body: String,
    server: Option<&'static str>,
}

fn ok(body: Value) -> Answer {
    Answer {
        status: 200,
        body: body.to_string(),
        server: None,
    }
}

/// An HTTP/1.1 server on a free loopback port answering `route(path)`, one connection at a
/// time, `Connection: close`. `None` from the route: accept and never answer.
fn fixture_server(route: impl Fn(&str) -> Option<Answer> + Send + 'static) -> u16 {
    // From `free_port`, so no other test takes this port for one where nothing listens.
    let port = free_port();
    let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    std::thread::spawn(move || {
        let mut silent: Vec<TcpStream> = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = Vec::new();
            let mut buffer = [0u8; 1024];
            while !request.windows(4).any(|window| window == b"\r\n\r\n") {
                match stream.read(&mut buffer) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buffer[..n]),
                }
            }
            let text = String::from_utf8_lossy(&request);
            let path = text.split_whitespace().nth(1).unwrap_or("/").to_owned();
            let Some(answer) = route(&path) else {
                silent.push(stream); // held open, never answered
                continue;
            };
            let reason = if answer.status == 200 {
                "OK"
            } else {
                "Not Found"
            };
            let server = answer
                .server
                .map(|server| format!("Server: {server}\r\n"))
                .unwrap_or_default();
            let response = format!(
                "HTTP/1.1 {} {reason}\r\n{server}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                answer.status,
                answer.body.len(),
                answer.body
            );
            let _ = stream.write_all(response.as_bytes());
        }
    });
    port
}

fn not_found() -> Option<Answer> {
    Some(Answer {
        status: 404,
        body: "Not Found".to_owned(),
        server: None,
    })
}

/// Ollama answering with the example bodies of its API documentation.
fn ollama_fixture() -> u16 {
    fixture_server(|path| match path {
        "/api/version" => Some(ok(json!({ "version": "0.5.1" }))),
        "/api/tags" => Some(ok(json!({ "models": [
            { "name": "deepseek-r1:latest", "model": "deepseek-r1:latest",
              "modified_at": "2025-05-10T08:06:48.639712648-07:00", "size": 4_683_075_271u64,
              "digest": "0a8c266910232fd3291e71e5ba1e058cc5af9d411192cf88b6d30e92b6e73163",
              "details": { "parent_model": "", "format": "gguf", "family": "qwen2", "families": ["qwen2"],
                           "parameter_size": "7.6B", "quantization_level": "Q4_K_M" } },
            { "name": "llama3.2:latest", "model": "llama3.2:latest",
              "modified_at": "2025-05-04T17:37:44.706015396-07:00", "size": 2_019_393_189u64,
              "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
              "details": { "parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                           "parameter_size": "3.2B", "quantization_level": "Q4_K_M" } }
        ] }))),
        "/api/ps" => Some(ok(json!({ "models": [
            { "name": "llama3.2:latest", "model": "llama3.2:latest", "size": 5_137_025_024u64,
              "digest": "2ae6f6dd7a3dd734790bbbf58b8909a606e0e7e97e94b7604e0aa7ae4490e6d8",
              "details": { "parent_model": "", "format": "gguf", "family": "llama", "families": ["llama"],
                           "parameter_size": "3.2B", "quantization_level": "Q4_0" },
              "expires_at": "2024-06-04T14:38:31.83753-07:00", "size_vram": 5_137_025_024u64 }
        ] }))),
        _ => not_found(),
    })
}

fn openai_list(models: &[(&str, Option<&str>)]) -> Value {
    json!({
        "object": "list",
        "data": models.iter().map(|(id, owner)| {
            let mut model = json!({ "id": id, "object": "model", "created": 1_700_000_000 });
            if let Some(owner) = owner {
                model["owned_by"] = json!(owner);
            }
            model
        }).collect::<Vec<_>>()
    })
}

#[tokio::test]
async fn running_servers_are_found_and_named_from_their_documented_answers() {
    let ollama = ollama_fixture();
    let lmstudio = fixture_server(|path| match path {
        "/v1/models" => Some(ok(openai_list(&[
            ("qwen2.5-7b-instruct", Some("organization_owner")),
            (
                "text-embedding-nomic-embed-text-v1.5",
                Some("organization_owner"),
            ),
        ]))),
        _ => not_found(),
    });
    let vllm = fixture_server(|path| match path {
        "/v1/models" => Some(ok(json!({ "object": "list", "data": [
            { "id": "Qwen/Qwen2.5-1.5B-Instruct", "object": "model", "created": 1_700_000_000,
              "owned_by": "vllm", "root": "Qwen/Qwen2.5-1.5B-Instruct", "parent": null,
              "max_model_len": 32_768 }
        ] }))),
        _ => not_found(),
    });
    // mlx_lm.server: Python's http.server, no `owned_by`, plain "Not Found" elsewhere.
    let mlx = fixture_server(|path| {
        let mut answer = match path {
            "/v1/models" => ok(openai_list(&[("mlx-community/Qwen3-4B-4bit", None)])),
            _ => not_found()?,
        };
        answer.server = Some("BaseHTTP/0.6 Python/3.12.4");
        Some(answer)
    });
    let garbage = fixture_server(|_| {
        Some(Answer {
            status: 200,
            body: "<html>router admin</html>".to_owned(),
            server: None,
        })
    });
    let nothing = free_port();

    let home = tempfile::tempdir().unwrap();
    let mut options = quiet_options(home.path());
    options.ports = Ports {
        ollama,
        lmstudio,
        openai: vec![vllm, mlx, garbage, nothing, lmstudio],
    };
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;

    let mut found: Vec<String> = findings
        .servers
        .iter()
        .map(|server| {
            assert_eq!(server.url, format!("http://127.0.0.1:{}", server.port));
            let name = match server.port {
                port if port == ollama => "ollama",
                port if port == lmstudio => "lmstudio",
                port if port == vllm => "vllm",
                port if port == mlx => "mlx",
                _ => "?",
            };
            format!(
                "{name}: {:?} {:?} models={:?} loaded={:?}",
                server.kind,
                server.version,
                server
                    .models
                    .iter()
                    .map(|model| (model.id.as_str(), model.size_bytes, model.context_window))
                    .collect::<Vec<_>>(),
                server.loaded
            )
        })
        .collect();
    found.sort();
    expect![[r#"
        [
            "lmstudio: LmStudio None models=[(\"qwen2.5-7b-instruct\", None, None), (\"text-embedding-nomic-embed-text-v1.5\", None, None)] loaded=[]",
            "mlx: MlxLm None models=[(\"mlx-community/Qwen3-4B-4bit\", None, None)] loaded=[]",
            "ollama: Ollama Some(\"0.5.1\") models=[(\"deepseek-r1:latest\", Some(4683075271), None), (\"llama3.2:latest\", Some(2019393189), None)] loaded=[\"llama3.2:latest\"]",
            "vllm: Vllm None models=[(\"Qwen/Qwen2.5-1.5B-Instruct\", None, Some(32768))] loaded=[]",
        ]
    "#]]
    .assert_debug_eq(&found);
    assert_eq!(
        findings.notes,
        [format!(
            "something answers at http://127.0.0.1:{garbage} but not as an OpenAI-compatible server: `/v1/models` did not answer JSON (expected value at line 1 column 1)"
        )]
    );

    // The default configuration's `ollama` and `mlx` are at other ports than these fixtures:
    // their ids take a suffix. The model Ollama has in memory becomes primary.
    let proposal = discovery::propose(&findings, &default_config(), None, &[]);
    let summary: Vec<String> = proposal
        .providers
        .iter()
        .map(|proposed| {
            format!(
                "{} {} running={} {}: {}",
                proposed.id,
                proposed.provider.api.as_str(),
                proposed.running,
                proposed.origin,
                proposed
                    .provider
                    .models
                    .iter()
                    .map(|model| model.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
            .replace(&ollama.to_string(), "OLLAMA")
            .replace(&lmstudio.to_string(), "LMSTUDIO")
            .replace(&vllm.to_string(), "VLLM")
            .replace(&mlx.to_string(), "MLX")
        })
        .collect();
    expect![[r#"
        [
            "lmstudio openai-completions running=true LM Studio running at http://127.0.0.1:LMSTUDIO: qwen2.5-7b-instruct, text-embedding-nomic-embed-text-v1.5",
            "mlx-2 openai-completions running=true mlx_lm.server running at http://127.0.0.1:MLX: mlx-community/Qwen3-4B-4bit",
            "ollama-2 ollama running=true Ollama running at http://127.0.0.1:OLLAMA: deepseek-r1:latest, llama3.2:latest",
            "vllm openai-completions running=true vLLM running at http://127.0.0.1:VLLM: Qwen/Qwen2.5-1.5B-Instruct",
        ]
    "#]]
    .assert_debug_eq(&summary);
    assert_eq!(
        proposal.primary.as_deref(),
        Some("ollama-2/llama3.2:latest")
    );
}

#[tokio::test]
async fn nothing_listening_is_done_at_once_and_a_silent_server_costs_one_timeout() {
    let silent = fixture_server(|_| None);
    let home = tempfile::tempdir().unwrap();
    let mut options = quiet_options(home.path());
    options
        .ports
        .openai
        .extend([free_port(), free_port(), silent]);
    options.probe_timeout = Duration::from_millis(300);
    let started = Instant::now();
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "discovery took {took:?}");
    assert!(findings.servers.is_empty());
    assert_eq!(
        findings.notes,
        [format!(
            "something answers at http://127.0.0.1:{silent} but not as an OpenAI-compatible server: `/v1/models` did not answer within 300ms"
        )]
    );
}

// ---- propose, as data ----

fn default_config() -> ConfigFile {
    serde_json::from_value(default_document()).unwrap()
}

fn findings(value: Value) -> Findings {
    serde_json::from_value(value).unwrap()
}

const GIB: u64 = 1024 * 1024 * 1024;

fn memory(available: u64) -> Memory {
    Memory {
        total: 16 * GIB,
        available,
        used: 16 * GIB - available,
        swap_total: 0,
        swap_used: 0,
        pressure: None,
        gpu_limit: None,
    }
}

fn check(
    findings: &Findings,
    current: &ConfigFile,
    memory: Option<Memory>,
    taken: &[u16],
    expected: Expect,
) {
    let proposal = discovery::propose(findings, current, memory.as_ref(), taken);
    expected.assert_eq(&serde_json::to_string_pretty(&proposal).unwrap());
}

#[test]
fn running_servers_fill_the_default_providers_and_what_is_loaded_is_primary() {
    let found = findings(json!({
        "servers": [
            { "kind": "ollama", "port": 11434, "url": "http://127.0.0.1:11434", "version": "0.12.3",
              "models": [{ "id": "qwen3:8b", "sizeBytes": 5_225_376_047u64 }, { "id": "gemma3:1b", "sizeBytes": 815_319_791u64 }],
              "loaded": ["gemma3:1b"] },
            { "kind": "mlx-lm", "port": 8080, "url": "http://127.0.0.1:8080",
              "models": [{ "id": "mlx-community/Qwen3-4B-4bit" }] },
            { "kind": "llama-server", "port": 8090, "url": "http://127.0.0.1:8090",
              "models": [{ "id": "smollm2", "contextWindow": 2048, "chatTemplate": true }] }
        ]
    }));
    check(
        &found,
        &default_config(),
        None,
        &[],
        expect![[r#"
            {
              "providers": [
                {
                  "id": "llama-server",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8090/v1",
                    "models": [
                      {
                        "id": "smollm2",
                        "contextWindow": 2048
                      }
                    ]
                  },
                  "origin": "llama-server running at http://127.0.0.1:8090",
                  "running": true
                },
                {
                  "id": "mlx",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8080/v1",
                    "models": [
                      {
                        "id": "mlx-community/Qwen3-4B-4bit"
                      }
                    ]
                  },
                  "origin": "mlx_lm.server running at http://127.0.0.1:8080",
                  "running": true
                },
                {
                  "id": "ollama",
                  "provider": {
                    "api": "ollama",
                    "baseUrl": "http://127.0.0.1:11434",
                    "models": [
                      {
                        "id": "gemma3:1b",
                        "sizeBytes": 815319791
                      },
                      {
                        "id": "qwen3:8b",
                        "sizeBytes": 5225376047
                      }
                    ]
                  },
                  "origin": "Ollama running at http://127.0.0.1:11434",
                  "running": true
                }
              ],
              "services": [],
              "primary": "ollama/gemma3:1b",
              "notes": []
            }"#]],
    );
}

#[test]
fn a_server_already_configured_is_skipped_and_an_id_taken_elsewhere_gets_a_suffix() {
    let current: ConfigFile = serde_json::from_value(json!({
        "providers": {
            "ollama": { "api": "ollama", "baseUrl": "http://127.0.0.1:11434/",
                        "models": [{ "id": "qwen3:8b" }, { "id": "gemma3:1b" }] },
            "lmstudio": { "api": "openai-completions", "baseUrl": "http://10.0.0.2:1234/v1" }
        },
        "models": { "primary": "ollama/qwen3:8b" }
    }))
    .unwrap();
    let found = findings(json!({
        "servers": [
            { "kind": "lm-studio", "port": 1234, "url": "http://127.0.0.1:1234",
              "models": [{ "id": "qwen2.5-7b-instruct" }] },
            { "kind": "ollama", "port": 11434, "url": "http://127.0.0.1:11434",
              "models": [{ "id": "qwen3:8b" }, { "id": "gemma3:1b" }] },
            { "kind": "openai", "port": 8000, "url": "http://127.0.0.1:8000", "models": [] }
        ]
    }));
    check(
        &found,
        &current,
        None,
        &[],
        expect![[r#"
            {
              "providers": [
                {
                  "id": "lmstudio-2",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:1234/v1",
                    "models": [
                      {
                        "id": "qwen2.5-7b-instruct"
                      }
                    ]
                  },
                  "origin": "LM Studio running at http://127.0.0.1:1234",
                  "running": true
                }
              ],
              "services": [],
              "notes": [
                "Ollama running at http://127.0.0.1:11434: its models are already configured (provider `ollama`)",
                "an OpenAI-compatible server running at http://127.0.0.1:8000 lists no models"
              ]
            }"#]],
    );
}

#[test]
fn installed_programs_with_models_become_services_on_free_ports() {
    let mut current = default_config();
    current.services.insert(
        "gemma".to_owned(),
        serde_json::from_value(json!({
            "program": "/opt/homebrew/bin/llama-server",
            "args": ["-m", "/Users/me/.lmstudio/models/lmstudio-community/gemma-3-1b-it-GGUF/gemma-3-1b-it-Q4_K_M.gguf", "--port", "8082"],
            "port": 8082
        }))
        .unwrap(),
    );
    let found = findings(json!({
        "programs": [
            { "kind": "ollama", "path": "/opt/homebrew/bin/ollama" },
            { "kind": "llama-server", "path": "/opt/homebrew/bin/llama-server" }
        ],
        "modelFiles": [
            { "format": "ollama", "source": "ollama-store", "name": "alice/tiny:latest", "sizeBytes": 91_739_413,
              "path": "/Users/me/.ollama/models/manifests/registry.ollama.ai/alice/tiny/latest" },
            { "format": "ollama", "source": "ollama-store", "name": "qwen3:8b", "sizeBytes": 5_225_376_047u64,
              "path": "/Users/me/.ollama/models/manifests/registry.ollama.ai/library/qwen3/8b" },
            { "format": "gguf", "source": "hugging-face", "name": "Qwen3-30B-A3B-Q4_K_M", "repo": "unsloth/Qwen3-30B-A3B-GGUF",
              "path": "/Users/me/.cache/huggingface/hub/models--unsloth--Qwen3-30B-A3B-GGUF/snapshots/0c9e1d/Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf",
              "sizeBytes": 18_556_685_056u64, "chatTemplate": true,
              "gguf": { "version": 3, "architecture": "qwen3moe", "contextLength": 40960, "chatTemplate": true } },
            { "format": "gguf", "source": "lm-studio", "name": "gemma-3-1b-it-Q4_K_M", "repo": "lmstudio-community/gemma-3-1b-it-GGUF",
              "path": "/Users/me/.lmstudio/models/lmstudio-community/gemma-3-1b-it-GGUF/gemma-3-1b-it-Q4_K_M.gguf",
              "sizeBytes": 806_058_240u64, "chatTemplate": true,
              "gguf": { "version": 3, "architecture": "gemma3", "contextLength": 32768, "chatTemplate": true } },
            { "format": "gguf", "source": "hugging-face", "name": "qwen2.5-0.5b-q8_0", "repo": "Qwen/Qwen2.5-0.5B-GGUF",
              "path": "/Users/me/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-GGUF/snapshots/77aa01/qwen2.5-0.5b-q8_0.gguf",
              "sizeBytes": 531_066_400u64, "chatTemplate": false,
              "gguf": { "version": 3, "architecture": "qwen2", "contextLength": 32768, "chatTemplate": false } },
            { "format": "gguf", "source": "given", "name": "SmolLM2-135M-Instruct-Q8_0",
              "path": "/srv/models/SmolLM2-135M-Instruct-Q8_0.gguf",
              "sizeBytes": 144_811_072u64, "chatTemplate": true,
              "gguf": { "version": 3, "architecture": "llama", "contextLength": 2048, "chatTemplate": true } }
        ]
    }));
    // 8081 is the gateway's neighbour here (taken), 8082 the configured service's: the first
    // new service gets 8083. The largest model that fits in 8 GiB is primary.
    check(
        &found,
        &current,
        Some(memory(8 * GIB)),
        &[8081],
        expect![[r#"
            {
              "providers": [
                {
                  "id": "llama-qwen3-30b-a3b-q4-k-m",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8083/v1",
                    "models": [
                      {
                        "id": "qwen3-30b-a3b-q4-k-m",
                        "contextWindow": 8192,
                        "sizeBytes": 18556685056
                      }
                    ]
                  },
                  "origin": "llama-server at /opt/homebrew/bin/llama-server with /Users/me/.cache/huggingface/hub/models--unsloth--Qwen3-30B-A3B-GGUF/snapshots/0c9e1d/Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf (17.3 GiB), run by the proposed service `llama-qwen3-30b-a3b-q4-k-m`",
                  "running": false
                },
                {
                  "id": "llama-smollm2-135m-instruct-q8-0",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8084/v1",
                    "models": [
                      {
                        "id": "smollm2-135m-instruct-q8-0",
                        "contextWindow": 2048,
                        "sizeBytes": 144811072
                      }
                    ]
                  },
                  "origin": "llama-server at /opt/homebrew/bin/llama-server with /srv/models/SmolLM2-135M-Instruct-Q8_0.gguf (138.1 MiB), run by the proposed service `llama-smollm2-135m-instruct-q8-0`",
                  "running": false
                },
                {
                  "id": "ollama",
                  "provider": {
                    "api": "ollama",
                    "baseUrl": "http://127.0.0.1:11434",
                    "models": [
                      {
                        "id": "alice/tiny:latest",
                        "sizeBytes": 91739413
                      },
                      {
                        "id": "qwen3:8b",
                        "sizeBytes": 5225376047
                      }
                    ]
                  },
                  "origin": "ollama at /opt/homebrew/bin/ollama with 2 models in /Users/me/.ollama/models, run by the proposed service `ollama`",
                  "running": false
                }
              ],
              "services": [
                {
                  "name": "llama-qwen3-30b-a3b-q4-k-m",
                  "service": {
                    "template": "llama-server",
                    "program": "/opt/homebrew/bin/llama-server",
                    "args": [
                      "-m",
                      "/Users/me/.cache/huggingface/hub/models--unsloth--Qwen3-30B-A3B-GGUF/snapshots/0c9e1d/Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf",
                      "--host",
                      "127.0.0.1",
                      "--port",
                      "8083",
                      "-c",
                      "8192",
                      "--alias",
                      "qwen3-30b-a3b-q4-k-m"
                    ],
                    "port": 8083,
                    "healthUrl": "http://127.0.0.1:8083/health",
                    "restart": "on-failure",
                    "startTimeout": "3m",
                    "provider": "llama-qwen3-30b-a3b-q4-k-m"
                  },
                  "origin": "llama-server at /opt/homebrew/bin/llama-server with /Users/me/.cache/huggingface/hub/models--unsloth--Qwen3-30B-A3B-GGUF/snapshots/0c9e1d/Q4_K_M/Qwen3-30B-A3B-Q4_K_M-00001-of-00002.gguf (17.3 GiB)"
                },
                {
                  "name": "llama-smollm2-135m-instruct-q8-0",
                  "service": {
                    "template": "llama-server",
                    "program": "/opt/homebrew/bin/llama-server",
                    "args": [
                      "-m",
                      "/srv/models/SmolLM2-135M-Instruct-Q8_0.gguf",
                      "--host",
                      "127.0.0.1",
                      "--port",
                      "8084",
                      "-c",
                      "2048",
                      "--alias",
                      "smollm2-135m-instruct-q8-0"
                    ],
                    "port": 8084,
                    "healthUrl": "http://127.0.0.1:8084/health",
                    "restart": "on-failure",
                    "startTimeout": "3m",
                    "provider": "llama-smollm2-135m-instruct-q8-0"
                  },
                  "origin": "llama-server at /opt/homebrew/bin/llama-server with /srv/models/SmolLM2-135M-Instruct-Q8_0.gguf (138.1 MiB)"
                },
                {
                  "name": "ollama",
                  "service": {
                    "template": "ollama",
                    "program": "/opt/homebrew/bin/ollama",
                    "args": [
                      "serve"
                    ],
                    "env": {
                      "OLLAMA_FLASH_ATTENTION": "1",
                      "OLLAMA_HOST": "127.0.0.1:11434",
                      "OLLAMA_KEEP_ALIVE": "24h",
                      "OLLAMA_KV_CACHE_TYPE": "q8_0"
                    },
                    "port": 11434,
                    "healthUrl": "http://127.0.0.1:11434/api/version",
                    "restart": "on-failure",
                    "startTimeout": "3m",
                    "provider": "ollama"
                  },
                  "origin": "ollama at /opt/homebrew/bin/ollama with 2 models in /Users/me/.ollama/models"
                }
              ],
              "primary": "ollama/qwen3:8b",
              "notes": [
                "gemma-3-1b-it-Q4_K_M: already served by service `gemma`",
                "qwen2.5-0.5b-q8_0 (/Users/me/.cache/huggingface/hub/models--Qwen--Qwen2.5-0.5B-GGUF/snapshots/77aa01/qwen2.5-0.5b-q8_0.gguf) is a base model (no chat template): not proposed"
              ]
            }"#]],
    );
}

#[test]
fn mlx_models_fill_the_default_mlx_provider_first_and_without_memory_the_smallest_is_primary() {
    let found = findings(json!({
        "programs": [{ "kind": "mlx-lm", "path": "/Users/me/.venv/bin/mlx_lm.server" }],
        "modelFiles": [
            { "format": "mlx", "source": "hugging-face", "name": "mlx-community/Llama-3.2-1B-Instruct-4bit",
              "repo": "mlx-community/Llama-3.2-1B-Instruct-4bit", "sizeBytes": 695_283_921u64, "chatTemplate": true,
              "path": "/Users/me/.cache/huggingface/hub/models--mlx-community--Llama-3.2-1B-Instruct-4bit/snapshots/a1" },
            { "format": "mlx", "source": "hugging-face", "name": "mlx-community/Qwen3-0.6B-Base-4bit",
              "repo": "mlx-community/Qwen3-0.6B-Base-4bit", "sizeBytes": 335_000_000u64, "chatTemplate": false,
              "path": "/Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-0.6B-Base-4bit/snapshots/b2" },
            { "format": "mlx", "source": "hugging-face", "name": "mlx-community/Qwen3-4B-4bit",
              "repo": "mlx-community/Qwen3-4B-4bit", "sizeBytes": 2_263_022_000u64, "chatTemplate": true,
              "path": "/Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-4B-4bit/snapshots/c3" }
        ]
    }));
    check(
        &found,
        &default_config(),
        None,
        &[],
        expect![[r#"
            {
              "providers": [
                {
                  "id": "mlx",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8080/v1",
                    "models": [
                      {
                        "id": "mlx-community/Llama-3.2-1B-Instruct-4bit",
                        "sizeBytes": 695283921
                      }
                    ]
                  },
                  "origin": "mlx_lm.server at /Users/me/.venv/bin/mlx_lm.server with /Users/me/.cache/huggingface/hub/models--mlx-community--Llama-3.2-1B-Instruct-4bit/snapshots/a1 (663.1 MiB), run by the proposed service `mlx-llama-3-2-1b-instruct-4bit`",
                  "running": false
                },
                {
                  "id": "mlx-qwen3-4b-4bit",
                  "provider": {
                    "api": "openai-completions",
                    "baseUrl": "http://127.0.0.1:8081/v1",
                    "models": [
                      {
                        "id": "mlx-community/Qwen3-4B-4bit",
                        "sizeBytes": 2263022000
                      }
                    ]
                  },
                  "origin": "mlx_lm.server at /Users/me/.venv/bin/mlx_lm.server with /Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-4B-4bit/snapshots/c3 (2.1 GiB), run by the proposed service `mlx-qwen3-4b-4bit`",
                  "running": false
                }
              ],
              "services": [
                {
                  "name": "mlx-llama-3-2-1b-instruct-4bit",
                  "service": {
                    "template": "mlx-lm",
                    "program": "/Users/me/.venv/bin/mlx_lm.server",
                    "args": [
                      "--model",
                      "mlx-community/Llama-3.2-1B-Instruct-4bit",
                      "--host",
                      "127.0.0.1",
                      "--port",
                      "8080"
                    ],
                    "port": 8080,
                    "healthUrl": "http://127.0.0.1:8080/v1/models",
                    "restart": "on-failure",
                    "startTimeout": "3m",
                    "provider": "mlx"
                  },
                  "origin": "mlx_lm.server at /Users/me/.venv/bin/mlx_lm.server with /Users/me/.cache/huggingface/hub/models--mlx-community--Llama-3.2-1B-Instruct-4bit/snapshots/a1 (663.1 MiB)"
                },
                {
                  "name": "mlx-qwen3-4b-4bit",
                  "service": {
                    "template": "mlx-lm",
                    "program": "/Users/me/.venv/bin/mlx_lm.server",
                    "args": [
                      "--model",
                      "mlx-community/Qwen3-4B-4bit",
                      "--host",
                      "127.0.0.1",
                      "--port",
                      "8081"
                    ],
                    "port": 8081,
                    "healthUrl": "http://127.0.0.1:8081/v1/models",
                    "restart": "on-failure",
                    "startTimeout": "3m",
                    "provider": "mlx-qwen3-4b-4bit"
                  },
                  "origin": "mlx_lm.server at /Users/me/.venv/bin/mlx_lm.server with /Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-4B-4bit/snapshots/c3 (2.1 GiB)"
                }
              ],
              "primary": "mlx/mlx-community/Llama-3.2-1B-Instruct-4bit",
              "notes": [
                "mlx-community/Qwen3-0.6B-Base-4bit (/Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-0.6B-Base-4bit/snapshots/b2) is a base model (no chat template): not proposed"
              ]
            }"#]],
    );
}

#[test]
fn model_files_without_a_program_are_notes_naming_what_to_install() {
    let found = findings(json!({
        "programs": [{ "kind": "lms", "path": "/Users/me/.lmstudio/bin/lms" }],
        "modelFiles": [
            { "format": "ollama", "source": "ollama-store", "name": "qwen3:8b", "sizeBytes": 5_225_376_047u64,
              "path": "/Users/me/.ollama/models/manifests/registry.ollama.ai/library/qwen3/8b" },
            { "format": "gguf", "source": "given", "name": "SmolLM2-135M-Instruct-Q8_0",
              "path": "/srv/models/SmolLM2-135M-Instruct-Q8_0.gguf", "sizeBytes": 144_811_072u64, "chatTemplate": true },
            { "format": "mlx", "source": "hugging-face", "name": "mlx-community/Qwen3-4B-4bit",
              "sizeBytes": 2_263_022_000u64,
              "path": "/Users/me/.cache/huggingface/hub/models--mlx-community--Qwen3-4B-4bit/snapshots/c3" }
        ],
        "notes": ["something answers at http://127.0.0.1:8000 but not as an OpenAI-compatible server: `/v1/models` answered 401 Unauthorized"]
    }));
    check(
        &found,
        &default_config(),
        Some(memory(8 * GIB)),
        &[],
        expect![[r#"
            {
              "providers": [],
              "services": [],
              "notes": [
                "something answers at http://127.0.0.1:8000 but not as an OpenAI-compatible server: `/v1/models` answered 401 Unauthorized",
                "Ollama's store has 1 model but Ollama is neither running nor installed: install it (https://ollama.com) or start it, then run `hearth setup` again",
                "1 GGUF model file found (SmolLM2-135M-Instruct-Q8_0) but llama-server is not installed: `brew install llama.cpp`, then run `hearth setup` again",
                "1 MLX model found (mlx-community/Qwen3-4B-4bit) but mlx_lm.server is not installed: `pip install mlx-lm`, then run `hearth setup` again",
                "LM Studio's CLI is installed: `lms server start` serves its models at :1234; then run `hearth setup` again"
              ]
            }"#]],
    );
}

// ---- a real llama-server ----

/// What `scripts/provision.sh` installed: from the environment, else `<cache>/env.sh` (the
/// cache is `$HEARTH_TEST_CACHE`, else `~/.cache/hearth-test`). Missing fails the test.
fn provisioned(name: &str) -> String {
    if let Ok(value) = std::env::var(name)
        && !value.is_empty()
    {
        return value;
    }
    let cache = std::env::var("HEARTH_TEST_CACHE").map_or_else(
        |_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cache/hearth-test"),
        PathBuf::from,
    );
    let env_file = cache.join("env.sh");
    let text = std::fs::read_to_string(&env_file).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("export "))
        .filter_map(|line| line.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches(['\'', '"']).to_owned())
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| {
            panic!(
                "{name} is not provisioned ({} has no such line): run `scripts/provision.sh`, \
                 which builds llama-server and downloads the test models",
                env_file.display()
            )
        })
}

/// A process killed (and reaped) when dropped, whatever ends the test.
struct Killed {
    child: Child,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `program args` and waits until `/health` on `port` answers 200.
async fn start_healthy(program: &str, args: &[String], port: u16) -> Killed {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("server.log");
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&log).unwrap())
        .stderr(std::fs::File::create(dir.path().join("server.err")).unwrap())
        .spawn()
        .unwrap_or_else(|error| {
            panic!("cannot start {program}: {error}; run scripts/provision.sh")
        });
    let mut server = Killed {
        child,
        log,
        _dir: dir,
    };
    let http = hearth_services::health::client();
    let url = format!("http://127.0.0.1:{port}/health");
    let deadline = Instant::now() + Duration::from_secs(120);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!(
                "{program} exited ({status}) before it was ready:\n{}",
                logs(&server)
            );
        }
        if hearth_services::health::probe(&http, &url).await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("{program} was not healthy within 120 s:\n{}", logs(&server));
}

fn logs(server: &Killed) -> String {
    let mut text = String::new();
    for file in [server.log.clone(), server.log.with_file_name("server.err")] {
        text.push_str(&std::fs::read_to_string(file).unwrap_or_default());
    }
    let tail: Vec<&str> = text.lines().rev().take(30).collect();
    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
}

#[tokio::test]
async fn a_real_llama_server_and_its_gguf_are_found_and_the_proposed_service_runs() {
    let binary = provisioned("HEARTH_LLAMA_SERVER");
    let model = provisioned("HEARTH_MODEL_SMOLLM2");
    let port = free_port();
    let args: Vec<String> = [
        "-m",
        &model,
        "--host",
        "127.0.0.1",
        "--port",
        &port.to_string(),
        "-c",
        "2048",
        "-np",
        "1",
        "-t",
        "1",
        "--alias",
        "smollm2",
    ]
    .map(str::to_owned)
    .to_vec();
    let _running = start_healthy(&binary, &args, port).await;

    let home = tempfile::tempdir().unwrap();
    let mut options = quiet_options(home.path());
    options.ports.openai = vec![port];
    options.extra_programs = vec![PathBuf::from(&binary)];
    options.extra_model_files = vec![PathBuf::from(&model)];
    let findings = discovery::discover(&hearth_services::health::client(), &options).await;
    assert!(findings.notes.is_empty(), "{:?}", findings.notes);

    // The running server: llama-server, answering to its alias, with the context it was given.
    let [server] = findings.servers.as_slice() else {
        panic!("one server: {:?}", findings.servers)
    };
    assert_eq!(server.kind, ServerKind::LlamaServer);
    assert_eq!(server.port, port);
    let [served] = server.models.as_slice() else {
        panic!("one model: {:?}", server.models)
    };
    assert_eq!(served.id, "smollm2");
    assert_eq!(served.context_window, Some(2048));
    assert_eq!(served.chat_template, Some(true));

    // The program and the file, read from the real GGUF: SmolLM2 is a llama with an 8k
    // context and a chat template.
    assert_eq!(findings.programs.len(), 1);
    assert_eq!(findings.programs[0].kind, ProgramKind::LlamaServer);
    let [file] = findings.model_files.as_slice() else {
        panic!("one model file: {:?}", findings.model_files)
    };
    let info = file.gguf.as_ref().unwrap();
    assert_eq!(info.architecture.as_deref(), Some("llama"));
    assert_eq!(info.context_length, Some(8192));
    assert!(info.chat_template);
    let name = info.name.as_deref().unwrap_or_default().to_lowercase();
    assert!(name.contains("smollm2"), "{info:?}");
    assert_eq!(
        file.size_bytes,
        Some(std::fs::metadata(&model).unwrap().len())
    );

    // The proposal: the running server as a provider, the file as a service on a free port.
    let proposal = discovery::propose(&findings, &default_config(), None, &[port]);
    assert_eq!(proposal.primary.as_deref(), Some("llama-server/smollm2"));
    let running = proposal.providers.iter().find(|p| p.running).unwrap();
    assert_eq!(running.id, "llama-server");
    assert_eq!(
        running.provider.base_url,
        format!("http://127.0.0.1:{port}/v1")
    );
    assert_eq!(running.provider.models[0].context_window, Some(2048));
    let [service] = proposal.services.as_slice() else {
        panic!("one service: {:?}", proposal.services)
    };
    let service_port = service.service.port.unwrap();
    assert_ne!(service_port, port);
    assert!(service.name.starts_with("llama-"), "{}", service.name);
    assert_eq!(service.service.program, binary);
    assert_eq!(
        service.service.provider.as_deref(),
        Some(service.name.as_str())
    );
    let provider = proposal
        .providers
        .iter()
        .find(|p| p.id == service.name)
        .unwrap();
    assert!(!provider.running);
    assert_eq!(
        provider.provider.base_url,
        format!("http://127.0.0.1:{service_port}/v1")
    );
    let alias = provider.provider.models[0].id.clone();
    assert_eq!(provider.provider.models[0].context_window, Some(8192));
    let args = &service.service.args;
    let after = |flag: &str| {
        args.iter()
            .position(|arg| arg == flag)
            .map(|at| args[at + 1].clone())
    };
    assert_eq!(after("-m").as_deref(), Some(model.as_str()));
    assert_eq!(after("-c").as_deref(), Some("8192"));
    assert_eq!(after("--alias"), Some(alias.clone()));

    // The proposed command runs as written (on a free port here, one thread) and gives what
    // its provider says: the model id and the context.
    let free = free_port();
    let mut args = args.clone();
    let at = args.iter().position(|arg| arg == "--port").unwrap();
    args[at + 1] = free.to_string();
    args.extend(["-t", "1"].map(str::to_owned));
    let _proposed = start_healthy(&service.service.program, &args, free).await;
    options.ports.openai = vec![free];
    let again = discovery::discover(&hearth_services::health::client(), &options).await;
    let [server] = again.servers.as_slice() else {
        panic!("one server: {:?}", again.servers)
    };
    assert_eq!(server.kind, ServerKind::LlamaServer);
    assert_eq!(server.models.len(), 1);
    assert_eq!(server.models[0].id, alias);
    assert_eq!(server.models[0].context_window, Some(8192));
}
