#!/usr/bin/env bash
# Compare two pktforge builds' blast maximum rate on the same veth pair, rounds interleaved
# (run by hand, as root; never by CI):  sudo bash benches/compare.sh OLD_BINARY NEW_BINARY
#
# A namespace of its own (pfcmp-<pid>) holds v0 (198.51.100.1/24) <-> v1 (up, no address). Each
# binary sends COUNT 60-byte echo requests at --rate max to 198.51.100.2 with a destination MAC
# nobody owns (v1's stack drops them as OTHERHOST), one core (taskset), TX mode TXMODE. What
# counts is what arrived: v1's rx_packets over the sender's whole-process wall time. REPS
# rounds, alternating old and new; medians and the new/old ratio are printed. Bounded in count
# and time; the namespace is removed on exit.
set -euo pipefail
OLD=${1:?old binary}
NEW=${2:?new binary}
COUNT=${COUNT:-1000000}
REPS=${REPS:-5}
TXMODE=${TXMODE:-xdp}
NS=pfcmp-$$
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT INT TERM
[ "$(id -u)" = 0 ] || { echo "run as root (namespaces)"; exit 2; }
ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" addr add 198.51.100.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1

rx() { ip netns exec "$NS" cat /sys/class/net/v1/statistics/rx_packets; }
run() { # binary -> delivered frames/s
  local before after t0 t1
  before=$(rx)
  t0=$(date +%s.%N)
  ip netns exec "$NS" timeout 60 taskset -c 1 "$1" blast -I v0 --dst-mac 02:00:00:00:00:02 \
    --rate max -c "$COUNT" --wait 0 --tx-mode "$TXMODE" --json 198.51.100.2 >/dev/null 2>&1 || true
  t1=$(date +%s.%N)
  after=$(rx)
  python3 -c "print(($after - $before) / ($t1 - $t0))"
}
median() { python3 -c "import sys,statistics; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
olds=(); news=()
for r in $(seq "$REPS"); do
  o=$(run "$OLD"); n=$(run "$NEW")
  olds+=("$o"); news+=("$n")
  printf 'round %d: old %.0f  new %.0f frames/s\n' "$r" "$o" "$n"
done
mo=$(median "${olds[@]}"); mn=$(median "${news[@]}")
printf 'median: old %.0f  new %.0f frames/s  new/old %.3f\n' "$mo" "$mn" "$(python3 -c "print($mn/$mo)")"
