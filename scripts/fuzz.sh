#!/usr/bin/env bash
# Runs one cargo-fuzz target for SECONDS on one core:
#
#   scripts/fuzz.sh TARGET SECONDS      # TARGET: events values decoder split differential
#
# Builds fuzz/ with nightly (`cargo +nightly fuzz build`), then runs libFuzzer with
# -jobs=1 -workers=1 over fuzz/corpus/TARGET (the seeds kept in the repository, read
# only) and a working corpus in fuzz/target/corpus/TARGET (new inputs go there; it
# survives between runs). Prints the executions count; every crash, timeout or
# out-of-memory input found is copied to fuzz/artifacts/TARGET/ (kept in the
# repository and replayed by `cargo test --test fuzz_replay`).
#
# Environment: FUZZ_SANITIZER (default none: the code is safe Rust; `address` for
# ASan), FUZZ_TIMEOUT (seconds one input may take, default 10), FUZZ_MAX_LEN,
# FUZZ_RUNS (stop after this many executions instead of at SECONDS: SECONDS is then
# only the upper bound), FUZZ_JOBS (fuzzing processes side by side, default 1: with 2,
# two cores give two CPU-seconds a second; executions are summed over them), FUZZ_MERGE=1 (afterwards, minimize seeds + working corpus into fuzz/corpus/TARGET
# as `cargo fuzz cmin` does; review the diff before committing).
set -euo pipefail

usage() { echo "usage: $0 TARGET SECONDS   (TARGET: events values decoder split differential)" >&2; exit 2; }
[ $# -eq 2 ] || usage
target=$1 seconds=$2
case "$target" in events|values|decoder|split|differential) ;; *) usage ;; esac
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || usage

root=$(cd "$(dirname "$0")/.." && pwd)
fuzz="$root/fuzz"
sanitizer=${FUZZ_SANITIZER:-none}
case "$target" in values) max_len=${FUZZ_MAX_LEN:-512} ;; *) max_len=${FUZZ_MAX_LEN:-32768} ;; esac

cargo +nightly fuzz --version >/dev/null 2>&1 || {
  echo "error: cargo fuzz on the nightly toolchain is needed: rustup toolchain install nightly; cargo install cargo-fuzz" >&2
  exit 1
}
(cd "$root" && cargo +nightly fuzz build --fuzz-dir "$fuzz" --sanitizer "$sanitizer" "$target")
triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin="$fuzz/target/$triple/release/$target"
[ -x "$bin" ] || { echo "error: no fuzz binary at $bin" >&2; exit 1; }

work="$fuzz/target/corpus/$target"
found="$fuzz/target/found/$target"
logs="$fuzz/target/logs/$target"
mkdir -p "$work" "$found" "$logs" "$fuzz/corpus/$target" "$fuzz/artifacts/$target"
stamp="$logs/$(date +%Y%m%d-%H%M%S)"
log="$stamp.log" # process i > 0 logs to $stamp-<i>.log

# -jobs=N runs the fuzzer in N child processes whose output goes to fuzz-<i>.log in
# the current folder: run in the log folder, and keep those logs.
jobs=${FUZZ_JOBS:-1}
[[ "$jobs" =~ ^[1-9][0-9]*$ ]] || usage
status=0
runs=()
[ -n "${FUZZ_RUNS:-}" ] && runs=(-runs="$FUZZ_RUNS")
cpu="$logs/cpu.txt"
(cd "$logs" && rm -f fuzz-*.log && /usr/bin/time -o "$cpu" -f '%U %S' "$bin" "${runs[@]}" -jobs="$jobs" -workers="$jobs" -max_total_time="$seconds" \
  -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 -max_len="$max_len" -print_final_stats=1 \
  -artifact_prefix="$found/" "$work" "$fuzz/corpus/$target") || status=$?
for ((i = 0; i < jobs; i++)); do
  to=$log
  [ "$i" -gt 0 ] && to="$stamp-$i.log"
  if [ -f "$logs/fuzz-$i.log" ]; then mv "$logs/fuzz-$i.log" "$to"; fi
done

# Each process prints its own count once, at its end.
execs=$(cat "$stamp".log "$stamp"-*.log 2>/dev/null | awk '/stat::number_of_executed_units/ {n += $2; seen = 1} END {if (seen) print n}')
# CPU seconds (user + system) of the fuzzer and its child, as wait4 reports them.
cpu_seconds=$(awk 'END {printf "%.0f", $1 + $2}' "$cpu" 2>/dev/null || echo unknown)
echo "target=$target seconds=$seconds sanitizer=$sanitizer executions=${execs:-unknown} cpu_seconds=$cpu_seconds log=$log"

new=0
for f in "$found"/crash-* "$found"/timeout-* "$found"/oom-* "$found"/leak-*; do
  [ -e "$f" ] || continue
  dest="$fuzz/artifacts/$target/$(basename "$f")"
  if [ ! -e "$dest" ]; then
    cp "$f" "$dest"
    echo "new artifact: ${dest#"$root"/}"
    new=$((new + 1))
  fi
done
if [ "$new" -gt 0 ]; then
  echo "reproduce: (cd fuzz && cargo +nightly fuzz run --sanitizer $sanitizer $target artifacts/$target/NAME)"
  echo "       or: cargo test --test fuzz_replay ${target}_corpus_and_artifacts"
fi

if [ "${FUZZ_MERGE:-0}" = 1 ]; then
  # Minimize seeds plus what this run found into the repository's corpus.
  merged="$fuzz/target/merged/$target"
  rm -rf "$merged" && mkdir -p "$merged"
  # Without hit counts and with short inputs, so that it stays a few hundred small files.
  case "$target" in values) keep_len=128 ;; *) keep_len=4096 ;; esac
  "$bin" -merge=1 -use_counters=0 -max_len="$keep_len" -timeout="${FUZZ_TIMEOUT:-10}" \
    "$merged" "$fuzz/corpus/$target" "$work" >/dev/null 2>&1
  rm -rf "$fuzz/corpus/$target" && cp -r "$merged" "$fuzz/corpus/$target"
  echo "corpus: $(ls "$fuzz/corpus/$target" | wc -l) files in fuzz/corpus/$target"
fi
[ "$new" -eq 0 ] || exit 1
exit "$status"
