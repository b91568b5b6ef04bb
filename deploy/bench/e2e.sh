#!/usr/bin/env bash
# End-to-end benchmark: the whole suite on this machine, driven with the built-in software-delivery workflow.
#
#   deploy/bench/e2e.sh [--quick] [--runs N] [--phases LIST] [--profile]
#   deploy/bench/e2e.sh [--quick] [--runs N] --paired A,B
#
# Phases (default all, in this order, in one run so the figures compare):
#   zero      throughput, simulated LLM at zero latency, tracing on (spans exported to a local OTLP sink)
#   notrace   the same with the OpenTelemetry SDK disabled in every service: tracing cost = 1 - zero/notrace
#   latency   100 submissions/s for 60 s (15 s with --quick) while the workflows run; p50/p95/p99 of the POST,
#             timed from each submission's scheduled send time; simulated LLM at zero latency, so the suite is
#             saturated (100 submissions/s ask for ~600 steps/s)
#   latency-llm  the same with the simulated LLM like a real one (log-normal, median 800 ms): the workers wait on
#             the LLM, as in production, and the machine is not saturated
#   llm       throughput with a simulated LLM like a real one (log-normal latency, median 800 ms)
#   perftest  RabbitMQ PerfTest, persistent + confirms, quorum queue: the broker's ceiling on this machine; then
#             paced like the services (300 msg/s, one confirm at a time): the broker's CPU per message
#   soak      (not in the default list) zero for 10 minutes (SOAK_SECONDS) after a 20 s warm-up, one window:
#             steps/s and the RSS of every process minute by minute (leaks)
# Each throughput phase starts the suite once, warms it up (240 s; 10 s with --quick) and measures --runs windows
# of 60 s one after the other (default 3; 1 window of 20 s with --quick); it reports their medians. The latency
# phases first warm their suite with 120 s of throughput load. A full run takes about 35 minutes.
# BENCH_WARMUP and BENCH_SECONDS override the warm-up and the window, BENCH_INFLIGHT the workflows kept in
# flight (default 40, at most 100).
# --paired A,B compares two throughput phases (zero, notrace, llm) a minute apart instead of one after the other:
# two suites stay resident at once (A on ports 17080-17084, B on 17180-17184, each with its own databases and
# vhost), each is warmed up in turn, then --runs rounds (default 8; 2 with --quick) drive them alternately, one
# window each (A then B in odd rounds, B then A in even ones), after a 20 s ramp (BENCH_RAMP). The machine's own
# drift (one phase has run 89-125 steps/s within 25 minutes here) then falls out of each round's ratio; the summary
# gives the median of the rounds' ratios. Either side may be NAME:FILE, FILE holding KEY=VALUE lines added to that
# suite's environment (e.g. JAVA_OPTS_AGENT_WORKER_SERVICE=-Xmn24m ...), labelled NAME:<FILE's base name>; the line
# ATELIER_BUILD=DIR runs that suite from another checkout's build (DIR/<service>/target/quarkus-app), so two
# commits compare side by side (git worktree add DIR COMMIT; ./mvnw -q package -DskipTests -pl '!system-tests' in
# DIR). About 30 minutes with the defaults.
# --profile records a JFR profile of every service (logs/<phase>-<service>.jfr) and prints the hottest
# methods per service (deploy/bench/jfr-top.sh); profiled runs are slower, so do not quote their figures.
#
# The suite runs on private ports 17080-17084 with its own databases (atelier_<service>_e2e) and vhost
# (atelier-bench), both recreated empty for every phase, so it does not disturb a suite started by
# deploy/local/run.sh. JVM flags and CPU priority (nice) per service as run.sh starts them (deploy/local/java-opts.sh;
# JAVA_OPTS_<SERVICE> or JAVA_OPTS, ATELIER_NICE_<SERVICE> or ATELIER_NICE override them, and are recorded with the
# command in the results).
# Results: deploy/bench/results/<UTC time>/results.json and a summary appended to docs/benchmarks/end-to-end.md,
# with the machine and PostgreSQL's settings; each throughput window also gives the WAL kB and commits per step,
# and the tables read whole (sequential scans per step and the table's size).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
# The command as given, with the settings that change what is measured, for the results file.
COMMAND="deploy/bench/e2e.sh${*:+ $*}"
for v in BENCH_WARMUP BENCH_SECONDS BENCH_INFLIGHT BENCH_RAMP SOAK_SECONDS; do
  [ -z "${!v:-}" ] || COMMAND="$v=${!v} $COMMAND"
