#!/usr/bin/env python3
"""Drives a running Atelier suite for the end-to-end benchmark (started by deploy/bench/e2e.sh).

  e2e.py throughput --seconds S --windows W --inflight N
      keep N workflows in flight; after --warmup seconds, W measured windows of S seconds one after the other:
      steps/s and workflows/s, CPU and RSS per process, broker and database CPU, broker messages per step,
      WAL kB and commits per step, sequential scans per step of each table
  e2e.py latency --rate R --seconds S
      open-loop R submissions/s for S seconds while they run; p50/p95/p99 of POST /api/v1/workflows as the driver
      saw it and, with --server-spans (the OTLP sink's submission timings), as the orchestrator's server span did

Prints one JSON line per window (phase, window number, load average, result). Process ids come from
--pids name=pid,...; ports from ORCHESTRATOR_URL and WORKER_URL; the databases' names from BENCH_DB_SUFFIX
(atelier_<service>_<suffix>, default e2e). --idle-pids names another suite's processes, resident but not driven
(e2e.sh --paired): each window reports their CPU too.
Only the Python standard library is used.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
import uuid
from concurrent.futures import ThreadPoolExecutor

ORCHESTRATOR = os.environ.get("ORCHESTRATOR_URL", "http://127.0.0.1:17080")
WORKER = os.environ.get("WORKER_URL", "http://127.0.0.1:17081")
DB_SUFFIX = os.environ.get("BENCH_DB_SUFFIX", "e2e")
FINAL = {"completed", "failed", "cancelled", "budget_exceeded"}
TICKS = os.sysconf("SC_CLK_TCK")
REQUIREMENT = ("Build an order tracking feature for a small web shop: customers see each order's status and "
               "expected delivery date, get an email on every carrier update, and support staff can search "
               "orders by number or email.")


_local = threading.local()


def call(method, url, body=None, headers=None, timeout=10):
    """One HTTP request on this thread's kept-alive connection to the URL's host, as a real client keeps its
    connections: a new connection per request would cost the orchestrator (and this driver) a TCP handshake and
    a connection set-up per call, and the figures would count it. A connection the server closed while idle is
    reopened once; submissions carry an Idempotency-Key, so resending one is safe."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path + ("?" + parts.query if parts.query else "")
    data = json.dumps(body).encode() if body is not None else None
    sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
    conns = _local.__dict__.setdefault("conns", {})
    for attempt in (1, 2):
        conn = conns.get(parts.netloc)
        reused = conn is not None
        if not reused:
            conn = conns[parts.netloc] = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
        try:
            conn.request(method, path, body=data, headers=sent)
            resp = conn.getresponse()
            return resp.status, resp.read()
        except Exception as e:
            conn.close()
            del conns[parts.netloc]
            closed_while_idle = isinstance(e, (http.client.RemoteDisconnected, BrokenPipeError,
                                               ConnectionResetError))
            if not (closed_while_idle and reused and attempt == 1):
                raise


def submit(i):
    status, body = call("POST", ORCHESTRATOR + "/api/v1/workflows",
                        {"title": f"bench {i}", "team": "bench", "requirement": REQUIREMENT},
                        headers={"Idempotency-Key": f"bench-{uuid.uuid4()}"})
    if status != 202:
        raise RuntimeError(f"submission refused: {status} {body[:300]!r}")
    return json.loads(body)["id"]


def status_of(workflow_id):
    status, body = call("GET", f"{ORCHESTRATOR}/api/v1/workflows/{workflow_id}")
    return json.loads(body)["status"] if status == 200 else None


def running_ids():
    """Ids of the bench's workflows still running (at most 100: the driver keeps fewer in flight)."""
    status, body = call("GET", ORCHESTRATOR + "/api/v1/workflows?status=running&team=bench&limit=100")
    if status != 200:
        raise RuntimeError(f"listing running workflows failed: {status} {body[:300]!r}")
    return {item["id"] for item in json.loads(body)["items"]}


def worker_steps():
    """Steps the worker finished (any outcome), from its Prometheus metrics."""
    status, body = call("GET", WORKER + "/q/metrics", headers={"Accept": "text/plain"})
    if status != 200:
        raise RuntimeError(f"reading the worker's metrics failed: {status}")
    total = 0.0
    for line in body.decode().splitlines():
        if line.startswith("atelier_worker_steps_total{"):
            # name{labels} value [# {exemplar labels} value timestamp]
            total += float(line.split("} ", 1)[1].split()[0])
    return total


