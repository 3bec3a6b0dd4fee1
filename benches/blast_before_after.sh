#!/usr/bin/env bash
# blast's live max rate into an XDP-drop peer, two builds against each other: BASE (e.g. main
# before a change) and NEW (the change), rounds interleaved, medians and the NEW/BASE ratio.
#
# One veth pair with 2 queues in a namespace of its own (pfX-bba-<pid>): v0 198.51.100.1 sends,
# v1 drops every frame in its XDP program (benches/xdp_drop.py), so the sender's own cost shows.
# Each run: blast --rate max for DUR seconds (bounded by LCOUNT frames and a 60 s timeout too),
# 60-byte frames to a MAC nobody owns; the rate is the frames DELIVERED to v1 per second while
# the sender sent (benches/rxrate.py). Modes: XDP live frames, AF_XDP, TX ring (1 thread) and
# TX ring with 2 threads. Run by hand as root:
#   sudo BASE=/path/to/old/pktforge NEW=/path/to/new/pktforge ROUNDS=5 bash benches/blast_before_after.sh
set -euo pipefail
ROUNDS=${ROUNDS:-5}
DUR=${DUR:-2}
LCOUNT=${LCOUNT:-100000000}
BATCH=${BATCH:-256}
MODES=${MODES:-"live:1 xdp:1 ring:1 ring:2"}
HERE=$(cd "$(dirname "$0")/.." && pwd)
: "${BASE:?BASE=path of the reference pktforge binary}"
: "${NEW:?NEW=path of the pktforge binary measured against it}"
NS=pfX-bba-$$
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT INT TERM
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces)"; exit 2; }
ip netns add "$NS"; ip -n "$NS" link set lo up
ip -n "$NS" link add v0 numtxqueues 2 numrxqueues 2 type veth peer name v1 numtxqueues 2 numrxqueues 2
ip -n "$NS" addr add 198.51.100.1/24 dev v0; ip -n "$NS" link set v0 up; ip -n "$NS" link set v1 up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" python3 "$HERE/benches/xdp_drop.py" v1 >/dev/null
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
one() { # binary mode threads -> frames/s delivered
  ip netns exec "$NS" python3 "$HERE/benches/rxrate.py" v1 -- timeout 60 "$1" blast -I v0 \
    --dst-mac 02:00:00:00:00:02 -s 18 --rate max --count "$LCOUNT" --duration "$DUR" \
    --threads "$3" --tx-mode "$2" --batch "$BATCH" -W 0 --json 198.51.100.2 | awk '{print $1}'; }
echo "== blast --rate max into an XDP-drop veth peer, ${DUR} s per run, $ROUNDS rounds interleaved" \
  "(BASE then NEW, NEW then BASE alternately), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A B=() N=()
for i in $(seq "$ROUNDS"); do
  for m in $MODES; do
    mode=${m%:*}; th=${m#*:}
    if [ $((i % 2)) = 1 ]; then b=$(one "$BASE" "$mode" "$th"); n=$(one "$NEW" "$mode" "$th")
    else n=$(one "$NEW" "$mode" "$th"); b=$(one "$BASE" "$mode" "$th"); fi
    B[$m]+="$b "; N[$m]+="$n "
    echo "round $i $mode x$th: base $b, new $n frames/s"
  done
done
for m in $MODES; do
  mb=$(echo "${B[$m]}" | tr ' ' '\n' | grep . | median)
  mn=$(echo "${N[$m]}" | tr ' ' '\n' | grep . | median)
  printf "%-8s median base %10s, new %10s frames/s, new/base %s\n" "$m" "$mb" "$mn" \
    "$(python3 -c "print(f'{$mn/max($mb,1):.3f}')")"
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: figures are noisy)"
