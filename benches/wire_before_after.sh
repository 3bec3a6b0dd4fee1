#!/usr/bin/env bash
# The wire micro benches of two builds, rounds interleaved (run by hand; never by CI):
#   bash benches/wire_before_after.sh OLD_WIRE_BENCH_BINARY NEW_WIRE_BENCH_BINARY [FILTER]
# Each binary is criterion's `wire` bench executable (cargo bench --bench wire --no-run prints
# its path). ROUNDS rounds (default 3) alternate old and new, each bench measured MEASURE
# seconds after WARM seconds of warm-up, pinned to CPU ${CPU:-1}; the median of the rounds'
# point estimates and the new/old ratio are printed per bench both builds have. No network.
set -euo pipefail
OLD=${1:?old wire bench binary}
NEW=${2:?new wire bench binary}
FILTER=${3:-}
ROUNDS=${ROUNDS:-3}
MEASURE=${MEASURE:-2}
WARM=${WARM:-1}
CPU=${CPU:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
run() { # binary round tag
  taskset -c "$CPU" "$1" --bench --noplot --warm-up-time "$WARM" --measurement-time "$MEASURE" \
    ${FILTER:+"$FILTER"} 2>/dev/null | python3 -c '
import re, sys
name = None
for line in sys.stdin:
    m = re.match(r"^(\S.*?)\s+time:\s+\[\S+ \S+ (\S+) (\S+)", line)
    if m:
        name = name if not line.startswith(" ") and "time:" in line and line.split("time:")[0].strip() == "" else line.split("time:")[0].strip()
    m2 = re.search(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]", line)
    if not line.startswith(" ") and "time:" not in line and line.strip():
        name = line.strip()
    if m2:
        if not line.startswith(" "):
            name = line.split("time:")[0].strip()
        v, unit = float(m2.group(1)), m2.group(2)
        ns = v * {"ps": 1e-3, "ns": 1, "µs": 1e3, "us": 1e3, "ms": 1e6}[unit]
        print(f"{name}\t{ns}")
' > "$tmp/$3-$2.tsv"
}
for r in $(seq 1 "$ROUNDS"); do
  run "$OLD" "$r" old
  run "$NEW" "$r" new
done
python3 - "$tmp" "$ROUNDS" <<'PY'
import sys, statistics, collections
d, rounds = sys.argv[1], int(sys.argv[2])
vals = {"old": collections.defaultdict(list), "new": collections.defaultdict(list)}
for tag in vals:
    for r in range(1, rounds + 1):
        for line in open(f"{d}/{tag}-{r}.tsv"):
            name, ns = line.rstrip("\n").split("\t")
            vals[tag][name].append(float(ns))
print(f"{'bench':60} {'old ns':>10} {'new ns':>10} {'new/old':>8}")
for name in vals["old"]:
    if name in vals["new"]:
        o, n = statistics.median(vals["old"][name]), statistics.median(vals["new"][name])
        print(f"{name[:60]:60} {o:10.1f} {n:10.1f} {n / o:8.3f}")
PY
