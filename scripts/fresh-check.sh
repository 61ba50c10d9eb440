#!/usr/bin/env bash
# Runs the README's test command as a new user would, so that a missing install step fails
# here before it fails for a user or a fresh CI machine: a fresh clone of this repository's HEAD
# (with ../shared beside it, as in CI), an empty HOME, and PATH reduced to Debian's default plus
# the Rust toolchain's own bin directory — not ~/.cargo/bin, where `cargo install` puts tools
# a test could pick up by accident, and no pyenv, no ~/.local/bin. Nothing else of this
# environment is passed on (env -i).
#
# The provisioning cache is fresh too unless --share-cache is given: then it is the usual one
# (${HEARTH_TEST_CACHE:-~/.cache/hearth-test}), which saves the ~12-minute llama.cpp build.
# Cargo's registry is shared read-through (downloads only); the build directory is fresh.
#
# Usage: scripts/fresh-check.sh [--share-cache] [--keep] [-- COMMAND…]
#        COMMAND defaults to `bash .ci/run` (exactly the README's test command).
#        --keep leaves the work directory (clone, HOME, logs) for a look afterwards.
set -euo pipefail
repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)

share_cache=0 keep=0
command=(bash .ci/run)
while (($#)); do
  case $1 in
    --share-cache) share_cache=1 ;;
    --keep) keep=1 ;;
    --) shift; command=("$@"); break ;;
    -h | --help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) printf 'fresh-check.sh: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
  shift
done

# The Rust toolchain: the directory of the real cargo (rustup's proxy resolves to it).
if command -v rustup >/dev/null; then
  toolchain_bin=$(dirname "$(rustup which cargo)")
  rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
else
  toolchain_bin=$(dirname "$(command -v cargo)")
  rustup_home=
fi
[ -x "$toolchain_bin/cargo" ] || { echo "fresh-check.sh: no cargo found" >&2; exit 3; }

work=$(mktemp -d "${TMPDIR:-/tmp}/hearth-fresh.XXXXXX")
cleanup() { ((keep)) && echo "fresh-check.sh: kept $work" >&2 || rm -rf "$work"; }
trap cleanup EXIT

git clone -q "$repo" "$work/hearth"
# CI clones main into a folder with shared/ beside it.
[ -d "$repo/../shared" ] && cp -r "$repo/../shared" "$work/shared"
mkdir -p "$work/home" "$work/cargo-home"
# Downloads are shared (a crate is the same crate anywhere); nothing installed is.
[ -d "${CARGO_HOME:-$HOME/.cargo}/registry" ] && ln -s "${CARGO_HOME:-$HOME/.cargo}/registry" "$work/cargo-home/registry"

if ((share_cache)); then
  cache=${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}
else
  cache=$work/home/.cache/hearth-test
fi

debian_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
environment=(
  HOME="$work/home"
  PATH="$toolchain_bin:$debian_path"
  CARGO_HOME="$work/cargo-home"
  HEARTH_TEST_CACHE="$cache"
  LANG=C.UTF-8
  CI=true
  TERM=dumb
)
[ -n "$rustup_home" ] && environment+=(RUSTUP_HOME="$rustup_home")

printf '==> fresh check in %s: %s\n    PATH=%s\n    provisioning cache: %s\n' \
  "$work/hearth" "${command[*]}" "$toolchain_bin:$debian_path" "$cache"
start=$SECONDS
set +e
(cd "$work/hearth" && env -i "${environment[@]}" "${command[@]}") 2>&1 | tee "$work/run.log"
status=${PIPESTATUS[0]}
set -e
printf '==> fresh check %s after %d min (log: %s)\n' \
  "$([ "$status" -eq 0 ] && echo passed || echo "FAILED (exit $status)")" $(((SECONDS - start) / 60)) "$work/run.log"
((status == 0)) || keep=1
exit "$status"
