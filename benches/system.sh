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
# Part 1 also runs blast --tx-mode live (XDP live frames, 1 and 2 threads). SINK=gro turns GRO
#   on on v1 (veth NAPI: what live frames need); SINK=both (default) runs every sender into a
#   GRO peer and then into an XDP-drop peer. Rates are frames DELIVERED (v1's rx_packets, which
#   counts XDP-dropped frames too) while the sender sent: benches/rxrate.py samples the counter
#   every millisecond and divides the frames between its first and last moves by the time
#   between them (start-up and teardown left out, for every sender alike).
# Part 3, on one veth pair (pfbench3-<pid>: a 198.51.100.1 <-> b 198.51.100.2, the kernel; a
#   reflector answers 198.51.100.9 in b), blast sending live frames (TXMODE=xdp: AF_XDP copy):
#   for the kernel and the reflector in each mode (xdp: in-kernel XDP_TX; packet: user space),
#   the highest achieved rate with < 1% loss (ramp RATES, stopped where the sender cannot go
#   faster), RTT percentiles at 50 kpps, blast's receive capacity (rx/s of replies classified
#   at --rate max) and blast's peak RSS for 2 s and 8 s at --rate max.
# Everything is bounded in count and time and torn down on exit (trap).
set -euo pipefail
COUNT=${COUNT:-2000000}
REPS=${REPS:-5}
BATCH=${BATCH:-256}   # frames per syscall for the TX part (blast --batch)
BDUR=${BDUR:-2}       # seconds per blast run in the TX part (trafgen and the pnet loop: COUNT frames)
SINK=${SINK:-both}    # stack | gro | xdp | both (gro, then xdp)
RATES=${RATES:-"20000 50000 100000 200000 400000 800000 1600000 3200000"}   # part 3's ramp (pps)
RDUR=${RDUR:-2}       # seconds per ramp step (each step also bounded by --count)
MAXCOUNT=${MAXCOUNT:-3000000}   # part 3's --rate max runs
TXMODE=${TXMODE:-live}          # part 3's sender (live frames; xdp = AF_XDP copy mode)
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
NS=pfbench-$$
NS2=pfbench2-$$
NS3A=pfbench3a-$$
NS3B=pfbench3b-$$
LABP=pfbl$$
PF=$CARGO_TARGET_DIR/release/pktforge
LOOP=$CARGO_TARGET_DIR/release/examples/pnet_loop
TMP=$(mktemp -d)

cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  ip netns del "$NS2" 2>/dev/null || true
  ip netns del "$NS3A" 2>/dev/null || true
  ip netns del "$NS3B" 2>/dev/null || true
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
}
setsink() { # ns sink
  ip netns exec "$1" python3 "$HERE/benches/xdp_drop.py" v1 --off >/dev/null 2>&1 || true
  ip netns exec "$1" ethtool -K v1 gro off >/dev/null 2>&1 || true
  case "$2" in
    xdp) ip netns exec "$1" python3 "$HERE/benches/xdp_drop.py" v1 >/dev/null ;;
    gro) ip netns exec "$1" ethtool -K v1 gro on >/dev/null ;;
  esac
}
mkpair "$NS" 1
mkpair "$NS2" 2
SRC_MAC=$(ip -n "$NS" -br link show v0 | awk '{print $3}')

# The same 60-byte frame for trafgen: Ethernet + IPv4 + ICMP echo, 18 data bytes.
bash "$HERE/benches/trafgen_frame.sh" "$SRC_MAC" > "$TMP/frame.cfg"

