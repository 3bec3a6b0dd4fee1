#!/usr/bin/env bash
# The user-space reflector's latency and rate against the kernel's own echo, before and after.
#
#   benches/reflect_latency.sh [NEW_PKTFORGE] [OLD_PKTFORGE]     (as root)
#
# One veth pair in two namespaces of its own: a v0 198.51.100.1/24 <-> b v1 198.51.100.2/24
# (b's kernel answers echo for .2; `reflect -I v1 --ip 198.51.100.9 --mode packet` for .9,
# started afresh for each measurement). For each target -- the kernel, OLD's reflector, NEW's
# reflector -- and ROUNDS rounds, the targets interleaved within each round:
#   1. iputils `ping -c 200 -i 0.005 -q` (200 requests/s): average RTT;
#   2. `blast --rate 50000` for 1 s: p50 RTT and loss;
#   3. a ramp (RATES, RDUR s a step, blast --count bounded) stopped where loss reaches 1% or
#      the sender falls short of the rate asked: the highest achieved rate with < 1% loss.
# Then medians per target and the ratios. The same pktforge (NEW) sends in every case; OLD
# only answers. Every run is bounded in count and time; the namespaces are deleted on exit.
# Live frames from a need NAPI on v1 (GRO on), as in benches/system.sh part 3.
set -euo pipefail
HERE=$(cd "$(dirname "$0")/.." && pwd)
NEW=${1:-${CARGO_TARGET_DIR:-$HERE/target}/release/pktforge}
OLD=${2:-}
ROUNDS=${ROUNDS:-3}
RATES=${RATES:-"50000 100000 150000 200000 250000 300000 400000 500000 700000 1000000"}
RDUR=${RDUR:-1}
TXMODE=${TXMODE:-live}
P=${PREFIX:-pfbl$$}
NSA=$P-a NSB=$P-b
TMP=$(mktemp -d)
REFL=""
cleanup() {
  [ -n "$REFL" ] && kill -INT "$REFL" 2>/dev/null && wait "$REFL" 2>/dev/null
  ip netns del "$NSA" 2>/dev/null || true
  ip netns del "$NSB" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT
[ -x "$NEW" ] || { echo "no pktforge at $NEW (cargo build --release)" >&2; exit 2; }
[ -z "$OLD" ] || [ -x "$OLD" ] || { echo "no pktforge at $OLD" >&2; exit 2; }

ip netns add "$NSA"; ip netns add "$NSB"
for n in "$NSA" "$NSB"; do ip -n "$n" link set lo up; ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$NSA" link add v0 type veth peer name v1 netns "$NSB"
ip -n "$NSA" addr add 198.51.100.1/24 dev v0; ip -n "$NSA" link set v0 up
ip -n "$NSB" addr add 198.51.100.2/24 dev v1; ip -n "$NSB" link set v1 up
ip netns exec "$NSB" ethtool -K v1 gro on >/dev/null
A="ip netns exec $NSA"

js() { python3 -c "import json,sys; L=[json.loads(l) for l in sys.stdin if l.startswith('{')]; S=[x for x in L if x.get('type')=='summary'] or L; s=S[-1]; r=s.get('rtt_us') or {}; print($1)"; }
blast() { # dest rate count: one bounded run, its JSON summary
  timeout $((RDUR + 20)) $A "$NEW" blast -I v0 --tx-mode "$TXMODE" --rate "$2" --count "$3" \
    --duration "$RDUR" -W 1 --json "$1" 2>/dev/null | grep '^{' | tail -1 || true
}
start_reflector() { # binary
  timeout 300 ip netns exec "$NSB" "$1" reflect -I v1 --ip 198.51.100.9/24 --mode packet --json \
    >"$TMP/refl.json" 2>"$TMP/refl.err" &
  REFL=$!
  for _ in $(seq 50); do grep -q answering "$TMP/refl.err" 2>/dev/null && break; sleep 0.1; done
  $A ping -c 1 -W 1 198.51.100.9 >/dev/null 2>&1 || true # ARP resolved before measuring
}
stop_reflector() {
  kill -INT "$REFL" 2>/dev/null || true; wait "$REFL" 2>/dev/null || true; REFL=""
}

measure() { # name dest: one row "name round ping_avg_us blast_p50_us blast_loss max_pps"
  local name=$1 dest=$2 avg p50 loss best=0 out ach l
  avg=$($A ping -c 200 -i 0.005 -q -W 1 "$dest" | sed -n 's|.*= [0-9.]*/\([0-9.]*\)/.*|\1|p')
  avg=$(python3 -c "print(round(float('${avg:-nan}') * 1000, 1))")
  out=$(blast "$dest" 50000 50000)
  p50=$(echo "$out" | js "r.get('p50')"); loss=$(echo "$out" | js "s['loss_percent']")
  for r in $RATES; do
    out=$(blast "$dest" "$r" $((r * RDUR)))
    [ -n "$out" ] || break
    l=$(echo "$out" | js "s['loss_percent']"); ach=$(echo "$out" | js "round(s['achieved_rate'])")
    python3 -c "import sys; sys.exit(0 if $l < 1 else 1)" || break
    best=$ach
    python3 -c "import sys; sys.exit(0 if $ach > 0.9 * $r else 1)" || break
  done
  echo "$name $round $avg $p50 $loss $best" | tee -a "$TMP/rows"
}

echo "# target round ping_avg_us blast50k_p50_us blast50k_loss_pct max_pps_under_1pct_loss"
for round in $(seq "$ROUNDS"); do
  measure kernel 198.51.100.2
  if [ -n "$OLD" ]; then
    start_reflector "$OLD"; measure before 198.51.100.9; stop_reflector
  fi
  start_reflector "$NEW"; measure after 198.51.100.9; stop_reflector
  grep '"summary"' "$TMP/refl.json" | js "'  (reflector: mode %s, echo replies %s)' % (s['mode'], s['echo_replies'])" || true
done

python3 - "$TMP/rows" <<'EOF'
import sys, statistics as st
rows = [l.split() for l in open(sys.argv[1])]
med = {}
for t in ("kernel", "before", "after"):
    rs = [r for r in rows if r[0] == t]
    if not rs:
        continue
    f = lambda i: st.median(float(r[i]) for r in rs)
    med[t] = (f(2), f(3), f(4), f(5))
print("\nmedians over %d rounds" % max(1, len(rows) // max(1, len(med))))
print("%-8s %14s %16s %14s %18s" % ("target", "ping avg us", "50k p50 us", "50k loss %", "max pps <1% loss"))
for t, (a, p, l, m) in med.items():
    print("%-8s %14.1f %16.1f %14.3f %18.0f" % (t, a, p, l, m))
k = med.get("kernel")
for t in ("before", "after"):
    if t in med and k:
        a, p, _, m = med[t]
        print("%s: ping avg %.1fx the kernel's, 50k p50 %.1fx the kernel's, max rate %.2fx the kernel's"
              % (t, a / k[0], p / k[1], m / k[3] if k[3] else float("nan")))
if "before" in med and "after" in med:
    print("after/before: ping avg %.3f, 50k p50 %.3f, max rate %.2f"
          % (med["after"][0] / med["before"][0], med["after"][1] / med["before"][1],
             med["after"][3] / med["before"][3] if med["before"][3] else float("nan")))
EOF
