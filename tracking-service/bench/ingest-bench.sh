#!/usr/bin/env bash
# Ingest benchmark (issue 4): how fast the ledger drains a queue full of LLM-call records.
#
#   tracking-service/bench/ingest-bench.sh [records=200000]
#
# Run after `./mvnw -pl tracking-service verify` (uses target/quarkus-app). Own database and
# RabbitMQ vhost (atelier-bench-tracking, created when missing).
# 1. Starts the built service once against $BENCH_DB (recreated unless KEEP_DB=1) so it migrates
#    the database and declares its queues, then stops it.
# 2. Publishes <records> pre-generated LlmCallRecorded bodies to RabbitMQ from a separate process
#    (PublishCalls.java), as fast as confirms allow; the queue holds them.
# 3. Starts the service again (optionally with JFR=1: a profile in /tmp/ingest-bench.jfr) and, with
#    QUERIES=1, runs the ledger-bench queries in a loop meanwhile; waits until every record is in
#    the ledger and reports the drain rate from recorded_at (first to last stored row), and the rate
#    after the first WARM_SECONDS (default 10: a freshly started JVM spends about a third of its CPU
#    compiling during the first half minute; the later rate is the sustained one).
# SERVICE_JAVA_OPTS adds JVM options to the measured run (e.g. -agentpath:...libasyncProfiler.so=...).
# CLEANUP=1 deletes the run's rows afterwards and rewrites the current partition (VACUUM FULL), so
# runs back to back on one database start from the same state.
# BENCH_APP=<dir> runs that copy of target/quarkus-app instead.
# The service's TRACKING_INGEST_* variables (batch size, prefetch, concurrency) pass through.
set -euo pipefail
RECORDS=${1:-200000}
DB=${BENCH_DB:-atelier_tracking_ingest_bench}
PORT=${BENCH_PORT:-18084}
VHOST=${BENCH_VHOST:-atelier-bench-tracking}
# A vhost of its own: no other service or test run can publish into the bench's queues.
rabbitmqctl add_vhost "$VHOST" > /dev/null 2>&1 || true
rabbitmqctl set_permissions -p "$VHOST" guest '.*' '.*' '.*' > /dev/null
HERE=$(cd "$(dirname "$0")" && pwd)
MODULE=$(dirname "$HERE")
PSQL="psql -h 127.0.0.1 -U postgres -X -q"
BASE="http://127.0.0.1:$PORT"
M2=${M2_REPO:-$HOME/.m2/repository}
APP=${BENCH_APP:-$MODULE/target/quarkus-app}
# service-kit for TimeOrderedIds: the load's ids are made the way the services make them.
KIT=$(ls "$MODULE"/../service-kit/target/service-kit-*.jar | grep -v -- '-sources\|-tests' | head -1)
CP="$M2/com/rabbitmq/amqp-client/5.25.0/amqp-client-5.25.0.jar:$M2/org/slf4j/slf4j-api/2.0.7/slf4j-api-2.0.7.jar:$KIT"
SVC=""
LOADER=""
trap '[ -n "$LOADER" ] && kill $LOADER 2>/dev/null; [ -n "$SVC" ] && kill $SVC 2>/dev/null; true' EXIT

start_service() { # [extra java options]
  DB_URL="jdbc:postgresql://127.0.0.1:5432/$DB" HTTP_PORT=$PORT RABBITMQ_VIRTUAL_HOST=$VHOST \
    QUARKUS_OTEL_SDK_DISABLED=true java "$@" -jar "$APP/quarkus-run.jar" \
    >> /tmp/ingest-bench-service.log 2>&1 &
  SVC=$!
  for _ in $(seq 1 120); do
    curl -sf "$BASE/q/health/ready" > /dev/null && return 0
    sleep 0.5
  done
  echo "service did not start"; tail -50 /tmp/ingest-bench-service.log; exit 1
}

stop_service() {
  kill "$SVC"; wait "$SVC" 2>/dev/null || true; SVC=""
}

echo "== ingest bench: $RECORDS records, db $DB, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   batch=${TRACKING_INGEST_BATCH_SIZE:-default} prefetch=${TRACKING_INGEST_PREFETCH:-default} concurrency=${TRACKING_INGEST_CONCURRENCY:-default}"
: > /tmp/ingest-bench-service.log
: > /tmp/ingest-bench-queries.txt
[ "${KEEP_DB:-0}" = 1 ] || $PSQL -c "drop database if exists $DB with (force)"
start_service
stop_service

TEAM="bench-ingest-$(date +%s)"
# The rows this run stores (its own team, stamped now).
RUN_ROWS="team = (select id from label where value = '$TEAM') and occurred_at > now() - interval '1 day'"
java -cp "$CP" "$HERE/PublishCalls.java" "$VHOST" "$RECORDS" "$TEAM"

