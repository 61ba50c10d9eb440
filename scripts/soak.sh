#!/usr/bin/env bash
# The soak test (issue 14), full run: 30 minutes of mixed load over every client API through
# `hearth serve` (release), with a model switch every 30 s and an upstream restarted every
# minute; prints the gateway's VmRSS and open fds over time and the requests by API and
# outcome, writes the JSON to target/bench/hearth-soak-<unix time>.json. Fails only when the
# gateway died or a request hung. `cargo test` runs a one-minute version
# (crates/cli/tests/cli/bench.rs).
#
# Usage: scripts/soak.sh [hearth-bench soak options]   e.g. scripts/soak.sh --minutes 5
#        (see target/release/hearth-bench soak --help)
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -p hearth -p hearth-bench
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/hearth-bench" soak --hearth "$target/release/hearth" "$@"
