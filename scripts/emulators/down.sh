#!/usr/bin/env bash
# Stops the emulators started by up.sh STATE_DIR.
state="${1:?usage: down.sh STATE_DIR}"
for svc in bq gcs; do
  if [ -f "$state/$svc.pid" ]; then
    pid="$(cat "$state/$svc.pid")"
    kill "$pid" 2>/dev/null && for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null
    rm -f "$state/$svc.pid"
  fi
done
exit 0
