#!/usr/bin/env python3
"""What PostgreSQL writes per workflow step, by table and index: decodes the WAL of a time window.

    deploy/bench/wal-by-relation.py [--seconds N] [--database DB] [--top N]

Run it while the suite is under load (deploy/bench/e2e.sh, after its warm-up). It holds the WAL of the window with a
temporary physical replication slot, counts the steps that succeeded meanwhile in DB's workflow_step table
(default atelier_orchestrator_e2e, the benchmark's), then decodes the window with pg_waldump and prints, per step,
the WAL records and bytes of every relation (record bytes and full-page images apart), and the largest record types.
Needs a superuser connection as postgres on 127.0.0.1 and read access to the server's pg_wal directory (run it as
root or postgres on the database machine) and a free replication slot (max_replication_slots); the slot is
temporary: it goes with the script, also when the script is interrupted or killed.
"""
import argparse
import collections
import glob
import os
import re
import subprocess
import sys
import time

from e2e import psql_rows

SLOT = "atelier_wal_by_relation"
RECORD = re.compile(r"rmgr: (\S+)\s+len \(rec/tot\):\s+(\d+)/\s*(\d+),.*?desc: (\S+)(.*)")
BLOCK = re.compile(r"rel (\d+)/(\d+)/(\d+)")


def psql(sql, database="postgres"):
    rows = psql_rows(sql, database)
    if rows is None:
        sys.exit(f"wal-by-relation: cannot query {database} as postgres on 127.0.0.1: {sql}")
    return rows


def hold_wal():
    """A psql session holding a temporary replication slot, so the server keeps the window's WAL.

    The slot lives as long as the session: it goes when this script closes the session's input, and also when the
    script is killed (psql then reads the end of its input and exits), so no slot is left to keep WAL forever.
    """
    holder = subprocess.Popen(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qAt",
                               "-v", "ON_ERROR_STOP=1"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    holder.stdin.write(f"select pg_create_physical_replication_slot('{SLOT}_{os.getpid()}', true, true);\n")
    holder.stdin.flush()
    if not holder.stdout.readline():
        holder.wait()
        sys.exit(f"wal-by-relation: cannot create a replication slot: {holder.stderr.read().strip()}")
    return holder


def succeeded_steps(database):
    return int(psql("select count(*) from workflow_step where state = 'succeeded'", database)[0][0])


def pg_waldump():
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_waldump"))
    return found[-1] if found else "pg_waldump"


def relation_names():
    """(database oid, relfilenode) -> 'database.relation' for every database but the templates."""
    names = {}
    for oid, datname in psql("select oid, datname from pg_database where datallowconn and not datistemplate"):
        for filenode, relname in psql("select pg_relation_filenode(oid), relname from pg_class"
                                      " where pg_relation_filenode(oid) is not null", datname):
            names[(oid, filenode)] = f"{datname}.{relname}"
    return names


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=120, help="the window (default 120)")
    parser.add_argument("--database", default="atelier_orchestrator_e2e",
                        help="the orchestrator database whose succeeded steps divide the figures")
    parser.add_argument("--top", type=int, default=30, help="rows per table (default 30)")
    args = parser.parse_args()

    datadir = psql("show data_directory")[0][0]
    holder = hold_wal()
    try:
        start, steps_before = psql("select pg_current_wal_lsn()")[0][0], succeeded_steps(args.database)
        print(f"window of {args.seconds} s from {start} ...", file=sys.stderr)
        time.sleep(args.seconds)
        end, steps_after = psql("select pg_current_wal_lsn()")[0][0], succeeded_steps(args.database)
        dump = subprocess.run([pg_waldump(), "-p", datadir + "/pg_wal", "-s", start, "-e", end],
                              capture_output=True, text=True)
    finally:
        holder.stdin.close()  # the session ends, and its temporary slot with it
        holder.wait()
    if not dump.stdout:
        sys.exit(f"wal-by-relation: pg_waldump gave nothing: {dump.stderr.strip()}")
    steps = steps_after - steps_before
    if steps <= 0:
        sys.exit(f"wal-by-relation: no step succeeded in {args.database} during the window; is the suite loaded?")

    names = relation_names()
    per_type = collections.defaultdict(lambda: [0, 0, 0])  # (relation, rmgr, desc) -> records, bytes, FPI bytes
    for line in dump.stdout.splitlines():
        m = RECORD.search(line)
        if not m:
            continue
        rmgr, rec, tot, desc, rest = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4), m.group(5)
        block = BLOCK.search(rest)
        relation = "(no relation)" if not block else names.get((block.group(2), block.group(3)),
                                                               f"{block.group(2)}/{block.group(3)}")
        counts = per_type[(relation, rmgr, desc)]
        counts[0] += 1
        counts[1] += rec
        counts[2] += tot - rec
    per_relation = collections.defaultdict(lambda: [0, 0, 0])
    for (relation, _, _), counts in per_type.items():
        for i in range(3):
            per_relation[relation][i] += counts[i]
    total = [sum(c[i] for c in per_type.values()) for i in range(3)]

    def row(label, counts):
        return (f"{label:64s} {counts[0] / steps:8.2f} {counts[1] / steps / 1024:9.3f} "
                f"{counts[2] / steps / 1024:9.3f}")

    print(f"{steps} steps in {args.seconds} s ({steps / args.seconds:.1f}/s), WAL {start} to {end}")
    print(f"per step: {total[0] / steps:.1f} records, {(total[1] + total[2]) / steps / 1024:.2f} kB"
          f" (of which full-page images {total[2] / steps / 1024:.2f} kB)\n")
    print(f"{'relation':64s} {'records':>8s} {'kB':>9s} {'FPI kB':>9s}   (per step)")
    for relation, counts in sorted(per_relation.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:args.top]:
        print(row(relation, counts))
    print(f"\n{'relation, record type':64s} {'records':>8s} {'kB':>9s} {'FPI kB':>9s}   (per step)")
    for (relation, rmgr, desc), counts in sorted(per_type.items(), key=lambda kv: -(kv[1][1] + kv[1][2]))[:args.top]:
        print(row(f"{relation} {rmgr} {desc}", counts))


if __name__ == "__main__":
    main()
