#!/usr/bin/env bash
# Submit-latency benchmark of orchestrator-service: starts the packaged service on its own database
# (atelier_orchestrator_bench, created by the service) and a RabbitMQ vhost nobody consumes from
# during the run, then sends RATE submissions/s for DURATION s, RUNS times, and prints one JSON
# line per run, each preceded by the machine's load (`uptime`): the machine may be shared.
# Build first: ./mvnw -B -o -pl orchestrator-service -am package -DskipTests
# usage: orchestrator-service/bench/run-submit-latency.sh [RUNS] [RATE] [DURATION]
# env: BENCH_PORT (18080), BENCH_DB_URL, BENCH_VHOST (atelier-bench-orchestrator; must exist:
#      rabbitmqctl add_vhost NAME && rabbitmqctl set_permissions -p NAME guest '.*' '.*' '.*'),
#      BENCH_WARMUP (seconds per run not counted, 15), BENCH_APP (a quarkus-app directory,
#      default target/quarkus-app: copy it elsewhere to keep building while a bench runs),
#      BENCH_LOG (/tmp/orchestrator-bench.log)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-3}"; rate="${2:-100}"; duration="${3:-60}"
port="${BENCH_PORT:-18080}"
app="${BENCH_APP:-$here/../target/quarkus-app}"
export HTTP_PORT="$port"
export DB_URL="${BENCH_DB_URL:-jdbc:postgresql://127.0.0.1:5432/atelier_orchestrator_bench}"
export RABBITMQ_VIRTUAL_HOST="${BENCH_VHOST:-atelier-bench-orchestrator}"
export OTEL_SDK_DISABLED=true QUARKUS_OTEL_SDK_DISABLED=true
java -jar "$app/quarkus-run.jar" > "${BENCH_LOG:-/tmp/orchestrator-bench.log}" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/q/health/ready" > /dev/null && break
  sleep 1
done
curl -fs "http://127.0.0.1:$port/q/health/ready" > /dev/null
for i in $(seq 1 "$runs"); do
  echo "# run $i $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
  python3 "$here/submit_latency.py" --url "http://127.0.0.1:$port" --rate "$rate" \
    --duration "$duration" --warmup "${BENCH_WARMUP:-15}"
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
