#!/usr/bin/env bash
# The whole test suite, as CI runs it: `./scripts/test.sh` (from a fresh clone).
# Debug build only (release builds stay out of the test command). The cargo target
# folder is kept between runs in $CARGO_TARGET_DIR (default: ~/.cache/xml2bq/target).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/xml2bq/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
cargo test --locked --all-targets
