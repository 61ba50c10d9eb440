//! The gateway benchmark (issue 7): a fast upstream, then the same closed-loop load against it
//! directly, through Hearth (`hearth serve`, the real binary) and through the LiteLLM proxy when
//! it is installed, at several concurrency levels, plain and streamed; a real llama-server
//! direct and through Hearth; Hearth's memory and CPU. [`run`] does it all and returns a
//! [`Report`], which renders one table and serializes to JSON.
//!
//! Added latency is the difference of the percentiles of two runs at the same concurrency (the
//! gateway's p99 minus the direct path's p99), not a per-request difference: the two paths
//! cannot answer the same request. See ARCHITECTURE.md for the choices.

mod llama;
mod load;
mod proc_stat;
mod report;
mod servers;
pub mod soak;
mod stats;

use std::{path::PathBuf, process::Command, time::Duration};

use bytes::Bytes;
use hearth_e2e::upstream::Upstream;
pub use hearth_e2e::upstream::UpstreamOptions;
pub use report::{Report, Status};
use serde_json::json;

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Json(#[from] serde_json::Error),
}

/// Whether to measure the LiteLLM proxy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    /// When `scripts/provision.sh` installed it (`HEARTH_LITELLM`); otherwise the report says it
    /// was not measured and how to install it.
    IfInstalled,
    /// It must be there (the CI smoke run, whose test command provisions it).
    Required,
    Skip,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct Options {
    /// The `hearth` binary (a release build for real numbers).
    pub hearth: PathBuf,
    pub levels: Vec<usize>,
    pub warmup: Duration,
    pub duration: Duration,
    /// Per run, stop after this many measured requests (the smoke run).
    pub max_requests: Option<u64>,
    pub upstream: UpstreamOptions,
    pub litellm: Peer,
    pub llama_rounds: usize,
    pub llama_max_tokens: u32,
    /// Requests of the memory-growth run through Hearth.
    pub long_requests: u64,
}

impl Options {
    /// The full run's settings.
    pub fn full(hearth: PathBuf) -> Options {
        Options {
            hearth,
            levels: vec![1, 16, 64, 256],
            warmup: Duration::from_secs(1),
            duration: Duration::from_secs(5),
            max_requests: None,
            upstream: UpstreamOptions::default(),
            litellm: Peer::IfInstalled,
            llama_rounds: 16,
            llama_max_tokens: 64,
            long_requests: 100_000,
        }
    }
}

/// The total rate of the paced runs: well below what either path can do on two cores.
pub const PACED_RATE: f64 = 2000.0;

/// The request every run sends: one short user message, like an agent's smallest turn.
fn request_body(model: &str, streamed: bool) -> Bytes {
    let mut body = json!({
        "model": model,
        "messages": [{ "role": "user", "content": "Say hello." }],
        "max_tokens": 16
    });
    if streamed {
        body["stream"] = json!(true);
    }
    Bytes::from(body.to_string())
}

