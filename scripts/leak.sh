#!/usr/bin/env bash
# The policy leak test (issue 14), full run: 10,000 randomised requests over the four client
# APIs, streamed and not, against the rogue backend (crates/gateway/tests/policy_leak.rs).
# `cargo test` runs the same test with 500 requests.
#
# Usage: scripts/leak.sh [requests]      (default 10000)
#        HEARTH_LEAK_SEED=N scripts/leak.sh   replays the run the test printed as seed N
set -euo pipefail
cd "$(dirname "$0")/.."

export HEARTH_LEAK_REQUESTS="${1:-10000}"
exec cargo test --locked -p hearth-gateway --test policy_leak -- --nocapture
