#!/usr/bin/env bash
# The 60-byte frame every TX benchmark sends, as a trafgen config: Ethernet (to
# 02:00:00:00:00:02, a MAC nobody owns, from SRC_MAC) + IPv4 198.51.100.1 -> 198.51.100.2 +
# ICMP echo, 18 data bytes, checksums computed by trafgen.   usage: trafgen_frame.sh SRC_MAC
cat <<CFG
{ 0x02,0x00,0x00,0x00,0x00,0x02, $(echo "$1" | sed 's/^/0x/; s/:/,0x/g'), c16(0x0800),
  0x45,0x00,c16(46),c16(0),c16(0),0x40,0x01,csumip(14,33),198,51,100,1,198,51,100,2,
  0x08,0x00,csumicmp(34,59),c16(1),c16(1), fill(0x11,18) }
CFG
