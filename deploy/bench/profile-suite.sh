#!/usr/bin/env bash
# CPU profile of the running e2e suite (ports 17080-17084) with async-profiler, without restarting anything:
#
#   deploy/bench/profile-suite.sh [DELAY_S] [SECONDS] [OUT_DIR]
#
# Waits DELAY_S (default 0), then samples every service's CPU time (itimer, every 5 ms) for SECONDS (default 60),
# and writes OUT_DIR/<port>.collapsed (collapsed stacks, for flame graphs) and OUT_DIR/summary.txt: each
# service's CPU by the innermost library on the stack (JIT and GC threads counted apart).
# Typical use, 290 s into a throughput phase, i.e. past the e2e warm-up:
#   deploy/bench/e2e.sh --phases zero --runs 2 &  deploy/bench/profile-suite.sh 290 60 /tmp/profile
# async-profiler comes from Maven Central (tools.profiler:async-profiler) into ~/.cache/async-profiler. Profiling
# costs little (itimer at 5 ms), but do not quote throughput measured while it runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DELAY=${1:-0}; SECONDS_P=${2:-60}; OUT=${3:-/tmp/atelier-profile}
VERSION=4.2
LIB="$HOME/.cache/async-profiler/$VERSION/linux-x64/libasyncProfiler.so"
if [ ! -f "$LIB" ]; then
  mkdir -p "$HOME/.cache/async-profiler/$VERSION"
  curl -fsS -o "$HOME/.cache/async-profiler/$VERSION.jar" \
    "https://repo.maven.apache.org/maven2/tools/profiler/async-profiler/$VERSION/async-profiler-$VERSION-linux-x64.jar"
  (cd "$HOME/.cache/async-profiler/$VERSION" && unzip -oq "../$VERSION.jar" 'linux-x64/*')
fi
mkdir -p "$OUT"
sleep "$DELAY"
declare -A PIDS
for port in 17080 17081 17082 17083 17084; do
  pid=$(ss -ltnp "sport = :$port" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2 || true)
  [ -n "$pid" ] || { echo "nothing listens on $port: is the e2e suite running?" >&2; exit 1; }
  PIDS[$port]=$pid
done
# jcmd splits an unquoted argument at '=', so the agent's options go inside an extra pair of quotes.
for port in "${!PIDS[@]}"; do
  jcmd "${PIDS[$port]}" JVMTI.agent_load "$LIB" "\"start,event=itimer,interval=5ms\"" >/dev/null
done
echo "profiling for ${SECONDS_P}s"
sleep "$SECONDS_P"
for port in "${!PIDS[@]}"; do
  jcmd "${PIDS[$port]}" JVMTI.agent_load "$LIB" "\"stop,file=$OUT/$port.collapsed,collapsed\"" >/dev/null
done
python3 "$ROOT/deploy/bench/profile-summary.py" "$OUT"/1708?.collapsed | tee "$OUT/summary.txt"
