#!/usr/bin/env bash
# Live-frame TX, 1 thread against 2 threads (and trafgen as the reference), interleaved rounds,
# into a GRO peer and an XDP-drop peer on a 2-queue veth pair in a namespace of its own
# (pflt-<pid>). Frames DELIVERED to the peer per second while the sender sent
# (benches/rxrate.py). Run by hand as root; bounded by COUNT frames and a timeout per run.
# blast runs for DUR seconds (so that two threads start and stop together: with a count, the
# thread that finishes first leaves the other sending alone for a while), bounded by LCOUNT too.
#   sudo ROUNDS=6 DUR=3 TCOUNT=3000000 bash benches/live_threads.sh
set -euo pipefail
ROUNDS=${ROUNDS:-6}
DUR=${DUR:-3}                # seconds per blast run
LCOUNT=${LCOUNT:-200000000}  # and at most this many frames
TCOUNT=${TCOUNT:-3000000}    # frames per trafgen run
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
PF=$CARGO_TARGET_DIR/release/pktforge
NS=pflt-$$
TMP=$(mktemp -d)
trap 'ip netns del "$NS" 2>/dev/null || true; rm -rf "$TMP"' EXIT INT TERM
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces)"; exit 2; }
command -v trafgen >/dev/null || { echo "install netsniff-ng (trafgen)"; exit 2; }
(cd "$HERE" && cargo build --release --quiet --bin pktforge)
ip netns add "$NS"; ip -n "$NS" link set lo up
ip -n "$NS" link add v0 numtxqueues 2 numrxqueues 2 type veth peer name v1 numtxqueues 2 numrxqueues 2
ip -n "$NS" addr add 198.51.100.1/24 dev v0; ip -n "$NS" link set v0 up; ip -n "$NS" link set v1 up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
MAC=$(ip -n "$NS" -br link show v0 | awk '{print $3}')
bash "$HERE/benches/trafgen_frame.sh" "$MAC" > "$TMP/frame.cfg"
R="ip netns exec $NS python3 $HERE/benches/rxrate.py v1 --"
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for sink in gro xdp; do
  ip netns exec "$NS" python3 "$HERE/benches/xdp_drop.py" v1 --off >/dev/null 2>&1 || true
  ip netns exec "$NS" ethtool -K v1 gro off >/dev/null 2>&1 || true
  case $sink in
    xdp) ip netns exec "$NS" python3 "$HERE/benches/xdp_drop.py" v1 >/dev/null ;;
    gro) ip netns exec "$NS" ethtool -K v1 gro on >/dev/null ;;
  esac
  T=() L1=() L2=() Q=()
  for i in $(seq "$ROUNDS"); do
    t=$($R timeout 120 trafgen --dev v0 --conf "$TMP/frame.cfg" --num "$TCOUNT" --cpus 1 -C | awk '{print $1}')
    a=$($R timeout 120 "$PF" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate max --count "$LCOUNT" --duration "$DUR" \
      --threads 1 --tx-mode live -W 0 --json 198.51.100.2 | awk '{print $1}')
    b=$($R timeout 120 "$PF" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate max --count "$LCOUNT" --duration "$DUR" \
      --threads 2 --tx-mode live -W 0 --json 198.51.100.2 | awk '{print $1}')
    T+=("$t"); L1+=("$a"); L2+=("$b"); Q+=("$(python3 -c "print(f'{$b/max($a,1):.2f}')")")
    echo "$sink round $i: trafgen $t, live 1 thread $a, live 2 threads $b (2/1 = ${Q[-1]})"
  done
  mt=$(printf '%s\n' "${T[@]}" | median); m1=$(printf '%s\n' "${L1[@]}" | median)
  m2=$(printf '%s\n' "${L2[@]}" | median); mq=$(printf '%s\n' "${Q[@]}" | median)
  echo "$sink medians: trafgen $mt, live 1 thread $m1, live 2 threads $m2 frames/s;" \
    "live1/trafgen $(python3 -c "print(f'{$m1/$mt:.2f}')")x, live2/live1 $(python3 -c "print(f'{$m2/$m1:.2f}')")x" \
    "(median of the per-round ratios ${mq}x)"
done
