#!/usr/bin/env python3
"""What tracing, the JIT and the garbage collector cost in a profile of the suite (profile-suite.sh's output).

  profile-tracing.py DIR [DIR...]

For each DIR of <port>.collapsed files (async-profiler, itimer at 5 ms) prints per service the samples in all, in
the JIT compiler's threads, in the collector's, and "tracing": samples whose innermost tracing frame (OpenTelemetry,
Quarkus's OpenTelemetry runtime, Atelier's TraceContexts/MessagingSpans/AgentSpans/GenAiTelemetry/Attribution) is
not merely a wrapper around the traced work (a @WithSpan interceptor, the Vert.x HTTP tracer's delegate, context
propagation around a handler). Profile a tracing-on (zero) and a tracing-off (notrace) phase at the same point and
compare; with the SDK disabled the API's no-op calls still show up a little.
"""
import glob
import os
import re
import sys

TRACING = re.compile(r"opentelemetry|TraceContexts|MessagingSpans|AgentSpans|GenAiTelemetry|Attribution")
WRAPPER = re.compile(r"WithSpanInterceptor\.(span|intercept)|VertxDelegator|OpenTelemetryMpContextPropagationProvider"
                     r"|ContextPropagation|QuarkusContextStorage\$|ContextStorage\$1\.run")
SERVICES = {"17080": "orchestrator", "17081": "agent-worker", "17082": "gateway", "17083": "context",
            "17084": "tracking"}


def classify(path):
    total = tracing = jit = gc = 0
    with open(path) as f:
        for line in f:
            stack, n = line.rsplit(" ", 1)
            n = int(n)
            total += n
            frames = stack.split(";")
            if any("CompileBroker" in x or "C2Compiler" in x or "Compilation::" in x for x in frames):
                jit += n
            elif any(x.startswith(("GCTaskThread", "VMThread", "SerialHeap", "DefNew", "GenCollectedHeap",
                                   "TenuredGeneration")) or "VM_GenCollect" in x for x in frames):
                gc += n
            else:
                inner = [x for x in frames if TRACING.search(x)]
                if inner and not WRAPPER.search(inner[-1]):
                    tracing += n
    return total, tracing, jit, gc


def main(dirs):
    for d in dirs:
        rows = {}
        for path in sorted(glob.glob(os.path.join(d, "*.collapsed"))):
            port = os.path.basename(path).split(".")[0]
            rows[SERVICES.get(port, port)] = classify(path)
        print(f"{d}: samples (5 ms each): all / tracing / JIT / GC")
        for name, (total, tracing, jit, gc) in rows.items():
            print(f"  {name:13} {total:6} {tracing:6} {jit:6} {gc:6}")
        sums = [sum(r[i] for r in rows.values()) for i in range(4)]
        print(f"  {'all':13} {sums[0]:6} {sums[1]:6} {sums[2]:6} {sums[3]:6}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
