#!/usr/bin/env bash
# The whole test suite, from a fresh Debian machine: installs what the tests need, then runs
# rustfmt, clippy (warnings are errors), the macOS type-check and lint (scripts/macos-check.sh),
# every test of the workspace and a short run of every fuzz target (scripts/fuzz.sh).
#
# Usage: scripts/test.sh            (CI's .ci/run calls exactly this)
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '\n==> %s\n' "$*"; }

# Debian packages the tests use: a D-Bus session bus and gnome-keyring, for the test of the
# Secret Service backend of the secret store (the kernel keyring needs no package); curl, which
# the end-to-end tests send requests with; Python (plistlib checks the LaunchAgent plists, the
# provisioning builds its venvs with it); the libraries the menu-bar app (Tauri: WebKitGTK,
# GTK, the app indicator) builds against — clippy checks it too; and for the app's test a real
# X server (Xvfb), a tray host (trayer), WebKit's WebDriver, xwininfo and ImageMagick's import;
# and the Rust toolchain with the standard library's source that scripts/macos-check.sh uses
# (it installs them itself when run alone; listed here so that apt-get updates once).
packages=(dbus-daemon gnome-keyring curl python3 python3-venv
  libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libxdo-dev
  xvfb trayer webkit2gtk-driver x11-utils imagemagick
  rustc-web cargo-web rust-web-src rust-web-clippy)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
done
if ((${#missing[@]})); then
  say "installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
fi

if command -v rustup >/dev/null; then
  rustup component add rustfmt clippy >/dev/null 2>&1 || true
fi

say "cargo fmt --check"
cargo fmt --all --check
cargo fmt --manifest-path fuzz/Cargo.toml --check

say "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

say "the macOS build: cargo check and clippy -D warnings for aarch64-apple-darwin"
# Type-checked and linted only, nothing macOS runs here; the first run compiles the standard
# library and every dependency for the target (~25 CPU-minutes), later ones take seconds.
bash scripts/macos-check.sh

say "provisioning the real servers, models and SDKs the end-to-end tests use"
# Cached under ~/.cache/hearth-test: ~15 minutes on a fresh machine, seconds afterwards.
bash scripts/provision.sh

say "cargo test"
cargo test --workspace --locked

say "cargo test: the Secret Service backend (gnome-keyring in a private D-Bus session)"
# The test binary is built in the normal environment, then run with a throwaway HOME holding
# the throwaway keyring (running cargo itself there would rebuild everything).
keyring_test=$(cargo test -p hearth-secrets --locked --test keyring_linux --no-run --message-format=json \
  | python3 -c 'import json, sys; print([m["executable"] for m in map(json.loads, sys.stdin) if m.get("executable")][-1])')
keyring_home=$(mktemp -d)
trap 'rm -rf "$keyring_home"' EXIT
mkdir -m 700 "$keyring_home/run"
HOME=$keyring_home XDG_DATA_HOME=$keyring_home/data XDG_RUNTIME_DIR=$keyring_home/run \
  dbus-run-session -- sh -c '
    printf hearth-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
    exec "$0" --include-ignored' "$keyring_test"

say "fuzzing: a smoke run of every fuzz target (scripts/fuzz.sh; the long run is the default)"
# 15 s per target (HEARTH_FUZZ_SECONDS) after the build: catches a target that no longer
# builds or an easy crash; the figures of the long run are in the README's "Reliability"
# section. The build's dependencies stay compiled in the provisioning cache between runs.
bash scripts/fuzz.sh "${HEARTH_FUZZ_SECONDS:-15}"
