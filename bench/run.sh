#!/usr/bin/env bash
# Benchmark of `xml2bq load` (XML in, zstd Parquet out): median wall time of BENCH_RUNS runs (3),
# MB/s and peak RSS (/usr/bin/time -f '%e %M'), release builds, generated data cached in bench-data/.
#
# Usage:
#   bench/run.sh                 the whole suite, cases a-f below (full size: ~5 GB of data, a second
#                                release build the first time, 10-20 minutes of runs)
#   BENCH_QUICK=1 bench/run.sh   the same suite on small files (a few minutes once built)
#   bench/run.sh SIZE_MB ...     the old size list: `xml2bq load` on one customer-orders file of
#                                each size (bench/run.sh 100 1000), nothing else
#
# Cases (all runs of one case back to back; BENCH_CASES="a e f" picks some):
#   a  one customer-orders file of 1000 MB (examples/gen_orders.rs)
#   b  one GPX 1.1 track of 500 MB (examples/gen_gpx.rs), namespaced, loaded by a second binary built
#      for tests/realworld/shared/gpx-1.1/mapping.toml (schema in ../shared/realworld, or XML2BQ_SHARED),
#      copied to $TARGET/bench-gpx/xml2bq
#   c  8 copies of the 300 MB customer-orders file in one folder, one `xml2bq load DIR`
#   g  20 copies of a 50 MB customer-orders file in one folder (BENCH_G_FILES, BENCH_G_MB)
#   d  file (a) gzipped (gzip -6, BENCH_GZIP_LEVEL), when the binary reads .xml.gz (checked first on
#      a small file; otherwise the row says skipped); MB/s counts the uncompressed bytes
#   e  the 300 MB customer-orders file: xml2bq, then xml2arrow (PyPI, bench/requirements.txt, in a
#      venv at ~/.cache/xml2bq/bench-venv) with bench/xml2arrow-config.yaml, writing zstd Parquet via
#      pyarrow (bench/xml2arrow_load.py) both ways its docs show: parse() and parse_batches();
#      prints xml2bq MB/s / xml2arrow MB/s (the faster of the two), then both in turn (BENCH_PAIRS)
#   f  the raw event-scan ceiling for file (a): bare quick-xml on every core (examples/scan_ceiling.rs);
#      prints xml2bq's (a) MB/s as a share of it
#
# Settings (environment):
#   BENCH_RUNS=3            runs per case (median; peak RSS is the largest of the runs)
#   BENCH_PAIRS=5           case e, then: xml2bq and xml2arrow (the faster way) in turn, this many
#                           pairs; prints the median of the pairs' ratios (robust to the drift of a
#                           shared machine, which moves the two back-to-back medians apart)
#   BENCH_BIN=PATH          the xml2bq binary for every customer-orders case (another build, e.g.
#                           before a change, on the same files: run both back to back)
#   BENCH_GPX_BIN=PATH      the GPX-built binary for case b (default: built here)
#   BENCH_ARGS="--threads 4"  extra flags for every `xml2bq load`
#   BENCH_QUICK=1           small sizes: a 20 MB, sibling 10 MB, GPX 10 MB, c 8 x 10 MB
#   BENCH_A_MB=1000 BENCH_SIBLING_MB=300 BENCH_GPX_MB=500 BENCH_C_FILES=8   the sizes themselves
#   BENCH_CASES="a b c d e f"   BENCH_GZIP_LEVEL=6   BENCH_DATA=bench-data   BENCH_THREADS=nproc (case f)
#
# Disk: the full suite keeps about 4.5 GB in bench-data/ (1000 + 300 + 500 MB, 8 x 300 MB copies, the
# .gz) plus one run's Parquet output at a time, and the GPX binary's copy ($TARGET/bench-gpx, 150 MB)
# the script says what it still needs and stops when the disk has less.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${BENCH_RUNS:-3}"
pairs="${BENCH_PAIRS:-5}"
target="${CARGO_TARGET_DIR:-target}"
data="${BENCH_DATA:-bench-data}"
gz_level="${BENCH_GZIP_LEVEL:-6}"
threads="${BENCH_THREADS:-$(nproc)}"
read -r -a load_args <<< "${BENCH_ARGS:-}"
if [ -n "${BENCH_QUICK:-}" ]; then
  a_mb="${BENCH_A_MB:-20}"; sib_mb="${BENCH_SIBLING_MB:-10}"; gpx_mb="${BENCH_GPX_MB:-10}"
