//! The results: one JSON document (stable field names, to compare across commits) and one
//! text table with every target's verdict.

use std::fmt::Write as _;

use serde::Serialize;

use crate::{Options, llama::PathResult, load::Measured, stats::Summary};

/// One load run: a path (`direct`, `hearth`, `litellm`), plain or streamed, at one concurrency.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    pub scenario: &'static str,
    pub target: String,
    pub concurrency: usize,
    pub requests: u64,
    pub errors: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_error: Option<String>,
    pub window_seconds: f64,
    pub requests_per_second: f64,
    pub latency: Summary,
    /// Streamed: time to the first SSE event, and every gap between two events.
    pub first_chunk: Summary,
    pub chunk_gap: Summary,
    pub cpu_seconds_per_1000: Option<f64>,
    pub peak_rss_bytes: Option<u64>,
}

impl Run {
    pub fn new(
        target: &str,
        scenario: &'static str,
        concurrency: usize,
        measured: &Measured,
    ) -> Run {
        Run {
            scenario,
            target: target.to_owned(),
            concurrency,
            requests: measured.requests,
            errors: measured.errors,
            first_error: measured.first_error.clone(),
            window_seconds: measured.window.as_secs_f64(),
            requests_per_second: measured.per_second(),
            latency: measured.latency,
            first_chunk: measured.first_chunk,
            chunk_gap: measured.chunk_gap,
            cpu_seconds_per_1000: measured
                .cpu_seconds
                .filter(|_| measured.requests > 0)
                .map(|cpu| cpu * 1000.0 / measured.requests as f64),
            peak_rss_bytes: measured.peak_rss,
        }
    }
}

pub const PLAIN: &str = "non-streamed";
pub const STREAMED: &str = "streamed";
/// Non-streamed, open loop at [`crate::PACED_RATE`] requests/s in all.
pub const PACED: &str = "non-streamed paced";

