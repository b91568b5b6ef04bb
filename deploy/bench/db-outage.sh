#!/usr/bin/env bash
# What a PostgreSQL outage does to work in flight: starts the suite as deploy/local/run.sh does (in a fresh
# RabbitMQ virtual host, the simulated LLM at 300 ms), submits N workflows, stops this machine's PostgreSQL for
# DOWN seconds a few seconds later, starts it again, waits for the workflows to end, then prints how they ended,
# the LLM calls in the orchestrator's totals against the rows in the ledger, and every dead-letter queue's depth.
# Nothing should be dead-lettered and the two counts should be equal.
#
# Usage: deploy/bench/db-outage.sh            (N=30 DOWN=60 by default; stops the services it started)
# Needs root (pg_ctlcluster). PostgreSQL is started again on exit, also when interrupted.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
N=${N:-30}
DOWN=${DOWN:-60}
CLUSTER="$(ls /etc/postgresql) main"
VHOST=atelier-outage-$(date +%s)

pg_start() { pg_ctlcluster --skip-systemctl-redirect $CLUSTER start >/dev/null 2>&1 || true; }
trap 'pg_start; deploy/local/stop.sh >/dev/null 2>&1' EXIT

rabbitmqctl add_vhost "$VHOST" >/dev/null
rabbitmqctl set_permissions -p "$VHOST" guest '.*' '.*' '.*' >/dev/null
export RABBITMQ_VIRTUAL_HOST=$VHOST GATEWAY_SIMULATED_LATENCY=fixed GATEWAY_SIMULATED_LATENCY_FIXED=300ms
deploy/local/stop.sh >/dev/null 2>&1 || true
if ! deploy/local/run.sh --no-submit > /tmp/atelier-db-outage-start.log 2>&1; then
  echo "the suite did not start; see /tmp/atelier-db-outage-start.log" >&2
  exit 1
fi

ids=()
for i in $(seq 1 "$N"); do
  id=$(curl -s -D - -o /dev/null -X POST localhost:8080/api/v1/workflows -H 'Content-Type: application/json' \
    -d "{\"requirement\":\"Outage check $i: a shop that sells books online\"}" \
    | awk -F/ 'tolower($0) ~ /^location:/ {print $NF}' | tr -d '\r')
  [ -n "$id" ] && ids+=("$id")
done
echo "submitted ${#ids[@]} workflows"
sleep 4
echo "$(date -u +%T) stopping PostgreSQL for ${DOWN} s"
pg_ctlcluster --skip-systemctl-redirect $CLUSTER stop -m fast
sleep "$DOWN"
pg_start
echo "$(date -u +%T) PostgreSQL started"

status() { curl -s "localhost:8080/api/v1/workflows/$1"; }
for _ in $(seq 1 150); do
  ended=0
  for id in "${ids[@]}"; do
    case "$(status "$id" | python3 -c 'import sys,json; print(json.load(sys.stdin).get("status",""))' 2>/dev/null)" in
      completed|failed|cancelled|budget_exceeded) ended=$((ended + 1)) ;;
    esac
  done
  [ "$ended" -eq "${#ids[@]}" ] && break
  sleep 2
done
echo "$(date -u +%T) ended: $ended of ${#ids[@]}"
for id in "${ids[@]}"; do status "$id"; echo; done | python3 -c '
import sys, json, collections
rows = [json.loads(l) for l in sys.stdin if l.strip()]
print("statuses:", dict(collections.Counter(r.get("status") for r in rows)))
print("LLM calls in the orchestrator'"'"'s totals:", sum((r.get("usage") or {}).get("calls", 0) for r in rows))'
sleep 3  # the ledger ingests in batches
published=$(curl -s localhost:8082/q/metrics | awk '/^atelier_llm_records_published_total/ {s += $NF} END {print s + 0}')
echo "LLM-call records the gateway published (this suite's only calls): $published"
list=$(printf "'%s'," "${ids[@]}"); list=${list%,}
echo "rows in the ledger: $(psql -h 127.0.0.1 -U postgres -d atelier_tracking -Atc \
  "select count(*) from llm_call where workflow_id in ($list)")"
echo "dead letters:"
rabbitmqctl list_queues -p "$VHOST" name messages 2>/dev/null | awk '$1 ~ /\.dead$/ {print "  " $1, $2}'