done
# JVM flags and CPU priorities set for all services or one replace java-opts.sh's: record them too.
for v in JAVA_OPTS $(compgen -v JAVA_OPTS_) ATELIER_NICE $(compgen -v ATELIER_NICE_); do
  [ -z "${!v:-}" ] || COMMAND="$v='${!v}' $COMMAND"
done
cd "$ROOT"
# Debian's rabbitmqctl refuses every user but root and rabbitmq: through sudo for anyone else (as deploy/local/infra.sh).
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
rabbitmqctl() { $SUDO "$(type -P rabbitmqctl || echo /usr/sbin/rabbitmqctl)" "$@"; }
QUICK=0; RUNS=""; PHASES="zero,notrace,latency,latency-llm,llm,perftest"; PROFILE=0; PAIRED=""; PAIRED_LABELS=""
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --runs) RUNS=$2; shift ;;
    --phases) PHASES=$2; shift ;;
    --profile) PROFILE=1 ;;
    --paired) PAIRED=$2; shift ;;
    -h|--help) sed -n '2,45p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
if [ -n "$PAIRED" ]; then
  [ "$PROFILE" = 0 ] || { echo "--profile does not combine with --paired" >&2; exit 2; }
  if [ "$QUICK" = 1 ]; then RUNS=${RUNS:-2}; else RUNS=${RUNS:-8}; fi
fi
if [ "$QUICK" = 1 ]; then RUNS=${RUNS:-1}; SECONDS_T=20; WARMUP=10; LAT_SECONDS=15; LAT_WARMUP=10; RAMP=5
else RUNS=${RUNS:-3}; SECONDS_T=60; WARMUP=240; LAT_SECONDS=60; LAT_WARMUP=120; RAMP=20; fi
SECONDS_T=${BENCH_SECONDS:-$SECONDS_T}; WARMUP=${BENCH_WARMUP:-$WARMUP}; RAMP=${BENCH_RAMP:-$RAMP}
INFLIGHT=${BENCH_INFLIGHT:-40}
# shellcheck source=deploy/local/java-opts.sh
. "$ROOT/deploy/local/java-opts.sh"

