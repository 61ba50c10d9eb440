#!/usr/bin/env bash
# The reliability suite's long runs (issue 14), one after the other; `cargo test` (and so CI)
# runs a short version of each. Every part prints its figures; README's "Reliability" section
# carries the last ones.
#
#   the policy leak test   10,000 randomised requests over four client APIs (scripts/leak.sh)
#   chaos, backends        100 llama-servers killed (SIGKILL) mid-stream behind one gateway
#   chaos, saves           hearth serve killed during 1,000 acknowledged configuration edits,
#                          and the responses it stores meanwhile
#   chaos, switches        30 model switches whose servers are killed half-way
#   fuzzing                every fuzz target for FUZZ_SECONDS (default 120) (scripts/fuzz.sh)
#   soak                   30 minutes of mixed load, switches and restarts (scripts/soak.sh)
#
# About an hour and a half in all. Usage: scripts/reliability.sh
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# The chaos runs use the llama-server and model scripts/provision.sh installs (cached).
bash scripts/provision.sh

say "the policy leak test: 10,000 requests"
bash scripts/leak.sh 10000

say "chaos: 100 backends killed mid-stream"
HEARTH_CHAOS_KILLS=100 cargo test --locked -p hearth-e2e --test chaos_backends -- --nocapture

say "chaos: hearth serve killed during 1,000 configuration edits and the responses it stores"
HEARTH_CHAOS_SAVES=1000 cargo test --locked -p hearth --test cli chaos::a_gateway -- --nocapture

say "chaos: 30 model switches whose servers are killed half-way"
HEARTH_CHAOS_SWITCHES=30 cargo test --locked -p hearth --test cli chaos::a_switch -- --nocapture

say "fuzzing: every target for ${FUZZ_SECONDS:-120} s"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-120}"

say "soak: 30 minutes"
bash scripts/soak.sh
