//! The benchmark still runs (issue 7; CI times nothing): `hearth_bench::run` end to end with
//! tiny counts — the fast upstream, this build's `hearth serve`, the LiteLLM proxy the test
//! command provisions, a real llama-server answering 4 tokens — and its table and JSON hold
//! every scenario, and no request failed. No timing is asserted.

use std::{path::PathBuf, time::Duration};

use hearth_bench::{Options, Peer, UpstreamOptions, soak};
use serde_json::Value;

#[test]
fn the_benchmark_runs_end_to_end_with_tiny_counts() {
    let options = Options {
        hearth: PathBuf::from(env!("CARGO_BIN_EXE_hearth")),
        levels: vec![1, 4],
        warmup: Duration::ZERO,
        duration: Duration::from_secs(30),
        max_requests: Some(8),
        upstream: UpstreamOptions {
            chunks: 4,
            delay: Duration::from_millis(1),
        },
        litellm: Peer::Required,
        llama_rounds: 1,
        llama_max_tokens: 4,
        long_requests: 200,
    };
    let report = hearth_bench::run(&options, &mut |_| {}).unwrap();

    for scenario in ["non-streamed", "streamed"] {
        for target in ["direct", "hearth", "litellm"] {
            for level in [1, 4] {
                let run = report
                    .run(scenario, target, level)
                    .unwrap_or_else(|| panic!("no {scenario} run of {target} at {level}"));
                assert_eq!(run.errors, 0, "{scenario} {target} {level}: {run:?}");
                assert!(run.requests >= 1, "{scenario} {target} {level}: {run:?}");
                if scenario == "streamed" {
                    // role + 4 content chunks + finish (+ [DONE]): several events per answer.
                    assert!(run.chunk_gap.count >= 4 * run.requests as usize, "{run:?}");
                }
            }
        }
    }
    for target in ["direct", "hearth"] {
        let paced = report.run("non-streamed paced", target, 4).unwrap();
        assert_eq!(paced.errors, 0, "{paced:?}");
        assert!(paced.requests >= 1, "{paced:?}");
    }
    assert!(report.memory.long_requests >= 200, "{:?}", report.memory);
    assert_eq!(report.memory.long_errors, 0);
    assert!(report.memory.idle_rss_bytes.is_some_and(|rss| rss > 0));
    for path in [&report.llama.direct, &report.llama.hearth] {
        assert_eq!(path.answers.len(), 1, "{path:?}");
        assert_eq!(path.answers[0].tokens, 4, "{path:?}");
    }

    let json: Value = serde_json::from_str(&serde_json::to_string(&report).unwrap()).unwrap();
    assert_eq!(json["runs"].as_array().unwrap().len(), 14);
    assert!(
        json["loadGenerator"]["name"]
            .as_str()
            .unwrap()
            .contains("hyper")
    );
    assert_eq!(json["litellm"]["measured"], true);
    let targets = json["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 9, "{targets:?}");
    for target in targets {
        assert!(
            ["PASS", "MISS", "NOT_MEASURED"].contains(&target["status"].as_str().unwrap()),
            "{target}"
        );
    }

    let table = report.table();
    for line in [
        "load generator: hearth-bench closed-loop client",
        "non-streamed path",
        "streamed     path",
        "llama-server SmolLM2-135M",
        "memory (VmRSS of hearth serve): idle",
        "CPU (utime+stime)",
        "targets:",
        "requests/s >= 10x LiteLLM's",
    ] {
        assert!(table.contains(line), "the table lacks `{line}`:\n{table}");
    }
}

/// The soak test's short version (issue 14; the full one is `scripts/soak.sh`, 30 minutes):
/// a minute of mixed load over every client API through this build's `hearth serve`, with
/// model switches through the admin API and the second upstream restarted twice. It checks
/// what the soak judges — the gateway lived, no request hung — and that every kind of request
/// got whole answers, every restart was recovered from, and memory and descriptors were
/// sampled. Memory is not judged (README "Reliability" has the full run's figures), and no time
/// is asserted.
#[test]
fn the_soak_runs_a_minute_with_restarts_and_switches() {
    let mut options = soak::SoakOptions::full(PathBuf::from(env!("CARGO_BIN_EXE_hearth")));
    options.duration = Duration::from_secs(60);
    options.concurrency = 4;
    options.sample_every = Duration::from_secs(5);
    options.restart_every = Duration::from_secs(20);
    options.switch_every = Duration::from_secs(12);
    let report = soak::run(&options, &mut |_| {}).unwrap();
    let table = report.table();

    assert!(report.passed(), "{table}");
    for (name, counts) in &report.requests {
        if name == "client leaves mid-stream" {
            assert!(counts.left >= 1, "{name}: {counts:?}\n{table}");
        } else {
            assert!(counts.ok >= 1, "{name}: {counts:?}\n{table}");
        }
        assert_eq!(counts.hung, 0, "{name}\n{table}");
    }
    assert_eq!(report.requests.len(), 11, "{table}");
    assert!(report.restarts >= 2, "{table}");
    assert!(
        report.recovery_ms.iter().all(Option::is_some),
        "a restart was not recovered from:\n{table}"
    );
    assert!(report.switches.done >= 1, "{table}");
    assert_eq!(report.switches.errors, 0, "{table}");
    assert!(report.samples.len() >= 10, "{table}");
    assert!(
        report
            .samples
            .iter()
            .all(|sample| sample.rss_bytes.is_some() && sample.open_fds.is_some()),
        "{table}"
    );
    for line in [
        "VmRSS of hearth serve under load: start",
        "open fds of hearth serve under load: start",
        "verdict: PASS",
    ] {
        assert!(table.contains(line), "the table lacks `{line}`:\n{table}");
    }
}
