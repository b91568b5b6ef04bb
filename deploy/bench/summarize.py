#!/usr/bin/env python3
"""Turns e2e.sh's results.jsonl into results.json (medians per phase) and appends a Markdown summary.

Usage: summarize.py RESULTS.jsonl RESULTS.json END-TO-END.md STAMP QUICK RUNS [COMMAND [PAIRED]]

PAIRED (e2e.sh --paired) is "A,B", the labels of the two suites driven in alternate windows: the summary then also
gives each round's A/B ratio and their median, the figure that the machine's drift does not move.
"""
import json
import os
import platform
import statistics
import subprocess
import sys

from e2e import psql_rows


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 2) if values else None


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
    return {"cpus": os.cpu_count(), "cpu": cpu, "kernel": platform.release(), "java": java,
            "mem_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30),
            "postgresql": postgresql_settings()}


# The server settings that change what a step costs PostgreSQL: a run with autovacuum off (as on CI machines)
# does not pay for vacuuming the rows every step leaves dead, which a production server does.
PG_SETTINGS = ("server_version", "autovacuum", "fsync", "synchronous_commit", "full_page_writes", "shared_buffers")


def postgresql_settings():
    names = ",".join(f"'{n}'" for n in PG_SETTINGS)
    rows = psql_rows(f"select name, current_setting(name) from pg_settings where name in ({names})")
    return None if rows is None else dict(rows)


def describe_postgresql(settings):
    if not settings:
        return "PostgreSQL settings unknown"
    version = settings.get("server_version", "?").split()[0]
    rest = ", ".join(f"{n} {settings[n]}" for n in PG_SETTINGS[1:] if n in settings)
    return f"PostgreSQL {version} ({rest})"


def postgresql_per_step(r):
    """Medians of the windows' WAL kB and commits per step (windows of runs before it was measured have none)."""
    r = [x["postgresql_per_step"] for x in r if x.get("postgresql_per_step")]
    if not r:
        return None
    names = sorted({n for x in r for n in x["commits"]})
    # Tables read whole: median scans per step over the windows (0 where a window had too few), largest size.
    tables = sorted({t for x in r for t in x.get("sequential_scans", {})})
    scans = {t: {"per_step": median([x.get("sequential_scans", {}).get(t, {}).get("per_step", 0) for x in r]),
                 "pages": max(x.get("sequential_scans", {}).get(t, {}).get("pages", 0) for x in r)}
             for t in tables}
    return {"wal_kb": median([x["wal_kb"] for x in r]),
            "commits": {n: median([x["commits"].get(n) for x in r]) for n in names},
            **({"sequential_scans": scans} if any("sequential_scans" in x for x in r) else {})}


def paired_ratios(phases, a, b):
    """Each round's A/B steps/s ratio (rounds where both sides ran a window) and the rounds' median."""
    by_run = {name: {row["run"]: row["r"] for row in phases.get(name, [])} for name in (a, b)}
    rounds = sorted(set(by_run[a]) & set(by_run[b]))
    ratios = [round(by_run[a][n]["steps_per_s"] / by_run[b][n]["steps_per_s"], 4) for n in rounds
              if by_run[b][n]["steps_per_s"]]
    # The same for the machine's CPU per step (all processes): what the A side costs, B's cost taken as 1.
    cpu = [round(by_run[a][n]["machine_cpu_ms_per_step"] / by_run[b][n]["machine_cpu_ms_per_step"], 4)
           for n in rounds if by_run[a][n].get("machine_cpu_ms_per_step") and by_run[b][n].get("machine_cpu_ms_per_step")]
    return {"a": a, "b": b, "ratios": ratios, "median_ratio": round(statistics.median(ratios), 4) if ratios else None,
            "machine_cpu_ratios": cpu, "median_machine_cpu_ratio": round(statistics.median(cpu), 4) if cpu else None}


