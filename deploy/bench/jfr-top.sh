#!/usr/bin/env bash
# Hottest methods of a JFR recording: top frames of CPU samples (self time) and, separately, the first frame
# in our own code (dev.atelier) or a named library package on each sample's stack (where the time is spent
# "under"). Usage: jfr-top.sh FILE.jfr [N]
set -euo pipefail
f=$1; n=${2:-20}
jfr print --events jdk.ExecutionSample --stack-depth 64 "$f" | python3 -c '
import sys, re, collections
n = int(sys.argv[1])
self_c, ours, pkgs, total = collections.Counter(), collections.Counter(), collections.Counter(), 0
stack = None
for line in sys.stdin:
    line = line.strip()
    if line.startswith("jdk.ExecutionSample"):
        stack = []
    elif stack is not None and line.startswith("stackTrace"):
        pass
    elif stack is not None and "line:" in line:
        stack.append(re.sub(r"\s+line:.*", "", line))
    elif stack is not None and line == "}":
        if stack:
            total += 1
            self_c[stack[0]] += 1
            # The library a sample is in: the top frame outside the JDK (java., jdk., sun.), else the JDK.
            lib = next((fr for fr in stack if not fr.startswith(("java.", "jdk.", "sun.", "javax."))), stack[0])
            pkgs[".".join(lib.split("(")[0].split(".")[:3])] += 1
            owner = next((fr for fr in stack if fr.startswith("dev.atelier.")), None)
            ours[owner or "(no dev.atelier frame)"] += 1
        stack = None
print(f"{total} samples")
print("-- self (top frame)")
for k, v in self_c.most_common(n): print(f"{v*100/total:5.1f}%  {k}")
print("-- by library (innermost non-JDK frame, first 3 package components)")
for k, v in pkgs.most_common(n): print(f"{v*100/total:5.1f}%  {k}")
print("-- innermost dev.atelier frame on the stack")
for k, v in ours.most_common(n): print(f"{v*100/total:5.1f}%  {k}")
' "$n"
