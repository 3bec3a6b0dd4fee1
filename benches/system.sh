#!/usr/bin/env bash
# System benchmark for pktforge blast (run by hand, as root; never by CI).
#
# Needs (Debian): netsniff-ng (trafgen), iproute2, iputils-ping, procps, python3.
#
# Part 1, TX frames/s on a veth pair in a namespace this script creates (pfbench-<pid>):
#   v0 (198.51.100.1/24) <-> v1 (up, no address). The sink (SINK=stack, the default) is v1's
#   kernel receive path: the frames carry a destination MAC nobody owns (02:00:00:00:00:02), so
#   the stack drops them as PACKET_OTHERHOST. SINK=xdp instead attaches an XDP program to v1
#   that drops every frame in the veth driver (benches/xdp_drop.py, loaded with bpf(2), no
#   compiler needed), as pktgen-style measurements do; on veth that puts the peer in NAPI mode,
#   which costs a little more per frame here, and the ratios come out the same. Same 60-byte frames (64 with FCS) for all:
#   trafgen (C, TX ring, qdisc bypass, --cpus 1), pktforge blast (fast: AF_XDP copy mode, TX ring
#   and sendmmsg, 1 thread; AF_XDP and TX ring with 2 threads on a second pair with 2 queues) and a per-frame pnet_datalink loop
#   (examples/pnet_loop.rs). Each REPS times, COUNT frames; medians and ratios printed.
# Part 2, in the lab (pktforge lab up --prefix pfbl<pid>): the highest echo rate a -> b
#   (kernel responders, two Linux routers) with < 1% loss, its RTT percentiles, and Linux
#   `ping -c 20 -i 0.01`'s min RTT on the same path.
# Everything is bounded in count and time and torn down on exit (trap).
set -euo pipefail
COUNT=${COUNT:-2000000}
REPS=${REPS:-5}
BATCH=${BATCH:-256}   # frames per syscall for the TX part (blast --batch)
SINK=${SINK:-stack}   # stack | xdp
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
NS=pfbench-$$
NS2=pfbench2-$$
LABP=pfbl$$
PF=$CARGO_TARGET_DIR/release/pktforge
LOOP=$CARGO_TARGET_DIR/release/examples/pnet_loop
TMP=$(mktemp -d)

cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  [ -x "$PF" ] && "$PF" lab down --prefix "$LABP" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "run as root (namespaces)"; exit 2; }
command -v trafgen >/dev/null || { echo "install netsniff-ng (trafgen)"; exit 2; }
(cd "$HERE" && cargo build --release --quiet --bin pktforge --example pnet_loop)

mkpair() { # ns queues
  ip netns add "$1"
  ip -n "$1" link set lo up
  ip -n "$1" link add v0 numtxqueues "$2" numrxqueues "$2" type veth peer name v1 numtxqueues "$2" numrxqueues "$2"
  ip -n "$1" addr add 198.51.100.1/24 dev v0
  ip -n "$1" link set v0 up
  ip -n "$1" link set v1 up
  ip netns exec "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
  if [ "$SINK" = xdp ]; then ip netns exec "$1" python3 "$HERE/benches/xdp_drop.py" v1 >/dev/null; fi
}
mkpair "$NS" 1
mkpair "$NS2" 2
SRC_MAC=$(ip -n "$NS" -br link show v0 | awk '{print $3}')

# The same 60-byte frame for trafgen: Ethernet + IPv4 + ICMP echo, 18 data bytes.
cat > "$TMP/frame.cfg" <<CFG
{ 0x02,0x00,0x00,0x00,0x00,0x02, $(echo "$SRC_MAC" | sed 's/^/0x/; s/:/,0x/g'), c16(0x0800),
  0x45,0x00,c16(46),c16(0),c16(0),0x40,0x01,csumip(14,33),198,51,100,1,198,51,100,2,
  0x08,0x00,csumicmp(34,59),c16(1),c16(1), fill(0x11,18) }
CFG

