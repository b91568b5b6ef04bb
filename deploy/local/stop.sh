#!/usr/bin/env bash
# Stops the services deploy/local/run.sh started (SIGTERM, so in-flight steps finish or return to their queues).
# PostgreSQL and RabbitMQ keep running, with Atelier's data.
set -uo pipefail
RUN_DIR="$(cd "$(dirname "$0")" && pwd)/.run"
stopped=0
for pidfile in "$RUN_DIR"/*.pid; do
  [ -e "$pidfile" ] || continue
  module=$(basename "$pidfile" .pid)
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 45); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
    echo "stopped $module (pid $pid)"
    stopped=$((stopped + 1))
  fi
  rm -f "$pidfile"
done
[ "$stopped" -gt 0 ] || echo "no Atelier service was running"