/// Runs the whole benchmark. Every process it starts is stopped before it returns.
pub fn run(options: &Options, progress: &mut dyn FnMut(&str)) -> Result<Report, BenchError> {
    let upstream = Upstream::start(options.upstream)?;
    progress("starting llama-server (SmolLM2-135M)");
    let llama = hearth_e2e::LlamaServer::smollm2();
    progress("starting hearth serve");
    let hearth = servers::hearth(&options.hearth, &upstream.base_url(), &llama.base_url())?;
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = proc_stat::rss_bytes(hearth.pid());
    let litellm = match (
        options.litellm,
        hearth_e2e::try_provisioned("HEARTH_LITELLM"),
    ) {
        (Peer::Skip, _) => None,
        (Peer::Required, None) => {
            return Err(BenchError::Setup(format!(
                "LiteLLM is not provisioned ({} has no HEARTH_LITELLM): run scripts/provision.sh",
                hearth_e2e::env_file().display()
            )));
        }
        (Peer::IfInstalled, None) => None,
        (_, Some(program)) => {
            progress("starting the LiteLLM proxy");
            let program = PathBuf::from(program);
            let server = servers::litellm(&program, &upstream.base_url())?;
            Some((server, litellm_version(&program)))
        }
    };
    let litellm_idle_rss = litellm
        .as_ref()
        .and_then(|(server, _)| proc_stat::rss_bytes(server.pid()));

    let direct = load::Target {
        addr: upstream.addr,
        path: "/v1/chat/completions".to_owned(),
        bearer: None,
        pid: None,
    };
    let through = |server: &servers::Server| load::Target {
        addr: server.addr,
        path: "/v1/chat/completions".to_owned(),
        bearer: server.bearer.clone(),
        pid: Some(server.pid()),
    };
    let mut targets = vec![("direct", direct), ("hearth", through(&hearth))];
    if let Some((server, _)) = &litellm {
        targets.push(("litellm", through(server)));
    }
    let mut runs = Vec::new();
    for streamed in [false, true] {
        for &concurrency in &options.levels {
            // The paths take turns at each level, so a drift of the machine hits them alike.
            for (name, target) in &targets {
                progress(&format!(
                    "{} {name} at concurrency {concurrency}",
                    if streamed { "streamed" } else { "non-streamed" }
                ));
                let load = load::Load {
                    concurrency,
                    warmup: options.warmup,
                    duration: options.duration,
                    max_requests: options.max_requests,
                    body: request_body("bench", streamed),
                    streamed,
                    pace: None,
                };
                let measured = load::run(target, &load)?;
                let scenario = if streamed {
                    report::STREAMED
                } else {
                    report::PLAIN
                };
                runs.push(report::Run::new(name, scenario, concurrency, &measured));
            }
        }
    }

    // Below saturation: the same 64 connections, paced, so latency is the answer's own and
    // not the wait for a busy CPU.
    let paced_level = report::target_level(&options.levels);
    for (name, target) in &targets[..2] {
        progress(&format!(
            "non-streamed {name} at concurrency {paced_level}, paced at {PACED_RATE} req/s"
        ));
        let load = load::Load {
            concurrency: paced_level,
            warmup: options.warmup,
            duration: options.duration,
            max_requests: options.max_requests,
            body: request_body("bench", false),
            streamed: false,
            pace: Some(Duration::from_secs_f64(paced_level as f64 / PACED_RATE)),
        };
        let measured = load::run(target, &load)?;
        runs.push(report::Run::new(
            name,
            report::PACED,
            paced_level,
            &measured,
        ));
    }

    progress(&format!(
        "memory: {} requests through hearth",
        options.long_requests
    ));
    let before_long = proc_stat::rss_bytes(hearth.pid());
    let long_concurrency = options
        .levels
        .iter()
        .copied()
        .filter(|&c| c <= 64)
        .max()
        .unwrap_or(1);
    let long = load::run(
        &targets[1].1,
        &load::Load {
            concurrency: long_concurrency,
            warmup: Duration::ZERO,
            duration: Duration::from_secs(3600),
            max_requests: Some(options.long_requests),
            body: request_body("bench", false),
            streamed: false,
            pace: None,
        },
    )?;
    std::thread::sleep(Duration::from_millis(500));
    let after_long = proc_stat::rss_bytes(hearth.pid());

    progress("llama-server direct and through hearth");
    let llama_addr = std::net::SocketAddr::from(([127, 0, 0, 1], llama.port));
    let (llama_direct, llama_hearth) = llama::compare(
        llama_addr,
        hearth.addr,
        options.llama_rounds,
        options.llama_max_tokens,
    )?;

    let peak_rss = runs
        .iter()
        .filter(|run| run.target == "hearth")
        .filter_map(|run| run.peak_rss_bytes)
        .chain(long.peak_rss)
        .max();
    let memory = report::Memory {
        idle_rss_bytes: idle_rss,
        peak_rss_bytes: peak_rss,
        before_long_rss_bytes: before_long,
        after_long_rss_bytes: after_long,
        long_requests: long.requests,
        long_errors: long.errors,
        long_concurrency,
        long_cpu_seconds_per_1000: long
            .cpu_seconds
            .map(|cpu| cpu * 1000.0 / long.requests.max(1) as f64),
        litellm_idle_rss_bytes: litellm_idle_rss,
    };
    let litellm_info = match &litellm {
        Some((_, version)) => report::PeerInfo {
            measured: true,
            version: version.clone(),
            note: "litellm --config (one model at the upstream), its default single worker".to_owned(),
        },
        None if options.litellm == Peer::Skip => report::PeerInfo {
            measured: false,
            version: None,
            note: "not measured: left out on request (--no-litellm)".to_owned(),
        },
        None => report::PeerInfo {
            measured: false,
            version: None,
            note: "not measured: LiteLLM is not installed; `bash scripts/provision.sh` installs litellm[proxy] into ~/.cache/hearth-test".to_owned(),
        },
    };
    let report = Report::new(
        options,
        runs,
        memory,
        report::Llama {
            rounds: options.llama_rounds,
            max_tokens: options.llama_max_tokens,
            direct: llama_direct,
            hearth: llama_hearth,
        },
        litellm_info,
        git_commit(),
    );
    drop(litellm);
    drop(hearth);
    drop(llama);
    drop(upstream);
    Ok(report)
}

fn litellm_version(program: &std::path::Path) -> Option<String> {
    let python = program.with_file_name("python");
    let output = Command::new(python)
        .args([
            "-c",
            "import importlib.metadata as m; print(m.version('litellm'))",
        ])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

fn git_commit() -> Option<String> {
    let output = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
