#!/usr/bin/env bash
# Builds and runs Hearth. With no arguments it writes the default configuration (if there is
# none) and validates it; any arguments are passed to the `hearth` command.
#
# Usage: scripts/run.sh [hearth arguments…]     e.g. scripts/run.sh route simulate --client default
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked -p hearth
if (($#)); then
  exec target/release/hearth "$@"
fi
target/release/hearth config init
exec target/release/hearth config validate