now() { date +%s.%N; }
# The summary record of a JSON Lines run (blast and reflect also print start/notice records).
js() { python3 -c "import json,sys; L=[json.loads(l) for l in sys.stdin if l.startswith('{')]; S=[x for x in L if x.get('type')=='summary'] or L; s=S[-1]; r=s.get('rtt_us') or {}; print($1)"; }
rx() { ip netns exec "$1" cat /sys/class/net/v1/statistics/rx_packets; }
# Frames delivered to v1 (rx_packets delta) over the wall time: rate ns t0 t1 rx0
rate() { python3 -c "print(f'{($(rx "$1")-$4)/($3-$2):.0f}')"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# Frames delivered to v1 while the sender sent (benches/rxrate.py samples v1's rx_packets every
# millisecond: frames between the first and last moves over the time between them, so the
# sender's start-up and teardown are left out for every sender alike).
delivered() { # ns command...
  local ns=$1; shift
  ip netns exec "$ns" python3 "$HERE/benches/rxrate.py" v1 -- "$@" | awk '{print $1}'; }
run_trafgen() {
  delivered "$NS" timeout 120 trafgen --dev v0 --conf "$TMP/frame.cfg" --num "$COUNT" --cpus 1 -C; }
# blast runs for BDUR seconds (bounded by 50×COUNT frames too): its threads then start and stop
# together (with a count split between them, the first to finish leaves the other alone).
run_blast() { # ns threads tx-mode (exit status 1, no replies, is expected on a sink)
  delivered "$1" timeout 120 "$PF" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate max \
    --count $((COUNT * 50)) --duration "$BDUR" --threads "$2" --tx-mode "$3" --batch "$BATCH" -W 0 \
    --json 198.51.100.2; }
run_pnet() { delivered "$NS" timeout 120 "$LOOP" v0 "$COUNT" 60; }
ratio() { python3 -c "print(f'{$1/max($2,1):.2f}x')"; }

case "$SINK" in both) SINKS="gro xdp" ;; *) SINKS=$SINK ;; esac
for sink in $SINKS; do
setsink "$NS" "$sink"; setsink "$NS2" "$sink"

echo "== TX, 60-byte frames (64 on the wire), trafgen and pnet $COUNT frames, blast ${BDUR} s, x $REPS rounds, blast --batch $BATCH, veth sink: $sink, $(nproc) cores, $(uname -r)"
declare -A R=()
for i in $(seq "$REPS"); do
  R[trafgen]+="$(run_trafgen) "
  R[live1]+="$(run_blast "$NS" 1 live) "
  R[live2]+="$(run_blast "$NS2" 2 live) "
  R[xdp1]+="$(run_blast "$NS" 1 xdp) "
  R[ring1]+="$(run_blast "$NS" 1 ring) "
  R[mmsg1]+="$(run_blast "$NS" 1 sendmmsg) "
  R[xdp2]+="$(run_blast "$NS2" 2 xdp) "
  R[ring2]+="$(run_blast "$NS2" 2 ring) "
  R[pnet]+="$(run_pnet) "
done
declare -A M
declare -A M=()
for k in trafgen live1 live2 xdp1 ring1 mmsg1 xdp2 ring2 pnet; do
  M[$k]=$(echo "${R[$k]}" | tr ' ' '\n' | grep . | median)
  printf "%-34s median %10s frames/s   runs: %s\n" "$k" "${M[$k]}" "${R[$k]}"
done
echo "pktforge live, 1 thread / trafgen:       $(ratio "${M[live1]}" "${M[trafgen]}")"
echo "pktforge live, 1 thread / AF_XDP:         $(ratio "${M[live1]}" "${M[xdp1]}")"
echo "pktforge live, 2 threads / 1 thread:      $(ratio "${M[live2]}" "${M[live1]}")"
echo "pktforge AF_XDP, 1 thread / trafgen:      $(ratio "${M[xdp1]}" "${M[trafgen]}")"
echo "pktforge AF_XDP, 1 thread / pnet loop:    $(ratio "${M[xdp1]}" "${M[pnet]}")"
echo "pktforge AF_XDP, 2 threads / 1 thread:    $(ratio "${M[xdp2]}" "${M[xdp1]}")"
echo "pktforge ring, 1 thread / trafgen:        $(ratio "${M[ring1]}" "${M[trafgen]}")"
echo "pktforge sendmmsg, 1 thread / trafgen:    $(ratio "${M[mmsg1]}" "${M[trafgen]}")"
echo "pktforge ring, 1 thread / pnet loop:      $(ratio "${M[ring1]}" "${M[pnet]}")"
echo "pktforge ring, 2 threads / 1 thread:      $(ratio "${M[ring2]}" "${M[ring1]}")"
echo "(every rate is frames delivered to v1 while the sender sent, counted on v1: benches/rxrate.py)"
if [ "$sink" = gro ]; then # pacing: the rate delivered against the rate asked
  for r in 10000 100000 1000000; do
    got=$(delivered "$NS" timeout 60 "$PF" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate "$r" \
      --count $((r * 2)) --tx-mode live -W 0 --json 198.51.100.2)
    echo "live pacing: asked $r pps, delivered $got pps ($(python3 -c "print(f'{($got - $r) / $r * 100:+.3f}%')"))"
  done
fi
done

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

