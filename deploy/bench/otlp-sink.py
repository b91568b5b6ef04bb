#!/usr/bin/env python3
"""A minimal OTLP/HTTP (protobuf) trace sink for deploy/bench/e2e.sh: answers every export with 200 so the
services build, batch and export spans for real, and counts the spans it receives per (service, span name),
rewriting the counts to the JSON file given as the second argument after each export.

  otlp-sink.py PORT COUNTS.json [SUBMITS.txt]

With SUBMITS.txt it also appends one line per orchestrator server span of `POST /api/v1/workflows`: its end time
(Unix ns) and duration (us), so the benchmark can tell the time the orchestrator spent on a submission from the
time the driver saw (which adds the driver's own scheduling, the connection and the queue before the request is read).

Decodes only what it counts (ExportTraceServiceRequest > resource_spans > resource's service.name and
scope_spans > spans > name), straight from the protobuf wire format, so it needs no protobuf package.
"""
import json, sys, threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
counts = Counter(); lock = threading.Lock(); out = sys.argv[2]
submits = sys.argv[3] if len(sys.argv) > 3 else None
SUBMIT_SPAN = ("orchestrator-service", "POST /api/v1/workflows")

def fields(buf):
    i = 0; n = len(buf)
    while i < n:
        key = 0; shift = 0
        while True:
            b = buf[i]; i += 1; key |= (b & 0x7f) << shift; shift += 7
            if b < 0x80: break
        fn, wt = key >> 3, key & 7
        if wt == 0:
            v = 0; shift = 0
            while True:
                b = buf[i]; i += 1; v |= (b & 0x7f) << shift; shift += 7
                if b < 0x80: break
            yield fn, wt, v
        elif wt == 1: yield fn, wt, buf[i:i+8]; i += 8
        elif wt == 5: yield fn, wt, buf[i:i+4]; i += 4
        elif wt == 2:
            l = 0; shift = 0
            while True:
                b = buf[i]; i += 1; l |= (b & 0x7f) << shift; shift += 7
                if b < 0x80: break
            yield fn, wt, buf[i:i+l]; i += l
        else: return

def service(resource):
    for fn, wt, kv in fields(resource):
        if fn == 1:
            k = None; v = None
            for f2, w2, x in fields(kv):
                if f2 == 1: k = x.decode()
                if f2 == 2:
                    for f3, w3, y in fields(x):
                        if f3 == 1: v = y.decode()
            if k == "service.name": return v
    return "?"

class H(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        local = Counter(); timings = []
        try:
            for fn, wt, rs in fields(body):
                if fn != 1: continue
                svc = "?"
                for f2, w2, x in fields(rs):
                    if f2 == 1: svc = service(x)
                for f2, w2, x in fields(rs):
                    if f2 == 2:
                        for f3, w3, span in fields(x):
                            if f3 == 2:
                                name = start = end = None
                                for f4, w4, y in fields(span):
                                    if f4 == 5: name = y.decode()
                                    elif f4 == 7: start = int.from_bytes(y, "little")
                                    elif f4 == 8: end = int.from_bytes(y, "little")
                                    # What follows (attributes, events, links, status) is not needed: skipping it
                                    # took the sink, which shares the cores with the suite, from 0.18-0.21 to
                                    # 0.12-0.15 CPU-ms per step (serializers write fields in number order).
                                    if name is not None and start is not None and end is not None:
                                        break
                                local[(svc, name)] += 1
                                if submits and (svc, name) == SUBMIT_SPAN and start and end:
                                    timings.append(f"{end} {(end - start) // 1000}\n")
        except Exception as e:
            print("parse error", e, flush=True)
        with lock:
            counts.update(local)
            json.dump({f"{s} | {n}": c for (s, n), c in counts.most_common()}, open(out, "w"), indent=1)
            if timings:
                with open(submits, "a") as f: f.writelines(timings)
        self.send_response(200); self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0"); self.end_headers()
    def log_message(self, *a): pass
ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
