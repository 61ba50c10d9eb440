#!/usr/bin/env bash
# Fuzzes every parser and conversion of hearth-protocol and the configuration reader of
# hearth-core (the targets in fuzz/fuzz_targets/, one per entry point the gateway uses): builds
# them with cargo-fuzz (libFuzzer, AddressSanitizer, debug assertions so overflows panic), then
# runs each for SECONDS, one after the other, starting from the seeds in fuzz/seeds/ and the
# published-API fixtures under crates/*/tests/fixtures/.
#
# Prints per target the inputs tried (libFuzzer's executions) and the crashes. A crash, a hang
# (one input over 10 s) or a memory blow-up (over 2 GiB) fails the script, naming the input
# that reproduces it: `fuzz/artifacts/TARGET/crash-…`; replay it with
# `<target dir>/x86_64-unknown-linux-gnu/release/TARGET <that file>`.
#
# Usage: scripts/fuzz.sh [SECONDS] [TARGET...]
#   SECONDS  per target; default 600 (the long run). CI's smoke run (scripts/test.sh) passes 15.
#   TARGET   only these targets (default: all, as `cargo fuzz list` names them)
# Environment: HEARTH_FUZZ_TARGET_DIR, the build's target directory (default: fuzz-target in
#   the provisioning cache, so that CI's fresh clones reuse the compiled dependencies; the
#   sanitizer flags keep it apart from the normal build's).
#   The corpus grows in fuzz/corpus/TARGET (not committed), so later runs start further on.
set -euo pipefail

main() {
  root=$(cd "$(dirname "$0")/.." && pwd)
  cd "$root"

  seconds=${1:-600}
  shift || true
  [[ $seconds =~ ^[0-9]+$ && $seconds -gt 0 ]] || {
    echo "fuzz.sh: SECONDS must be a positive number, not '$seconds'" >&2
    exit 2
  }

  say() { printf '==> %s\n' "$*"; }

  # cargo-fuzz comes from the provisioning (cached under ~/.cache/hearth-test), never from PATH.
  cache=${HEARTH_TEST_CACHE:-$HOME/.cache/hearth-test}
  bash scripts/provision.sh --fuzz >/dev/null
  # shellcheck source=/dev/null
  source "$cache/fuzz.env"
  [ -x "${HEARTH_CARGO_FUZZ:-}" ] || {
    echo "fuzz.sh: cargo-fuzz missing ($cache/fuzz.env): run scripts/provision.sh --fuzz" >&2
    exit 1
  }

  target_dir=${HEARTH_FUZZ_TARGET_DIR:-$cache/fuzz-target}
  # libFuzzer's flags are unstable rustc flags (-Zsanitizer, -Cpasses=sancov-module): the stable
  # toolchain takes them with RUSTC_BOOTSTRAP.
  export RUSTC_BOOTSTRAP=1

  targets=("$@")
  build=(build --fuzz-dir fuzz --target-dir "$target_dir" --debug-assertions)
  say "building the fuzz targets (cargo-fuzz, AddressSanitizer; $target_dir)"
  start=$SECONDS
  if ((${#targets[@]} == 0)); then
    mapfile -t targets < <("$HEARTH_CARGO_FUZZ" list --fuzz-dir fuzz)
    "$HEARTH_CARGO_FUZZ" "${build[@]}"
  else
    for target in "${targets[@]}"; do "$HEARTH_CARGO_FUZZ" "${build[@]}" "$target"; done
  fi
  say "built in $((SECONDS - start)) s"
  bin_dir=$target_dir/x86_64-unknown-linux-gnu/release

  # The published examples each target starts from, beside its own seeds in fuzz/seeds/TARGET.
  ollama=crates/gateway/tests/fixtures/ollama
  fixtures() {
    case $1 in
      sse_framing) echo fuzz/seeds/chat_stream/* fuzz/seeds/anthropic_stream/* fuzz/seeds/responses_stream/* ;;
      ndjson_framing | ollama_stream) echo "$ollama"/*.ndjson ;;
      ollama_request) echo "$ollama"/*.request.json ;;
      whole_response) echo "$ollama"/*.response.json "$ollama"/{tags,ps,version,error-model-not-found}.json ;;
      openclaw_json5) echo crates/core/tests/fixtures/openclaw/*.json5 ;;
    esac
  }

  failed=()
  summary=()
  for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    # shellcheck disable=SC2046 # the globs are meant to split
    for seed in fuzz/seeds/"$target"/* $(fixtures "$target"); do
      if [ -f "$seed" ]; then
        cp "$seed" "$corpus/seed-$(basename "$(dirname "$seed")")-$(basename "$seed")"
      fi
    done
    log=$artifacts/last-run.log
    say "$target: fuzzing for $seconds s (log: $log)"
    status=0
    "$bin_dir/$target" "$corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -dict=fuzz/json.dict -print_final_stats=1 -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    if ((status == 0)) && [ -z "$reproducer" ]; then
      crashes=0
    else
      crashes=1
      failed+=("$target: ${reproducer:-no input saved, exit $status}")
      grep -m 1 -E "^(thread '.*' panicked|==[0-9]+==ERROR|ALARM|.*out-of-memory)" -A 3 "$log" >&2 || tail -n 20 "$log" >&2
    fi
    line=$(printf '%-18s %12s inputs  %6s in corpus  crashes: %s' "$target" "${execs:-?}" \
      "$(find "$corpus" -type f | wc -l)" "$crashes")
    echo "$line"
    summary+=("$line")
  done

  say "fuzzing summary ($seconds s per target)"
  printf '%s\n' "${summary[@]}"
  if ((${#failed[@]})); then
    printf 'fuzz.sh: CRASH in %s\n' "${failed[@]}" >&2
    exit 1
  fi
}

# `exit` on the same line: bash reads a script as it runs, so a long run must not read on into
# a version of this file edited meanwhile.
main "$@"; exit
