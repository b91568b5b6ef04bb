#!/usr/bin/env bash
# Gateway overhead, side by side in one run: wrk straight to the upstream stub, through the Atelier
# gateway (ledger publication on: every call is metered, priced and published with a broker confirm)
# and through Portkey, in turn, RUNS times; prints each run and the medians.
# Needs: wrk, node, a built gateway (./mvnw -pl llm-gateway-service package), PostgreSQL, RabbitMQ.
# Usage: llm-gateway-service/bench/gateway-overhead.sh   (RUNS=3 DURATION=10s by default)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bench=${BENCH_DIR:-$here/../../../shared/bench}
runs=${RUNS:-3}
duration=${DURATION:-10s}
gw_port=${GATEWAY_BENCH_PORT:-18082}
vhost=${GATEWAY_BENCH_VHOST:-atelier-test-gateway}
export PEERS_DIR=${PEERS_DIR:-/tmp/atelier-gateway-bench}
mkdir -p "$PEERS_DIR"
gw_pid=""

cleanup() {
  [ -n "$gw_pid" ] && kill "$gw_pid" 2>/dev/null && wait "$gw_pid" 2>/dev/null || true
  "$bench/portkey.sh" stop >/dev/null || true
  # Nobody consumes the records in the bench vhost: drop them.
  for q in atelier.tracking.llm-calls atelier.orchestrator.llm-calls; do
    rabbitmqctl -q purge_queue -p "$vhost" "$q" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

# The JVM flags deploy/local/run.sh uses (atelier_java_opts).
# shellcheck source=../../deploy/local/java-opts.sh
. "$here/../../deploy/local/java-opts.sh"
"$bench/portkey.sh" start
# The wrk scripts send "Authorization: Bearer sk-dummy": make it a gateway key.
HTTP_PORT=$gw_port OPENAI_API_KEY=sk-stub OPENAI_BASE_URL=http://127.0.0.1:9100/v1 \
  GATEWAY_API_KEYS=sk-dummy=bench RABBITMQ_VIRTUAL_HOST=$vhost \
  DB_URL=jdbc:postgresql://127.0.0.1:5432/atelier_gateway_bench \
  java $(atelier_java_opts llm-gateway-service) -jar "$here/../target/quarkus-app/quarkus-run.jar" >"$PEERS_DIR/gateway.log" 2>&1 &
gw_pid=$!
for _ in $(seq 1 90); do
  curl -sf -o /dev/null "http://127.0.0.1:$gw_port/q/health/ready" && break
  sleep 1
done

direct=http://127.0.0.1:9100/v1/chat/completions
atelier=http://127.0.0.1:$gw_port/v1/chat/completions
portkey=http://127.0.0.1:8787/v1/chat/completions

# rps and p50 (ms) of one wrk run
measure() { # threads conns duration script url
  wrk -t"$1" -c"$2" -d"$3" --latency -s "$bench/$4" "$5" | awk '
    /Requests\/sec/ {rps=$2}
    $1=="50%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; p50=v}
    / Non-2xx/ {err=$NF}
    END {printf "%s %s %s\n", rps, p50, (err==""?0:err)}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

# warm-up (JIT, connection pools)
measure 2 32 15s wrk-chat.lua "$atelier" >/dev/null  # C2 needs a while on 2 cores
measure 2 32 3s wrk-chat.lua "$portkey" >/dev/null
rss_max=0
declare -A rps p50 err
for i in $(seq 1 "$runs"); do
  for t in direct atelier portkey; do
    read -r r p e < <(measure 2 32 "$duration" wrk-chat.lua "${!t}")
    rps[$t]+="$r "; p50[$t]+="$p "; err[$t]+="$e "
    rss=$(awk '/VmHWM/ {print $2}' "/proc/$gw_pid/status")
    [ "$rss" -gt "$rss_max" ] && rss_max=$rss
    echo "run $i $t: $r req/s, p50 $p ms, non-2xx $e"
  done
  for t in direct atelier; do
    read -r r p e < <(measure 1 1 5s wrk-chat.lua "${!t}")
    p50[c1_$t]+="$p "
    echo "run $i $t c1: p50 $p ms"
  done
  for t in direct atelier portkey; do
    read -r r p e < <(measure 1 1 5s wrk-chat-stream.lua "${!t}")
    p50[s1_$t]+="$p "
    echo "run $i $t stream c1: p50 $p ms"
  done
done
echo
echo "medians over $runs runs (wrk -t2 -c32 -d$duration; c1 = wrk -t1 -c1 -d5s):"
for t in direct atelier portkey; do
  echo "$t: $(tr ' ' '\n' <<<"${rps[$t]}" | grep . | median) req/s, p50 $(tr ' ' '\n' <<<"${p50[$t]}" | grep . | median) ms"
done
for t in direct atelier; do
  echo "$t c1: p50 $(tr ' ' '\n' <<<"${p50[c1_$t]}" | grep . | median) ms"
done
for t in direct atelier portkey; do
  echo "$t stream c1: p50 $(tr ' ' '\n' <<<"${p50[s1_$t]}" | grep . | median) ms"
done
echo "gateway peak RSS: $((rss_max / 1024)) MB"
