#!/usr/bin/env bash
# Builds and runs Hearth. With no arguments it runs the gateway (`hearth serve`: a first run
# writes the default configuration and creates the tokens); any arguments are passed to the
# `hearth` command instead.
#
# Usage: scripts/run.sh                    the gateway on 127.0.0.1:11500, Ctrl-C stops it
#        scripts/run.sh ARGS…             e.g. scripts/run.sh route simulate --client default
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p hearth
exec target/release/hearth "${@:-serve}"
