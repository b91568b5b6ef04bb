#!/usr/bin/env python3
"""Submits a requirement to a running Atelier, follows it step by step, then prints what it produced.

Usage: demo.py REQUEST.json   (ORCHESTRATOR_URL, CONTEXT_URL, TRACKING_URL override the local defaults)
Only the Python standard library is used.
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request

ORCHESTRATOR = os.environ.get("ORCHESTRATOR_URL", "http://127.0.0.1:8080")
CONTEXT = os.environ.get("CONTEXT_URL", "http://127.0.0.1:8083")
TRACKING = os.environ.get("TRACKING_URL", "http://127.0.0.1:8084")
FINAL = {"completed", "failed", "cancelled", "budget_exceeded"}
BOLD, DIM, RESET = ("\033[1m", "\033[2m", "\033[0m") if sys.stdout.isatty() else ("", "", "")


def call(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                        "Accept": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read() or b"null")


def main(path):
    with open(path, encoding="utf-8") as f:
        request = json.load(f)
    status, headers, body = call("POST", ORCHESTRATOR + "/api/v1/workflows", request)
    if status != 202:
        sys.exit(f"submission refused ({status}): {json.dumps(body, indent=2)}")
    workflow_id = body["id"]
    print(f"{BOLD}workflow {workflow_id}{RESET} submitted: {request.get('title', '')}")
    location = headers.get("Location") or f"/api/v1/workflows/{workflow_id}"
    print(f"{DIM}  GET {location if location.startswith('http') else ORCHESTRATOR + location}{RESET}")

    seen, started, workflow = {}, time.monotonic(), body
    while True:
        _, _, workflow = call("GET", f"{ORCHESTRATOR}/api/v1/workflows/{workflow_id}")
        for step in workflow.get("steps", []):
            key = (step["key"], step.get("attempt"), step["state"])
            if seen.get(step["key"]) != key:
                seen[step["key"]] = key
                outputs = ", ".join(step.get("outputs") or [])
                error = step.get("error") or {}
                extra = outputs or (f"{error.get('code')}: {error.get('message')}" if error else "")
                attempt = f" attempt {step.get('attempt')}" if (step.get("attempt") or 1) > 1 else ""
                print(f"  {time.monotonic() - started:6.1f}s  {step['key']:<12} {step['role']:<17} "
                      f"{step['state']:<16}{attempt} {DIM}{extra}{RESET}")
        if workflow["status"] in FINAL:
            break
        if time.monotonic() - started > 1800:
            sys.exit("gave up after 30 minutes; the workflow is still running")
        time.sleep(0.3)

    print(f"\n{BOLD}workflow {workflow['status']}{RESET} in {time.monotonic() - started:.1f}s"
          + (f": {workflow.get('failureReason')}" if workflow.get("failureReason") else ""))

    print(f"\n{BOLD}Artifacts{RESET} ({CONTEXT}/api/v1/workflows/{workflow_id}/artifacts)")
    for step in workflow.get("steps", []):
        for ref in step.get("outputs") or []:
            name, version = ref.rsplit("@", 1)
            if not name.endswith(".md"):
                continue
            _, _, artifact = call("GET", f"{CONTEXT}/api/v1/workflows/{workflow_id}/artifacts/{name}/versions/{version}")
            print(f"\n{BOLD}── {ref} ({step['role']}) ──{RESET}")
            print(artifact.get("content", ""))

    status, _, usage = call("GET", f"{TRACKING}/api/v1/workflows/{workflow_id}/usage")
    print(f"\n{BOLD}LLM usage per agent{RESET} (ledger: {TRACKING}/api/v1/llm-calls?workflowId={workflow_id})")
    if status == 200:
        print(f"  {'agent':<18}{'calls':>6}{'input tok':>11}{'output tok':>12}{'cost USD':>14}")
        for row in usage.get("byAgent", []):
            print(f"  {row.get('agent') or '-':<18}{row.get('calls', 0):>6}{row.get('inputTokens', 0):>11}"
                  f"{row.get('outputTokens', 0):>12}{fmt_cost(row.get('costUsd')):>14}")
        t = usage.get("totals", {})
        print(f"  {'total':<18}{t.get('calls', 0):>6}{t.get('inputTokens', 0):>11}{t.get('outputTokens', 0):>12}"
              f"{fmt_cost(t.get('costUsd')):>14}")
    else:
        print(f"  tracking-service answered {status}: {usage}")
    print(f"\n{BOLD}trace id{RESET} {workflow.get('traceId')}  (open it in Jaeger when OTEL_EXPORTER_OTLP_ENDPOINT points at one)")
    return 0 if workflow["status"] == "completed" else 1


def fmt_cost(value):
    return "unknown" if value is None else f"{float(value):.6f}"


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