# SERVICE_JAVA_OPTS: extra options for the measured run only, e.g. a profiler agent.
read -r -a JAVA_OPTS <<< "${SERVICE_JAVA_OPTS:-}"
[ "${JFR:-0}" = 1 ] && JAVA_OPTS+=("-XX:StartFlightRecording=filename=/tmp/ingest-bench.jfr,settings=profile")
T0=$(date +%s.%N)
start_service "${JAVA_OPTS[@]}"
# CPU the service spends per record, from now (ready: start-up done) to the end of the drain.
cpu_ms() { awk -v t="$(getconf CLK_TCK)" '{print int(($14 + $15) * 1000 / t)}' "/proc/$SVC/stat"; }
# Progress from the daily rollup (a few rows per team, committed with the raw rows): counting the raw
# rows every poll scanned the day's partition and took CPU from the ingest it measures. The final
# figures below count the raw rows once.
stored() { $PSQL -d "$DB" -At -c "select coalesce(sum(calls), 0) from llm_usage_daily where team = '$TEAM'"; }
# RabbitMQ's and PostgreSQL's CPU over the same span (every beam.smp and postgres process, plus what
# the postmaster collected from exited children such as autovacuum workers).
infra_cpu_ms() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v t="$(getconf CLK_TCK)" '
    $2 == "(beam.smp)" { r += $14 + $15 }
    $2 == "(postgres)" { p += $14 + $15 + $16 + $17 }
    END { printf "%d %d\n", r * 1000 / t, p * 1000 / t }'
}
CPU0=$(cpu_ms); read -r MQ0 PG0 < <(infra_cpu_ms); N0=$(stored)
if [ "${QUERIES:-0}" = 1 ]; then
  DAY_END=$(date -u +%Y-%m-%dT00:00:00Z)
  DAY_START=$(date -u -d "$DAY_END - 30 days" +%Y-%m-%dT00:00:00Z)
  WF=$($PSQL -d "$DB" -At -c "select workflow_id from llm_call where occurred_at < now() - interval '1 day' and workflow_id is not null limit 1")
  QS=("/api/v1/usage?groupBy=model&from=$DAY_START&to=$DAY_END"
      "/api/v1/workflows/$WF/usage"
      "/api/v1/llm-calls?agent=architect&limit=50"
      "/api/v1/llm-calls?model=claude-haiku&from=$DAY_START&to=$DAY_END&limit=50")
  ( while true; do for q in "${QS[@]}"; do
      echo "$(echo "$q" | cut -d'?' -f1 | tr '/' '_')$(echo "$q" | grep -o 'groupBy=model\|agent=architect\|model=claude-haiku' || true) $(curl -s -o /dev/null -w '%{time_total}' "$BASE$q")"
    done; done ) > /tmp/ingest-bench-queries.txt 2>/dev/null &
  LOADER=$!
fi
for _ in $(seq 1 600); do
  n=$(stored)
  [ "$n" -ge "$RECORDS" ] && break
  sleep 1
done
T1=$(date +%s.%N)
CPU1=$(cpu_ms); read -r MQ1 PG1 < <(infra_cpu_ms)
[ -n "$LOADER" ] && { kill $LOADER 2>/dev/null || true; LOADER=""; }
$PSQL -d "$DB" -At -F ' ' -c "
  select 'stored', count(*), 'in', round(extract(epoch from max(recorded_at) - min(recorded_at))::numeric, 2), 's =',
         round(count(*) / nullif(extract(epoch from max(recorded_at) - min(recorded_at)), 0)), 'records/s (first to last stored row)'
  from llm_call where $RUN_ROWS;
  select 'rollup calls for the team (must equal stored)', sum(calls) from llm_usage_hourly where team = '$TEAM';
  with t as (select min(recorded_at) + interval '${WARM_SECONDS:-10} seconds' as warm, max(recorded_at) as last
             from llm_call where $RUN_ROWS)
  select 'after the first ${WARM_SECONDS:-10} s (JIT warm):', count(*), 'in', round(extract(epoch from t.last - t.warm)::numeric, 2), 's =',
         round(count(*) / nullif(extract(epoch from t.last - t.warm), 0)), 'records/s'
  from llm_call, t where $RUN_ROWS
    and recorded_at > t.warm group by t.last, t.warm;"
echo "wall time from service start to all stored: $(echo "$T1 - $T0" | bc) s (includes start-up)"
if [ "$n" -gt "$N0" ]; then
  per_k() { echo "scale=1; $1 * 1000 / ($n - $N0)" | bc; }
  echo "service CPU: $((CPU1 - CPU0)) ms for the $((n - N0)) records stored after start-up = $(per_k $((CPU1 - CPU0))) CPU-ms per 1000 records (queries included when QUERIES=1)"
  echo "RabbitMQ CPU: $(per_k $((MQ1 - MQ0))) ms per 1000 records; PostgreSQL CPU: $(per_k $((PG1 - PG0))) ms per 1000 records (same span)"
fi
if [ -s /tmp/ingest-bench-queries.txt ]; then
  echo "== query medians (ms) during the drain"
  awk '{a[$1]=a[$1] " " $2} END {for (k in a) {n=split(a[k], v, " "); asort(v); printf "%s: %.1f ms (n=%d)\n", k, v[int((n+1)/2)]*1000, n}}' /tmp/ingest-bench-queries.txt
fi
stop_service
if [ "${CLEANUP:-0}" = 1 ]; then
  # Leave the database as it was, so back-to-back runs start from the same state (the current
  # month's partition would otherwise grow by <records> per run and each run measure a bigger one).
  $PSQL -d "$DB" -c "delete from llm_call where $RUN_ROWS"
  $PSQL -d "$DB" -c "delete from llm_usage_hourly where team = '$TEAM'" -c "delete from llm_usage_daily where team = '$TEAM'"
  $PSQL -d "$DB" -c "vacuum full llm_call_p$(date -u +%Y_%m)"  # PartitionMaintenance's naming
fi
[ "${JFR:-0}" = 1 ] && echo "JFR profile: /tmp/ingest-bench.jfr"
echo "== load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
