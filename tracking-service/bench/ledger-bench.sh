#!/usr/bin/env bash
# Ledger benchmark (issue 4). Not a test: a rerunnable script whose results go to
# docs/benchmarks/ledger.md.
#
#   tracking-service/bench/ledger-bench.sh [rows=10000000] [ingest-records=200000] [runs=7]
#
# REUSE_DB=1 keeps atelier_tracking_bench from an earlier run (generation of 10M rows takes ~7 min)
# when it holds at least <rows> generated rows: step 2 is skipped (the rows then end at the hour of
# that run; each ingest step adds <ingest-records> rows of a new team). BENCH_APP=<dir> runs a copy of
# target/quarkus-app (so a baseline build can be benchmarked while the module is rebuilt).
# 1. Starts the built service (mvn -pl tracking-service verify first) on port 18084 against the
#    database atelier_tracking_bench, recreated from scratch: the service's DatabaseBootstrap creates
#    it and applies the service's own Flyway migrations.
# 2. Generates <rows> ledger rows over the 90 days before now directly in PostgreSQL (generate.sql)
#    and fills the rollups from them; reports load time and disk size per million rows.
#    Then fills the daily latency histograms (ops/backfill-daily-histograms.sql), timed.
# 3. Times the issue's queries over HTTP with curl (median of <runs>, after one warm-up).
# 4. Runs ingest-bench.sh on the same database: <ingest-records> LlmCallRecorded events are
#    published to RabbitMQ (vhost $BENCH_VHOST) from a separate process first, then drained by the
#    service while the queries run in a loop; reports the stored rate (recorded_at).
# It uses its own database and RabbitMQ vhost (atelier-bench-tracking, created when missing).
set -euo pipefail
ROWS=${1:-10000000}
INGEST=${2:-200000}
RUNS=${3:-7}
DB=atelier_tracking_bench
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
REUSE=0
if [ "${REUSE_DB:-0}" = 1 ] && [ "$($PSQL -At -c "select 1 from pg_database where datname = '$DB'")" = 1 ]; then
  have=$($PSQL -d $DB -At -c "select coalesce(sum(calls), 0) from llm_usage_daily where team like 'team-%'")
  [ "$have" -ge "$ROWS" ] && REUSE=1
fi

echo "== machine: $(nproc) cores, $(free -g | awk '/Mem/{print $2}') GB RAM, load $(cut -d' ' -f1-3 /proc/loadavg)"
[ $REUSE = 1 ] || $PSQL -c "drop database if exists $DB with (force)"

echo "== starting tracking-service on :$PORT against $DB"
# The access log gives each request's server-side time (%D), apart from the client and the network.
DB_URL="jdbc:postgresql://127.0.0.1:5432/$DB" HTTP_PORT=$PORT RABBITMQ_VIRTUAL_HOST=$VHOST \
  QUARKUS_OTEL_SDK_DISABLED=true QUARKUS_HTTP_ACCESS_LOG_ENABLED=true \
  QUARKUS_HTTP_RECORD_REQUEST_START_TIME=true QUARKUS_HTTP_ACCESS_LOG_PATTERN='ACCESS %D %U%q' java -jar "$APP/quarkus-run.jar" \
  > /tmp/ledger-bench-service.log 2>&1 &
SVC=$!
trap 'kill $SVC 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do
  curl -sf "$BASE/q/health/ready" > /dev/null && break
  sleep 1
done
curl -sf "$BASE/q/health/ready" > /dev/null || { echo "service did not start"; tail -50 /tmp/ledger-bench-service.log; exit 1; }

if [ $REUSE = 1 ]; then
  echo "== REUSE_DB=1: keeping $DB ($have generated rows), no generation"
else
  END=$(date -u +%Y-%m-%dT%H:00:00Z)
  echo "== generating $ROWS rows over the 90 days before $END"
  T0=$(date +%s.%N)
  $PSQL -d $DB -v rows=$ROWS -v chunk=1000000 -v end="$END" -f "$HERE/generate.sql" > /tmp/ledger-bench-generate.log
  T1=$(date +%s.%N)
  echo "generation + rollups + vacuum analyze: $(echo "$T1 - $T0" | bc) s"
