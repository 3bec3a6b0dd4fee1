#!/usr/bin/env bash
# CPU cost of a paced blast against trafgen at the same rates (run by hand, as root; never by CI).
#
# Needs (Debian): netsniff-ng (trafgen), iproute2, ethtool, python3, util-linux (taskset), and
# cgroups (v1 cpuacct or v2) to count CPU time.
#
# One veth pair in a namespace this script creates (${NSP}-<pid>): v0 sends, v1 (GRO on, so
# that XDP live frames are delivered) counts. Every sender sends the same 60-byte frames (64 on
# the wire) to a MAC nobody owns for DUR seconds at each rate in RATES, pinned to CPU $CPU:
#   trafgen --rate Npps (netsniff-ng), blast (this tree, --tx-mode auto: live frames on this
#   peer, and --tx-mode xdp: AF_XDP) and, when BASE=path/to/pktforge is given, the same two
#   with that binary (e.g. a build of main, for before/after in the same run).
# For each run: CPU = (user + sys) of the run's cgroup / wall time of the run, and the pacing
# error = frames/s delivered to v1 (its rx_packets, sampled every ms by benches/rxrate.py,
# between its first and last moves) against the rate asked. ROUNDS rounds, every sender in
# turn within a round (interleaved), medians, and each sender's CPU over trafgen's.
# Everything is bounded in count and time and torn down on exit (trap).
set -euo pipefail
RATES=${RATES:-"10000 50000 100000 1000000"}
DUR=${DUR:-3}
ROUNDS=${ROUNDS:-3}
CPU=${CPU:-1}
NSP=${NSP:-pfpace}
BASE=${BASE:-}
HERE=$(cd "$(dirname "$0")/.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HERE/target}
PF=${PF:-$CARGO_TARGET_DIR/release/pktforge}
NS=$NSP-$$
TMP=$(mktemp -d)

cleanup() {
  ip netns del "$NS" 2>/dev/null || true
  [ -n "${CG:-}" ] && rmdir "$CG" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ "$(id -u)" = 0 ] || { echo "run as root (namespaces)"; exit 2; }
command -v trafgen >/dev/null || { echo "install netsniff-ng (trafgen): apt-get install netsniff-ng"; exit 2; }
[ -x "$PF" ] || (cd "$HERE" && cargo build --release --quiet --bin pktforge)

ip netns add "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add v0 type veth peer name v1
ip -n "$NS" addr add 198.51.100.1/24 dev v0
ip -n "$NS" link set v0 up
ip -n "$NS" link set v1 up
ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
ip netns exec "$NS" ethtool -K v1 gro on >/dev/null
SRC_MAC=$(ip -n "$NS" -br link show v0 | awk '{print $3}')
bash "$HERE/benches/trafgen_frame.sh" "$SRC_MAC" >"$TMP/frame.cfg"

# CPU time of everything a run starts (trafgen forks its sender and does not wait for it, so
# the process's own rusage misses it): a cpuacct cgroup (v1) or a cgroup v2 cpu.stat.
if [ -d /sys/fs/cgroup/cpuacct ]; then
  CG=/sys/fs/cgroup/cpuacct/$NS; cg_ns() { cat "$CG/cpuacct.usage"; }
else
  CG=/sys/fs/cgroup/$NS; cg_ns() { awk '/^usage_usec/ {print $2 * 1000}' "$CG/cpu.stat"; }
fi
mkdir "$CG"
# One run: prints "cpu_percent delivered_rate error_percent": CPU = (user + sys) of the
# cgroup over the run's wall time.
run() { # rate command...
  local r=$1; shift
  local got c0 c1 t0 t1
  c0=$(cg_ns); t0=$(date +%s.%N)
  # `ip netns exec` mounts its own /sys: the sender joins the cgroup through an inherited fd.
  got=$(ip netns exec "$NS" python3 "$HERE/benches/rxrate.py" v1 -- \
    bash -c 'echo $$ >&3 && exec taskset -c "$0" timeout "$1" "${@:2}"' \
    "$CPU" $((DUR + 30)) "$@" 3>"$CG/cgroup.procs" | awk '{print $1}')
  t1=$(date +%s.%N); c1=$(cg_ns)
  python3 -c "print(f'{($c1 - $c0) / 1e7 / ($t1 - $t0):.1f} $got {($got - $r) / $r * 100:+.3f}')"
}
blast() { # binary tx-mode rate
  run "$3" "$1" blast -I v0 --dst-mac 02:00:00:00:00:02 -s 18 --rate "$3" --count $(($3 * DUR)) \
    --duration "$((DUR + 5))" --tx-mode "$2" -W 0 --json 198.51.100.2; }
traf() { run "$1" trafgen --dev v0 --conf "$TMP/frame.cfg" --rate "${1}pps" --num $(($1 * DUR)) --cpus 1 -C; }

SENDERS="trafgen blast-live blast-xdp"
[ -n "$BASE" ] && SENDERS="$SENDERS base-live base-xdp"
echo "== paced TX on one veth pair (GRO peer), 60-byte frames, $DUR s a run, $ROUNDS rounds, pinned to CPU $CPU;" \
  "$(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A C=() E=()
for i in $(seq "$ROUNDS"); do
  for r in $RATES; do
    for s in $SENDERS; do
      case $s in
        trafgen) out=$(traf "$r") ;;
        blast-live) out=$(blast "$PF" auto "$r") ;;
        blast-xdp) out=$(blast "$PF" xdp "$r") ;;
        base-live) out=$(blast "$BASE" auto "$r") ;;
        base-xdp) out=$(blast "$BASE" xdp "$r") ;;
      esac
      set -- $out
      C[$s/$r]+="$1 "
      E[$s/$r]+="$3 "
      echo "round $i, $r pps, $s: CPU $1%, delivered $2/s ($3%)"
    done
  done
done
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== medians: CPU % of one core (user+sys over wall), pacing error (delivered vs asked), CPU / trafgen's"
for r in $RATES; do
  t=$(echo "${C[trafgen/$r]}" | median)
  for s in $SENDERS; do
    c=$(echo "${C[$s/$r]}" | median)
    e=$(echo "${E[$s/$r]}" | median)
    printf "%8s pps %-11s CPU %6s%%  error %8s%%  CPU/trafgen %s   (CPU runs: %s; error runs: %s)\n" \
      "$r" "$s" "$c" "$e" "$(python3 -c "print(f'{$c / max($t, 0.1):.2f}x')")" "${C[$s/$r]}" "${E[$s/$r]}"
  done
done
