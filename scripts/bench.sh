#!/usr/bin/env bash
# The gateway benchmark (issue 7), on this machine, in one run: builds `hearth` and
# `hearth-bench` in release, provisions what it measures against (scripts/provision.sh:
# llama-server and SmolLM2, the LiteLLM proxy; cached), then runs the full benchmark — the
# side-by-side table on stdout, the JSON in target/bench/hearth-bench-<unix time>.json.
#
# Usage: scripts/bench.sh [hearth-bench options]     (see target/release/hearth-bench --help)
#        e.g. scripts/bench.sh --levels 1,64 --duration 10 --json /tmp/bench.json
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/provision.sh --no-check
cargo build --release --locked -p hearth -p hearth-bench
exec target/release/hearth-bench --hearth target/release/hearth "$@"
