#!/usr/bin/env bash
# Benchmark: MB/s and peak RSS of `xml2bq load` (XML in, Parquet out) on generated
# 100 MB and 1 GB customer-orders files. Release build; data cached in bench-data/.
# Usage: bench/run.sh [SIZE_MB ...]   (default: 100 1000)
#        BENCH_BIN=/path/to/other/xml2bq bench/run.sh 1000   (another build, e.g. before a change,
#        on the same files: run both back to back)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
cargo build --release --locked --bin xml2bq --example gen_orders >&2
bin="${BENCH_BIN:-target/release/xml2bq}"
echo "binary: $bin" >&2
mkdir -p bench-data
runs="${BENCH_RUNS:-3}"
echo "best and median of $runs runs (these VMs are noisy: the best run is the machine's capability)" >&2
printf '%-8s %9s %9s %10s %10s %12s %10s\n' size_mb best_s median_s best_MB/s median_MB/s peak_rss_MB rows
for mb in "${sizes[@]}"; do
  f=bench-data/${mb}mb.xml
  [ -f "$f" ] || target/release/examples/gen_orders --mb "$mb" --seed 1 --out "$f"
  cat "$f" > /dev/null  # warm the page cache: measure the tool, not the disk
  bytes=$(stat -c %s "$f")
  times=(); rss_max=0
  for _ in $(seq 1 "$runs"); do
    out=$(mktemp -d)
    /usr/bin/time -f '%e %M' -o "$out/time" "$bin" load "$f" --dest "$out/dest" --quiet --report "$out/report.json" 2>/dev/null
    read -r secs rss_kb < "$out/time"
    times+=("$secs"); [ "$rss_kb" -gt "$rss_max" ] && rss_max=$rss_kb
    rows=$(python3 -c "import json; r=json.load(open('$out/report.json')); print(sum(r['totals']['rows'].values()))")
    rm -rf "$out"
  done
  sorted=($(printf '%s\n' "${times[@]}" | sort -g))
  best=${sorted[0]}; median=${sorted[$(( ${#sorted[@]} / 2 ))]}
  awk -v b="$bytes" -v s="$best" -v m="$median" -v r="$rss_max" -v mb="$mb" -v rows="$rows" \
    'BEGIN { printf "%-8s %9.2f %9.2f %10.1f %10.1f %12.1f %10s\n", mb, s, m, b/1e6/s, b/1e6/m, r/1024, rows }'
done
