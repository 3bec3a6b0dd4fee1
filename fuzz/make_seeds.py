#!/usr/bin/env python3
"""Write the seed corpora under fuzz/seeds/ from real frames.

Sources: the frames captured in the lab that src/wire/mod.rs keeps as hex constants, and the
pcap files in fuzz/seeds/captures/ (captured with tcpdump in private namespaces; see
the README's Fuzzing section). Each target gets the slice of each frame it parses. Rerun after adding a
capture; the output is deterministic.
"""
import os, re, struct, sys

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
src = open(os.path.join(root, "src/wire/mod.rs")).read()
frames = {}
for name, body in re.findall(r'pub const (\w+): &str =\s*((?:"[^"]*"\s*)+);', src):
    hexs = "".join(re.findall(r'"([^"]*)"', body)).replace("\\", "")
    hexs = re.sub(r"\s+", "", hexs)
    frames[name.lower()] = bytes.fromhex(hexs)

def pcap_records(path):
    b = open(path, "rb").read()
    magic = struct.unpack("<I", b[:4])[0]
    end = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    at, out = 24, []
    while at + 16 <= len(b):
        incl = struct.unpack(end + "I", b[at + 8:at + 12])[0]
        out.append(b[at + 16:at + 16 + incl])
        at += 16 + incl
    return out

caps = os.path.join(here, "seeds", "captures")
pcaps = sorted(f for f in os.listdir(caps) if f.endswith(".pcap")) if os.path.isdir(caps) else []
for f in pcaps:
    seen = set()
    for i, fr in enumerate(pcap_records(os.path.join(caps, f))):
        if fr in seen:
            continue
        seen.add(fr)
        frames["%s_%d" % (f[:-5], i)] = fr

def put(target, name, data):
    d = os.path.join(here, "seeds", target)
    os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(data)

for name, fr in sorted(frames.items()):
    put("frame", name, fr)
    put("dissect", name, fr)
    et = fr[12:14]
    off = 18 if et == b"\x81\x00" else 14
    if fr[off - 2:off] == b"\x86\xdd" and len(fr) >= off + 40:
        put("ipv6", name, fr[off:])
    if fr[off - 2:off] == b"\x08\x00" and len(fr) >= off + 20:
        ip = fr[off:]
        ihl = (ip[0] & 15) * 4
        put("ipv4", name, ip)
        if ihl > 20:
            put("ipopt", name, ip[20:ihl])
        if ip[9] == 1:
            put("icmp", name, ip[ihl:])
        # blast: base id = this frame's ICMP id, one thread.
        if ip[9] == 1 and len(ip) >= ihl + 8:
            put("blast_classify", name, b"\x01" + ip[ihl + 4:ihl + 6] + b"\x00" + fr)
    # reflect: flags (fix checksums, answer masks), prefix 24, the frame; and with
    # advertisements and broadcasts on.
    # Bit 4: answer as 198.51.100.9 (the reflector of the captures), else as 203.0.113.2.
    own = 16 if b"\xc6\x33\x64\x09" in fr else 0
    put("reflect", name, bytes([own | 8 | 4, 24]) + fr)
    put("reflect", name + "_adv_bcast", bytes([own | 8 | 7, 24]) + fr)

# IPv6: the scapy-built vectors of src/wire/ipv6_tests.rs, as IPv6 packets (Ethernet cut).
v6 = open(os.path.join(root, "src/wire/ipv6_tests.rs")).read()
for name, body in re.findall(r'pub const (\w+): &str =\s*((?:"[^"]*"\s*)+);', v6):
    hexs = re.sub(r"\s+", "", "".join(re.findall(r'"([^"]*)"', body)).replace("\\", ""))
    b = bytes.fromhex(hexs)
    put("ipv6", name.lower(), b[14:] if b[12:14] == b"\x86\xdd" else b)

filters = [b"icmp", b"arp or icmp-type echo-reply", b"icmp and not host 192.0.2.1",
           b"(arp or icmp) and dst 192.0.2.2", b"! ip && ! arp", b"src 203.0.113.2 || icmp-type 11",
           b"*not (", b"*(icmp and "]
for i, t in enumerate(filters):
    for name in ("rr_request", "sr_failed", "time_exceeded_rr"):
        put("filter", "%d_%s" % (i, name), t + b"\x00" + frames[name])

for f in pcaps:
    put("pcap", f[:-5], open(os.path.join(caps, f), "rb").read())
print("seeds from %d frames, %d captures" % (len(frames), len(pcaps)), file=sys.stderr)