echo
echo "== One veth pair: the kernel vs the reflector answering echo (a 198.51.100.1 -> b)"
ip netns add "$NS3A"; ip netns add "$NS3B"
for n in "$NS3A" "$NS3B"; do ip -n "$n" link set lo up; ip netns exec "$n" sysctl -qw net.ipv6.conf.all.disable_ipv6=1; done
ip -n "$NS3A" link add v0 type veth peer name v1 netns "$NS3B"
ip -n "$NS3A" addr add 198.51.100.1/24 dev v0; ip -n "$NS3A" link set v0 up
ip -n "$NS3B" addr add 198.51.100.2/24 dev v1; ip -n "$NS3B" link set v1 up
# Live frames a -> b need NAPI on b's side (GRO, or the XDP reflector's program); the XDP
# reflector's XDP_TX replies b -> a need an XDP program on a's side: blast's live-frame program
# is attached there in native mode while it runs.
ip netns exec "$NS3B" ethtool -K v1 gro on >/dev/null
A3="ip netns exec $NS3A"
blast3() { # dest rate args...: one bounded run, JSON summary
  local d=$1 r=$2; shift 2
  local c
  case $r in max) c=$((MAXCOUNT)) ;; *) c=$(python3 -c "print(int(max(1000, min($r * $RDUR, 10000000))))") ;; esac
  timeout $((RDUR + 20)) $A3 "$PF" blast -I v0 --tx-mode "$TXMODE" --rate "$r" --count "$c" --duration "$RDUR" -W 1 --json "$@" "$d" 2>/dev/null | grep '^{' | tail -1 || true
}
for responder in kernel xdp packet; do
  refl=""
  if [ "$responder" = kernel ]; then dest=198.51.100.2; else
    dest=198.51.100.9
    # xdp: the default mode, which moves echo into XDP once blast's program is on v0 (--mode xdp
    # is refused while v0 takes no XDP frames).
    mode=$responder; [ "$mode" = xdp ] && mode=auto
    timeout 600 ip netns exec "$NS3B" "$PF" reflect -I v1 --ip 198.51.100.9/24 --mode "$mode" --json \
      >"$TMP/refl-$responder.json" 2>"$TMP/refl-$responder.err" & refl=$!
    sleep 1
  fi
  best=none
  for r in $RATES; do
    out=$(blast3 "$dest" "$r")
    [ -n "$out" ] || break
    loss=$(echo "$out" | js "s['loss_percent']")
    ach=$(echo "$out" | js "round(s['achieved_rate'])")
    echo "$responder: asked $r pps, achieved $ach pps, loss $loss%, unmatched $(echo "$out" | js "s['sent'] - s['received']")"
    if python3 -c "import sys; sys.exit(0 if $loss < 1 else 1)"; then
      best=$(python3 -c "print(max($ach, ${best/none/0}))"); else break; fi
    # The sender's own limit: asking more would not send more.
    python3 -c "import sys; sys.exit(0 if $ach > 0.9 * $r else 1)" || break
  done
  echo "$responder: highest achieved rate with < 1% loss: $best pps"
  out=$(blast3 "$dest" 50000)
  [ -n "$out" ] && echo "$out" | js "'$responder at 50 kpps: loss %.3f%%, rtt us p50 %s p90 %s p99 %s max %s' % (s['loss_percent'], r['p50'], r['p90'], r['p99'], r['max'])"
  out=$(blast3 "$dest" max)
  [ -n "$out" ] && echo "$out" | js "'$responder at --rate max: sent %.0f/s, replies classified (blast rx) %.0f/s, loss %.2f%%' % (s['achieved_rate'], s['rx_rate'], s['loss_percent'])"
  if [ "$responder" = xdp ]; then # blast's peak RSS, short and 4x longer: flat?
    for d in 2 8; do
      /usr/bin/time -f "%M" -o "$TMP/rss" timeout $((d + 20)) $A3 "$PF" blast -I v0 --tx-mode "$TXMODE" \
        --rate max --count 100000000 --duration "$d" -W 1 --json "$dest" >"$TMP/rss.json" 2>/dev/null || true
      echo "blast --rate max --duration $d into the xdp reflector: peak RSS $(tail -1 "$TMP/rss") KiB," \
        "$(grep '"summary"' "$TMP/rss.json" | js "'%d frames sent, loss %.3f%%' % (s['sent'], s['loss_percent'])")"
    done
  fi
  if [ -n "$refl" ]; then
    kill -INT "$refl" 2>/dev/null || true; wait "$refl" 2>/dev/null || true
    grep '"summary"' "$TMP/refl-$responder.json" | js "'reflector counters: mode %s, echo in XDP %s, in user space %s, XDP tx failed %s' % (s['mode'], s['xdp_echo_replies'], s['echo_replies'], s['xdp_tx_failed'])" || cat "$TMP/refl-$responder.err"
  fi
done
