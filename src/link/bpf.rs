//! Classic BPF programs as the kernel takes them (`SO_ATTACH_FILTER`), and an interpreter that
//! runs them the way the kernel does, so a program can be checked on real frames in tests.

/// One classic BPF instruction; the same layout as `struct sock_filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct BpfInsn {
    /// Opcode.
    pub code: u16,
    /// Jump offset when true.
    pub jt: u8,
    /// Jump offset when false.
    pub jf: u8,
    /// Constant operand.
    pub k: u32,
}

/// `BPF_LD | BPF_W | BPF_ABS`: A = 32-bit word at k.
pub const LD_W_ABS: u16 = 0x20;
/// `BPF_LD | BPF_H | BPF_ABS`: A = 16-bit half-word at k.
pub const LD_H_ABS: u16 = 0x28;
/// `BPF_LD | BPF_B | BPF_ABS`: A = byte at k.
pub const LD_B_ABS: u16 = 0x30;
/// `BPF_LD | BPF_B | BPF_IND`: A = byte at X + k.
pub const LD_B_IND: u16 = 0x50;
/// `BPF_LDX | BPF_B | BPF_MSH`: X = 4 * (byte at k & 0xf) — the IPv4 header length.
pub const LDX_B_MSH: u16 = 0xb1;
/// `BPF_JMP | BPF_JA`: jump k forward.
pub const JA: u16 = 0x05;
/// `BPF_JMP | BPF_JEQ | BPF_K`.
pub const JEQ_K: u16 = 0x15;
/// `BPF_JMP | BPF_JSET | BPF_K`: jump if A & k.
pub const JSET_K: u16 = 0x45;
/// `BPF_RET | BPF_K`: accept k bytes (0 drops).
pub const RET_K: u16 = 0x06;
/// Most instructions the kernel accepts in one program (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;

/// Bytes a matching frame keeps (all of it, up to 256 KiB, like tcpdump's default snaplen).
pub const ACCEPT_LEN: u32 = 0x0004_0000;

impl BpfInsn {
    /// An instruction.
    pub const fn new(code: u16, jt: u8, jf: u8, k: u32) -> Self {
        BpfInsn { code, jt, jf, k }
    }

    /// As the kernel's `sock_filter`.
    pub fn to_sock_filter(self) -> libc::sock_filter {
        libc::sock_filter {
            code: self.code,
            jt: self.jt,
            jf: self.jf,
            k: self.k,
        }
    }
}

/// Start of the kernel's ancillary data area (`SKF_AD_OFF`): loads at or past it read packet
/// metadata, which exists only in the kernel.
pub const SKF_AD_OFF: u32 = 0xffff_f000;
/// `SKF_AD_VLAN_TAG_PRESENT`: 1 when the kernel stripped a VLAN tag into metadata.
pub const SKF_AD_VLAN_TAG_PRESENT: u32 = 48;
/// Scratch memory words (`BPF_MEMWORDS`).
const MEMWORDS: usize = 16;

/// Frame offsets the built-in programs load, from the wire views' field constants (untagged:
/// the kernel strips VLAN tags before socket filters run).
const OFF_ETHERTYPE: u32 = crate::wire::field::ether::ETHERTYPE.start as u32;
const OFF_IP_PROTOCOL: u32 =
    (crate::wire::ETHERNET_HEADER_LEN + crate::wire::field::ipv4::PROTOCOL) as u32;
const OFF_IP_DST: u32 =
    (crate::wire::ETHERNET_HEADER_LEN + crate::wire::field::ipv4::DST.start) as u32;

/// Accept ARP, and IPv4 whose protocol byte is 1 (ICMP); drop the rest. Untagged only.
pub fn arp_and_icmp() -> Vec<BpfInsn> {
    vec![
        BpfInsn::new(LD_H_ABS, 0, 0, OFF_ETHERTYPE), // 0: A = ethertype
        BpfInsn::new(JEQ_K, 3, 0, 0x0806),           // 1: ARP → 5 (accept)
        BpfInsn::new(JEQ_K, 0, 3, 0x0800),           // 2: not IPv4 → 6 (drop)
        BpfInsn::new(LD_B_ABS, 0, 0, OFF_IP_PROTOCOL), // 3: A = IPv4 protocol
        BpfInsn::new(JEQ_K, 0, 1, 1),                // 4: ICMP → 5, else 6
        BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN),       // 5: accept
        BpfInsn::new(RET_K, 0, 0, 0),                // 6: drop
    ]
}