/// The level the latency targets name (64), or the nearest one a run has.
pub fn target_level(levels: &[usize]) -> usize {
    levels
        .iter()
        .copied()
        .min_by_key(|&level| level.abs_diff(64))
        .unwrap_or(1)
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Memory {
    /// `hearth serve` started, one second later, before any request.
    pub idle_rss_bytes: Option<u64>,
    /// The largest resident set seen during Hearth's runs.
    pub peak_rss_bytes: Option<u64>,
    /// Before and after the long run (`long_requests` back to back, after all other runs).
    pub before_long_rss_bytes: Option<u64>,
    pub after_long_rss_bytes: Option<u64>,
    pub long_requests: u64,
    pub long_errors: u64,
    pub long_concurrency: usize,
    pub long_cpu_seconds_per_1000: Option<f64>,
    pub litellm_idle_rss_bytes: Option<u64>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerInfo {
    pub measured: bool,
    pub version: Option<String>,
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Llama {
    pub rounds: usize,
    pub max_tokens: u32,
    pub direct: PathResult,
    pub hearth: PathResult,
}

impl Llama {
    /// Hearth's decode tok/s over the direct path's, round by round (the two answers of a
    /// round ran back to back), sorted: the machine's drift cancels within a pair.
    pub fn paired_ratios(&self) -> Vec<f64> {
        let mut ratios: Vec<f64> = self
            .direct
            .answers
            .iter()
            .zip(&self.hearth.answers)
            .filter(|(direct, _)| direct.decode_tokens_per_second > 0.0)
            .map(|(direct, hearth)| {
                hearth.decode_tokens_per_second / direct.decode_tokens_per_second
            })
            .collect();
        ratios.sort_by(f64::total_cmp);
        ratios
    }

    /// The median of [`Llama::paired_ratios`].
    pub fn ratio(&self) -> f64 {
        let ratios = self.paired_ratios();
        match ratios.len() {
            0 => 0.0,
            n if n % 2 == 1 => ratios[n / 2],
            n => f64::midpoint(ratios[n / 2 - 1], ratios[n / 2]),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Status {
    Pass,
    Miss,
    NotMeasured,
}

impl Status {
    fn of(pass: bool) -> Status {
        if pass { Status::Pass } else { Status::Miss }
    }

    fn label(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Miss => "MISS",
            Status::NotMeasured => "NOT MEASURED",
        }
    }
}

/// One target of issue 7 and what this run found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verdict {
    pub target: String,
    pub measured: String,
    pub status: Status,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadGenerator {
    pub name: String,
    pub settings: String,
}

/// Everything one benchmark run found.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub hearth_version: &'static str,
    pub commit: Option<String>,
    pub unix_time: u64,
    pub cores: usize,
    pub load_generator: LoadGenerator,
    pub upstream: String,
    pub litellm: PeerInfo,
    pub levels: Vec<usize>,
    pub runs: Vec<Run>,
    pub memory: Memory,
    pub llama: Llama,
    pub targets: Vec<Verdict>,
}

/// Growth over the long run that still counts as none: allocator noise, not a leak.
const GROWTH_TOLERANCE: u64 = 2 * 1024 * 1024;
const MB: f64 = 1e6;

impl Report {
    pub fn new(
        options: &Options,
        runs: Vec<Run>,
        memory: Memory,
        llama: Llama,
        litellm: PeerInfo,
        commit: Option<String>,
    ) -> Report {
        let budget = match options.max_requests {
            Some(max) => format!(
                "{:?} warm-up, then up to {:?} or {max} measured requests",
                options.warmup, options.duration
            ),
            None => format!(
                "{:?} warm-up, then {:?} measured",
                options.warmup, options.duration
            ),
        };
        let mut report = Report {
            hearth_version: env!("CARGO_PKG_VERSION"),
            commit,
            unix_time: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs()),
            cores: std::thread::available_parallelism().map_or(1, usize::from),
            load_generator: LoadGenerator {
                name: "hearth-bench closed-loop client (hyper 1.x, HTTP/1.1)".to_owned(),
                settings: format!(
                    "C keep-alive connections, one task each sending back to back, on 1 runtime thread, same machine; per run {budget}; levels {:?}",
                    options.levels
                ),
            },
            upstream: format!(
                "hearth-e2e fast upstream (hyper, 1 thread): non-streamed answers at once; streamed: {} content chunks {:?} apart + role, finish, [DONE]",
                options.upstream.chunks, options.upstream.delay
            ),
            litellm,
            levels: options.levels.clone(),
            runs,
            memory,
            llama,
            targets: Vec::new(),
        };
        report.targets = report.verdicts(options);
        report
    }

    pub fn run(&self, scenario: &str, target: &str, concurrency: usize) -> Option<&Run> {
        self.runs.iter().find(|run| {
            run.scenario == scenario && run.target == target && run.concurrency == concurrency
        })
    }

    fn target_level(&self) -> usize {
        target_level(&self.levels)
    }

    fn verdicts(&self, options: &Options) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        let level = self.target_level();
        let added = |scenario: &str, level: usize, pick: fn(&Run) -> f64| {
            Some(
                pick(self.run(scenario, "hearth", level)?)
                    - pick(self.run(scenario, "direct", level)?),
            )
        };
        if let Some(added) = added(PLAIN, level, |run| run.latency.p99_ms) {
            verdicts.push(Verdict {
                target: format!(
                    "added latency p99 < 1 ms at {level} concurrent non-streamed requests (closed loop, CPU saturated)"
                ),
                measured: format!("{added:+.3} ms"),
                status: Status::of(added < 1.0),
            });
        }
        if let Some(added) = added(PACED, level, |run| run.latency.p99_ms) {
            verdicts.push(Verdict {
                target: format!(
                    "added latency p99 < 1 ms at {level} concurrent non-streamed requests (paced, {} req/s in all)",
                    crate::PACED_RATE
                ),
                measured: format!("{added:+.3} ms"),
                status: Status::of(added < 1.0),
            });
        }
        let mut stream_levels = vec![1, level];
        stream_levels.dedup();
        for stream_level in stream_levels {
            if let Some(added) = added(STREAMED, stream_level, |run| run.chunk_gap.p99_ms) {
                verdicts.push(Verdict {
                    target: format!(
                        "streamed: < 0.2 ms added per chunk at p99 ({stream_level} concurrent streams)"
                    ),
                    measured: format!("{added:+.3} ms"),
                    status: Status::of(added < 0.2),
                });
            }
        }
        if self.litellm.measured {
            let best = self
                .runs
                .iter()
                .filter(|run| run.scenario == PLAIN && run.target == "litellm")
                .max_by(|a, b| a.requests_per_second.total_cmp(&b.requests_per_second));
            if let Some(best) = best
                && let Some(ours) = self.run(PLAIN, "hearth", best.concurrency)
            {
                let ratio =
                    ours.requests_per_second / best.requests_per_second.max(f64::MIN_POSITIVE);
                verdicts.push(Verdict {
                    target: "requests/s >= 10x LiteLLM's at its best concurrency".to_owned(),
                    measured: format!(
                        "{ratio:.1}x at {} ({:.0} vs {:.0} req/s)",
                        best.concurrency, ours.requests_per_second, best.requests_per_second
                    ),
                    status: Status::of(ratio >= 10.0),
                });
            }
            let mut worse = Vec::new();
            for scenario in [PLAIN, STREAMED] {
                for &level in &self.levels {
                    if let (Some(ours), Some(theirs)) = (
                        self.run(scenario, "hearth", level),
                        self.run(scenario, "litellm", level),
                    ) && ours.latency.p99_ms >= theirs.latency.p99_ms
                    {
                        worse.push(format!("{scenario} at {level}"));
                    }
                }
            }
            verdicts.push(Verdict {
                target: "p99 lower than LiteLLM's at every level".to_owned(),
                measured: if worse.is_empty() {
                    "lower at every level, both scenarios".to_owned()
                } else {
                    format!("not lower: {}", worse.join(", "))
                },
                status: Status::of(worse.is_empty()),
            });
        } else {
            verdicts.push(Verdict {
                target: "requests/s >= 10x LiteLLM's; p99 lower at every level".to_owned(),
                measured: self.litellm.note.clone(),
                status: Status::NotMeasured,
            });
        }
        let ratio = self.llama.ratio();
        let ratios = self.llama.paired_ratios();
        verdicts.push(Verdict {
            target: "llama-server decode tok/s through Hearth within 1% of direct (median of paired rounds)".to_owned(),
            measured: format!(
                "{:+.2}% (rounds from {:+.1}% to {:+.1}%; medians {:.1} vs {:.1} tok/s)",
                (ratio - 1.0) * 100.0,
                ratios.first().map_or(0.0, |low| (low - 1.0) * 100.0),
                ratios.last().map_or(0.0, |high| (high - 1.0) * 100.0),
                self.llama.hearth.decode_tokens_per_second,
                self.llama.direct.decode_tokens_per_second,
            ),
            status: Status::of(ratio >= 0.99),
        });
        if let Some(idle) = self.memory.idle_rss_bytes {
            verdicts.push(Verdict {
                target: "idle resident memory of hearth serve < 30 MB".to_owned(),
                measured: format!("{:.1} MB", idle as f64 / MB),
                status: Status::of((idle as f64) < 30.0 * MB),
            });
        }
        if let (Some(before), Some(after)) = (
            self.memory.before_long_rss_bytes,
            self.memory.after_long_rss_bytes,
        ) {
            let growth = after as i64 - before as i64;
            let enough = options.long_requests >= 100_000;
            verdicts.push(Verdict {
                target: format!(
                    "no memory growth over a 100,000-request run (this run: {}; growth <= 2 MiB counts as none)",
                    self.memory.long_requests
                ),
                measured: format!("{:+.2} MB", growth as f64 / MB),
                status: if !enough {
                    Status::NotMeasured
                } else {
                    Status::of(growth <= GROWTH_TOLERANCE as i64 && self.memory.long_errors == 0)
                },
            });
        }
        verdicts
    }

    /// The side-by-side table.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "Hearth {} gateway benchmark{} — {} cores, same machine",
            self.hearth_version,
            self.commit
                .as_deref()
                .map(|commit| format!(" at {commit}"))
                .unwrap_or_default(),
            self.cores
        );
        let _ = writeln!(
            out,
            "load generator: {}: {}",
            self.load_generator.name, self.load_generator.settings
        );
        let _ = writeln!(out, "upstream:       {}", self.upstream);
        let _ = writeln!(
            out,
            "LiteLLM:        {}",
            if self.litellm.measured {
                format!(
                    "litellm[proxy] {} ({})",
                    self.litellm.version.as_deref().unwrap_or("?"),
                    self.litellm.note
                )
            } else {
                self.litellm.note.clone()
            }
        );
        let _ = writeln!(
            out,
            "times in ms; +x = Hearth's (or LiteLLM's) percentile minus the direct path's at the same concurrency; xLiteLLM = Hearth's req/s over LiteLLM's, LiteLLM's p99 over Hearth's"
        );
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<12} {:<8} {:>4} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
            "non-streamed",
            "path",
            "C",
            "req/s",
            "p50",
            "p90",
            "p99",
            "+p50",
            "+p99",
            "x req/s",
            "x p99",
            "CPU s/1k",
            "errors"
        );
        for &level in &self.levels {
            for run in self
                .runs
                .iter()
                .filter(|run| run.scenario == PLAIN && run.concurrency == level)
            {
                let direct = self.run(PLAIN, "direct", level);
                let added = |pick: fn(&Run) -> f64| match direct {
                    Some(direct) if run.target != "direct" => {
                        format!("{:+.3}", pick(run) - pick(direct))
                    }
                    _ => String::new(),
                };
                let (ratio_rps, ratio_p99) = self.litellm_ratios(PLAIN, run);
                let _ = writeln!(
                    out,
                    "{:<12} {:<8} {:>4} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
                    "",
                    run.target,
                    level,
                    run.requests_per_second,
                    run.latency.p50_ms,
                    run.latency.p90_ms,
                    run.latency.p99_ms,
                    added(|run| run.latency.p50_ms),
                    added(|run| run.latency.p99_ms),
                    ratio_rps,
                    ratio_p99,
                    cpu(run),
                    run.errors
                );
            }
        }
        for run in self.runs.iter().filter(|run| run.scenario == PACED) {
            let added = |pick: fn(&Run) -> f64| match self.run(PACED, "direct", run.concurrency) {
                Some(direct) if run.target != "direct" => {
                    format!("{:+.3}", pick(run) - pick(direct))
                }
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "{:<12} {:<8} {:>4} {:>9.0} {:>8.3} {:>8.3} {:>8.3} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
                "paced",
                run.target,
                run.concurrency,
                run.requests_per_second,
                run.latency.p50_ms,
                run.latency.p90_ms,
                run.latency.p99_ms,
                added(|run| run.latency.p50_ms),
                added(|run| run.latency.p99_ms),
                "",
                "",
                cpu(run),
                run.errors
            );
        }
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "{:<12} {:<8} {:>4} {:>9} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6}",
            "streamed",
            "path",
            "C",
            "streams/s",
            "TTFC p50",
            "TTFC p99",
            "+TTFC50",
            "+TTFC99",
            "gap p50",
            "gap p99",
            "+gap p99",
            "x str/s",
            "x p99",
            "CPU s/1k",
            "errors"
        );
        for &level in &self.levels {
            for run in self
                .runs
                .iter()
                .filter(|run| run.scenario == STREAMED && run.concurrency == level)
            {
                let direct = self.run(STREAMED, "direct", level);
                let added = |pick: fn(&Run) -> f64| match direct {
                    Some(direct) if run.target != "direct" => {
                        format!("{:+.3}", pick(run) - pick(direct))
                    }
                    _ => String::new(),
                };
                let (ratio_rps, ratio_p99) = self.litellm_ratios(STREAMED, run);
                let _ = writeln!(
                    out,
                    "{:<12} {:<8} {:>4} {:>9.0} {:>8.3} {:>8.3} {:>8} {:>8} {:>8.3} {:>8.3} {:>8} {:>8} {:>8} {:>9} {:>6}",
                    "",
                    run.target,
                    level,
                    run.requests_per_second,
                    run.first_chunk.p50_ms,
                    run.first_chunk.p99_ms,
                    added(|run| run.first_chunk.p50_ms),
                    added(|run| run.first_chunk.p99_ms),
                    run.chunk_gap.p50_ms,
                    run.chunk_gap.p99_ms,
                    added(|run| run.chunk_gap.p99_ms),
                    ratio_rps,
                    ratio_p99,
                    cpu(run),
                    run.errors
                );
            }
        }
        let _ = writeln!(out);
        let llama = &self.llama;
        let _ = writeln!(
            out,
            "llama-server SmolLM2-135M, streamed, {} tokens, {} rounds alternating (medians): decode tok/s (client-side; server's own) and TTFT",
            llama.max_tokens, llama.rounds
        );
        for (name, path) in [("direct", &llama.direct), ("hearth", &llama.hearth)] {
            let _ = writeln!(
                out,
                "  {:<8} {:>8.2} tok/s ({} server)   TTFT {:>8.2} ms",
                name,
                path.decode_tokens_per_second,
                path.server_tokens_per_second
                    .map_or("-".to_owned(), |speed| format!("{speed:.2}")),
                path.ttft_ms
            );
        }
        let ratios = llama.paired_ratios();
        let _ = writeln!(
            out,
            "  hearth/direct decode tok/s, paired by round: median {:.4}, from {:.4} to {:.4}",
            llama.ratio(),
            ratios.first().copied().unwrap_or(0.0),
            ratios.last().copied().unwrap_or(0.0)
        );
        let _ = writeln!(out);
        let memory = &self.memory;
        let mb = |bytes: Option<u64>| {
            bytes.map_or("-".to_owned(), |bytes| {
                format!("{:.1} MB", bytes as f64 / MB)
            })
        };
        let _ = writeln!(
            out,
            "memory (VmRSS of hearth serve): idle {}, peak under load {}, before/after {} requests at C={} {} / {}; LiteLLM idle {}",
            mb(memory.idle_rss_bytes),
            mb(memory.peak_rss_bytes),
            memory.long_requests,
            memory.long_concurrency,
            mb(memory.before_long_rss_bytes),
            mb(memory.after_long_rss_bytes),
            mb(memory.litellm_idle_rss_bytes)
        );
        let _ = writeln!(
            out,
            "CPU (utime+stime): hearth {} s per 1,000 requests over the long run",
            memory
                .long_cpu_seconds_per_1000
                .map_or("-".to_owned(), |cpu| format!("{cpu:.3}"))
        );
        let _ = writeln!(out);
        let _ = writeln!(out, "targets:");
        for verdict in &self.targets {
            let _ = writeln!(
                out,
                "  [{}] {}: {}",
                verdict.status.label(),
                verdict.target,
                verdict.measured
            );
        }
        out
    }

    fn litellm_ratios(&self, scenario: &str, run: &Run) -> (String, String) {
        if run.target != "hearth" {
            return (String::new(), String::new());
        }
        match self.run(scenario, "litellm", run.concurrency) {
            Some(theirs) => (
                format!(
                    "{:.1}x",
                    run.requests_per_second / theirs.requests_per_second.max(f64::MIN_POSITIVE)
                ),
                format!(
                    "{:.1}x",
                    theirs.latency.p99_ms / run.latency.p99_ms.max(f64::MIN_POSITIVE)
                ),
            ),
            None => (String::new(), String::new()),
        }
    }
}

fn cpu(run: &Run) -> String {
    run.cpu_seconds_per_1000
        .map_or(String::new(), |cpu| format!("{cpu:.3}"))
}
