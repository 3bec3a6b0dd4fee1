#!/usr/bin/env bash
# Compare `pktforge capture -r FILE` with `tcpdump -nn -r FILE` line by line, over every capture
# file given (or every *.pcap / *.pcapng under the directories given), and report the share of
# TCP/UDP lines that are equal up to the transport's `length N` (tcpdump goes on to decode
# applications; pktforge stops there), and of ICMP6 lines equal whole. Also counts the files
# each tool reads whole.
#
# Usage: benches/oneline_vs_tcpdump.sh [-e] [-v] FILE|DIR...
#   -e, -v: passed to both tools (link level; IP header fields).
# Environment: PKTFORGE (default target/debug/pktforge), KEEP=DIR keeps the differing lines.
set -u
flags=()
while [[ $# -gt 0 && $1 == -* ]]; do flags+=("$1"); shift; done
PKTFORGE=${PKTFORGE:-${CARGO_TARGET_DIR:-target}/debug/pktforge}
files=()
for a in "$@"; do
    if [[ -d $a ]]; then
        while IFS= read -r f; do files+=("$f"); done < <(find "$a" -type f \( -name '*.pcap' -o -name '*.pcapng' \) | sort)
    else
        files+=("$a")
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for f in "${files[@]}"; do
    TZ=UTC tcpdump -nn "${flags[@]}" -r "$f" >"$tmp/t" 2>/dev/null; trc=$?
    # -q: tcpdump names the transport (`tcp N`, `UDP, length N`) without decoding further,
    # which tells the TCP and UDP packets apart from SCTP, DCCP and the rest.
    TZ=UTC tcpdump -nn -q -r "$f" >"$tmp/q" 2>/dev/null
    TZ=UTC "$PKTFORGE" capture "${flags[@]}" -r "$f" >"$tmp/p" 2>/dev/null; prc=$?
    printf '%s\t%s\t%s\n' "$f" "$trc" "$prc" >>"$tmp/files"
    python3 - "$tmp/t" "$tmp/p" "$f" "$tmp/q" >>"$tmp/rows" <<'EOF'
import re, sys
def packets(path):
    out, cur = [], None
    for l in open(path, errors="replace"):
        l = l.rstrip("\n")
        if re.match(r"^\d\d:\d\d:\d\d\.\d+ ", l):
            if cur is not None:
                out.append(cur)
            cur = l.split(" ", 1)[1]
        elif cur is not None:
            cur += "\n" + l
    if cur is not None:
        out.append(cur)
    return out
t, p, name, q = packets(sys.argv[1]), packets(sys.argv[2]), sys.argv[3], packets(sys.argv[4])
# A TCP or UDP packet: tcpdump -q says `tcp N` or `UDP, length N` right after the ports.
transport = re.compile(r"\.\d+ > [0-9a-f.:]+\.\d+: (tcp \d+|UDP, )")
# The transport part of the full line: the flags or `UDP, ...` right after the ports, up to
# the transport's length.
ports = re.compile(r"\.\d+ > [0-9a-f.:]+\.\d+: ")
if len(q) != len(t):
    q = [""] * len(t)
for i, tl in enumerate(t):
    pl = p[i] if i < len(p) else ""
    if " ICMP6, " in tl:
        # ICMPv6 (echo, errors, NDP, MLD) is compared whole, -v continuation lines included.
        print(f"icmp6\t{int(tl == pl)}\t{name}\t{tl!r}\t{pl!r}")
        continue
    if not transport.search(q[i]):
        continue
    m = ports.search(tl)
    if m is None:
        continue
    rest = tl[m.end():]
    cut = re.match(r"(Flags \[[^\]]*\].*?, length \d+|UDP, (bad )?length \d+( > \d+)?)", rest)
    if cut:
        kind = "transport"
        tl2 = tl[: m.end() + cut.end()]
    else:
        # tcpdump decoded an application (DNS, NTP, Geneve, ...) right after the ports.
        kind = "application"
        tl2 = tl[: m.end()]
    pl2 = pl[: len(tl2)]
    print(f"{kind}\t{int(tl2 == pl2)}\t{name}\t{tl2!r}\t{pl2!r}")
EOF
done
python3 - "$tmp/files" "$tmp/rows" "${KEEP:-}" <<'EOF'
import sys, collections
files = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[2])] if open(sys.argv[2], "a+") else []
keep = sys.argv[3]
tread = sum(1 for f in files if f[1] == "0")
both = sum(1 for f in files if f[1] == "0" and f[2] == "0")
print(f"files: {len(files)}, read by tcpdump: {tread}, of them read by pktforge: {both}")
for kind in ("transport", "application"):
    r = [x for x in rows if x[0] == kind]
    eq = sum(int(x[1]) for x in r)
    pct = 100.0 * eq / len(r) if r else 0.0
    what = "TCP/UDP lines up to 'length N'" if kind == "transport" else "TCP/UDP lines tcpdump decodes further (compared up to the ports)"
    print(f"{what}: {eq} of {len(r)} equal ({pct:.1f}%)")
r = [x for x in rows if x[0] == "icmp6"]
eq = sum(int(x[1]) for x in r)
print(f"ICMP6 lines (whole): {eq} of {len(r)} equal ({100.0 * eq / max(len(r), 1):.1f}%)")
r = [x for x in rows if x[0] != "icmp6"]
eq = sum(int(x[1]) for x in r)
print(f"all TCP/UDP lines: {eq} of {len(r)} equal ({100.0 * eq / max(len(r), 1):.1f}%)")
if keep:
    with open(keep, "w") as k:
        for x in rows:
            if x[1] == "0":
                k.write("\t".join([x[2], x[3], x[4]]) + "\n")
EOF