now() { date +%s.%N; }
js() { python3 -c "import json,sys; s=json.load(sys.stdin); r=s.get('rtt_us') or {}; print($1)"; }
rate() { python3 -c "print(f'{$COUNT/($2-$1):.0f}')"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

run_trafgen() { local t0 t1; t0=$(now)
  ip netns exec "$NS" trafgen --dev v0 --conf "$TMP/frame.cfg" --num "$COUNT" --cpus 1 -C >/dev/null 2>&1 || \
  ip netns exec "$NS" trafgen --dev v0 --conf "$TMP/frame.cfg" --num "$COUNT" --cpus 1 >/dev/null 2>&1
  t1=$(now); rate "$t0" "$t1"; }
run_blast() { # ns threads tx-mode: timed like the others, by the wall clock of the whole process
  # Exit status 1 (no replies) is expected on a sink.
  local t0 t1; t0=$(now)
  ip netns exec "$1" "$PF" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate max --count "$COUNT" \
    --threads "$2" --tx-mode "$3" --batch "$BATCH" -W 0 --json 198.51.100.2 >/dev/null 2>&1 || true
  t1=$(now); rate "$t0" "$t1"; }
run_pnet() { local t0 t1; t0=$(now)
  ip netns exec "$NS" "$LOOP" v0 "$COUNT" 60 >/dev/null; t1=$(now); rate "$t0" "$t1"; }

echo "== TX, 60-byte frames (64 on the wire), $COUNT frames x $REPS, blast --batch $BATCH, veth sink: $SINK, $(nproc) cores, $(uname -r)"
declare -A R
for i in $(seq "$REPS"); do
  R[trafgen]+="$(run_trafgen) "
  R[xdp1]+="$(run_blast "$NS" 1 xdp) "
  R[ring1]+="$(run_blast "$NS" 1 ring) "
  R[mmsg1]+="$(run_blast "$NS" 1 sendmmsg) "
  R[xdp2]+="$(run_blast "$NS2" 2 xdp) "
  R[ring2]+="$(run_blast "$NS2" 2 ring) "
  R[pnet]+="$(run_pnet) "
done
declare -A M
for k in trafgen xdp1 ring1 mmsg1 xdp2 ring2 pnet; do
  M[$k]=$(echo "${R[$k]}" | tr ' ' '\n' | grep . | median)
  printf "%-34s median %10s frames/s   runs: %s\n" "$k" "${M[$k]}" "${R[$k]}"
done
ratio() { python3 -c "print(f'{$1/$2:.2f}x')"; }
echo "pktforge AF_XDP, 1 thread / trafgen:      $(ratio "${M[xdp1]}" "${M[trafgen]}")"
echo "pktforge AF_XDP, 1 thread / pnet loop:    $(ratio "${M[xdp1]}" "${M[pnet]}")"
echo "pktforge AF_XDP, 2 threads / 1 thread:    $(ratio "${M[xdp2]}" "${M[xdp1]}")"
echo "pktforge ring, 1 thread / trafgen:        $(ratio "${M[ring1]}" "${M[trafgen]}")"
echo "pktforge sendmmsg, 1 thread / trafgen:    $(ratio "${M[mmsg1]}" "${M[trafgen]}")"
echo "pktforge ring, 1 thread / pnet loop:      $(ratio "${M[ring1]}" "${M[pnet]}")"
echo "pktforge ring, 2 threads / 1 thread:      $(ratio "${M[ring2]}" "${M[ring1]}")"
echo "(every rate is COUNT / wall time of the whole process, start-up included, for all three)"

echo
echo "== Echo a -> b across the lab (kernel responders, two routers)"
"$PF" lab up --prefix "$LABP" >/dev/null
A="ip netns exec $LABP-a"
$A ping -c 20 -i 0.01 -q 203.0.113.2 | tail -1 | sed 's/^/linux ping -c 20 -i 0.01: /'
best=""
for r in 20000 50000 80000 100000 150000 200000 300000; do
  out=$($A "$PF" blast --rate "$r" --duration 2 --json 203.0.113.2 2>/dev/null || true)
  loss=$(echo "$out" | js "s['loss_percent']")
  ach=$(echo "$out" | js "round(s['achieved_rate'])")
  echo "asked $r pps: achieved $ach pps, loss $loss%"
  if python3 -c "import sys; sys.exit(0 if $loss < 1 else 1)"; then best=$out; else break; fi
done
out=$($A "$PF" blast --rate max --count 200000 --json 203.0.113.2 2>/dev/null || true)
echo "$out" | js "'--rate max: achieved %.0f pps, rx %.0f/s, loss %.2f%%, rtt us min %s p50 %s p99 %s' % (s['achieved_rate'], s['rx_rate'], s['loss_percent'], r.get('min'), r.get('p50'), r.get('p99'))" #: achieved {s[\"achieved_rate\"]:.0f} pps, rx {s[\"rx_rate\"]:.0f}/s, loss {s[\"loss_percent\"]:.2f}%, rtt us min {r.get(\"min\")} p50 {r.get(\"p50\")} p99 {r.get(\"p99\")}'"
if [ -n "$best" ]; then
  echo "$best" | js "'highest rate with <1%% loss: %.0f pps (asked %.0f), loss %.3f%%, jitter %.2f us; rtt us min %s p50 %s p90 %s p99 %s p99.9 %s max %s' % (s['achieved_rate'], s['asked_rate'], s['loss_percent'], s['jitter_us'], r['min'], r['p50'], r['p90'], r['p99'], r['p999'], r['max'])"
fi
$A "$PF" blast --rate 1000 --count 2000 --json 203.0.113.2 2>/dev/null | js "'blast --rate 1000: rtt min %s us, p50 %s us' % (r['min'], r['p50'])"