/// Accept ARP, IPv4 ICMP and IPv4 protocol `proto`. Untagged only.
pub fn arp_icmp_and(proto: u8) -> Vec<BpfInsn> {
    vec![
        BpfInsn::new(LD_H_ABS, 0, 0, OFF_ETHERTYPE), // 0: A = ethertype
        BpfInsn::new(JEQ_K, 4, 0, 0x0806),           // 1: ARP → 6 (accept)
        BpfInsn::new(JEQ_K, 0, 4, 0x0800),           // 2: not IPv4 → 7 (drop)
        BpfInsn::new(LD_B_ABS, 0, 0, OFF_IP_PROTOCOL), // 3: A = IPv4 protocol
        BpfInsn::new(JEQ_K, 1, 0, 1),                // 4: ICMP → 6
        BpfInsn::new(JEQ_K, 0, 1, u32::from(proto)), // 5: proto → 6, else 7
        BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN),       // 6: accept
        BpfInsn::new(RET_K, 0, 0, 0),                // 7: drop
    ]
}

/// Accept ARP, and IPv4 ICMP whose destination address is `addr`. Untagged only.
pub fn arp_and_icmp_to(addr: std::net::Ipv4Addr) -> Vec<BpfInsn> {
    vec![
        BpfInsn::new(LD_H_ABS, 0, 0, OFF_ETHERTYPE), // 0: A = ethertype
        BpfInsn::new(JEQ_K, 5, 0, 0x0806),           // 1: ARP → 7
        BpfInsn::new(JEQ_K, 0, 5, 0x0800),           // 2: not IPv4 → 8
        BpfInsn::new(LD_B_ABS, 0, 0, OFF_IP_PROTOCOL), // 3: A = IPv4 protocol
        BpfInsn::new(JEQ_K, 0, 3, 1),                // 4: not ICMP → 8
        BpfInsn::new(LD_W_ABS, 0, 0, OFF_IP_DST),    // 5: A = IPv4 destination
        BpfInsn::new(JEQ_K, 0, 1, u32::from(addr)),  // 6: ours → 7, else 8
        BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN),       // 7: accept
        BpfInsn::new(RET_K, 0, 0, 0),                // 8: drop
    ]
}

/// Frame offset of the IPv6 next header byte (untagged).
const OFF_IP6_NEXT_HEADER: u32 =
    (crate::wire::ETHERNET_HEADER_LEN + crate::wire::field::ipv6::NXT_HDR) as u32;

/// Accept IPv6 carrying ICMPv6 (58: NDP, echo, errors) or `proto` right after its fixed
/// header, or an extension header first (Hop-by-Hop 0, Routing 43, Fragment 44, Destination
/// Options 60: the reader walks the chain); drop the rest. Untagged only.
pub fn icmp6_and(proto: u8) -> Vec<BpfInsn> {
    vec![
        BpfInsn::new(LD_H_ABS, 0, 0, OFF_ETHERTYPE), // 0: A = ethertype
        BpfInsn::new(JEQ_K, 0, 8, 0x86dd),           // 1: not IPv6 → 10 (drop)
        BpfInsn::new(LD_B_ABS, 0, 0, OFF_IP6_NEXT_HEADER), // 2: A = next header
        BpfInsn::new(JEQ_K, 5, 0, 58),               // 3: ICMPv6 → 9
        BpfInsn::new(JEQ_K, 4, 0, u32::from(proto)), // 4: proto → 9
        BpfInsn::new(JEQ_K, 3, 0, 0),                // 5: Hop-by-Hop → 9
        BpfInsn::new(JEQ_K, 2, 0, 60),               // 6: Destination Options → 9
        BpfInsn::new(JEQ_K, 1, 0, 43),               // 7: Routing → 9
        BpfInsn::new(JEQ_K, 0, 1, 44),               // 8: Fragment → 9, else 10
        BpfInsn::new(RET_K, 0, 0, ACCEPT_LEN),       // 9: accept
        BpfInsn::new(RET_K, 0, 0, 0),                // 10: drop
    ]
}

