#!/usr/bin/env bash
# Starts Atelier on this machine and runs one requirement through it:
#   1. ensures PostgreSQL and RabbitMQ are up (deploy/local/infra.sh),
#   2. builds the services if they are missing or older than their sources,
#   3. starts the five services as background processes (logs and pids in deploy/local/.run/),
#   4. submits a requirement (default deploy/examples/order-tracking.json), shows progress per step until the
#      workflow ends, then prints the artifacts, the LLM usage per agent and the trace id.
# The services keep running afterwards; deploy/local/stop.sh stops them.
#
# Usage: deploy/local/run.sh [request.json]     (--no-submit: only start the services)
# Uses the built-in simulated LLM provider unless OPENAI_API_KEY is set (OPENAI_BASE_URL for Ollama, vLLM, Groq...).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUN_DIR="$ROOT/deploy/local/.run"
mkdir -p "$RUN_DIR/logs"
cd "$ROOT"

SUBMIT=1
REQUEST="$ROOT/deploy/examples/order-tracking.json"
for arg in "$@"; do
  case "$arg" in
    --no-submit) SUBMIT=0 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) REQUEST="$arg" ;;
  esac
done
[ -f "$REQUEST" ] || { echo "no such request file: $REQUEST" >&2; exit 2; }

# module:port, in start order (dependencies first).
SERVICES="context-service:8083 llm-gateway-service:8082 tracking-service:8084 orchestrator-service:8080 agent-worker-service:8081"

say() { printf '\033[1m[atelier]\033[0m %s\n' "$*"; }

"$ROOT/deploy/local/infra.sh"
# Test machines often run PostgreSQL without autovacuum; a suite left running on one accumulates dead rows.
if [ "$(psql -h 127.0.0.1 -U postgres -d postgres -qAtc 'show autovacuum' 2>/dev/null)" = off ]; then
  say "note: PostgreSQL runs with autovacuum off here: the orchestrator's outbox and step tables keep every dead row" \
    "(about 115,000 outbox rows after 10 minutes at full load); turn it on with:" \
    "psql -h 127.0.0.1 -U postgres -c 'alter system set autovacuum = on' -c 'select pg_reload_conf()'"
fi
# shellcheck source=deploy/local/java-opts.sh
. "$ROOT/deploy/local/java-opts.sh"

needs_build() {
  local module jar
  for entry in $SERVICES; do
    module=${entry%%:*}
    jar="$ROOT/$module/target/quarkus-app/quarkus-run.jar"
    [ -f "$jar" ] || return 0
    [ -n "$(find "$ROOT/$module/src/main" "$ROOT/contracts/src/main" "$ROOT/service-kit/src/main" -newer "$jar" -type f -print -quit)" ] && return 0
  done
  return 1
}

if needs_build; then
  say "building the services (first run takes a few minutes)"
  ./mvnw -B -q -DskipTests -DskipITs package -pl '!system-tests' >"$RUN_DIR/logs/build.log" 2>&1 \
    || { echo "build failed; see $RUN_DIR/logs/build.log" >&2; tail -30 "$RUN_DIR/logs/build.log" >&2; exit 1; }
fi

if [ -n "${OPENAI_API_KEY:-}" ]; then
  say "LLM provider: OpenAI-compatible at ${OPENAI_BASE_URL:-https://api.openai.com/v1}"
else
  say "LLM provider: simulated (set OPENAI_API_KEY, and OPENAI_BASE_URL if not OpenAI, to use a real one)"
fi

export RABBITMQ_VIRTUAL_HOST="${RABBITMQ_VIRTUAL_HOST:-atelier}"
export CONTEXT_URL="${CONTEXT_URL:-http://127.0.0.1:8083}"
export GATEWAY_URL="${GATEWAY_URL:-http://127.0.0.1:8082}"

ready() { curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$1/q/health/ready"; }

for entry in $SERVICES; do
  module=${entry%%:*}; port=${entry##*:}
  pidfile="$RUN_DIR/$module.pid"
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    say "$module already running (pid $(cat "$pidfile"), port $port)"
    continue
  fi
  if ready "$port"; then
    echo "port $port already serves something else; stop it or set HTTP ports" >&2; exit 1
  fi
  say "starting $module on port $port"
  # shellcheck disable=SC2046  # the flags are meant to split
  # nice: the API first when steps saturate the CPU (atelier_nice in java-opts.sh).
  # GATEWAY_RECORDS_JOURNAL_DIR: the gateway's record journal, one directory per process (locked),
  # kept across restarts so that a killed gateway re-publishes what the broker had not confirmed.
  HTTP_PORT=$port GATEWAY_RECORDS_JOURNAL_DIR="$RUN_DIR/journal/$module-$port" nohup nice -n "$(atelier_nice "$module")" java $(atelier_java_opts "$module") -jar "$ROOT/$module/target/quarkus-app/quarkus-run.jar" \
    >"$RUN_DIR/logs/$module.log" 2>&1 &
  echo $! >"$pidfile"
done

for entry in $SERVICES; do
  module=${entry%%:*}; port=${entry##*:}
  for i in $(seq 1 120); do
    ready "$port" && break
    if ! kill -0 "$(cat "$RUN_DIR/$module.pid")" 2>/dev/null; then
      echo "$module exited; last lines of $RUN_DIR/logs/$module.log:" >&2; tail -30 "$RUN_DIR/logs/$module.log" >&2; exit 1
    fi
    [ "$i" = 120 ] && { echo "$module not ready after 120 s; see $RUN_DIR/logs/$module.log" >&2; exit 1; }
    sleep 1
  done
done
say "all five services are ready"

demo_rc=0
if [ "$SUBMIT" = 1 ]; then
  python3 "$ROOT/deploy/local/demo.py" "$REQUEST" || demo_rc=$?
fi

cat <<MSG

Atelier keeps running:
  API            http://127.0.0.1:8080/api/v1/workflows   (OpenAPI: http://127.0.0.1:8080/q/openapi)
  gateway        http://127.0.0.1:8082/v1                 (OpenAI-compatible)
  logs           $RUN_DIR/logs/
Stop it with:    deploy/local/stop.sh
MSG
exit "$demo_rc"
