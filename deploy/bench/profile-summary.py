"""Each service's CPU by the innermost library on its stacks, from async-profiler's collapsed output.

Usage: profile-summary.py PORT.collapsed...  (17080 orchestrator, 17081 worker, 17082 gateway, 17083 context,
17084 tracking, as deploy/bench/e2e.sh starts them). Samples of the JIT compiler and GC threads are counted apart;
a sample in JDK code is counted for the innermost library that called it.
"""
import collections
import os
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


for path in sys.argv[1:]:
    counts, total = collections.Counter(), 0
    with open(path) as f:
        for line in f:
            stack, _, n = line.rstrip().rpartition(" ")
            counts[category(stack.split(";"))] += int(n)
            total += int(n)
    port = os.path.basename(path).split(".")[0]
    shares = " | ".join(f"{k} {v * 100 / total:.0f}%" for k, v in counts.most_common())
    print(f"{SERVICES.get(port, port)} ({total} samples): {shares}")