/// Run `prog` on `pkt` as the kernel would: the number of bytes to accept (0 = drop). Every
/// classic BPF instruction is supported; a load outside the packet, a division by zero or an
/// ancillary load (metadata only the kernel has) drops the packet. Unknown opcodes, jumps out
/// of the program or running off its end return `Err` (the kernel's checker would have
/// refused the program).
pub fn run(prog: &[BpfInsn], pkt: &[u8]) -> Result<u32, String> {
    run_len(prog, pkt, pkt.len())
}

/// [`run`] on the first bytes of a frame that was `wire_len` bytes long (a record cut by a
/// capture's snapshot length): loads past `pkt` drop it, `len` is `wire_len`, as libpcap's
/// `pcap_offline_filter` runs a program on a file's records.
pub fn run_len(prog: &[BpfInsn], pkt: &[u8], wire_len: usize) -> Result<u32, String> {
    let wire_len = u32::try_from(wire_len.max(pkt.len())).unwrap_or(u32::MAX);
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    let mut mem = [0u32; MEMWORDS];
    let load = |at: u32, n: usize| -> Option<u32> {
        let at = usize::try_from(at).ok()?;
        let b = pkt.get(at..at.checked_add(n)?)?;
        Some(b.iter().fold(0u32, |v, &x| (v << 8) | u32::from(x)))
    };
    let size = |code: u16| match code & 0x18 {
        0x00 => Some(4),
        0x08 => Some(2),
        0x10 => Some(1),
        _ => None,
    };
    let bad = |pc: usize, c: u16| format!("opcode {c:#x} at {pc} is not supported");
    // Classic BPF only jumps forward, so a program runs at most its length in steps.
    for _ in 0..=prog.len() {
        let i = *prog
            .get(pc)
            .ok_or_else(|| format!("pc {pc} is outside the {}-insn program", prog.len()))?;
        let k = i.k;
        match i.code & 0x07 {
            // LD
            0x00 => {
                let v = match i.code & 0xe0 {
                    0x00 => Some(k),
                    0x20 => size(i.code).and_then(|n| load(k, n)),
                    0x40 => size(i.code).and_then(|n| load(x.wrapping_add(k), n)),
                    0x60 => Some(*mem.get(k as usize).ok_or_else(|| bad(pc, i.code))?),
                    0x80 => Some(wire_len),
                    _ => return Err(bad(pc, i.code)),
                };
                match v {
                    Some(v) => a = v,
                    None => return Ok(0),
                }
            }
            // LDX
            0x01 => {
                x = match i.code & 0xe0 {
                    0x00 => k,
                    0x60 => *mem.get(k as usize).ok_or_else(|| bad(pc, i.code))?,
                    0x80 => wire_len,
                    0xa0 => match load(k, 1) {
                        Some(b) => 4 * (b & 0x0f),
                        None => return Ok(0),
                    },
                    _ => return Err(bad(pc, i.code)),
                }
            }
            // ST, STX
            0x02 | 0x03 => {
                let v = if i.code & 0x07 == 0x02 { a } else { x };
                *mem.get_mut(k as usize).ok_or_else(|| bad(pc, i.code))? = v;
            }
            // ALU
            0x04 => {
                let src = if i.code & 0x08 != 0 { x } else { k };
                a = match i.code & 0xf0 {
                    0x00 => a.wrapping_add(src),
                    0x10 => a.wrapping_sub(src),
                    0x20 => a.wrapping_mul(src),
                    0x30 if src == 0 => return Ok(0),
                    0x30 => a / src,
                    0x40 => a | src,
                    0x50 => a & src,
                    0x60 => a.checked_shl(src).unwrap_or(0),
                    0x70 => a.checked_shr(src).unwrap_or(0),
                    0x80 => a.wrapping_neg(),
                    0x90 if src == 0 => return Ok(0),
                    0x90 => a % src,
                    0xa0 => a ^ src,
                    _ => return Err(bad(pc, i.code)),
                }
            }
            // JMP
            0x05 => {
                let src = if i.code & 0x08 != 0 { x } else { k };
                let cond = match i.code & 0xf0 {
                    0x00 => {
                        pc = pc.checked_add(k as usize).ok_or_else(|| bad(pc, i.code))?;
                        pc += 1;
                        continue;
                    }
                    0x10 => a == src,
                    0x20 => a > src,
                    0x30 => a >= src,
                    0x40 => a & src != 0,
                    _ => return Err(bad(pc, i.code)),
                };
                pc += usize::from(if cond { i.jt } else { i.jf });
            }
            // RET
            0x06 => {
                return match i.code & 0x18 {
                    0x00 => Ok(k),
                    0x08 => Ok(x),
                    0x10 => Ok(a),
                    _ => Err(bad(pc, i.code)),
                }
            }
            // MISC: TAX, TXA
            _ => match i.code & 0xf8 {
                0x00 => x = a,
                0x80 => a = x,
                _ => return Err(bad(pc, i.code)),
            },
        }
        pc += 1;
    }
    Err("program runs off its end".into())
}

