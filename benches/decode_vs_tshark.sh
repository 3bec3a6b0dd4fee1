#!/usr/bin/env bash
# Decode speed and memory: `pktforge decode --json` against `tshark -T json` on the same
# COUNT-frame pcap (written by benches/gen_frames.py: varied ICMP, UDP, DNS, TCP, ARP, VLAN
# frames, no network needed), interleaved round by round, both pinned to the same core, output
# to /dev/null; medians and the ratio. Peak RSS of each on a SMALL-frame and the COUNT-frame
# file shows whether memory grows with the file. Every command is bounded by a timeout.
# Usage: benches/decode_vs_tshark.sh [PKTFORGE] [ROUNDS] [COUNT] [SMALL]
# Defaults: target/release/pktforge 3 1000000 100000. Env CPU (1): the core to pin to.
set -euo pipefail
PF=${1:-target/release/pktforge}
ROUNDS=${2:-3}
COUNT=${3:-1000000}
SMALL=${4:-100000}
CPU=${CPU:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
D=$(mktemp -d /tmp/pfd.XXXXXX)
trap 'rm -rf "$D"' EXIT
python3 "$HERE/gen_frames.py" "$COUNT" "$D/big.pcap"
python3 "$HERE/gen_frames.py" "$SMALL" "$D/small.pcap"
echo "files: $COUNT frames $(stat -c %s "$D/big.pcap") bytes, $SMALL frames $(stat -c %s "$D/small.pcap") bytes"

# run NAME FILE CMD...: "seconds peak_rss_kB" of one bounded run, stdout discarded.
run() {
    local file=$1; shift
    /usr/bin/time -f "%e %M" -o "$D/time" timeout 3600 taskset -c "$CPU" "$@" "$file" \
        > /dev/null 2> "$D/err" || { echo "failed: $* $file" >&2; tail -3 "$D/err" >&2; }
    tail -1 "$D/time"
}
pf() { run "$1" "$PF" decode --json -r; }
ts() { run "$1" tshark -T json -r; }

echo "round pktforge_s pktforge_rss_kB tshark_s tshark_rss_kB"
: > "$D/rows"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) -eq 1 ]; then a=$(pf "$D/big.pcap"); b=$(ts "$D/big.pcap")
    else b=$(ts "$D/big.pcap"); a=$(pf "$D/big.pcap"); fi
    echo "$r $a $b" | tee -a "$D/rows"
done
sa=$(pf "$D/small.pcap"); sb=$(ts "$D/small.pcap")
python3 - "$D/rows" "$COUNT" "$SMALL" "$sa" "$sb" <<'PY'
import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1]) if l.strip()]
count, small = int(sys.argv[2]), int(sys.argv[3])
pf = statistics.median(r[1] for r in rows); ts = statistics.median(r[3] for r in rows)
pfm = max(r[2] for r in rows); tsm = max(r[4] for r in rows)
spf, spm = map(float, sys.argv[4].split()); sts, stm = map(float, sys.argv[5].split())
print(f"decode --json of {count} frames: pktforge median {pf:.2f} s ({count / pf:,.0f} frames/s), "
      f"tshark -T json median {ts:.2f} s ({count / ts:,.0f} frames/s): tshark/pktforge {ts / pf:.1f}x "
      f"over {len(rows)} rounds")
print(f"peak RSS: pktforge {spm / 1024:.1f} MiB ({small} frames) vs {pfm / 1024:.1f} MiB ({count}); "
      f"tshark {stm / 1024:.1f} MiB vs {tsm / 1024:.1f} MiB")
PY
