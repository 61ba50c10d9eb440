//! `hearth-bench`: the gateway benchmark in one run — prints the side-by-side table and writes
//! the JSON (see the crate's library and README's "Benchmark").

use std::{io::Write as _, path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use hearth_bench::{Options, Peer, UpstreamOptions};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Hearth's gateway benchmark: direct vs Hearth vs LiteLLM, on one machine, in one run"
)]
struct Args {
    /// The `hearth` binary to measure (default: the one beside this binary).
    #[arg(long, value_name = "PATH")]
    hearth: Option<PathBuf>,
    /// Concurrency levels, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16,64,256")]
    levels: Vec<usize>,
    /// Seconds of warm-up per run.
    #[arg(long, default_value_t = 1.0)]
    warmup: f64,
    /// Seconds measured per run.
    #[arg(long, default_value_t = 5.0)]
    duration: f64,
    /// Stop each run after this many measured requests (smoke runs).
    #[arg(long)]
    requests: Option<u64>,
    /// Content chunks per streamed answer of the fast upstream.
    #[arg(long, default_value_t = 16)]
    chunks: usize,
    /// Milliseconds between the upstream's streamed chunks.
    #[arg(long, default_value_t = 1.0)]
    chunk_delay_ms: f64,
    /// Requests of the memory-growth run through Hearth.
    #[arg(long, default_value_t = 100_000)]
    long: u64,
    /// Rounds (answers per path) against the real llama-server.
    #[arg(long, default_value_t = 16)]
    llama_rounds: usize,
    /// Tokens per llama-server answer.
    #[arg(long, default_value_t = 64)]
    llama_max_tokens: u32,
    /// Leave LiteLLM out even when it is installed.
    #[arg(long)]
    no_litellm: bool,
    /// Where to write the JSON (default: target/bench/hearth-bench-<unix time>.json).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let hearth = args.hearth.clone().unwrap_or_else(|| {
        std::env::current_exe()
            .map(|exe| exe.with_file_name("hearth"))
            .unwrap_or_else(|_| PathBuf::from("hearth"))
    });
    let options = Options {
        hearth,
        levels: args.levels.clone(),
        warmup: Duration::from_secs_f64(args.warmup),
        duration: Duration::from_secs_f64(args.duration),
        max_requests: args.requests,
        upstream: UpstreamOptions {
            chunks: args.chunks,
            delay: Duration::from_secs_f64(args.chunk_delay_ms / 1e3),
        },
        litellm: if args.no_litellm {
            Peer::Skip
        } else {
            Peer::IfInstalled
        },
        llama_rounds: args.llama_rounds,
        llama_max_tokens: args.llama_max_tokens,
        long_requests: args.long,
    };
    let mut stderr = std::io::stderr();
    let report = match hearth_bench::run(&options, &mut |step| {
        let _ = writeln!(stderr, "==> {step}");
    }) {
        Ok(report) => report,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "hearth-bench: {error}");
            return ExitCode::FAILURE;
        }
    };
    let path = args.json.unwrap_or_else(|| {
        PathBuf::from(format!(
            "target/bench/hearth-bench-{}.json",
            report.unix_time
        ))
    });
    let written = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| {
            let text = serde_json::to_string_pretty(&report).map_err(std::io::Error::other)?;
            std::fs::write(&path, text + "\n")
        });
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{}", report.table());
    match written {
        Ok(()) => {
            let _ = writeln!(stdout, "\nJSON: {}", path.display());
            ExitCode::SUCCESS
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hearth-bench: cannot write {}: {error}",
                path.display()
            );
            ExitCode::FAILURE
        }
    }
}