/// One instruction at index `n` as `tcpdump -d` (libpcap's `bpf_image`) prints it, e.g.
/// `(001) jeq      #0x800           jt 2\tjf 10`.
pub fn image(i: &BpfInsn, n: usize) -> String {
    let k = i.k;
    let (op, operand): (&str, String) = match i.code {
        0x06 => ("ret", format!("#{k}")),
        0x16 => ("ret", String::new()),
        0x0e => ("ret", "x".into()),
        0x20 => ("ld", format!("[{k}]")),
        0x28 => ("ldh", format!("[{k}]")),
        0x30 => ("ldb", format!("[{k}]")),
        0x80 => ("ld", "#pktlen".into()),
        0x40 => ("ld", format!("[x + {k}]")),
        0x48 => ("ldh", format!("[x + {k}]")),
        0x50 => ("ldb", format!("[x + {k}]")),
        0x00 => ("ld", format!("#0x{k:x}")),
        0x01 => ("ldx", format!("#0x{k:x}")),
        0x81 => ("ldx", "#pktlen".into()),
        0xb1 => ("ldxb", format!("4*([{k}]&0xf)")),
        0x60 => ("ld", format!("M[{k}]")),
        0x61 => ("ldx", format!("M[{k}]")),
        0x02 => ("st", format!("M[{k}]")),
        0x03 => ("stx", format!("M[{k}]")),
        0x05 => ("ja", format!("{}", n as u64 + 1 + u64::from(k))),
        0x25 => ("jgt", format!("#0x{k:x}")),
        0x35 => ("jge", format!("#0x{k:x}")),
        0x15 => ("jeq", format!("#0x{k:x}")),
        0x45 => ("jset", format!("#0x{k:x}")),
        0x2d => ("jgt", "x".into()),
        0x3d => ("jge", "x".into()),
        0x1d => ("jeq", "x".into()),
        0x4d => ("jset", "x".into()),
        0x04 => ("add", format!("#{k}")),
        0x14 => ("sub", format!("#{k}")),
        0x24 => ("mul", format!("#{k}")),
        0x34 => ("div", format!("#{k}")),
        0x94 => ("mod", format!("#{k}")),
        0x54 => ("and", format!("#0x{k:x}")),
        0x44 => ("or", format!("#0x{k:x}")),
        0xa4 => ("xor", format!("#0x{k:x}")),
        0x64 => ("lsh", format!("#{k}")),
        0x74 => ("rsh", format!("#{k}")),
        0x0c => ("add", "x".into()),
        0x1c => ("sub", "x".into()),
        0x2c => ("mul", "x".into()),
        0x3c => ("div", "x".into()),
        0x9c => ("mod", "x".into()),
        0x5c => ("and", "x".into()),
        0x4c => ("or", "x".into()),
        0xac => ("xor", "x".into()),
        0x6c => ("lsh", "x".into()),
        0x7c => ("rsh", "x".into()),
        0x84 => ("neg", String::new()),
        0x07 => ("tax", String::new()),
        0x87 => ("txa", String::new()),
        c => ("unimp", format!("0x{c:x}")),
    };
    if i.code & 0x07 == 0x05 && i.code & 0xf0 != 0x00 {
        format!(
            "({n:03}) {op:<8} {operand:<16} jt {}\tjf {}",
            n + 1 + usize::from(i.jt),
            n + 1 + usize::from(i.jf)
        )
    } else {
        format!("({n:03}) {op:<8} {operand}")
    }
}

