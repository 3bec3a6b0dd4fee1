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

#[cfg(test)]
mod tests {
    use super::*;

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
