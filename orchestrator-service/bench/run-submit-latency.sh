#!/usr/bin/env bash
# Submit-latency benchmark of orchestrator-service: starts the packaged service on a fresh database
# and RabbitMQ vhost of its own (dropped and recreated here: nothing else may use them), then sends
# RATE submissions/s for DURATION s, RUNS times, and prints one JSON line per run, each preceded by
# the machine's load (`uptime`): the machine may be shared, so read the figures with it.
# While submissions come in, BenchWorker.java plays the workers: it answers step requests with
# results at WORKER_RATE results/s, so workflows run (the service applies results, dispatches the
# next steps, publishes them) during the measurement. WORKER_RATE=0 turns it off.
# Build first: ./mvnw -B -o -pl orchestrator-service -am package -DskipTests
# usage: orchestrator-service/bench/run-submit-latency.sh [RUNS] [RATE] [DURATION]
# Also printed per run: the CPU seconds the service used during it (utime + stime from /proc), a
# figure that machine load disturbs much less than latency: with WORKER_RATE=0, divide it by the
# requests sent (warm-up included) for the CPU cost of one submission. And, over the measured part
# only (after the warm-up), the CPU-ms per submission of the service, of PostgreSQL (all its
# processes) and of RabbitMQ: with WORKER_RATE=0 and a long warm-up (BENCH_WARMUP=200, the JIT
# needs minutes on two cores), what one submission costs each of them once warm.
# env: BENCH_PORT (18090), BENCH_DB (atelier_orchestrator_submitbench), BENCH_VHOST
#      (atelier-orchestrator-submitbench), BENCH_WARMUP (seconds per run not counted, 15),
#      WORKER_RATE (results/s, 100), BENCH_APP (a quarkus-app directory, default
#      target/quarkus-app: copy it elsewhere to keep building while a bench runs),
#      BENCH_LOG (/tmp/orchestrator-submitbench.log)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs="${1:-3}"; rate="${2:-100}"; duration="${3:-60}"
port="${BENCH_PORT:-18090}"
db="${BENCH_DB:-atelier_orchestrator_submitbench}"
vhost="${BENCH_VHOST:-atelier-orchestrator-submitbench}"
warmup="${BENCH_WARMUP:-15}"
workers="${WORKER_RATE:-100}"
app="${BENCH_APP:-$here/../target/quarkus-app}"
psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists $db with (force)"
rabbitmqctl -q delete_vhost "$vhost" > /dev/null 2>&1 || true
rabbitmqctl -q add_vhost "$vhost" > /dev/null
rabbitmqctl -q set_permissions -p "$vhost" guest '.*' '.*' '.*' > /dev/null
export HTTP_PORT="$port" RABBITMQ_VIRTUAL_HOST="$vhost"
export DB_URL="jdbc:postgresql://127.0.0.1:5432/$db"
export OTEL_SDK_DISABLED=true QUARKUS_OTEL_SDK_DISABLED=true
java -jar "$app/quarkus-run.jar" > "${BENCH_LOG:-/tmp/orchestrator-submitbench.log}" 2>&1 &
pid=$!
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
# service, PostgreSQL and RabbitMQ CPU ticks, on one line
ticks_of() { cat "${@/%//stat}" 2>/dev/null | awk '{ s += $14 + $15 } END { print s + 0 }'; }
measured_ticks() {
  echo "$(cpu_ticks) $(ticks_of $(pgrep -x postgres | sed 's|^|/proc/|')) $(ticks_of $(pgrep -x beam.smp | sed 's|^|/proc/|'))"
}
marks=$(mktemp)
trap 'kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; rm -f "$marks"' EXIT
for _ in $(seq 1 120); do
  curl -fs "http://127.0.0.1:$port/q/health/ready" > /dev/null && break
  sleep 1
done
curl -fs "http://127.0.0.1:$port/q/health/ready" > /dev/null
echo "# $(nproc) cores; service $app; worker results/s: $workers"
for i in $(seq 1 "$runs"); do
  echo "# run $i $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
  wpid=""
  if [ "$workers" != "0" ]; then
    java -Dslf4j.provider=org.slf4j.helpers.NOP_FallbackServiceProvider -Dslf4j.internal.verbosity=WARN -cp "$app/lib/main/*" "$here/BenchWorker.java" "$vhost" "$workers" \
      "$(( warmup + duration + 1 ))" &
    wpid=$!
  fi
  cpu0=$(cpu_ticks)
  # The measured part's CPU, sampled in the background when the warm-up ends.
  (sleep "$warmup"; measured_ticks > "$marks") &
  mpid=$!
  python3 "$here/submit_latency.py" --url "http://127.0.0.1:$port" --rate "$rate" \
    --duration "$duration" --warmup "$warmup"
  cpu1=$(cpu_ticks)
  wait "$mpid" 2>/dev/null || true
  echo "# service cpu_s: $(awk -v a="$cpu0" -v b="$cpu1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.2f", (b - a) / hz }') over $(( (warmup + duration) * rate )) submissions"
  echo "$(cat "$marks") $(measured_ticks)" | awk -v n="$(( duration * rate ))" -v hz="$(getconf CLK_TCK)" \
    '{ f = 1000 / hz / n; printf "# measured part, CPU-ms per submission: service %.2f, postgresql %.2f, rabbitmq %.2f\n", ($4 - $1) * f, ($5 - $2) * f, ($6 - $3) * f }'
  if [ -n "$wpid" ]; then wait "$wpid"; fi
done
echo "# end $(date -u +%FT%TZ) load: $(uptime | sed 's/.*load average: //')"
