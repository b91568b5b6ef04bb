"""Each service's CPU by the innermost library on its stacks, from async-profiler's collapsed output.

Usage: profile-summary.py PORT.collapsed...  (17080 orchestrator, 17081 worker, 17082 gateway, 17083 context,
17084 tracking, as deploy/bench/e2e.sh starts them). Samples of the JIT compiler and GC threads are counted apart;
a sample in JDK code is counted for the innermost library that called it.

A second line per service counts tracing's own code: samples whose innermost tracing frame (OpenTelemetry, Quarkus's
OpenTelemetry runtime, Atelier's TraceContexts/MessagingSpans/AgentSpans/GenAiTelemetry/Attribution) is not merely a
wrapper around the traced work (a @WithSpan interceptor, the Vert.x HTTP tracer's delegate, context propagation
around a handler). Compare a tracing-on (zero) and a tracing-off (notrace) phase profiled at the same point; with the
SDK disabled the API's no-op calls still show up a little.
"""
import collections
import os
import re
import sys

SERVICES = {"17080": "orchestrator", "17081": "agent-worker", "17082": "gateway", "17083": "context",
            "17084": "tracking"}
LIBRARIES = [
    ("JDBC driver and pool", ("org/postgresql", "io/agroal")),
    ("RabbitMQ client", ("com/rabbitmq",)),
    ("logging", ("org/jboss/logmanager", "org/jboss/logging")),
    ("JSON (Jackson)", ("com/fasterxml/jackson",)),
    ("tracing", ("io/opentelemetry",)),
    ("metrics", ("io/micrometer",)),
    ("HTTP (Vert.x, Netty, RESTEasy)",
     ("io/netty", "io/vertx", "org/jboss/resteasy", "io/quarkus/resteasy", "io/quarkus/rest", "io/quarkus/vertx")),
    ("langchain4j", ("dev/langchain4j", "io/quarkiverse/langchain4j")),
    ("transactions, CDI, fault tolerance",
     ("com/arjuna", "io/quarkus/narayana", "io/quarkus/arc", "io/smallrye/faulttolerance", "io/smallrye/context",
      "io/smallrye/mutiny")),
    ("Atelier code", ("dev/atelier",)),
]


TRACING = re.compile(r"opentelemetry|TraceContexts|MessagingSpans|AgentSpans|GenAiTelemetry|Attribution")
WRAPPER = re.compile(r"WithSpanInterceptor\.(span|intercept)|VertxDelegator|OpenTelemetryMpContextPropagationProvider"
                     r"|ContextPropagation|QuarkusContextStorage\$|ContextStorage\$1\.run")


def tracing_own(frames):
    inner = [f for f in frames if TRACING.search(f)]
    return bool(inner) and not WRAPPER.search(inner[-1])


def category(frames):
    joined = ";".join(frames)
    if "CompileBroker" in joined:
        return "JIT compiler"
    if "VMThread" in joined or "GCTaskThread" in joined or "ConcurrentGCThread" in joined:
        return "GC, safepoints"
    for frame in reversed(frames):
        for name, prefixes in LIBRARIES:
            if any(p in frame for p in prefixes):
                return name
    return "JDK, kernel (sockets, threads)"


all_counts, all_tracing = collections.Counter(), 0
for path in sys.argv[1:]:
    counts, total, tracing = collections.Counter(), 0, 0
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            frames = stack.split(";")
            kind = category(frames)
            counts[kind] += int(n)
            total += int(n)
            if kind not in ("JIT compiler", "GC, safepoints") and tracing_own(frames):
                tracing += int(n)
    port = os.path.basename(path).split(".")[0]
    shares = " | ".join(f"{k} {v * 100 / total:.0f}%" for k, v in counts.most_common())
    print(f"{SERVICES.get(port, port)} ({total} samples): {shares}")
    print(f"  tracing's own code {tracing}, JIT compiler {counts['JIT compiler']}, GC {counts['GC, safepoints']}"
          " samples")
    all_counts.update(counts)
    all_tracing += tracing
print(f"all ({sum(all_counts.values())} samples): tracing's own code {all_tracing}, "
      f"JIT compiler {all_counts['JIT compiler']}, GC {all_counts['GC, safepoints']} samples")
