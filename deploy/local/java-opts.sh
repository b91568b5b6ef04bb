# Sourced by deploy/local/run.sh and the benchmarks: the JVM flags of a service started as a process on this
# machine. JAVA_OPTS_<SERVICE> (e.g. JAVA_OPTS_LLM_GATEWAY_SERVICE) replaces them for one service, JAVA_OPTS for
# all. The defaults keep each process near or under 250 MB RSS: serial GC (2 cores), small thread stacks, a
# bounded code cache, metaspace and direct memory, and two Netty arenas instead of one per event loop. The
# orchestrator, which answers the public workflow API, gets a fixed 16 MB young generation with 2.7 MB survivor
# spaces (-Xmn16m -XX:SurvivorRatio=4, -Xms48m), so that a burst of submissions does not promote its requests'
# objects into the old generation and then stop every request for a full collection (docs/benchmarks/end-to-end.md,
# "Garbage collection and the tail", also for G1, which was measured and is not used: its RSS). Containers
# size the heap from their memory limit instead (Dockerfile.jvm). The JIT stays tiered: C1 alone
# (-XX:TieredStopAtLevel=1) ran the suite faster for its first two minutes and with 40 MB less RSS per process,
# but 30 % slower from then on (docs/benchmarks/end-to-end.md, "C1 or C2"). Every 5 s the JVM hands the native
# memory it has freed (the JIT's arenas, direct buffers) back to the OS (-XX:TrimNativeHeapInterval=5000, in
# JDK 17.0.9, 21.0.1 and later; left out on a JVM without it): 10-26 MB less peak RSS per process for about
# 1-2 % more CPU per step (docs/benchmarks/end-to-end.md, "Giving freed native memory back").

# atelier_override PREFIX MODULE: prints PREFIX_<MODULE> (e.g. JAVA_OPTS_LLM_GATEWAY_SERVICE) if set, else PREFIX if
# set, and fails when neither is: a setting for one service wins over the one for all.
atelier_override() {
  local one
  one="$1_$(echo "$2" | tr 'a-z-' 'A-Z_')"
  if [ -n "${!one:-}" ]; then echo "${!one}"; return; fi
  if [ -n "${!1:-}" ]; then echo "${!1}"; return; fi
  return 1
}

# Whether this machine's java knows -XX:TrimNativeHeapInterval, asked once (one JVM start) and exported, so that
# the scripts' subshells that source this file again do not ask again. ATELIER_JVM_TRIM_FLAG set beforehand is used
# as it is: empty turns the trim off (e2e.sh --paired zero,zero:deploy/bench/env/no-native-trim.env), or
# -XX:TrimNativeHeapInterval=<ms> sets another interval; anything else stops the sourcing script here.
if [ -n "${ATELIER_JVM_TRIM_FLAG:-}" ] && ! [[ "$ATELIER_JVM_TRIM_FLAG" =~ ^-XX:TrimNativeHeapInterval=[0-9]+$ ]]; then
  echo "ATELIER_JVM_TRIM_FLAG=$ATELIER_JVM_TRIM_FLAG: empty (no trim) or -XX:TrimNativeHeapInterval=<milliseconds>" >&2
  return 2
fi
if [ -z "${ATELIER_JVM_TRIM_FLAG+x}" ]; then
  ATELIER_JVM_TRIM_FLAG=""
  if java -XX:TrimNativeHeapInterval=5000 -version >/dev/null 2>&1; then
    ATELIER_JVM_TRIM_FLAG="-XX:TrimNativeHeapInterval=5000"
  fi
  export ATELIER_JVM_TRIM_FLAG
fi

atelier_java_opts() {
  local module=$1
  atelier_override JAVA_OPTS "$module" && return
  local common="-XX:+UseSerialGC -Xss512k -XX:ReservedCodeCacheSize=48m -XX:MaxMetaspaceSize=128m"
  common="$common -XX:MaxDirectMemorySize=32m -Dio.netty.allocator.numDirectArenas=2 -Dio.netty.allocator.numHeapArenas=2"
  common="$common${ATELIER_JVM_TRIM_FLAG:+ $ATELIER_JVM_TRIM_FLAG}"
  case "$module" in
    llm-gateway-service) echo "-Xms32m -Xmx128m $common" ;;
    orchestrator-service) echo "-Xms48m -Xmx160m -Xmn16m -XX:SurvivorRatio=4 $common" ;;
    *) echo "-Xms32m -Xmx160m $common" ;;
  esac
}
export MALLOC_ARENA_MAX=${MALLOC_ARENA_MAX:-2}

# atelier_nice MODULE: the CPU priority (nice value) a service is started with on this machine. The public
# workflow API (the orchestrator) keeps the default priority; the services that carry the steps (worker,
# context-service, gateway) and the ledger run at nice 10, so that when steps saturate the CPU a submission still
# gets it: on two cores at 100 submissions/s this took the whole suite's submit p50 from 448 to 27 ms and its p99
# from 1.8 s to 0.43 s (medians of 5 runs each), at the price of fewer steps run during the burst
# (docs/benchmarks/end-to-end.md, "CPU priority"). It only matters when the CPU is saturated: an idle core is used
# whatever the nice value. ATELIER_NICE_<SERVICE> (e.g. ATELIER_NICE_LLM_GATEWAY_SERVICE=0,
# when other clients call the gateway directly) sets one service's, ATELIER_NICE all of them.
atelier_nice() {
  atelier_override ATELIER_NICE "$1" && return
  case "$1" in
    orchestrator-service) echo 0 ;;
    *) echo 10 ;;
  esac
}

# A nice value that is not a whole number from -20 to 19 stops the sourcing script here, before any service starts
# (nice would otherwise refuse it and every service would exit with the same message in its own log).
for _atelier_v in ATELIER_NICE $(compgen -v ATELIER_NICE_); do
  if [ -n "${!_atelier_v:-}" ] && ! [[ "${!_atelier_v}" =~ ^-?[0-9]+$ && "${!_atelier_v}" -ge -20 && "${!_atelier_v}" -le 19 ]]; then
    echo "$_atelier_v=${!_atelier_v}: a nice value is a whole number from -20 (first) to 19 (last)" >&2
    return 2
  fi
done
unset _atelier_v
