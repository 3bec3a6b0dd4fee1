#!/usr/bin/env python3
"""Write a classic pcap (nanosecond timestamps, Ethernet) of COUNT varied frames, no network
needed: ICMP echo requests and replies (some with a record-route option, some 802.1Q-tagged),
ICMP errors quoting a UDP datagram, UDP datagrams (DNS-sized and larger), TCP handshakes and
data segments with options (MSS, SACK, window scale, timestamps), ARP requests. Every checksum
is right; every frame is distinct (addresses, ports, ids, sequence numbers advance), so a
dissector cannot take shortcuts on repeated bytes.

Usage: gen_frames.py COUNT OUT.pcap [SEED]
"""
import random
import struct
import sys


def csum(b: bytes) -> int:
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b) // 2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def eth(dst: bytes, src: bytes, etype: int, payload: bytes, vlan=None) -> bytes:
    if vlan is not None:
        return dst + src + struct.pack("!HHH", 0x8100, vlan, etype) + payload
    return dst + src + struct.pack("!H", etype) + payload


def ipv4(src: bytes, dst: bytes, proto: int, payload: bytes, ident: int, ttl=64, opts=b"") -> bytes:
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload), ident & 0xFFFF,
                    0x4000, ttl, proto, 0, src, dst) + opts
    c = csum(h)
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


def pseudo(src, dst, proto, seg):
    return src + dst + struct.pack("!BBH", 0, proto, len(seg)) + seg


def udp(src, dst, sport, dport, data):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    c = csum(pseudo(src, dst, 17, seg)) or 0xFFFF
    return seg[:6] + struct.pack("!H", c) + seg[8:]


def tcp(src, dst, sport, dport, seq, ack, flags, data, opts=b""):
    off = (20 + len(opts)) // 4
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      off << 4, flags, 64240, 0, 0) + opts + data
    c = csum(pseudo(src, dst, 6, seg))
    return seg[:16] + struct.pack("!H", c) + seg[18:]


def icmp(typ, code, rest, data):
    m = struct.pack("!BBH", typ, code, 0) + rest + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]


def main():
    count = int(sys.argv[1])
    out = sys.argv[2]
    rnd = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    macs = [bytes([2, 0, 0, 0, i >> 8, i & 0xFF]) for i in range(1, 65)]
    nets = [bytes([192, 0, 2]), bytes([198, 51, 100]), bytes([203, 0, 113])]
    t = 1_700_000_000 * 1_000_000_000
    payload = bytes(range(256)) * 6
    rr = bytes([1, 7, 39, 4]) + bytes(36)  # NOP, record route with 9 empty slots
    syn_opts = bytes([2, 4, 5, 0xB4, 4, 2, 8, 10]) + bytes(8) + bytes([1, 3, 3, 7])
    ack_opts = bytes([1, 1, 8, 10]) + bytes(8)
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 1))
        for n in range(count):
            t += rnd.randint(1_000, 2_000_000)
            a = nets[n % 3] + bytes([2 + n % 250])
            b = nets[(n + 1) % 3] + bytes([2 + (n * 7) % 250])
            ma, mb = macs[n % 64], macs[(n * 5 + 1) % 64]
            kind = n % 10
            ident = n * 13
            if kind in (0, 1):  # echo request / reply, every fourth with RR
                opts = rr if n % 4 == 0 else b""
                m = icmp(8 if kind == 0 else 0, 0, struct.pack("!HH", n & 0xFFFF, (n >> 1) & 0xFFFF),
                         payload[n % 200:n % 200 + 56])
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 1, m, ident, opts=opts))
            elif kind == 2:  # tagged echo request
                m = icmp(8, 0, struct.pack("!HH", n & 0xFFFF, 1), payload[:56])
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 1, m, ident), vlan=(n % 4094) + 1)
            elif kind == 3:  # port unreachable quoting a UDP datagram
                inner = ipv4(b, a, 17, udp(b, a, 40000 + n % 20000, 33434 + n % 30, payload[:32]), ident)
                m = icmp(3, 3, bytes(4), inner[:28])
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 1, m, ident, ttl=255))
            elif kind == 4:  # a DNS query for an A record
                name = b"".join(bytes([len(x)]) + x for x in (b"host%d" % n, b"example", b"org"))
                q = struct.pack("!HHHHHH", n & 0xFFFF, 0x0100, 1, 0, 0, 0) + name + b"\0" + struct.pack("!HH", 1, 1)
                d = udp(a, b, 1024 + n % 60000, 53, q)
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 17, d, ident))
            elif kind == 5:  # UDP to discard, 200-1400 bytes
                d = udp(a, b, 1024 + n % 60000, 9, (payload * 2)[n % 256:n % 256 + 200 + n % 1200])
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 17, d, ident))
            elif kind == 6:  # TCP SYN with options
                s = tcp(a, b, 1024 + n % 60000, 9, n * 1000, 0, 0x02, b"", syn_opts)
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 6, s, ident))
            elif kind in (7, 8):  # TCP data / ACK with timestamps
                data = payload[:100 + n % 1300] if kind == 7 else b""
                s = tcp(a, b, 1024 + n % 60000, 9, n * 1000 + 1, n * 77, 0x18 if data else 0x10,
                        data, ack_opts)
                frame = eth(mb, ma, 0x0800, ipv4(a, b, 6, s, ident))
            else:  # ARP who-has
                arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 1, ma, a, bytes(6), b)
                frame = eth(b"\xff" * 6, ma, 0x0806, arp + bytes(18))
            f.write(struct.pack("<IIII", t // 1_000_000_000, t % 1_000_000_000, len(frame), len(frame)))
            f.write(frame)


if __name__ == "__main__":
    main()
