#!/usr/bin/env bash
# A full `pktforge bench` throughput search against the fixed-rate sweep it replaces, on a
# device whose limit is known, and bench's throughput on an unlimited path against
# `blast --rate max`'s delivered rate in the same run.
#
#   benches/bench_vs_sweep.sh [PKTFORGE]      (as root)
#
# The lab (a - r1 - r2 - b, two Linux routers, `pktforge lab up`), r2's egress toward b
# shaped by `tc qdisc add dev r2-b root tbf rate 50mbit burst 8kb latency 20ms`, the kernel's
# echo in b answering. For each of ROUNDS rounds, interleaved:
#   1. bench: `bench --test throughput --size SIZE --trial TRIAL --max-rate MAX --precision 1%`
#      (a binary search): wall time, trials, the rate found;
#   2. sweep: what a script does without a search, at the same resolution: blast at MAX, then
#      99 %, 98 %, ... of MAX (TRIAL s each, the same wait), down to the first trial without
#      loss: wall time, trials, the rate found.
# Then, without the shaper (an unlimited veth path through the two routers):
#   3. `blast --rate max -d TRIAL` (delivered rate = received / send time) and
#      `bench --test throughput --trial TRIAL` (max rate first), interleaved: their ratio.
# Medians over the rounds. The machine may be shared: figures are noisy. Bounded: every blast
# has a duration; the namespaces are deleted on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
PF=${1:-${CARGO_TARGET_DIR:-$HERE/target}/release/pktforge}
ROUNDS=${ROUNDS:-3}
SIZE=${SIZE:-512}
TRIAL=${TRIAL:-1}
WAIT=${WAIT:-0.3}
MAX=${MAX:-100mbit}
P=${PREFIX:-pfQs$$}
TMP=$(mktemp -d)
cleanup() { "$PF" lab down --prefix "$P" >/dev/null 2>&1 || true; rm -rf "$TMP"; }
trap cleanup EXIT
[ -x "$PF" ] || { echo "no pktforge at $PF (cargo build --release)" >&2; exit 2; }
"$PF" lab up --prefix "$P" >/dev/null
A() { ip netns exec "$P-a" "$PF" "$@"; }
B=203.0.113.2
ip netns exec "$P-r2" tc qdisc add dev r2-b root tbf rate 50mbit burst 8kb latency 20ms

# The frame rate MAX means at SIZE (bits on the wire: + 20 bytes of preamble and gap).
max_pps=$(python3 -c "
s='$MAX'.lower(); m={'k':1e3,'m':1e6,'g':1e9}
n=s[:-3]; mult=m.get(n[-1],1); n=n[:-1] if n[-1] in m else n
print(float(n)*mult/(($SIZE+20)*8))")
want=$(python3 -c "print(50e6/8/($SIZE-4))")
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

for r in $(seq 1 "$ROUNDS"); do
  t0=$(now)
  A bench --test throughput --size "$SIZE" --trial "$TRIAL" --wait "$WAIT" --max-rate "$MAX" \
    --precision 1% --json "$B" 2>/dev/null > "$TMP/bench.json"
  t1=$(now)
  python3 - "$TMP/bench.json" "$t0" "$t1" >> "$TMP/bench.txt" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
res = [r for r in recs if r["type"] == "bench_result"][0]
trials = sum(1 for r in recs if r["type"] == "bench_trial")
print(float(sys.argv[3]) - float(sys.argv[2]), trials, res["rate_pps"])
PY
  t0=$(now); n=0; found=0
  for pct in $(seq 100 -1 1); do
    n=$((n + 1))
    rate=$(python3 -c "print($max_pps*$pct/100)")
    lost=$(A blast --rate "$rate" -d "$TRIAL" -W "$WAIT" -s $((SIZE - 46)) --json "$B" 2>/dev/null \
      | python3 -c "import json,sys; print([json.loads(l) for l in sys.stdin][-1]['lost'])")
    if [ "$lost" = 0 ]; then found=$rate; break; fi
  done
  t1=$(now)
  echo "$(python3 -c "print($t1-$t0)") $n $found" >> "$TMP/sweep.txt"
  echo "round $r: bench $(tail -1 "$TMP/bench.txt") | sweep $(tail -1 "$TMP/sweep.txt")   (s trials pps)" >&2
done
echo "tbf 50 Mbit/s at $SIZE B (frame without FCS: $((SIZE - 4)) B): $want pps allowed"
for k in bench sweep; do
  echo "$k: median $(cut -d' ' -f1 "$TMP/$k.txt" | median) s, $(cut -d' ' -f2 "$TMP/$k.txt" | median) trials, found $(cut -d' ' -f3 "$TMP/$k.txt" | median) pps"
done
echo "time ratio sweep/bench: $(python3 -c "
import statistics as s
b=[float(l.split()[0]) for l in open('$TMP/bench.txt')]; w=[float(l.split()[0]) for l in open('$TMP/sweep.txt')]
print(round(s.median(w)/s.median(b), 2))")"

# 3. The unlimited path: bench's throughput against blast --rate max in the same run.
ip netns exec "$P-r2" tc qdisc del dev r2-b root
for r in $(seq 1 "$ROUNDS"); do
  A blast --rate max -d "$TRIAL" -W "$WAIT" -s $((SIZE - 46)) --json "$B" 2>/dev/null \
    | python3 -c "import json,sys; s=[json.loads(l) for l in sys.stdin][-1]; print(s['received']/(s['send_us']/1e6))" >> "$TMP/blast.txt"
  A bench --test throughput --size "$SIZE" --trial "$TRIAL" --wait "$WAIT" --precision 1% --json "$B" 2>/dev/null \
    | python3 -c "import json,sys; print([r for r in map(json.loads, sys.stdin) if r['type']=='bench_result'][0]['rate_pps'])" >> "$TMP/bmax.txt"
  echo "round $r: blast max delivered $(tail -1 "$TMP/blast.txt") pps | bench $(tail -1 "$TMP/bmax.txt") pps" >&2
done
echo "unlimited path at $SIZE B: blast --rate max delivered median $(median < "$TMP/blast.txt") pps, bench throughput median $(median < "$TMP/bmax.txt") pps, ratio bench/blast $(python3 -c "
import statistics as s
print(round(s.median(float(x) for x in open('$TMP/bmax.txt'))/s.median(float(x) for x in open('$TMP/blast.txt')), 3))")"
