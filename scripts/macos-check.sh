#!/usr/bin/env bash
# Type-checks and lints the whole workspace, all targets, for aarch64-apple-darwin on Linux:
# `cargo check` and `cargo clippy -- -D warnings`, so that a macOS-only line that does not
# compile fails here (TESTING.md, "The macOS build, checked on Linux"). Nothing is linked or run.
#
# What it uses, installed when missing and then taken from where it was installed, never from PATH:
# - Debian's rustc-web cargo-web rust-web-src rust-web-clippy: a Rust toolchain in /usr/bin with
#   the standard library's source, which -Zbuild-std compiles for the target (RUSTC_BOOTSTRAP=1).
#   It runs with PATH=/usr/bin:/bin and a CARGO_HOME of its own whose registry/ is the usual one
#   (shared downloads): else cargo would pick rustup's proxies from ~/.cargo/bin.
# - PyPI's ziglang (pinned), in a venv under ${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}/: the
#   C compiler for build scripts (scripts/lib/zig-cc-macos) and its archiver.
# Builds go to target/macos-check, apart from the host toolchain's target/debug.
#
# Usage: scripts/macos-check.sh     (scripts/test.sh runs it)
# Exits non-zero and names the failing step.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

ZIGLANG_VERSION=0.17.0 # PyPI; change it and the venv is made anew
TARGET=aarch64-apple-darwin
DEBIAN_RUST=(rustc-web cargo-web rust-web-src rust-web-clippy)
CACHE=${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}

say() { printf '\n==> %s\n' "$*"; }
die() {
  printf 'macos-check.sh: FAILED: %s\n' "$*" >&2
  exit 1
}

# ---- provisioning ------------------------------------------------------------------------------
apt_updated=0
apt_install() { # installs the named Debian packages that are missing; `apt-get update` at most once
  local missing=() package
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  ((${#missing[@]})) || return 0
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  say "installing Debian packages: ${missing[*]}"
  if ((!apt_updated)); then
    "${sudo_cmd[@]}" apt-get update -qq || die "apt-get update"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" \
    || die "apt-get install ${missing[*]}"
}

apt_install "${DEBIAN_RUST[@]}" python3 python3-venv
CARGO=/usr/bin/cargo
RUSTC=/usr/bin/rustc
[ -x /usr/bin/cargo-clippy ] && [ -x /usr/bin/clippy-driver ] || die "Debian's clippy missing from /usr/bin"
[ -f "$("$RUSTC" --print sysroot)/lib/rustlib/src/rust/library/Cargo.lock" ] \
  || die "the standard library's source is missing (Debian package rust-web-src)"

mkdir -p "$CACHE"
# One provisioning at a time per cache (other worktrees may run this at the same moment).
exec 9>"$CACHE/.macos-check.lock"
flock 9

PYTHON=/usr/bin/python3
PYTHON_VERSION=$("$PYTHON" -c 'import platform; print(platform.python_version())')
ZIG_VENV=$CACHE/venv-ziglang-$ZIGLANG_VERSION-py$PYTHON_VERSION
if [ ! -f "$ZIG_VENV/.hearth-complete" ]; then
  rm -rf "$ZIG_VENV" # a half-made venv from an interrupted run: start it over
  say "installing ziglang==$ZIGLANG_VERSION into $ZIG_VENV"
  "$PYTHON" -m venv "$ZIG_VENV" || die "python -m venv $ZIG_VENV"
  "$ZIG_VENV/bin/pip" install --quiet "ziglang==$ZIGLANG_VERSION" || die "pip install ziglang==$ZIGLANG_VERSION"
  touch "$ZIG_VENV/.hearth-complete"
fi
# The zig binary itself, which `python -m ziglang` would run: no Python start-up per compile.
ZIG=$("$ZIG_VENV/bin/python" -c 'import pathlib, ziglang; print(pathlib.Path(ziglang.__file__).parent / "zig")') \
  || die "ziglang does not import in $ZIG_VENV"
"$ZIG" version >/dev/null || die "zig does not run: $ZIG (try: rm -rf $ZIG_VENV)"

# Debian's cargo gets a home of its own; downloads are shared with the usual one.
MAC_CARGO_HOME=$CACHE/macos-check/cargo-home
registry=${CARGO_HOME:-$HOME/.cargo}/registry
mkdir -p "$MAC_CARGO_HOME" "$registry"
registry=$(realpath "$registry")
[ "$(readlink "$MAC_CARGO_HOME/registry")" = "$registry" ] || ln -sfn "$registry" "$MAC_CARGO_HOME/registry"
flock -u 9

# ---- the check ---------------------------------------------------------------------------------
target_env=${TARGET//-/_}
mac_cargo() { # mac_cargo SUBCOMMAND [-- ARGS for rustc or clippy]
  local subcommand=$1
  shift
  # env -u: nothing of the caller's Rust set-up (rustup's toolchain, a wrapper, flags) leaks in.
  env -u RUSTUP_TOOLCHAIN -u RUSTC_WRAPPER -u RUSTC_WORKSPACE_WRAPPER -u RUSTFLAGS \
    -u CARGO_ENCODED_RUSTFLAGS -u CARGO_BUILD_TARGET -u CARGO_TARGET_DIR -u RUSTDOC \
    PATH=/usr/bin:/bin CARGO_HOME="$MAC_CARGO_HOME" RUSTC="$RUSTC" RUSTC_BOOTSTRAP=1 \
    HEARTH_ZIG="$ZIG" "CC_$target_env=$repo/scripts/lib/zig-cc-macos" "AR_$target_env=$ZIG ar" \
    "$CARGO" "$subcommand" -Zbuild-std=std,panic_abort --target "$TARGET" --target-dir "$repo/target/macos-check" \
    --workspace --all-targets --locked "$@"
}

printf '==> macOS check with %s, %s, zig %s\n' "$("$CARGO" --version)" "$("$RUSTC" --version)" "$("$ZIG" version)"
start=$SECONDS
say "cargo check --target $TARGET"
mac_cargo check || die "cargo check for $TARGET (errors above)"
say "cargo clippy --target $TARGET -D warnings"
mac_cargo clippy -- -D warnings || die "cargo clippy -D warnings for $TARGET (errors above)"
say "macOS check passed ($((SECONDS - start))s)"