STAMP=$(date -u +%Y-%m-%dT%H-%M-%SZ)
OUT="$ROOT/deploy/bench/results/$STAMP"
LOGS="$OUT/logs"
mkdir -p "$LOGS"
say() { printf '[e2e %s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

SERVICES="context-service:17083 llm-gateway-service:17082 tracking-service:17084 orchestrator-service:17080 agent-worker-service:17081"
declare -A PIDS

"$ROOT/deploy/local/infra.sh" >/dev/null
for m in $SERVICES; do
  jar="$ROOT/${m%%:*}/target/quarkus-app/quarkus-run.jar"
  [ -f "$jar" ] || { say "building the services"; ./mvnw -B -q -DskipTests -DskipITs package -pl '!system-tests'; break; }
done
# The databases are named *_e2e, not *_bench: tracking-service/bench/ledger-bench.sh keeps its 10M-row
# atelier_tracking_bench between runs, and this script used to drop it.
# reset_state: empty databases and vhost. Every phase starts on them: a suite started on the previous phase's
# state resumes that phase's unfinished workflows (thousands after the latency phase), and the driver's own
# workflows then queue behind them.
# SUITE (0, or 1 for --paired's second suite) picks the ports (+100 each), the vhost and the databases.
SUITE=0
vhost() { if [ "$SUITE" = 0 ]; then echo atelier-bench; else echo "atelier-bench-$SUITE"; fi; }
db_suffix() { if [ "$SUITE" = 0 ]; then echo e2e; else echo "e2e$SUITE"; fi; }
port() { echo $(($1 + 100 * SUITE)); }
reset_state() {
  local vh; vh=$(vhost)
  rabbitmqctl -q delete_vhost "$vh" >/dev/null 2>&1 || true
  rabbitmqctl -q add_vhost "$vh" >/dev/null
  rabbitmqctl -q set_permissions -p "$vh" guest '.*' '.*' '.*' >/dev/null
  local db
  for db in orchestrator gateway context tracking; do
    psql -h 127.0.0.1 -U postgres -d postgres -qc "drop database if exists atelier_${db}_$(db_suffix) with (force)" \
      >/dev/null 2>&1
  done
}

# A minimal OTLP/HTTP sink, so "tracing on" means spans are built, batched and exported for real; it counts
# the spans per service and name into logs/otlp-spans.json, over all traced phases of the run (run one phase,
# e.g. --phases zero, to see which spans a step makes), and times the orchestrator's submit spans into
# logs/otlp-submits.txt, from which the latency phases also report the submissions' server-side percentiles.
python3 "$ROOT/deploy/bench/otlp-sink.py" 17318 "$LOGS/otlp-spans.json" "$LOGS/otlp-submits.txt" >"$LOGS/otlp-sink.log" 2>&1 &
SINK_PID=$!

# The worker first: on SIGTERM it finishes its running steps (up to 30 s), which needs the gateway and
# context-service it calls; stopped together, its steps failed and retried until the 20 s here ran out and every
# phase ended with a kill -9.
# PIDS holds every resident suite's processes as NAME#SUITE.
stop_suite() {
  local n workers=()
  for n in "${!PIDS[@]}"; do [[ $n == agent-worker#* ]] && workers+=("$n"); done
  if [ ${#workers[@]} -gt 0 ]; then
    stop_services "${workers[@]}"
    for n in "${workers[@]}"; do unset "PIDS[$n]"; done
  fi
  stop_services "${!PIDS[@]}"
  PIDS=()
}
# stop_services NAME...: SIGTERM, up to 40 s to exit (the worker's drain is 30 s), then SIGKILL.
stop_services() {
  local n
  for n in "$@"; do kill "${PIDS[$n]}" 2>/dev/null || true; done
  for n in "$@"; do
    for _ in $(seq 1 80); do kill -0 "${PIDS[$n]}" 2>/dev/null || break; sleep 0.5; done
    kill -9 "${PIDS[$n]}" 2>/dev/null || true
  done
}
trap 'stop_suite; kill $SINK_PID 2>/dev/null || true' EXIT

# start_suite LABEL ENV...: starts suite SUITE's five services with extra environment (JVM flags and nice values
# too: JAVA_OPTS_<SERVICE> or ATELIER_NICE_<SERVICE> among ENV apply to this suite), waits until all are ready.
start_suite() {
  local label=$1; shift
  local build=$ROOT kv
  for kv in "$@"; do case "$kv" in ATELIER_BUILD=*) build=${kv#ATELIER_BUILD=} ;; esac; done
  for entry in $SERVICES; do
    [ -f "$build/${entry%%:*}/target/quarkus-app/quarkus-run.jar" ] \
      || { say "no build of ${entry%%:*} in $build"; exit 2; }
  done
  [ "$build" = "$ROOT" ] || say "$label runs the build in $build ($(git -C "$build" log -1 --format='%h %s' | cut -c1-72))"
  reset_state
  for entry in $SERVICES; do
    local module=${entry%%:*} port; port=$(port "${entry##*:}")
    local opts nice_value
    opts=$(env "$@" bash -c '. "$1/deploy/local/java-opts.sh" && atelier_java_opts "$2"' _ "$ROOT" "$module")
    nice_value=$(env "$@" bash -c '. "$1/deploy/local/java-opts.sh" && atelier_nice "$2"' _ "$ROOT" "$module")
    local short=${module%-service}; short=${short#llm-}
    env HTTP_PORT="$port" DB_URL="jdbc:postgresql://127.0.0.1:5432/atelier_${short}_$(db_suffix)" \
      RABBITMQ_VIRTUAL_HOST="$(vhost)" CONTEXT_URL="http://127.0.0.1:$(port 17083)" \
      GATEWAY_URL="http://127.0.0.1:$(port 17082)" \
      OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:17318 OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
      "$@" nice -n "$nice_value" java $opts -jar "$build/$module/target/quarkus-app/quarkus-run.jar" >"$LOGS/$label-$module.log" 2>&1 &
    PIDS[$short#$SUITE]=$!
  done
  for entry in $SERVICES; do
    local port; port=$(port "${entry##*:}")
    for i in $(seq 1 180); do
      curl -fs -o /dev/null --max-time 2 "http://127.0.0.1:$port/q/health/ready" && break
      [ "$i" = 180 ] && { say "port $port not ready; see $LOGS"; exit 1; }
      sleep 1
    done
  done
}

# pids_arg [SUITE]: name=pid,... of one suite's processes (default: SUITE's).
pids_arg() {
  local s="" n want=${1:-$SUITE}
  for n in "${!PIDS[@]}"; do [[ $n == *"#$want" ]] && s="$s${s:+,}${n%#*}=${PIDS[$n]}"; done
  echo "$s"
}

# drive ARGS...: e2e.py against suite SUITE.
drive() {
  ORCHESTRATOR_URL="http://127.0.0.1:$(port 17080)" WORKER_URL="http://127.0.0.1:$(port 17081)" \
    BENCH_DB_SUFFIX="$(db_suffix)" python3 "$ROOT/deploy/bench/e2e.py" "$@"
}
RESULTS="$OUT/results.jsonl"
# throughput_phase NAME ENV...: starts the suite once, warms it up (the JIT keeps compiling for minutes on two
# cores), then measures RUNS windows one after the other; the phase's figures are their medians.
throughput_phase() {
  local name=$1; shift
  say "$name: starting the suite"
  start_suite "$name" "$@"
  say "$name: ${INFLIGHT} workflows in flight, ${WARMUP}s warm-up, then $RUNS windows of ${SECONDS_T}s"
  # Profiles cover the load only, not the start-up.
  [ "$PROFILE" = 0 ] || for n in "${!PIDS[@]}"; do jcmd "${PIDS[$n]}" JFR.start name=bench settings=profile >/dev/null; done
  drive throughput --label "$name" --pids "$(pids_arg)" --seconds "$SECONDS_T" \
    --windows "$RUNS" --warmup "$WARMUP" --inflight "$INFLIGHT" | tee -a "$RESULTS"
  [ "$PROFILE" = 0 ] || for n in "${!PIDS[@]}"; do
    jcmd "${PIDS[$n]}" JFR.dump name=bench filename="$LOGS/$name-${n%#*}.jfr" >/dev/null
  done
  stop_suite
}

# latency_phase NAME ENV...: starts the suite, warms it (like the throughput phases, shorter, so the figures
# are not the JIT's), then submits 100 workflows/s for LAT_SECONDS.
latency_phase() {
  local name=$1; shift
  start_suite "$name" "$@"
  say "$name: ${LAT_WARMUP}s of throughput load to warm the suite, then 100 submissions/s for ${LAT_SECONDS}s"
  drive throughput --pids "$(pids_arg)" --windows 0 --warmup "$LAT_WARMUP" --inflight "$INFLIGHT"
  drive latency --label "$name" --pids "$(pids_arg)" --rate 100 \
    --seconds "$LAT_SECONDS" --server-spans "$LOGS/otlp-submits.txt" | tee -a "$RESULTS"
  stop_suite
}

# phase_env NAME: the environment that makes a throughput phase, one KEY=VALUE per line.
phase_env() {
  case "$1" in
    zero) echo GATEWAY_SIMULATED_LATENCY=none ;;
    notrace) printf '%s\n' GATEWAY_SIMULATED_LATENCY=none QUARKUS_OTEL_SDK_DISABLED=true ;;
    llm) printf '%s\n' GATEWAY_SIMULATED_LATENCY=lognormal GATEWAY_SIMULATED_LATENCY_MEDIAN=800ms ;;
    *) echo "--paired takes zero, notrace or llm, each optionally with :FILE, not $1" >&2; return 2 ;;
  esac
}

# paired_run A,B: see --paired above.
paired_run() {
  local specs labels=() envs=() s spec name file extra round order
  IFS=',' read -ra specs <<<"$1"
  [ ${#specs[@]} = 2 ] || { echo "--paired takes two phases, A,B" >&2; exit 2; }
  for s in 0 1; do
    spec=${specs[$s]}; name=${spec%%:*}; file=""
    [ "$name" = "$spec" ] || file=${spec#*:}
    envs[$s]=$(phase_env "$name") || exit 2
    if [ -n "$file" ]; then
      [ -r "$file" ] || { echo "--paired: cannot read $file" >&2; exit 2; }
      extra=$(grep -v '^[[:space:]]*\(#\|$\)' "$file" || true)
      [ -z "$extra" ] || envs[$s]+=$'\n'$extra
      name="$name:$(basename "$file")"
    fi
    labels[$s]=$name
  done
  [ "${labels[0]}" != "${labels[1]}" ] || { echo "--paired: the two sides need different labels" >&2; exit 2; }
  PAIRED_LABELS="${labels[0]},${labels[1]}"
  for s in 0 1; do
    SUITE=$s
    local env_lines; mapfile -t env_lines <<<"${envs[$s]}"
    say "${labels[$s]}: starting suite $s (ports $(port 17080)-$(port 17084))"
    start_suite "${labels[$s]}" "${env_lines[@]}"
  done
  for s in 0 1; do
    SUITE=$s
    say "${labels[$s]}: ${INFLIGHT} workflows in flight for ${WARMUP}s of warm-up"
    drive throughput --pids "$(pids_arg)" --windows 0 --warmup "$WARMUP" --inflight "$INFLIGHT"
  done
  for round in $(seq 1 "$RUNS"); do
    if [ $((round % 2)) = 1 ]; then order="0 1"; else order="1 0"; fi
    for s in $order; do
      SUITE=$s
      say "round $round/$RUNS: ${labels[$s]}, ${RAMP}s ramp then ${SECONDS_T}s"
      drive throughput --label "${labels[$s]}" --pids "$(pids_arg)" --idle-pids "$(pids_arg $((1 - s)))" \
        --seconds "$SECONDS_T" --windows 1 --first-run "$round" --warmup "$RAMP" --inflight "$INFLIGHT" \
        | tee -a "$RESULTS"
    done
  done
  SUITE=0
  stop_suite
}

IFS=',' read -ra PH <<<"$PHASES"
[ -z "$PAIRED" ] || PH=(paired)
for phase in "${PH[@]}"; do
  case "$phase" in
    paired) paired_run "$PAIRED" ;;
    zero|notrace|llm) mapfile -t E < <(phase_env "$phase"); throughput_phase "$phase" "${E[@]}" ;;
    soak) SAVED="$RUNS $SECONDS_T $WARMUP"; RUNS=1; SECONDS_T=${SOAK_SECONDS:-600}; WARMUP=20
      mapfile -t E < <(phase_env zero); throughput_phase soak "${E[@]}"
      read -r RUNS SECONDS_T WARMUP <<<"$SAVED" ;;
    latency) mapfile -t E < <(phase_env zero); latency_phase latency "${E[@]}" ;;
    latency-llm) mapfile -t E < <(phase_env llm); latency_phase latency-llm "${E[@]}" ;;
    perftest)
      say "perftest: RabbitMQ alone, persistent + confirms, quorum queue, 30 s"
      rabbitmqctl -q delete_vhost atelier-perftest >/dev/null 2>&1 || true
      rabbitmqctl -q add_vhost atelier-perftest >/dev/null
      rabbitmqctl -q set_permissions -p atelier-perftest guest '.*' '.*' '.*' >/dev/null
      rate=$("$ROOT/../shared/bench/rabbitmq-perftest.sh" -h amqp://guest:guest@127.0.0.1:5672/atelier-perftest \
        -x 1 -y 1 -z 30 -f persistent -c 100 -q 50 -s 2000 --quorum-queue --queue perftest-q 2>&1 \
        | tee "$LOGS/perftest.log" | sed -n 's/.*receiving rate avg: \([0-9]*\).*/\1/p' | tail -n 1)
      # The services' pattern instead: one publisher waiting for each confirm, one consumer acking each
      # message, a few hundred messages/s. What the broker spends per message then (no batching of the
      # quorum queue's log writes) is what a step's messages cost it.
      say "perftest: paced like the services, 300 msg/s, one confirm at a time, 30 s"
      beam=$(pgrep -x beam.smp | head -n 1)
      cpu0=$(awk '{print $14+$15}' "/proc/$beam/stat")
      paced=$("$ROOT/../shared/bench/rabbitmq-perftest.sh" -h amqp://guest:guest@127.0.0.1:5672/atelier-perftest \
        -x 1 -y 1 -z 30 -r 300 -f persistent -c 1 -q 1 -s 2000 --quorum-queue --queue perftest-paced 2>&1 \
        | tee "$LOGS/perftest-paced.log" | sed -n 's/.*receiving rate avg: \([0-9]*\).*/\1/p' | tail -n 1)
      cpu1=$(awk '{print $14+$15}' "/proc/$beam/stat")
      paced_ms=$(awk -v c="$((cpu1 - cpu0))" -v t="$(getconf CLK_TCK)" -v r="${paced:-0}" \
        'BEGIN { if (r > 0) printf "%.3f", c / t * 1000 / (r * 30); else print "null" }')
      echo "{\"phase\":\"perftest\",\"run\":1,\"load\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"r\":{\"msg_per_s\":${rate:-null},\"paced_msg_per_s\":${paced:-null},\"paced_broker_cpu_ms_per_msg\":${paced_ms}}}" >>"$RESULTS"
      tail -n 1 "$RESULTS"
      rabbitmqctl -q delete_vhost atelier-perftest >/dev/null 2>&1 || true ;;
    *) echo "unknown phase $phase" >&2; exit 2 ;;
  esac
done

if [ "$PROFILE" = 1 ]; then
  for f in "$LOGS"/*.jfr; do "$ROOT/deploy/bench/jfr-top.sh" "$f" 15 >"${f%.jfr}.top.txt" 2>&1 || true; done
  say "profiles: $LOGS/*.top.txt"
fi
python3 "$ROOT/deploy/bench/summarize.py" "$RESULTS" "$OUT/results.json" "$ROOT/docs/benchmarks/end-to-end.md" \
  "$STAMP" "$QUICK" "$RUNS" "$COMMAND" "$PAIRED_LABELS"
say "results: $OUT/results.json, summary appended to docs/benchmarks/end-to-end.md"
