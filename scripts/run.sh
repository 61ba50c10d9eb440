#!/usr/bin/env bash
# Builds and runs Hearth. With no arguments it runs the gateway (`hearth serve`: a first run
# writes the default configuration and creates the tokens); `app` runs the menu-bar app instead
# (installing, on Debian, the libraries it builds against); any other arguments are passed to
# the `hearth` command.
#
# Usage: scripts/run.sh                    the gateway on 127.0.0.1:11500, Ctrl-C stops it
#        scripts/run.sh app                the menu-bar app (a Linux desktop with a tray)
#        scripts/run.sh ARGS…             e.g. scripts/run.sh route simulate --client default
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = app ]; then
  packages=(libwebkit2gtk-4.1-dev libgtk-3-dev libayatana-appindicator3-dev librsvg2-dev libsoup-3.0-dev libxdo-dev)
  missing=()
  for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' || missing+=("$package")
  done
  if ((${#missing[@]})) && command -v apt-get >/dev/null; then
    sudo_cmd=()
    [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}"
  fi
  cargo build --release --locked -p hearth-app
  exec target/release/hearth-app
fi
cargo build --release --locked -p hearth
exec target/release/hearth "${@:-serve}"