fi
# generate.sql fills the rollups' sums, not the daily latency histograms: the operators' backfill
# (rows without histograms only, so a no-op on a database it already filled) adds them.
echo "== daily latency histograms: tracking-service/ops/backfill-daily-histograms.sql"
$PSQL -d $DB -v ON_ERROR_STOP=1 -f "$MODULE/ops/backfill-daily-histograms.sql" | grep -v '^$'
$PSQL -d $DB -At -F ' ' -c "
  select 'raw rows', count(*) from llm_call;
  select 'hourly rollup rows', count(*) from llm_usage_hourly;
  select 'daily rollup rows', count(*) from llm_usage_daily;
  select 'ledger size (heap+indexes, all partitions)', pg_size_pretty(sum(pg_total_relation_size(inhrelid)))
    from pg_inherits where inhparent = 'llm_call'::regclass;
  select 'MB per million rows', round(sum(pg_total_relation_size(inhrelid)) / 1048576.0 / ($ROWS / 1e6), 1)
    from pg_inherits where inhparent = 'llm_call'::regclass;
  select 'rollups size', pg_size_pretty(pg_total_relation_size('llm_usage_hourly') + pg_total_relation_size('llm_usage_daily'));"

DAY_END=$(date -u +%Y-%m-%dT00:00:00Z)
DAY_START=$(date -u -d "$DAY_END - 30 days" +%Y-%m-%dT00:00:00Z)
WF=$($PSQL -d $DB -At -c "select md5('wf' || ($ROWS / 80))::uuid")
declare -A QUERIES=(
  [usage-by-model-30d-rollup]="/api/v1/usage?groupBy=model&from=$DAY_START&to=$DAY_END&percentiles=false"
  [usage-by-model-30d-percentiles]="/api/v1/usage?groupBy=model&from=$DAY_START&to=$DAY_END"
  [usage-by-model-30d-exact-percentiles]="/api/v1/usage?groupBy=model&from=$DAY_START&to=$DAY_END&percentiles=exact"
  [usage-by-day-30d-team-rollup]="/api/v1/usage?groupBy=day&team=team-3&from=$DAY_START&to=$DAY_END&percentiles=false"
  [one-workflow-usage]="/api/v1/workflows/$WF/usage"
  [calls-first-page-agent-filter]="/api/v1/llm-calls?agent=architect&limit=50"
  [calls-first-page-model-range]="/api/v1/llm-calls?model=claude-haiku&from=$DAY_START&to=$DAY_END&limit=50"
)

time_query() { # name path -> "curl median ms of $RUNS, server-side median ms"
  local path=$2 ts=()
  curl -sf -o /dev/null "$BASE$path"
  for _ in $(seq 1 "$RUNS"); do
    ts+=("$(curl -sf -o /dev/null -w '%{time_total}' "$BASE$path")")
  done
  printf '%s\n' "${ts[@]}" | sort -n | awk -v n="$RUNS" '{a[NR]=$1} END {printf "%.1f", a[int((n+1)/2)]*1000}'
  # The access log's last $RUNS lines are these runs (requests are sequential); %D is whole ms.
  sleep 0.2
  grep ' ACCESS ' /tmp/ledger-bench-service.log | tail -n "$RUNS" | awk '{print $(NF-1)}' | sort -n \
    | awk -v n="$RUNS" '{a[NR]=$1} END {printf " ms (server side %d ms)", a[int((n+1)/2)]}'
}

echo "== queries (median of $RUNS, ms, idle)"
for q in "${!QUERIES[@]}"; do
  echo "$q: $(time_query "$q" "${QUERIES[$q]}")   GET ${QUERIES[$q]}"
done

echo "== disk per million rows, by relation kind"
$PSQL -d $DB -At -F ' ' -c "
  select 'heap bytes/row', round(sum(pg_relation_size(inhrelid)) / $ROWS.0, 1),
         'indexes bytes/row', round(sum(pg_indexes_size(inhrelid)) / $ROWS.0, 1)
  from pg_inherits where inhparent = 'llm_call'::regclass;"

echo "== ingest: $INGEST pre-queued records drained while the queries run (ingest-bench.sh)"
kill $SVC; wait $SVC 2>/dev/null || true
trap - EXIT
BENCH_APP=$APP BENCH_DB=$DB KEEP_DB=1 QUERIES=1 BENCH_PORT=$PORT BENCH_VHOST=$VHOST "$HERE/ingest-bench.sh" "$INGEST"
