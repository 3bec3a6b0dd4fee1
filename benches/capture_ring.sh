#!/usr/bin/env bash
# What a capture's receive ring costs and holds, for one or more pktforge binaries (e.g. before
# and after a change), interleaved round by round on the same veth pair:
#  - its memory: the size and resident bytes of the ring mapping (/proc/PID/smaps);
#  - a stalled reader: trafgen sends COUNT 64-byte frames at RATE frames/s while the capture is
#    stopped (SIGSTOP) for STALL seconds, then resumed: frames kept in the file and the
#    kernel's drop counter;
#  - whole frames: the largest frame of a ping -s 8000 after the MTU was raised to 9000 while
#    the capture ran (frame.len / frame.cap_len by tshark).
# Runs as root in its own namespaces (prefix pfr), deleted on exit; bounded in count and time.
# Usage: benches/capture_ring.sh ROUNDS PKTFORGE [PKTFORGE...]
# Env: COUNT (3000), RATE (1000), STALL (1.5)
set -euo pipefail
ROUNDS=${1:-3}; shift
COUNT=${COUNT:-3000}; RATE=${RATE:-1000}; STALL=${STALL:-1.5}
S=pfr-s$$; R=pfr-r$$
D=$(mktemp -d /tmp/pfr.XXXXXX)
cleanup() { ip netns del "$S" 2>/dev/null || true; ip netns del "$R" 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
ip netns add "$S"; ip netns add "$R"
ip link add pfr-s netns "$S" type veth peer name pfr-r netns "$R"
for n in "$S:pfr-s:192.0.2.2" "$R:pfr-r:192.0.2.1"; do
    ns=${n%%:*}; rest=${n#*:}; dev=${rest%%:*}; addr=${rest#*:}
    ip -n "$ns" link set lo up; ip -n "$ns" link set "$dev" up
    ip -n "$ns" addr add "$addr/24" dev "$dev"
done
cat > "$D/frame.cfg" <<'CFG'
{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x99,  0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  c16(0x0800),
  0x45, 0x00, c16(46), 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
  192, 0, 2, 2,  192, 0, 2, 1,  c16(9), c16(9), c16(26), 0x00, 0x00, fill(0x00, 18) }
CFG
gap_us=$(python3 -c "print(int(1e6/$RATE))")
echo "round binary ring_kB ring_rss_kB stall_kept stall_drops sent largest_len largest_caplen"
for round in $(seq 1 "$ROUNDS"); do
    i=0
    for PF in "$@"; do
        i=$((i + 1))
        for d in pfr-s pfr-r; do
            ns=$S; [ $d = pfr-r ] && ns=$R
            ip -n "$ns" link set "$d" mtu 1500
        done
        rm -f "$D"/*.pcap
        ip netns exec "$R" timeout 60 "$PF" capture -i pfr-r -Q in -w "$D/c.pcap" --duration 30 \
            'udp or icmp' 2> "$D/c.err" &
        pf=$!
        sleep 1
        cpid=$(pgrep -P "$pf" -f "capture -i pfr-r" || echo "$pf")
        # The ring: the shared mapping of the packet socket.
        ring=$(awk '/socket:/ {s=1; next} s && /^Size:/ {sz=sz (sz ? "+" : "") $2} s && /^Rss:/ {r=r (r ? "+" : "") $2; s=0} END {print sz, r}' \
            "/proc/$cpid/smaps")
        ip netns exec "$S" timeout 60 trafgen --dev pfr-s -c "$D/frame.cfg" -n "$COUNT" -t "${gap_us}us" -q \
            > /dev/null 2>&1 &
        tg=$!
        sleep 0.3
        kill -STOP "$cpid"; sleep "$STALL"; kill -CONT "$cpid"
        wait "$tg" || true
        for d in pfr-s pfr-r; do
            ns=$S; [ $d = pfr-r ] && ns=$R
            ip -n "$ns" link set "$d" mtu 9000
        done
        ip netns exec "$S" ping -c 1 -W 2 -s 8000 -M do 192.0.2.1 > /dev/null || true
        sleep 0.5
        kill -INT "$cpid" 2>/dev/null || true
        wait "$pf" 2>/dev/null || true
        kept=$(tshark -r "$D/c.pcap" -Y udp 2>/dev/null | wc -l)
        drops=$(grep -o '[0-9]* dropped by kernel' "$D/c.err" | grep -o '^[0-9]*' || echo '?')
        big=$(tshark -r "$D/c.pcap" -Y icmp -T fields -e frame.len -e frame.cap_len 2>/dev/null \
            | sort -n | tail -1 | tr '\t' ' ')
        echo "$round $i ${ring% *} ${ring#* } $kept $drops $COUNT ${big:-none}"
    done
done