def infra_cpu():
    """CPU seconds of what runs beside the suite on its cores: RabbitMQ (beam.smp), all PostgreSQL processes (server
    and backends), the OTLP sink (otlp-sink.py, a collector's stand-in) and this driver."""
    own = os.times()
    out = {"rabbitmq": 0.0, "postgresql": 0.0, "otlp-sink": 0.0, "driver": own.user + own.system}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            comm = stat.split("(", 1)[1].rsplit(")", 1)[0]
            if comm == "beam.smp":
                name = "rabbitmq"
            elif comm.startswith("postgres"):
                name = "postgresql"
            elif comm.startswith("python"):
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    name = "otlp-sink" if b"otlp-sink.py" in f.read() else None
            else:
                continue
        except OSError:
            continue  # ended meanwhile
        if name:
            out[name] += cpu_seconds(stat)
    return out


def machine_cpu():
    """(busy, total) CPU ticks of the whole machine since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_seconds(stat):
    """User + system CPU seconds from the text of /proc/<pid>/stat."""
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


# Debian's rabbitmqctl refuses every user but root and rabbitmq: through sudo (without a prompt) for anyone else.
RABBITMQCTL = [shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"]
if os.geteuid() != 0 and shutil.which("sudo"):
    RABBITMQCTL = ["sudo", "-n"] + RABBITMQCTL


def broker_counters():
    """RabbitMQ's global message counters (published, routed to queues, delivered), or None if unreadable."""
    try:
        text = subprocess.run(RABBITMQCTL + ["-q", "eval", "rabbit_global_counters:overview()."],
                              capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    counts = {}
    for key, name in (("messages_received_total", "published"), ("messages_routed_total", "routed"),
                      ("messages_delivered_total", "delivered")):
        counts[name] = sum(int(v) for v in re.findall(key + r" => (\d+)", text))
    return counts if counts["published"] else None


def psql_rows(sql, database="postgres"):
    """The rows of a query on the local server as lists of text fields (psql, user postgres), or None."""
    try:
        out = subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", database, "-qAt", "-F", "\t",
                              "-c", sql], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return [line.split("\t") for line in out.stdout.splitlines() if line]


def database_counters():
    """PostgreSQL's WAL position in bytes ("wal"), the commits of each e2e database so far, and each of their
    tables' sequential scans with its size in pages ("scans": {"database.table": [scans, pages]}); or None."""
    rows = psql_rows("select 'wal', pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint union all"
                     f" select substring(datname from '^atelier_(.*)_{DB_SUFFIX}$'), xact_commit"
                     f" from pg_stat_database where datname ~ '^atelier_.*_{DB_SUFFIX}$'")
    if rows is None:
        return None
    counters = {name: int(value) for name, value in rows}
    scans = {}
    for name in [n for n in counters if n != "wal"]:
        for table, count, pages in psql_rows("select relname, seq_scan, pg_relation_size(relid) / 8192"
                                             " from pg_stat_user_tables",
                                             f"atelier_{name}_{DB_SUFFIX}") or []:
            scans[f"{name}.{table}"] = [int(count), int(pages)]
    counters["scans"] = scans
    return counters


def per_step(before, after, steps):
    """What a step wrote to PostgreSQL: WAL kB and commits per database (other databases' commits excluded); and
    the tables read whole (sequential scans per step, at least 0.01, with the table's pages at the window's end):
    a scan of a table that grows with the run is a missing index or a bad plan, as the outbox relay's was."""
    if not steps or not before or not after:
        return None
    commits = {n: round((after[n] - before.get(n, 0)) / steps, 2) for n in after if n not in ("wal", "scans")}
    scans = {}
    for table, (count, pages) in after["scans"].items():
        per = (count - before["scans"].get(table, [0])[0]) / steps
        if per >= 0.01:
            scans[table] = {"per_step": round(per, 2), "pages": pages}
    return {"wal_kb": round((after["wal"] - before["wal"]) / 1024 / steps, 2), "commits": commits,
            "sequential_scans": scans}


class Processes:
    """CPU seconds and RSS of the suite's processes, from /proc."""

    def __init__(self, pids, idle=None):
        self.pids = pids
        self.idle = idle or {}
        self.rss_samples = {name: [] for name in pids}

    def cpu(self, idle=False):
        out = {}
        for name, pid in (self.idle if idle else self.pids).items():
            with open(f"/proc/{pid}/stat") as f:
                out[name] = cpu_seconds(f.read())
        return out

    def sample_rss(self):
        for name, pid in self.pids.items():
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        self.rss_samples[name].append(int(line.split()[1]) / 1024)


