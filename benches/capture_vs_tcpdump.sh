#!/usr/bin/env bash
# Capture completeness at rate: `pktforge capture -w` and `tcpdump -w` on the same interface at
# the same time while another namespace floods it with COUNT 64-byte frames at the maximum rate
# (trafgen, bounded in count and time). Prints, per run, the frames each kept (counted by
# tcpdump -r on each file) and the kernel drops each reported. (Decode speed against tshark:
# benches/decode_vs_tshark.sh.)
# Runs as root in its own namespaces (prefix pfb), which it deletes on exit.
# Usage: benches/capture_vs_tcpdump.sh [PKTFORGE] [RUNS] [COUNT]
set -euo pipefail
PF=${1:-target/release/pktforge}
RUNS=${2:-3}
COUNT=${3:-2000000}
S=pfb-s$$; R=pfb-r$$
D=$(mktemp -d /tmp/pfb.XXXXXX)
cleanup() { ip netns del "$S" 2>/dev/null || true; ip netns del "$R" 2>/dev/null || true; rm -rf "$D"; }
trap cleanup EXIT
ip netns add "$S"; ip netns add "$R"
ip link add pfb-s netns "$S" type veth peer name pfb-r netns "$R"
for n in "$S:pfb-s" "$R:pfb-r"; do ip -n "${n%%:*}" link set lo up; ip -n "${n%%:*}" link set "${n#*:}" up; done
# 64-byte frames to a MAC nobody owns (the receiver's stack drops them as OTHERHOST).
cat > "$D/frame.cfg" <<'CFG'
{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x99,  0x02, 0x00, 0x00, 0x00, 0x00, 0x01,  c16(0x0800),
  0x45, 0x00, c16(46), 0x00, 0x00, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00,
  192, 0, 2, 2,  192, 0, 2, 1,  c16(9), c16(9), c16(26), 0x00, 0x00, fill(0x00, 18) }
CFG
echo "run pktforge_kept pktforge_drops tcpdump_kept tcpdump_drops sent"
for run in $(seq 1 "$RUNS"); do
    rm -f "$D"/*.pcap
    ip netns exec "$R" timeout 120 "$PF" capture -i pfb-r -w "$D/pf.pcap" --duration 60 \
        2> "$D/pf.err" &
    pf=$!
    ip netns exec "$R" timeout 120 tcpdump -i pfb-r -w "$D/td.pcap" 2> "$D/td.err" &
    td=$!
    sleep 2
    ip netns exec "$S" timeout 100 trafgen --dev pfb-s -c "$D/frame.cfg" -n "$COUNT" -q \
        > /dev/null 2>&1 || true
    sleep 2
    kill -INT "$pf" "$td" 2>/dev/null || true
    wait "$pf" "$td" 2>/dev/null || true
    pfk=$(tcpdump -r "$D/pf.pcap" 2>/dev/null | wc -l)
    tdk=$(tcpdump -r "$D/td.pcap" 2>/dev/null | wc -l)
    pfd=$(grep -o '[0-9]* dropped by kernel' "$D/pf.err" | grep -o '^[0-9]*' || echo '?')
    tdd=$(grep -o '[0-9]* packets dropped by kernel' "$D/td.err" | grep -o '^[0-9]*' || echo '?')
    echo "$run $pfk $pfd $tdk $tdd $COUNT"
done