else
  a_mb="${BENCH_A_MB:-1000}"; sib_mb="${BENCH_SIBLING_MB:-300}"; gpx_mb="${BENCH_GPX_MB:-500}"
fi
c_files="${BENCH_C_FILES:-8}"
g_files="${BENCH_G_FILES:-20}"
if [ -n "${BENCH_QUICK:-}" ]; then g_mb="${BENCH_G_MB:-2}"; else g_mb="${BENCH_G_MB:-50}"; fi
sizes=("$@")
if [ ${#sizes[@]} -gt 0 ]; then
  cases="sizes"
else
  cases="${BENCH_CASES:-a b c g d e f}"
fi
want() { [[ " $cases " == *" $1 "* ]]; }
say() { echo "bench: $*" >&2; }

# ---- disk --------------------------------------------------------------------------------------------
mkdir -p "$data"
need_mb=0
add_need() { [ -e "$1" ] || need_mb=$(( need_mb + $2 )); }
if [ "$cases" = sizes ]; then
  for mb in "${sizes[@]}"; do add_need "$data/${mb}mb.xml" "$mb"; done
else
  { want a || want d || want f; } && add_need "$data/${a_mb}mb.xml" "$a_mb"
  { want c || want e; } && add_need "$data/${sib_mb}mb.xml" "$sib_mb"
  want b && add_need "$data/gpx-${gpx_mb}mb.gpx" "$gpx_mb"
  want b && [ -z "${BENCH_GPX_BIN:-}" ] && add_need "$target/bench-gpx/xml2bq" 150
  want c && add_need "$data/c-${c_files}x${sib_mb}mb" $(( c_files * sib_mb ))
  want g && add_need "$data/${g_mb}mb.xml" "$g_mb"
  want g && add_need "$data/g-${g_files}x${g_mb}mb" $(( g_files * g_mb ))
  want d && add_need "$data/gz$gz_level/${a_mb}mb.xml.gz" $(( a_mb / 4 ))
  want e && add_need "${XML2BQ_CACHE:-$HOME/.cache/xml2bq}/bench-venv" 300
fi
out_mb=$(( (a_mb > c_files * sib_mb ? a_mb : c_files * sib_mb) / 8 + 50 ))  # one run's output, at most
free_mb=$(df -Pm "$data" | awk 'NR == 2 { print $4 }')
say "disk: $need_mb MB of data and builds still to make, about $out_mb MB for one run's output; $free_mb MB free"
if [ $(( need_mb + out_mb )) -gt "$free_mb" ]; then
  say "not enough disk: free some, or pick fewer cases (BENCH_CASES) or smaller sizes"
  exit 1
fi

# ---- builds ------------------------------------------------------------------------------------------
# The GPX-built binary first, in the same target folder (only the xml2bq crate differs), copied aside;
# then the default one, which leaves target/release/xml2bq built for the repository's own schema.
gpx_bin="${BENCH_GPX_BIN:-}"
gpx_skip=""
if [ "$cases" != sizes ] && want b && [ -z "$gpx_bin" ]; then
  shared="${XML2BQ_SHARED:-../shared/realworld}"
  if [ -f "$shared/gpx-1.1/gpx.xsd" ]; then
    shared="$(cd "$shared" && pwd)"
    mapping="$data/gpx-mapping.toml"
    text="$(sed "s|{shared}|$shared|g" tests/realworld/shared/gpx-1.1/mapping.toml)"
    # Rewritten only when it changes: a new mtime would rebuild the binary.
    [ -f "$mapping" ] && [ "$(cat "$mapping")" = "$text" ] || printf '%s\n' "$text" > "$mapping"
    say "release build for GPX 1.1 (the first one takes 10-20 minutes on 2 cores)"
    XML2BQ_SCHEMA="$PWD/$mapping" cargo build --release --locked --bin xml2bq >&2
    mkdir -p "$target/bench-gpx"
    cp "$target/release/xml2bq" "$target/bench-gpx/xml2bq"
    gpx_bin="$target/bench-gpx/xml2bq"
  else
    gpx_skip="skipped: $shared/gpx-1.1/gpx.xsd is absent (XML2BQ_SHARED names the realworld folder)"
  fi
fi
say "release build (the first one takes 10-20 minutes on 2 cores)"
env -u XML2BQ_SCHEMA cargo build --release --locked --bin xml2bq --example gen_orders --example gen_gpx --example scan_ceiling >&2
bin="${BENCH_BIN:-$target/release/xml2bq}"
ex="$target/release/examples"

# ---- data --------------------------------------------------------------------------------------------
orders() {  # SIZE_MB -> path of the customer-orders file (made once)
  local f="$data/$1mb.xml"
  [ -f "$f" ] || "$ex/gen_orders" --mb "$1" --seed 1 --out "$f" >&2
  echo "$f"
}

# ---- measuring ---------------------------------------------------------------------------------------
tmp="$(mktemp -d "$data/.runs.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
rows_of_report() {  # REPORT.json -> "ROWS NOTE" (NOTE: files not loaded, if any)
  python3 - "$1" <<'EOF'
import json, sys
try:
    t = json.load(open(sys.argv[1]))["totals"]
except Exception as e:
    print("? no-report"); sys.exit()
bad = t["files"] - t["loaded"]
print(sum(t["rows"].values()), f"{bad}/{t['files']}-files-not-loaded!" if bad else "")
EOF
}

# measure KIND CASE LABEL BYTES NOTE -- COMMAND...   (@W@ in COMMAND: the run's own empty folder)
# KIND: xml2bq (rows from W/report.json), x2a (rows=N on stdout), scan (mbps=X on stdout: MB/s from it)
# Sets m_secs m_mbps m_rss m_rows; prints one table row.
measure() {
  local kind=$1 case=$2 label=$3 bytes=$4 note=$5; shift 6
  local times=() rss=0 rows="" w secs kb rc extra="" i args
  say "case $case: $label, $runs runs"
  for i in $(seq 1 "$runs"); do
    w="$(mktemp -d "$tmp/run.XXXXXX")"
    args=("${@//@W@/$w}")
    rc=0
    /usr/bin/time -f '%e %M' -o "$w/time" "${args[@]}" > "$w/stdout" 2> "$w/stderr" || rc=$?
    read -r secs kb < <(tail -n 1 "$w/time")
    [ "$kb" -gt "$rss" ] && rss=$kb
    case $kind in
      xml2bq) read -r rows extra < <(rows_of_report "$w/report.json") ;;
      x2a) rows="$(sed -n 's/^rows=//p' "$w/stdout")" ;;
      scan) secs="$(awk -v b="$bytes" -v m="$(sed -n 's/^mbps=//p' "$w/stdout")" 'BEGIN { printf "%.3f", b / 1e6 / m }')"
            rows="$(awk '/ events, / { for (i = 1; i < NF; i++) if ($(i + 1) == "events,") print $i }' "$w/stdout")" ;;
    esac
    if [ "$rc" -ne 0 ]; then
      extra="${extra:+$extra; }exit-$rc!"
      say "run $i exited $rc; its stderr ends:"; tail -n 5 "$w/stderr" >&2
    fi
    times+=("$secs")
    rm -rf "$w"
  done
  local sorted
  mapfile -t sorted < <(printf '%s\n' "${times[@]}" | sort -g)
  m_secs=${sorted[$(( ${#sorted[@]} / 2 ))]}
  m_mbps=$(awk -v b="$bytes" -v s="$m_secs" 'BEGIN { printf "%.1f", b / 1e6 / s }')
  m_rss=$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')
  m_rows=${rows:-?}
  [ "${#sorted[@]}" -gt 1 ] && note="$note; ${sorted[0]}-${sorted[-1]}s"
  [ -n "$extra" ] && note="$note; $extra"
  row "$case" "$label" "$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1e6 }')" "$m_secs" "$m_mbps" "$m_rss" "$m_rows" "${note#; }"
}
row() { printf '%-4s %-34s %8s %9s %8s %8s %11s  %s\n' "$@"; }
skip() { row "$1" "$2" "-" "-" "-" "-" "-" "$3"; }
warm() { cat "$@" > /dev/null; }  # page cache: measure the tool, not the disk
# wall COMMAND...: its wall time in seconds (ms), its output dropped; fails when it does.
wall() {
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null 2>&1 || return 1
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}

# ---- header ------------------------------------------------------------------------------------------
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')   commit: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet HEAD -- src crates 2>/dev/null || echo ' (+ local changes)')"
echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(free -g | awk '/^Mem:/ { print $2 }') GB; load average $(cut -d ' ' -f 1-3 /proc/loadavg)"
echo "binary: $bin${load_args[*]:+ (load ${load_args[*]})}; median of $runs runs each, all runs of a case back to back; peak RSS: the largest run"
row case what size_MB median_s MB/s rss_MB rows notes

if [ "$cases" = sizes ]; then
  for mb in "${sizes[@]}"; do
    f="$(orders "$mb")"; warm "$f"
    measure xml2bq a "customer-orders, 1 file" "$(stat -c %s "$f")" "" -- \
      "$bin" load "$f" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
  done
  exit 0
fi

a_mbps=""; e_bq=""; e_x2a=""; e_x2a_how=""; f_mbps=""
if want a || want d || want f; then a_file="$(orders "$a_mb")"; a_bytes=$(stat -c %s "$a_file"); fi
if want c || want e; then sib_file="$(orders "$sib_mb")"; fi

if want a; then
  warm "$a_file"
  measure xml2bq a "customer-orders, 1 file" "$a_bytes" "" -- \
    "$bin" load "$a_file" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
  a_mbps=$m_mbps
fi

if want b; then
  if [ -n "$gpx_skip" ]; then
    skip b "GPX 1.1 track, 1 file" "$gpx_skip"
  else
    g="$data/gpx-${gpx_mb}mb.gpx"
    [ -f "$g" ] || "$ex/gen_gpx" --mb "$gpx_mb" --seed 1 --out "$g" >&2
    warm "$g"
    measure xml2bq b "GPX 1.1 track, 1 file" "$(stat -c %s "$g")" "trkpt + gpx tables; GPX build" -- \
      "$gpx_bin" load "$g" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
  fi
fi

# CASE FILES FILE: FILES copies of FILE in one folder, loaded by one `xml2bq load DIR`.
many() {
  local case=$1 n=$2 file=$3 bytes dir f
  bytes=$(stat -c %s "$file")
  dir="$data/$case-${n}x$(basename "$file" .xml)"
  for i in $(seq 1 "$n"); do
    f="$dir/part$i.xml"
    if [ ! -f "$f" ] || [ "$(stat -c %s "$f")" != "$bytes" ]; then mkdir -p "$dir"; cp "$file" "$f"; fi
  done
  warm "$dir"/*.xml
  measure xml2bq "$case" "customer-orders, $n files at once" $(( n * bytes )) "one load DIR; copies" -- \
    "$bin" load "$dir" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
}
want c && many c "$c_files" "$sib_file"
want g && many g "$g_files" "$(orders "$g_mb")"


if want d; then
  # Does this build read .xml.gz? A small gzipped copy of the sample says.
  probe="$tmp/probe"; mkdir -p "$probe"
  gzip -c sample-data/customer-orders.xml > "$probe/probe.xml.gz"
  rc=0
  "$bin" load "$probe/probe.xml.gz" --dest "$probe/dest" --keep-source --quiet --report "$probe/report.json" \
    > /dev/null 2>&1 || rc=$?
  read -r probe_rows _ < <(rows_of_report "$probe/report.json")
  if [ "$rc" -ne 0 ] || [ "$probe_rows" = "?" ] || [ "$probe_rows" -eq 0 ]; then
    skip d "(a) gzipped -$gz_level, 1 file" "skipped: this build does not read .xml.gz"
  else
    gz="$data/gz$gz_level/${a_mb}mb.xml.gz"
    if [ ! -f "$gz" ]; then
      mkdir -p "$(dirname "$gz")"; say "gzip -$gz_level $a_file (once)"
      gzip -c "-$gz_level" "$a_file" > "$gz.tmp"; mv "$gz.tmp" "$gz"
    fi
    warm "$gz"
    measure xml2bq d "(a) gzipped -$gz_level, 1 file" "$a_bytes" \
      "MB/s of the XML; .gz is $(awk -v b="$(stat -c %s "$gz")" 'BEGIN { printf "%.1f", b / 1e6 }') MB" -- \
      "$bin" load "$gz" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
    [ -n "$a_mbps" ] && d_line="d: gzipped input at $m_mbps MB/s = $(awk -v d="$m_mbps" -v a="$a_mbps" 'BEGIN { printf "%.0f", 100 * d / a }')% of the plain file's $a_mbps MB/s (a)"
  fi
fi

if want e; then
  sib_bytes=$(stat -c %s "$sib_file")
  warm "$sib_file"
  measure xml2bq e "xml2bq, 1 file" "$sib_bytes" "" -- \
    "$bin" load "$sib_file" --dest @W@/dest --keep-source --quiet --report @W@/report.json "${load_args[@]}"
  e_bq=$m_mbps
  venv="${XML2BQ_CACHE:-$HOME/.cache/xml2bq}/bench-venv"
  if ! cmp -s bench/requirements.txt "$venv/requirements.txt"; then
    say "xml2arrow venv: $venv (bench/requirements.txt)"
    rm -rf "$venv"
    if python3 -m venv "$venv" >&2 && "$venv/bin/pip" install -q -r bench/requirements.txt >&2; then
      cp bench/requirements.txt "$venv/requirements.txt"
    fi
  fi
  if [ -f "$venv/requirements.txt" ]; then
    x2a_version="$("$venv/bin/python" -c 'import xml2arrow; print(xml2arrow.__version__)')"
    for how in parse parse_batches; do
      flag=(); [ "$how" = parse ] && flag=(--whole)
      measure x2a e "xml2arrow $x2a_version, $how()" "$sib_bytes" "pyarrow Parquet zstd-1" -- \
        "$venv/bin/python" bench/xml2arrow_load.py bench/xml2arrow-config.yaml "$sib_file" @W@/out "${flag[@]}"
      if [ -z "$e_x2a" ] || awk -v a="$m_mbps" -v b="$e_x2a" 'BEGIN { exit !(a > b) }'; then
        e_x2a=$m_mbps; e_x2a_how="$how()"
      fi
    done
    # Then both in turn, pair by pair: the machines here are shared, and their speed
    # drifts between the two cases' back-to-back runs; a pair's two runs see about the
    # same machine, and the median of the pairs' ratios is the figure to quote.
    flag=(); [ "$e_x2a_how" = "parse()" ] && flag=(--whole)
    ratios=()
    say "case e: xml2bq and xml2arrow $e_x2a_how in turn, $pairs pairs"
    for i in $(seq 1 "$pairs"); do
      w="$(mktemp -d "$tmp/pair.XXXXXX")"
      t_bq=$(wall "$bin" load "$sib_file" --dest "$w/dest" --keep-source --quiet "${load_args[@]}") || t_bq=""
      t_x2a=$(wall "$venv/bin/python" bench/xml2arrow_load.py bench/xml2arrow-config.yaml "$sib_file" "$w/out" \
        "${flag[@]}") || t_x2a=""
      rm -rf "$w"
      [ -n "$t_bq" ] && [ -n "$t_x2a" ] && ratios+=("$(awk -v a="$t_bq" -v b="$t_x2a" 'BEGIN { printf "%.3f", b / a }')")
    done
    if [ "${#ratios[@]}" -gt 0 ]; then
      mapfile -t ratios < <(printf '%s\n' "${ratios[@]}" | sort -g)
      e_pairs="e, paired: xml2arrow $e_x2a_how wall / xml2bq wall, ${#ratios[@]} pairs in turn: median ${ratios[$(( ${#ratios[@]} / 2 ))]}x (${ratios[0]}-${ratios[-1]})"
    fi
  else
    skip e "xml2arrow" "skipped: could not install bench/requirements.txt into $venv"
  fi
fi

if want f; then
  warm "$a_file"
  measure scan f "quick-xml event scan, $threads threads" "$a_bytes" "rows: events; scan only, file read before" -- \
    "$ex/scan_ceiling" "$a_file" --threads "$threads"
  f_mbps=$m_mbps
fi

echo
[ -n "${d_line:-}" ] && echo "$d_line"
if [ -n "$e_bq" ] && [ -n "$e_x2a" ]; then
  echo "e: xml2bq $e_bq MB/s / xml2arrow $e_x2a MB/s ($e_x2a_how, the faster) = $(awk -v a="$e_bq" -v b="$e_x2a" 'BEGIN { printf "%.2f", a / b }')x on the same ${sib_mb} MB file (median of $runs each)"
fi
[ -n "${e_pairs:-}" ] && echo "$e_pairs"
if [ -n "$a_mbps" ] && [ -n "$f_mbps" ]; then
  echo "f: xml2bq $a_mbps MB/s on (a) = $(awk -v a="$a_mbps" -v f="$f_mbps" 'BEGIN { printf "%.0f", 100 * a / f }')% of the raw event-scan ceiling, $f_mbps MB/s on $threads threads"
fi