def main(src, dst, md, stamp, quick, runs, command=None, paired=None):
    rows = [json.loads(line) for line in open(src) if line.strip()]
    phases = {}
    for row in rows:
        phases.setdefault(row["phase"], []).append(row)
    summary = {"date": stamp, "quick": quick == "1", "runs": int(runs), "machine": machine(), "phases": {}}
    for name, rs in phases.items():
        r = [x["r"] for x in rs]
        if all("inflight" in x for x in r):  # throughput windows (zero, notrace, llm, soak, --paired's labels)
            cpu_names = sorted({n for x in r for n in x["cpu_percent"]})
            summary["phases"][name] = {
                "steps_per_s": median([x["steps_per_s"] for x in r]),
                "workflows_per_s": median([x["workflows_per_s"] for x in r]),
                "cpu_ms_per_step": median([x["cpu_ms_per_step"] for x in r]),
                "cpu_percent": {n: median([x["cpu_percent"].get(n) for x in r]) for n in cpu_names},
                "rss_max_mb": {n: max(x["rss_mb"][n]["max"] for x in r if n in x["rss_mb"]) for n in cpu_names},
                "rss_growth_mb": {n: median([x["rss_mb"][n]["last"] - x["rss_mb"][n]["first"] for x in r
                                             if n in x["rss_mb"]]) for n in cpu_names},
                "per_run_steps_per_s": [x["steps_per_s"] for x in r],
                "infra_cpu_ms_per_step": {n: median([x["infra_cpu_ms_per_step"][n] for x in r
                                                     if n in (x.get("infra_cpu_ms_per_step") or {})])
                                          for n in ("rabbitmq", "postgresql", "otlp-sink", "driver")
                                          if any(n in (x.get("infra_cpu_ms_per_step") or {}) for x in r)},
                "machine_cpu_busy_percent": median([x.get("machine_cpu_busy_percent") for x in r]),
                "machine_cpu_ms_per_step": median([x.get("machine_cpu_ms_per_step") for x in r]),
                "broker_messages_per_step": {n: median([x["broker_messages_per_step"][n] for x in r
                                                        if x.get("broker_messages_per_step")])
                                             for n in ("published", "routed", "delivered")
                                             if any(x.get("broker_messages_per_step") for x in r)},
                "postgresql_per_step": postgresql_per_step(r),
                "load": [x["load"] for x in rs],
            }
            idle = [x["idle_suite_cpu_percent"] for x in r if "idle_suite_cpu_percent" in x]
            if idle:
                summary["phases"][name]["idle_suite_cpu_percent"] = median(idle)
        else:
            summary["phases"][name] = dict(r[0], load=rs[0]["load"])
    p = summary["phases"]
    if paired:
        summary["paired"] = paired_ratios(phases, *paired.split(","))
    if "zero" in p and "notrace" in p and p["notrace"]["steps_per_s"]:
        summary["tracing_cost_percent"] = round((1 - p["zero"]["steps_per_s"] / p["notrace"]["steps_per_s"]) * 100, 1)
        pr = summary.get("paired")
        if pr and {pr["a"], pr["b"]} == {"zero", "notrace"} and pr["median_ratio"]:
            ratio = pr["median_ratio"] if pr["a"] == "zero" else 1 / pr["median_ratio"]
            summary["tracing_cost_paired_percent"] = round((1 - ratio) * 100, 1)
    if "zero" in p and "perftest" in p and p["perftest"].get("msg_per_s"):
        summary["steps_per_broker_msg_ceiling"] = round(p["zero"]["steps_per_s"] / p["perftest"]["msg_per_s"], 4)
    with open(dst, "w") as f:
        json.dump(summary, f, indent=2)

    m = summary["machine"]
    how = (f"{runs} rounds of one window per side, two suites resident, driven alternately" if paired
           else f"Medians of {runs} measured window(s), one suite per phase")
    lines = [f"\n## Run {stamp}{' (quick)' if summary['quick'] else ''}\n",
             f"Machine: {m['cpus']} CPUs ({m['cpu']}), {m['mem_gb']} GiB, {m['java']}, "
             f"{describe_postgresql(m.get('postgresql'))}. {how}; "
             f"command: `{command or 'deploy/bench/e2e.sh' + (' --quick' if summary['quick'] else '')}`; raw: "
             f"`deploy/bench/results/{stamp}/results.json`.\n"]
    throughput_names = [n for n in p if "per_run_steps_per_s" in p[n]]
    if throughput_names:
        lines += ["| phase | steps/s | workflows/s | CPU ms/step | machine CPU ms/step | load (1/5/15 min) |",
                  "|---|---|---|---|---|---|"]
    for name in throughput_names:
        x = p[name]
        lines.append(f"| {name} | {x['steps_per_s']} | {x['workflows_per_s']} | {x['cpu_ms_per_step']} | "
                     f"{x['machine_cpu_ms_per_step']} | {'; '.join(x['load'])} |")
    pr = summary.get("paired")
    if pr and pr["ratios"]:
        idle = {n: p[n].get("idle_suite_cpu_percent") for n in (pr["a"], pr["b"])}
        lines.append(f"\nPaired: steps/s of {pr['a']} / {pr['b']} per round: "
                     + ", ".join(f"{r:.3f}" for r in pr["ratios"])
                     + f"; median {pr['median_ratio']:.3f}"
                     + (f"; the machine's CPU per step, {pr['a']} / {pr['b']}: "
                        + ", ".join(f"{r:.3f}" for r in pr["machine_cpu_ratios"])
                        + f", median {pr['median_machine_cpu_ratio']:.3f}" if pr["machine_cpu_ratios"] else "")
                     + (f" (the other, idle suite meanwhile: {idle[pr['a']]} and {idle[pr['b']]} % of one core)"
                        if None not in idle.values() else "") + ".")
    # Both sides of a paired run: their JVM flags or builds may differ in exactly these.
    for name in ((pr["a"], pr["b"]) if pr else ("zero",)):
        if name not in p:
            continue
        lines.append(f"\nCPU share per process ({name}, % of one core): " +
                     ", ".join(f"{n} {v}" for n, v in p[name]["cpu_percent"].items()))
        lines.append(f"\nRSS max MB ({name}): " + ", ".join(f"{n} {v}" for n, v in p[name]["rss_max_mb"].items()) +
                     "; growth over the window: " +
                     ", ".join(f"{n} {v}" for n, v in p[name]["rss_growth_mb"].items()))
    for name in ("zero", "soak"):
        if name in p and p[name]["infra_cpu_ms_per_step"]:
            lines.append(f"\nBroker and database ({name}): RabbitMQ " +
                         f"{p[name]['infra_cpu_ms_per_step']['rabbitmq']} CPU-ms/step, PostgreSQL "
                         f"{p[name]['infra_cpu_ms_per_step']['postgresql']} CPU-ms/step" +
                         ("; messages per step: " + ", ".join(f"{n} {v}" for n, v in
                                                             p[name]["broker_messages_per_step"].items())
                          if p[name]["broker_messages_per_step"] else "") + ".")
            db = p[name].get("postgresql_per_step")
            if db:
                whole = ""
                if "sequential_scans" in db:
                    scans = [f"{t} {v['per_step']} ({v['pages']})" for t, v in db["sequential_scans"].items()
                             if v["per_step"] >= 0.01]
                    whole = ("; tables read whole (sequential scans per step, the table's pages): " +
                             (", ".join(scans) or "none"))
                lines.append(f"\nWhat a step writes ({name}): {db['wal_kb']} kB of WAL; commits per step: " +
                             ", ".join(f"{n} {v}" for n, v in db["commits"].items()) + whole + ".")
            break
    if "soak" in p:
        lines.append("\nSoak (zero, one run): RSS first -> last MB: " + ", ".join(
            f"{n} {r['rss_mb'][n]['first']} -> {r['rss_mb'][n]['last']} (max {r['rss_mb'][n]['max']})"
            for r in [phases["soak"][0]["r"]] for n in sorted(r["rss_mb"])))
        minutes = phases["soak"][0]["r"].get("minutes", [])
        if minutes:
            names = sorted(minutes[0]["rss_mb"])
            lines.append("\n| minute | steps/s | " + " | ".join(f"{n} RSS MB" for n in names) + " |")
            lines.append("|---" * (len(names) + 2) + "|")
            for i, mnt in enumerate(minutes, 1):
                lines.append(f"| {i} | {mnt['steps_per_s']} | " +
                             " | ".join(str(mnt["rss_mb"].get(n, "")) for n in names) + " |")
    if "tracing_cost_percent" in summary:
        z, n = p["zero"], p["notrace"]
        sink = z["infra_cpu_ms_per_step"].get("otlp-sink")
        lines.append(f"\nTracing cost: {summary['tracing_cost_percent']} % of throughput (zero vs notrace, medians)"
                     + (f", {summary['tracing_cost_paired_percent']} % as the median of the rounds' ratios"
                        if "tracing_cost_paired_percent" in summary else "") + "; the "
                     f"services' CPU per step {z['cpu_ms_per_step']} vs {n['cpu_ms_per_step']} ms" +
                     (f", the OTLP sink (a collector's stand-in on the same cores) {sink} ms per step" if sink else "") +
                     (f"; machine CPU busy {z['machine_cpu_busy_percent']} vs {n['machine_cpu_busy_percent']} %"
                      if z.get("machine_cpu_busy_percent") and n.get("machine_cpu_busy_percent") else "") +
                     (f"; the machine's CPU per step (all processes) {z['machine_cpu_ms_per_step']} vs "
                      f"{n['machine_cpu_ms_per_step']} ms "
                      f"({(z['machine_cpu_ms_per_step'] / n['machine_cpu_ms_per_step'] - 1) * 100:+.1f} %)"
                      if z.get("machine_cpu_ms_per_step") and n.get("machine_cpu_ms_per_step") else "") + ".")
    for name, llm in (("latency", "zero"), ("latency-llm", "log-normal, median 800 ms")):
        if name not in p:
            continue
        x = p[name]
        meanwhile = (f"; meanwhile {x['steps_per_s']} steps/s, machine CPU {x['machine_cpu_busy_percent']} % busy"
                     if "steps_per_s" in x else "")
        lines.append(f"\nSubmit latency ({name}: LLM latency {llm}) at {x['rate_per_s']}/s for {x['seconds']} s: "
                     f"p50 {x['p50_ms']} ms, p95 {x['p95_ms']} ms, p99 {x['p99_ms']} ms, max {x['max_ms']} ms, "
                     f"errors {x['errors']} of {x['submitted']} (load {x['load']}{meanwhile}).")
        if "server_p99_ms" in x:
            lines.append(f"The same submissions in the orchestrator's server spans ({x['server_spans']}): p50 "
                         f"{x['server_p50_ms']} ms, p95 {x['server_p95_ms']} ms, p99 {x['server_p99_ms']} ms, "
                         f"max {x['server_max_ms']} ms.")
        if x.get("cpu_percent"):
            lines.append(f"CPU during the {name} phase, % of one core: "
                         + ", ".join(f"{n} {v}" for n, v in x["cpu_percent"].items()))
        if x.get("rss_mb"):
            # A burst of submissions grows the orchestrator's heap: its RSS counts against the goal too.
            lines.append(f"RSS at the end of the {name} phase, MB: "
                         + ", ".join(f"{n} {v}" for n, v in sorted(x["rss_mb"].items())))
    if "perftest" in p:
        lines.append(f"\nRabbitMQ PerfTest (persistent, confirms, quorum queue): {p['perftest']['msg_per_s']} msg/s"
                     + (f"; steps/s are {summary['steps_per_broker_msg_ceiling'] * 100:.2f} % of it."
                        if "steps_per_broker_msg_ceiling" in summary else "."))
        if p["perftest"].get("paced_broker_cpu_ms_per_msg") is not None:
            lines.append(f"Paced like the services ({p['perftest']['paced_msg_per_s']} msg/s, one confirm at a "
                         f"time): the broker spends {p['perftest']['paced_broker_cpu_ms_per_msg']} CPU-ms per "
                         "message.")
    with open(md, "a") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main(*[a or None for a in sys.argv[1:9]])
