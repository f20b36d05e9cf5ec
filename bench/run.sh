#!/usr/bin/env bash
# Benchmark: MB/s and peak RSS of `xml2bq load` (XML in, Parquet out) on generated
# 100 MB and 1 GB customer-orders files. Release build; data cached in bench-data/.
# Usage: bench/run.sh [SIZE_MB ...]   (default: 100 1000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100 1000)
cargo build --release --locked --bin xml2bq --example gen_orders >&2
bin=target/release/xml2bq
mkdir -p bench-data
printf '%-10s %10s %10s %12s %10s\n' size_mb seconds MB/s peak_rss_MB rows
for mb in "${sizes[@]}"; do
  f=bench-data/${mb}mb.xml
  [ -f "$f" ] || target/release/examples/gen_orders --mb "$mb" --seed 1 --out "$f"
  cat "$f" > /dev/null  # warm the page cache: measure the tool, not the disk
  out=$(mktemp -d)
  /usr/bin/time -f '%e %M' -o "$out/time" "$bin" load "$f" --dest "$out/dest" --quiet --report "$out/report.json" 2>/dev/null
  read -r secs rss_kb < "$out/time"
  bytes=$(stat -c %s "$f")
  rows=$(python3 -c "import json,sys; r=json.load(open('$out/report.json')); print(sum(r['totals']['rows'].values()))")
  awk -v b="$bytes" -v s="$secs" -v r="$rss_kb" -v mb="$mb" -v rows="$rows" \
    'BEGIN { printf "%-10s %10.2f %10.1f %12.1f %10s\n", mb, s, b/1e6/s, r/1024, rows }'
  rm -rf "$out"
done
