#!/usr/bin/env bash
# Installs (once, cached) the deploy tests' tools into a venv and prints its bin folder:
# Airflow with the cncf.kubernetes provider, hadolint, check-jsonschema, pytest.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${XML2BQ_CACHE:-$HOME/.cache/xml2bq}"
venv="$cache/tools-venv"
stamp="$venv/.xml2bq-$(cat "$here/requirements.txt" "$here/constraints.txt" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "tools/up.sh: installing Airflow, hadolint and check-jsonschema into $venv (about 2 minutes, once)" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements.txt" -c "$here/constraints.txt" >&2
  touch "$stamp"
fi
echo "$venv/bin"
