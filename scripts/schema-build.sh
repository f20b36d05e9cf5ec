#!/usr/bin/env bash
# Builds the xml2bq binary for other schemas through XML2BQ_SCHEMA, as a user does, and checks it:
#   1. a mapping file, by a path relative to the repository root: `schema --info`/`--version`
#      name it and its files, a valid document loads its rows, an invalid one is dead-lettered;
#   2. an .xsd by an absolute path (automatic tables); then the .xsd is edited and the build,
#      run again, picks the edit up (rerun-if-changed on every schema file);
#   3. a schema xml2bq refuses: the build fails with the construct's name and where it is;
# and finally builds for the repository's own setup again (no XML2BQ_SCHEMA).
# Debug builds in $CARGO_TARGET_DIR: only the binary's own crate is rebuilt each time.
# Run by scripts/test.sh; exits non-zero on the first check that does not hold.
set -euo pipefail
cd "$(dirname "$0")/.."
target="${CARGO_TARGET_DIR:-target}"
bin="$target/debug/xml2bq"
work="$(mktemp -d "${TMPDIR:-/tmp}/xml2bq-schema-build.XXXXXX")"
restore() {
  # Whatever happened, leave the binary built for the sample schema.
  env -u XML2BQ_SCHEMA cargo build --locked --quiet --bin xml2bq || true
  rm -rf "$work"
}
trap restore EXIT

fail() { echo "schema-build: FAILED: $*" >&2; exit 1; }
build() { XML2BQ_SCHEMA="$1" cargo build --locked --quiet --bin xml2bq 2> "$work/build.err"; }
# The rows a report says a table got from one file.
rows() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["rows"].get(sys.argv[2], 0))' "$1" "$2"; }
# How many elements {ns}local a document holds (counted by Python's own XML parser).
count() { python3 -c 'import sys, xml.etree.ElementTree as ET; print(sum(1 for _ in ET.parse(sys.argv[1]).iter(sys.argv[2])))' "$1" "$2"; }

# 1. A mapping, relative to the repository root.
case=tests/constructs/05-import-two-namespaces
build "$case/mapping.toml" || { cat "$work/build.err" >&2; fail "build for $case/mapping.toml"; }
"$bin" schema --info > "$work/info" || fail "schema --info"
grep -q "mapping: $case/mapping.toml" "$work/info" || fail "schema --info does not name the mapping: $(cat "$work/info")"
grep -q "$case/common.xsd" "$work/info" || fail "schema --info does not name the imported common.xsd"
"$bin" --version | grep -q "$case/mapping.toml" || fail "--version does not name the mapping"
"$bin" schema --table InvoiceLine > "$work/InvoiceLine.json" || fail "schema --table InvoiceLine"
python3 -c 'import json,sys; f=json.load(open(sys.argv[1])); assert isinstance(f, list) and f, f' "$work/InvoiceLine.json" \
  || fail "schema --table InvoiceLine is not a field array"
doc="$case/valid-default-invoice-ns.xml"
want="$(count "$doc" '{urn:xml2bq:invoice}InvoiceLine')"
"$bin" load "$doc" --dest "$work/out1" --keep-source --report "$work/r1.json" > /dev/null 2>&1 \
  || fail "load $doc exited $?"
got="$(rows "$work/r1.json" InvoiceLine)"
[ "$got" = "$want" ] || fail "$doc: $got InvoiceLine rows, the document has $want"
[ "$want" -ge 2 ] || fail "$doc: expected a document with rows"
code=0
"$bin" load "$case/invalid-cbc-in-invoice-ns.xml" --dest "$work/out1b" --keep-source > /dev/null 2>&1 || code=$?
[ "$code" = 3 ] || fail "invalid document: exit $code, expected 3 (dead-lettered)"
grep -q '"rule": *"unknown-element"\|"rule": *"wrong-namespace"' "$work"/out1b/_dead_letter/*.error.json \
  || fail "invalid document: no dead-letter reason naming the rule"
echo "schema-build: mapping $case/mapping.toml: $got rows of InvoiceLine, invalid document dead-lettered" >&2

# 2. An .xsd, by an absolute path (automatic tables), then edited.
mkdir -p "$work/xsd"
cp tests/constructs/27-recursive-type/schema.xsd tests/constructs/27-recursive-type/valid-depth-5.xml "$work/xsd/"
build "$work/xsd/schema.xsd" || { cat "$work/build.err" >&2; fail "build for $work/xsd/schema.xsd"; }
"$bin" schema > "$work/schema.json" || fail "schema"
python3 -c 'import json,sys; t=json.load(open(sys.argv[1])); assert list(t) == ["section"], list(t)' "$work/schema.json" \
  || fail "automatic tables of 27-recursive-type: $(head -c 300 "$work/schema.json")"
grep -q '"name": *"level"' "$work/schema.json" || fail "the section table has no column level"
want="$(python3 -c 'import sys, xml.etree.ElementTree as ET; print(len(ET.parse(sys.argv[1]).getroot().findall("section")))' "$work/xsd/valid-depth-5.xml")"
"$bin" load "$work/xsd/valid-depth-5.xml" --dest "$work/out2" --keep-source --report "$work/r2.json" > /dev/null 2>&1 \
  || fail "load valid-depth-5.xml exited $?"
got="$(rows "$work/r2.json" section)"
[ "$got" = "$want" ] || fail "valid-depth-5.xml: $got section rows, the document has $want"
# Rename the attribute in the schema: the next build must see it.
sed -i 's/name="level"/name="rank"/' "$work/xsd/schema.xsd"
build "$work/xsd/schema.xsd" || { cat "$work/build.err" >&2; fail "rebuild after the edit"; }
"$bin" schema > "$work/schema2.json"
grep -q '"name": *"rank"' "$work/schema2.json" || fail "the edit of schema.xsd was not picked up by the rebuild"
grep -q '"name": *"level"' "$work/schema2.json" && fail "the old column is still there after the rebuild"
echo "schema-build: xsd $work/xsd/schema.xsd: $got rows of section; the edited schema was rebuilt" >&2

# 3. A schema xml2bq refuses: the build stops with the construct and where it is, no panic.
refused=tests/constructs/refused/xsd11-assert/schema.xsd
if build "$refused"; then fail "the build for $refused succeeded; expected a refusal"; fi
grep -q "assert" "$work/build.err" || fail "the refusal does not name xs:assert: $(cat "$work/build.err")"
grep -q "schema.xsd:[0-9]" "$work/build.err" || fail "the refusal does not say where: $(cat "$work/build.err")"
grep -q "panicked" "$work/build.err" && fail "the build script panicked: $(cat "$work/build.err")"
echo "schema-build: $refused refused:$(grep -m1 'schema.xsd:[0-9]' "$work/build.err")" >&2

# Back to the repository's own setup.
env -u XML2BQ_SCHEMA cargo build --locked --quiet --bin xml2bq || fail "the default build"
"$bin" schema --info | grep -q "mapping: xsd/customer_orders.toml" || fail "the default build is not the sample's"
echo "schema-build: ok" >&2