def throughput(args, procs):
    lock = threading.Lock()
    inflight, done, counter = set(), [], [0]
    stop = threading.Event()

    def top_up():
        while len(inflight) < args.inflight and not stop.is_set():
            with lock:
                counter[0] += 1
                i = counter[0]
            inflight.add(submit(i))

    def poller():
        # One list request per round finds the workflows that left "running"; only those are read one by
        # one (to learn their outcome). Polling every in-flight workflow each round cost the orchestrator
        # about six status reads per step, which the figures then counted as orchestration cost.
        while not stop.is_set():
            watched = set(inflight)
            if watched:
                for wid in watched - running_ids():
                    s = status_of(wid)
                    if s in FINAL:
                        inflight.discard(wid)
                        done.append((time.monotonic(), s))
            top_up()
            time.sleep(0.1)

    top_up()
    threads = [threading.Thread(target=poller, daemon=True)]
    for t in threads:
        t.start()
    time.sleep(args.warmup)
    for window_no in range(args.first_run, args.first_run + args.windows):
        procs.rss_samples = {name: [] for name in procs.pids}
        emit(args.label, window_no, measure_window(args, procs, done))
    stop.set()
    for t in threads:
        t.join(timeout=30)


def measure_window(args, procs, done):
    """One measured window of a running throughput load."""
    broker0, infra0, db0, busy0 = broker_counters(), infra_cpu(), database_counters(), machine_cpu()
    cpu0, idle0, steps0, done0, t0 = procs.cpu(), procs.cpu(idle=True), worker_steps(), len(done), time.monotonic()
    # Each full minute of the window: its steps/s and every process's RSS at its end (a soak's trend).
    minutes, last_steps, next_mark = [], steps0, t0 + 60
    while time.monotonic() - t0 < args.seconds:
        procs.sample_rss()
        time.sleep(1)
        if time.monotonic() >= next_mark:
            now_steps = worker_steps()
            minutes.append({"steps_per_s": round((now_steps - last_steps) / 60, 2),
                            "rss_mb": {n: round(v[-1]) for n, v in procs.rss_samples.items() if v}})
            last_steps, next_mark = now_steps, next_mark + 60
    cpu1, idle1, steps1, done1, t1 = procs.cpu(), procs.cpu(idle=True), worker_steps(), len(done), time.monotonic()
    infra1, broker1, db1, busy1 = infra_cpu(), broker_counters(), database_counters(), machine_cpu()
    window = t1 - t0
    steps = steps1 - steps0
    cpu = {name: round((cpu1[name] - cpu0[name]) / window * 100, 1) for name in cpu0}
    outcomes = {}
    for _, s in done[done0:done1]:
        outcomes[s] = outcomes.get(s, 0) + 1
    return {
        "window_s": round(window, 1),
        "inflight": args.inflight,
        "steps_per_s": round(steps / window, 2),
        "workflows_per_s": round((done1 - done0) / window, 3),
        "outcomes": outcomes,
        "cpu_percent": cpu,
        "cpu_ms_per_step": round(sum(cpu1[n] - cpu0[n] for n in cpu0) * 1000 / steps, 1) if steps else None,
        "rss_mb": {n: {"first": round(v[0]), "max": round(max(v)), "last": round(v[-1])}
                   for n, v in procs.rss_samples.items() if v},
        "minutes": minutes,
        # The other suite of a paired run, resident and not driven: what it takes from the cores meanwhile.
        **({"idle_suite_cpu_percent": round(sum(idle1[n] - idle0[n] for n in idle0) / window * 100, 1)}
           if idle0 else {}),
        # With the other processes' CPU: how much of the two cores the suite had (a saturated machine turns any extra
        # CPU, e.g. a collector's, into fewer steps).
        "machine_cpu_busy_percent": round((busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * 100, 1),
        # Everything the machine did per step (suite, broker, database, sink, driver, the rest): the figure to
        # compare below saturation, where steps/s only shows the offered load.
        "machine_cpu_ms_per_step": round((busy1[0] - busy0[0]) / TICKS * 1000 / steps, 2) if steps else None,
        # PostgreSQL counts every backend on the machine; the bench is what runs during a quiet run.
        "infra_cpu_percent": {n: round((infra1[n] - infra0[n]) / window * 100, 1) for n in infra0},
        "infra_cpu_ms_per_step": {n: round((infra1[n] - infra0[n]) * 1000 / steps, 2) for n in infra0}
        if steps else None,
        "broker_messages_per_step": {n: round((broker1[n] - broker0[n]) / steps, 2) for n in broker0}
        if steps and broker0 and broker1 else None,
        # Deterministic where steps/s is not: what each step makes PostgreSQL write and commit.
        "postgresql_per_step": per_step(db0, db1, steps),
    }


def emit(label, run, result):
    """One line of results.jsonl: the phase, the run (window) number, the load average as it ends."""
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(json.dumps({"phase": label, "run": run, "load": load, "r": result}), flush=True)


def latency(args, procs):
    latencies, errors = [], []
    lock = threading.Lock()

    def one(i, scheduled):
        try:
            submit(i)
            # From the scheduled send time: a submission that waited for a free driver thread counts that wait.
            elapsed = (time.perf_counter() - scheduled) * 1000
            with lock:
                latencies.append(elapsed)
        except Exception as e:  # noqa: BLE001 - counted and reported
            with lock:
                errors.append(str(e)[:200])

    interval = 1.0 / args.rate
    wall_begin = time.time()
    busy0, total0 = machine_cpu()
    steps0 = worker_steps()
    cpu0, infra0 = procs.cpu(), infra_cpu()
    with ThreadPoolExecutor(max_workers=64) as pool:
        begin = time.perf_counter()
        n = int(args.rate * args.seconds)
        for i in range(n):
            # Open loop: each submission leaves at its scheduled time, whatever the previous ones do.
            scheduled = begin + i * interval
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if i % args.rate == 0:
                procs.sample_rss()
            pool.submit(one, i, scheduled)
    # How hard the suite worked meanwhile: a submission waits for CPU when the machine is saturated.
    busy1, total1 = machine_cpu()
    steps = worker_steps() - steps0
    duration = time.perf_counter() - begin
    cpu1, infra1 = procs.cpu(), infra_cpu()
    # Where the machine's CPU went, % of one core: the services, the broker and database, the sink, this driver.
    shares = {n: (cpu1[n] - cpu0[n]) for n in cpu1}
    shares.update({n: infra1[n] - infra0[n] for n in infra1})
    measured = latencies[int(len(latencies) * args.warmup_share):]
    q = statistics.quantiles(measured, n=100, method="inclusive") if len(measured) > 1 else [0] * 99
    server = server_timings(args.server_spans, wall_begin + args.seconds * args.warmup_share) if args.server_spans else {}
    return {
        "rate_per_s": args.rate,
        "seconds": args.seconds,
        "submitted": len(latencies) + len(errors),
        "errors": len(errors),
        "error_examples": errors[:3],
        "p50_ms": round(q[49], 2),
        "p95_ms": round(q[94], 2),
        "p99_ms": round(q[98], 2),
        "max_ms": round(max(measured), 2) if measured else None,
        **server,
        "steps_per_s": round(steps / duration, 2),
        "machine_cpu_busy_percent": round((busy1 - busy0) / (total1 - total0) * 100, 1),
        "cpu_percent": {n: round(v / duration * 100, 1) for n, v in sorted(shares.items())},
        "rss_mb": {n: round(max(v)) for n, v in procs.rss_samples.items() if v},
    }


def server_timings(path, since):
    """Percentiles of the orchestrator's submit spans that ended after `since` (Unix s), from the OTLP sink's file
    (one "end_ns duration_us" line per span). Waits until the services have exported the window's spans: the file
    stops growing for 3 s (at most 30 s)."""
    size, stable, deadline = -1, 0, time.time() + 30
    while stable < 3 and time.time() < deadline:
        time.sleep(1)
        now = os.path.getsize(path) if os.path.exists(path) else 0
        stable = stable + 1 if now == size else 0
        size = now
    durations = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                end, micros = line.split()
                if int(end) >= since * 1e9:
                    durations.append(int(micros) / 1000)
    if len(durations) < 2:
        return {"server_spans": len(durations)}
    q = statistics.quantiles(durations, n=100, method="inclusive")
    return {"server_spans": len(durations), "server_p50_ms": round(q[49], 2), "server_p95_ms": round(q[94], 2),
            "server_p99_ms": round(q[98], 2), "server_max_ms": round(max(durations), 2)}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("phase", choices=["throughput", "latency"])
    p.add_argument("--pids", required=True, help="name=pid,...")
    p.add_argument("--seconds", type=float, default=60)
    p.add_argument("--warmup", type=float, default=20)
    p.add_argument("--inflight", type=int, default=40)
    p.add_argument("--rate", type=int, default=100)
    p.add_argument("--windows", type=int, default=1, help="measured windows, one after the other, after one warm-up")
    p.add_argument("--label", default=None, help="phase name written with each result (default: the phase)")
    p.add_argument("--first-run", type=int, default=1, help="the first window's run number (e2e.sh --paired: the round)")
    p.add_argument("--idle-pids", default="", help="name=pid,... of a resident suite not driven: its CPU per window")
    p.add_argument("--warmup-share", type=float, default=0.1, help="share of latency samples dropped as warm-up")
    p.add_argument("--server-spans", default=None, help="latency: the OTLP sink's submission timings file")
    args = p.parse_args()
    args.label = args.label or args.phase
    if args.inflight > 100:
        p.error("--inflight is at most 100 (one page of running workflows)")
    def parse(arg):
        return {k: int(v) for k, v in (item.split("=") for item in arg.split(",") if item)}
    procs = Processes(parse(args.pids), parse(args.idle_pids))
    if args.phase == "throughput":
        throughput(args, procs)
    else:
        emit(args.label, 1, latency(args, procs))


if __name__ == "__main__":
    main()