/// `prog` behind a prefix that passes every frame whose outer VLAN tag the kernel moved into
/// metadata (the program cannot see that tag in the bytes), so the receiver can run `prog`
/// itself on the frame with the tag put back. Jumps inside `prog` are relative and unchanged.
pub fn pass_vlan_tagged(prog: &[BpfInsn], accept: u32) -> Vec<BpfInsn> {
    let mut out = vec![
        BpfInsn::new(LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
        BpfInsn::new(JEQ_K, 1, 0, 0),
        BpfInsn::new(RET_K, 0, 0, accept),
    ];
    out.extend_from_slice(prog);
    out
}

/// `BPF_ALU | BPF_AND | BPF_K`: A &= k.
pub const AND_K: u16 = 0x54;

/// `prog`, written for an untagged frame, run on the frame inside the VLAN tags `vlans`: a
/// prefix drops every frame whose tags are not exactly these (TPID and VLAN id per tag, at
/// their fixed offsets; a deeper stack shows its next TPID where `prog` reads the EtherType),
/// and `prog`'s packet loads move past the tags (4 bytes each). Loads of the kernel's
/// ancillary data and of the packet length are left as they are. Errors when the result would
/// exceed [`MAX_INSNS`] or a load offset overflows.
pub fn under_vlan_stack(
    prog: &[BpfInsn],
    vlans: &crate::wire::VlanStack,
) -> Result<Vec<BpfInsn>, String> {
    if vlans.is_empty() {
        return Ok(prog.to_vec());
    }
    let n = vlans.len();
    let total = 5 * n + 2 + prog.len();
    if total > MAX_INSNS {
        return Err(format!(
            "the filter under {n} VLAN tags is {total} instructions: the kernel takes at most \
             {MAX_INSNS}"
        ));
    }
    let drop_at = 5 * n + 1;
    let mut out = Vec::with_capacity(total);
    for (i, t) in vlans.iter().enumerate() {
        let at = 12 + 4 * i as u32;
        out.push(BpfInsn::new(LD_H_ABS, 0, 0, at));
        out.push(BpfInsn::new(
            JEQ_K,
            0,
            (drop_at - out.len() - 1) as u8,
            u32::from(t.tpid),
        ));
        out.push(BpfInsn::new(LD_H_ABS, 0, 0, at + 2));
        out.push(BpfInsn::new(AND_K, 0, 0, 0x0fff));
        out.push(BpfInsn::new(
            JEQ_K,
            0,
            (drop_at - out.len() - 1) as u8,
            u32::from(t.vid()),
        ));
    }
    out.push(BpfInsn::new(JA, 0, 0, 1));
    out.push(BpfInsn::new(RET_K, 0, 0, 0));
    let shift = vlans.header_bytes() as u32;
    for i in prog {
        let mut i = *i;
        let class = i.code & 0x07;
        let mode = i.code & 0xe0;
        let packet_load = match (class, mode) {
            // LD ABS (not the ancillary area or the negative SKF_NET/LL offsets), LD IND.
            (0x00, 0x20) => (i.k as i32) >= 0,
            (0x00, 0x40) => true,
            // LDX MSH (an IP header length read from the packet).
            (0x01, 0xa0) => true,
            _ => false,
        };
        if packet_load {
            i.k =
                i.k.checked_add(shift)
                    .ok_or_else(|| format!("a load at offset {} moves past 2^32", i.k))?;
        }
        out.push(i);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(ethertype: u16, proto: u8) -> Vec<u8> {
        let mut f = vec![0u8; 60];
        f[12..14].copy_from_slice(&ethertype.to_be_bytes());
        f[14] = 0x45;
        f[23] = proto;
        f
    }

    fn jumps_land_inside(p: &[BpfInsn]) {
        for (i, ins) in p.iter().enumerate() {
            if ins.code == JEQ_K {
                assert!(i + 1 + usize::from(ins.jt) < p.len());
                assert!(i + 1 + usize::from(ins.jf) < p.len());
            }
        }
        assert_eq!(p.last().unwrap().code, RET_K);
    }

    #[test]
    fn icmp6_and_takes_ndp_errors_the_probe_and_extension_chains() {
        let p = icmp6_and(17);
        jumps_land_inside(&p);
        let v6 = |nh: u8| {
            let mut f = vec![0u8; 80];
            f[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
            f[14] = 0x60;
            f[20] = nh;
            f
        };
        for nh in [58, 17, 0, 60, 43, 44] {
            assert_eq!(run(&p, &v6(nh)), Ok(ACCEPT_LEN), "next header {nh}");
        }
        for nh in [6, 59, 1, 50] {
            assert_eq!(run(&p, &v6(nh)), Ok(0), "next header {nh}");
        }
        assert_eq!(run(&p, &frame(0x0800, 1)), Ok(0), "IPv4 ICMP");
        assert_eq!(run(&p, &frame(0x0806, 0)), Ok(0), "ARP");
        assert_eq!(run(&p, &v6(58)[..20]), Ok(0), "cut before the next header");
        // A real Neighbor Advertisement frame.
        let na = crate::wire::build_ipv6_frame(
            &crate::wire::EthernetRepr::new(
                crate::wire::MacAddr::new(2, 0, 0, 0, 0, 2),
                crate::wire::MacAddr::new(2, 0, 0, 0, 0, 1),
                0x86dd,
            ),
            &crate::wire::Ipv6Repr {
                traffic_class: 0,
                flow_label: 0,
                next_header: 58,
                hop_limit: 255,
                src: "2001:db8::1".parse().unwrap(),
                dst: "2001:db8::2".parse().unwrap(),
                payload_len_override: None,
            },
            &[],
            &crate::wire::L6Repr::Icmpv6(crate::wire::Icmpv6Repr::new(
                crate::wire::Icmpv6Message::NeighborAdvertisement {
                    router: true,
                    solicited: true,
                    override_flag: true,
                    target: "2001:db8::1".parse().unwrap(),
                    options: vec![],
                },
            )),
        )
        .unwrap();
        assert_eq!(run(&icmp6_and(6), &na), Ok(ACCEPT_LEN));
    }

    #[test]
    fn arp_and_icmp_accepts_nothing_else() {
        let p = arp_and_icmp();
        assert!(run(&p, &frame(0x0806, 0)).unwrap() > 0, "ARP");
        assert!(run(&p, &frame(0x0800, 1)).unwrap() > 0, "ICMP");
        assert_eq!(run(&p, &frame(0x0800, 17)).unwrap(), 0, "UDP");
        assert_eq!(run(&p, &frame(0x0800, 6)).unwrap(), 0, "TCP");
        assert_eq!(run(&p, &frame(0x86dd, 58)).unwrap(), 0, "ICMPv6");
        assert_eq!(run(&p, &frame(0x8100, 1)).unwrap(), 0, "VLAN-tagged");
        assert_eq!(run(&p, &frame(0x0001, 1)).unwrap(), 0);
        assert_eq!(run(&p, &[0u8; 10]).unwrap(), 0, "runt");
        jumps_land_inside(&p);
        let q = arp_icmp_and(17);
        assert!(run(&q, &frame(0x0800, 17)).unwrap() > 0, "UDP asked for");
        assert!(run(&q, &frame(0x0800, 1)).unwrap() > 0, "ICMP");
        assert_eq!(run(&q, &frame(0x0800, 6)).unwrap(), 0, "TCP");
        jumps_land_inside(&q);
    }

    #[test]
    fn icmp_to_accepts_only_our_address() {
        let me: std::net::Ipv4Addr = "192.0.2.2".parse().unwrap();
        let p = arp_and_icmp_to(me);
        let mut f = frame(0x0800, 1);
        f[30..34].copy_from_slice(&me.octets());
        assert!(run(&p, &f).unwrap() > 0, "ICMP to us");
        f[33] = 3;
        assert_eq!(run(&p, &f).unwrap(), 0, "ICMP to someone else");
        f[33] = 2;
        f[23] = 17;
        assert_eq!(run(&p, &f).unwrap(), 0, "UDP to us");
        assert!(run(&p, &frame(0x0806, 0)).unwrap() > 0, "ARP");
        assert_eq!(run(&p, &frame(0x86dd, 58)).unwrap(), 0);
        assert_eq!(run(&p, &f[..31]).unwrap(), 0, "runt");
        jumps_land_inside(&p);
    }

    #[test]
    fn a_program_runs_inside_its_vlan_stack_only() {
        use crate::wire::VlanStack;
        // "ICMP in IPv4 with a 20-byte header and type 8", written for an untagged frame.
        let p = [
            BpfInsn::new(LD_H_ABS, 0, 0, 12),
            BpfInsn::new(JEQ_K, 0, 5, 0x0800),
            BpfInsn::new(LDX_B_MSH, 0, 0, 14),
            BpfInsn::new(LD_B_IND, 0, 0, 14),
            BpfInsn::new(JEQ_K, 0, 2, 8),
            BpfInsn::new(RET_K, 0, 0, 0x40000),
            BpfInsn::new(JA, 0, 0, 0),
            BpfInsn::new(RET_K, 0, 0, 0),
        ];
        let frame = |tags: &[[u8; 4]]| {
            let mut f = vec![0u8; 12];
            for t in tags {
                f.extend(t);
            }
            f.extend([0x08, 0x00, 0x45]);
            f.extend([0u8; 19]);
            f.push(8);
            f.extend([0u8; 7]);
            f
        };
        let untagged = frame(&[]);
        let q100 = frame(&[[0x81, 0x00, 0x60, 100]]);
        let q101 = frame(&[[0x81, 0x00, 0x00, 101]]);
        let ad100 = frame(&[[0x88, 0xa8, 0x00, 100]]);
        let qinq = frame(&[[0x88, 0xa8, 0x00, 200], [0x81, 0x00, 0x00, 20]]);
        let qinq_other = frame(&[[0x88, 0xa8, 0x00, 200], [0x81, 0x00, 0x00, 21]]);
        let all = [&untagged, &q100, &q101, &ad100, &qinq, &qinq_other];
        let accepted = |vlans: &VlanStack| -> Vec<bool> {
            let prog = under_vlan_stack(&p, vlans).unwrap();
            all.iter().map(|f| run(&prog, f).unwrap() > 0).collect()
        };
        let st = |s: &[&str]| VlanStack::parse_specs(s).unwrap();
        assert_eq!(
            accepted(&VlanStack::EMPTY),
            [true, false, false, false, false, false]
        );
        // PCP 3 in the frame, 0 asked for: the same VLAN.
        assert_eq!(
            accepted(&st(&["100"])),
            [false, true, false, false, false, false]
        );
        assert_eq!(
            accepted(&st(&["100@ad"])),
            [false, false, false, true, false, false]
        );
        assert_eq!(
            accepted(&st(&["200", "20"])),
            [false, false, false, false, true, false]
        );
        assert_eq!(accepted(&st(&["200"])), [false; 6]);
        // Every cut before the ICMP type (byte 42 under two tags): dropped, never an error.
        let prog = under_vlan_stack(&p, &st(&["200", "20"])).unwrap();
        for n in 0..=42 {
            assert_eq!(run(&prog, &qinq[..n]), Ok(0), "{n}");
        }
        // Ancillary loads stay where they are.
        let anc = [
            BpfInsn::new(LD_W_ABS, 0, 0, SKF_AD_OFF + 48),
            BpfInsn::new(RET_K, 0, 0, 1),
        ];
        let q = under_vlan_stack(&anc, &st(&["1"])).unwrap();
        assert_eq!(q[q.len() - 2].k, SKF_AD_OFF + 48);
        let long = vec![BpfInsn::new(RET_K, 0, 0, 1); MAX_INSNS];
        assert!(under_vlan_stack(&long, &st(&["1"]))
            .unwrap_err()
            .contains("at most 4096"));
    }

    #[test]
    fn loads_out_of_bounds_drop() {
        let p = [
            BpfInsn::new(LD_W_ABS, 0, 0, 100),
            BpfInsn::new(RET_K, 0, 0, 1),
        ];
        assert_eq!(run(&p, &[0; 50]), Ok(0));
        assert_eq!(run(&p, &[0; 104]), Ok(1));
        assert!(run(&[BpfInsn::new(JA, 0, 0, 5)], &[]).is_err());
        assert!(run(&[BpfInsn::new(0xffff, 0, 0, 0)], &[]).is_err());
    }

    #[test]
    fn msh_reads_the_ip_header_length() {
        let p = [
            BpfInsn::new(LDX_B_MSH, 0, 0, 14),
            BpfInsn::new(LD_B_IND, 0, 0, 14),
            BpfInsn::new(JEQ_K, 0, 1, 8),
            BpfInsn::new(RET_K, 0, 0, 1),
            BpfInsn::new(RET_K, 0, 0, 0),
        ];
        let mut f = vec![0u8; 80];
        f[14] = 0x4f; // 60-byte header: ICMP type at 14 + 60
        f[74] = 8;
        assert_eq!(run(&p, &f), Ok(1));
        f[14] = 0x45;
        assert_eq!(run(&p, &f), Ok(0));
    }
}
