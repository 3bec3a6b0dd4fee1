#!/usr/bin/env python3
"""Attach (or remove) an XDP program that drops every frame on an interface of the current
network namespace: the benchmark's sink. Frames a generator sends over a veth pair are dropped
on the peer in the veth driver's NAPI poll, before any skb processing by the stack, so the sink
costs the same little for every generator measured and their own costs show.

    xdp_drop.py IFACE          attach (native/driver mode; falls back to generic mode)
    xdp_drop.py IFACE --pass   attach XDP_PASS instead: frames go on to the stack as before,
                               but the veth now takes XDP_TX/redirected frames from its peer
                               and wakes its NAPI for them (GRO alone does not, for XDP_TX)
    xdp_drop.py IFACE --off    detach

No compiler needed: the program is two instructions (r0 = XDP_DROP; exit) loaded with bpf(2)
and attached with rtnetlink (RTM_SETLINK, IFLA_XDP), which keeps it attached after we exit.
"""
import ctypes
import os
import socket
import struct
import sys

SYS_BPF = 321  # x86_64
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_XDP = 6
XDP_DROP = 1
XDP_PASS = 2
RTM_SETLINK = 19
NLM_F_REQUEST, NLM_F_ACK = 1, 4
IFLA_XDP = 43
NLA_F_NESTED = 0x8000
IFLA_XDP_FD, IFLA_XDP_FLAGS = 1, 3
XDP_FLAGS_SKB_MODE, XDP_FLAGS_DRV_MODE = 2, 4

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


def load_drop_program(action=XDP_DROP):
    insns = struct.pack("<BBhi", 0xB7, 0x00, 0, action)  # mov64 r0, action
    insns += struct.pack("<BBhi", 0x95, 0x00, 0, 0)  # exit
    ibuf = ctypes.create_string_buffer(insns, len(insns))
    lic = ctypes.create_string_buffer(b"GPL")
    attr = struct.pack(
        "<IIQQIIQII16s",
        BPF_PROG_TYPE_XDP,
        len(insns) // 8,
        ctypes.addressof(ibuf),
        ctypes.addressof(lic),
        0, 0, 0, 0, 0,
        b"pf_xdp_drop",
    )
    attr = ctypes.create_string_buffer(attr.ljust(128, b"\0"), 128)
    fd = libc.syscall(SYS_BPF, BPF_PROG_LOAD, attr, 128)
    if fd < 0:
        err = ctypes.get_errno()
        sys.exit(f"xdp_drop: bpf(BPF_PROG_LOAD) failed: {os.strerror(err)}")
    return fd


def nla(kind, payload):
    n = 4 + len(payload)
    return struct.pack("<HH", n, kind) + payload + b"\0" * ((4 - n % 4) % 4)


def set_xdp(ifindex, fd, flags):
    body = struct.pack("<BxHiII", socket.AF_UNSPEC, 0, ifindex, 0, 0)
    body += nla(IFLA_XDP | NLA_F_NESTED, nla(IFLA_XDP_FD, struct.pack("<i", fd)) + nla(IFLA_XDP_FLAGS, struct.pack("<I", flags)))
    msg = struct.pack("<IHHII", 16 + len(body), RTM_SETLINK, NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    s.send(msg)
    reply = s.recv(65536)
    s.close()
    if len(reply) >= 20:
        (err,) = struct.unpack_from("<i", reply, 16)
        return -err
    return 0


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    ifname = sys.argv[1]
    ifindex = socket.if_nametoindex(ifname)
    if "--off" in sys.argv[2:]:
        for mode in (XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE):
            set_xdp(ifindex, -1, mode)
        return
    action, label = (XDP_PASS, "XDP_PASS") if "--pass" in sys.argv[2:] else (XDP_DROP, "XDP_DROP")
    fd = load_drop_program(action)
    for mode, name in ((XDP_FLAGS_DRV_MODE, "native"), (XDP_FLAGS_SKB_MODE, "generic")):
        err = set_xdp(ifindex, fd, mode)
        if err == 0:
            print(f"xdp_drop: {ifname}: {label} attached ({name} mode)")
            return
    sys.exit(f"xdp_drop: attaching XDP to {ifname} failed: {os.strerror(err)}")


if __name__ == "__main__":
    main()
