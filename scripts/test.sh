#!/usr/bin/env bash
# The whole test suite, as CI runs it: `./scripts/test.sh` (from a fresh clone).
# Installs (once, cached in ~/.cache/xml2bq) and starts the BigQuery and Cloud Storage
# emulators on 127.0.0.1, installs the deploy tools (Airflow, hadolint, check-jsonschema),
# runs every Rust test including the emulator ones, then the deploy tests (pytest), and
# stops the emulators however the run ends. Debug build only; the cargo target folder is
# kept between runs in $CARGO_TARGET_DIR (default: ~/.cache/xml2bq/target).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xml2bq/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

state="$(mktemp -d "${TMPDIR:-/tmp}/xml2bq-test.XXXXXX")"
cleanup() { scripts/emulators/down.sh "$state"; rm -rf "$state"; }
trap cleanup EXIT

# Free ports, so a developer's own emulators (or a parallel run) do not collide.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export GCS_PORT="${GCS_PORT:-$(free_port)}" BQ_PORT="${BQ_PORT:-$(free_port)}" BQ_GRPC_PORT="${BQ_GRPC_PORT:-$(free_port)}"

# Build, install the tools, and install and start the emulators, side by side.
cargo test --locked --all-targets --no-run &
build=$!
scripts/tools/up.sh > "$state/tools" &
tools=$!
scripts/emulators/up.sh "$state" > "$state/env"
wait "$build"
wait "$tools"
set -a
# shellcheck disable=SC1091
. "$state/env"
set +a
echo "emulators: $(tr '\n' ' ' < "$state/env")" >&2

status=0
cargo test --locked --all-targets -- --include-ignored || status=$?
PATH="$(cat "$state/tools"):$PATH" python -m pytest -q -p no:cacheprovider tests/deploy || status=$?
exit "$status"
