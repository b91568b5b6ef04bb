#!/usr/bin/env python3
"""Open-loop load generator for POST /api/v1/workflows (standard library only).

Sends RATE submissions per second for DURATION seconds on a fixed schedule. Latency is measured
from each request's scheduled send time, so a slow server cannot hide its queueing (no coordinated
omission). Prints p50/p95/p99/max in milliseconds and the status counts as JSON.

usage: submit_latency.py [--url http://127.0.0.1:18080] [--rate 100] [--duration 60]
                         [--threads 48] [--warmup 5]
"""
import argparse
import http.client
import json
import queue
import threading
import time
import urllib.parse
import uuid


def percentile(sorted_values, p):
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, int(round(p / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:18080")
    ap.add_argument("--rate", type=float, default=100)
    ap.add_argument("--duration", type=float, default=60)
    ap.add_argument("--threads", type=int, default=48)
    ap.add_argument("--warmup", type=float, default=5, help="seconds sent first and not counted")
    args = ap.parse_args()
    target = urllib.parse.urlparse(args.url)

    jobs = queue.Queue()
    results = []  # (scheduled, latency_s, status, measured)
    lock = threading.Lock()

    def worker():
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        while True:
            job = jobs.get()
            if job is None:
                return
            scheduled, measured, n = job
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            body = json.dumps(
                {
                    "requirement": "# Benchmark %d\nA small to-do list API with users." % n,
                    "definition": "software-delivery",
                    "team": "bench",
                    "metadata": {"bench": "submit-latency"},
                }
            )
            headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
            try:
                conn.request("POST", "/api/v1/workflows", body, headers)
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
                status = -1
            done = time.perf_counter()
            with lock:
                results.append((scheduled, done - scheduled, status, measured))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(args.threads)]
    for t in threads:
        t.start()
    start = time.perf_counter() + 0.5
    total = int((args.warmup + args.duration) * args.rate)
    warm = int(args.warmup * args.rate)
    for i in range(total):
        jobs.put((start + i / args.rate, i >= warm, i))
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()

    measured = sorted(r[1] * 1000 for r in results if r[3])
    statuses = {}
    for r in results:
        if r[3]:
            statuses[str(r[2])] = statuses.get(str(r[2]), 0) + 1
    span = max(r[0] + r[1] for r in results) - min(r[0] for r in results if r[3])
    print(
        json.dumps(
            {
                "rate": args.rate,
                "duration_s": args.duration,
                "requests": len(measured),
                "achieved_rate": round(len(measured) / span, 1),
                "statuses": statuses,
                "p50_ms": round(percentile(measured, 50), 1),
                "p95_ms": round(percentile(measured, 95), 1),
                "p99_ms": round(percentile(measured, 99), 1),
                "max_ms": round(measured[-1], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
