//! `hearth-bench`: the gateway benchmark in one run — prints the side-by-side table and writes
//! the JSON (see the crate's library and README's "Benchmark"); `hearth-bench soak`: the soak
//! test (README's "Reliability").

use std::{io::Write as _, path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use hearth_bench::{Options, Peer, UpstreamOptions, soak};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Hearth's gateway benchmark: direct vs Hearth vs LiteLLM, on one machine, in one run",
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
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

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// The soak test: long mixed load over every client API through `hearth serve`, with
    /// model switches and an upstream restarted every minute; VmRSS and open fds over time.
    /// Fails only when the gateway died or a request hung.
    Soak(SoakArgs),
}

#[derive(Debug, clap::Args)]
struct SoakArgs {
    /// The `hearth` binary to soak (default: the one beside this binary).
    #[arg(long, value_name = "PATH")]
    hearth: Option<PathBuf>,
    /// Minutes of load.
    #[arg(long, default_value_t = 30.0)]
    minutes: f64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Seconds between two samples of the gateway's VmRSS and open fds.
    #[arg(long, default_value_t = 10.0)]
    sample_every: f64,
    /// Seconds between two restarts of the second upstream.
    #[arg(long, default_value_t = 60.0)]
    restart_every: f64,
    /// Seconds between two model switches (admin API).
    #[arg(long, default_value_t = 30.0)]
    switch_every: f64,
    /// Seconds after which a request without its whole answer counts as hung (the soak fails).
    #[arg(long, default_value_t = 60.0)]
    request_timeout: f64,
    /// Where to write the JSON (default: target/bench/hearth-soak-<unix time>.json).
    #[arg(long, value_name = "PATH")]
    json: Option<PathBuf>,
}

fn beside_this_binary(hearth: Option<PathBuf>) -> PathBuf {
    hearth.unwrap_or_else(|| {
        std::env::current_exe()
            .map(|exe| exe.with_file_name("hearth"))
            .unwrap_or_else(|_| PathBuf::from("hearth"))
    })
}

fn write_json(path: &std::path::Path, value: &impl serde::Serialize) -> std::io::Result<()> {
    path.parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or(Ok(()), std::fs::create_dir_all)?;
    let text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    std::fs::write(path, text + "\n")
}

fn unix_time() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

fn run_soak(args: SoakArgs) -> ExitCode {
    let mut options = soak::SoakOptions::full(beside_this_binary(args.hearth));
    options.duration = Duration::from_secs_f64(args.minutes * 60.0);
    options.concurrency = args.concurrency.max(1);
    options.sample_every = Duration::from_secs_f64(args.sample_every);
    options.restart_every = Duration::from_secs_f64(args.restart_every);
    options.switch_every = Duration::from_secs_f64(args.switch_every);
    options.request_timeout = Duration::from_secs_f64(args.request_timeout);
    let mut stderr = std::io::stderr();
    let report = match soak::run(&options, &mut |step| {
        let _ = writeln!(stderr, "==> {step}");
    }) {
        Ok(report) => report,
        Err(error) => {
            let _ = writeln!(std::io::stderr(), "hearth-bench soak: {error}");
            return ExitCode::FAILURE;
        }
    };
    let path = args
        .json
        .unwrap_or_else(|| PathBuf::from(format!("target/bench/hearth-soak-{}.json", unix_time())));
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{}", report.table());
    match write_json(&path, &report) {
        Ok(()) => {
            let _ = writeln!(stdout, "\nJSON: {}", path.display());
        }
        Err(error) => {
            let _ = writeln!(
                std::io::stderr(),
                "hearth-bench soak: cannot write {}: {error}",
                path.display()
            );
        }
    }
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    if let Some(Command::Soak(soak_args)) = args.command {
        return run_soak(soak_args);
    }
    let hearth = beside_this_binary(args.hearth.clone());
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
    let written = write_json(&path, &report);
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
