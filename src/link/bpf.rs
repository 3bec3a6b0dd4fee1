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

/// Run `prog` on `pkt` as the kernel would: the number of bytes to accept (0 = drop). A load
/// outside the packet drops it. Unknown opcodes, jumps out of the program or running off its
/// end return `Err` (the kernel's checker would have refused the program).
pub fn run(prog: &[BpfInsn], pkt: &[u8]) -> Result<u32, String> {
    let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
    // Classic BPF only jumps forward, so a program runs at most its length in steps.
    for _ in 0..=prog.len() {
        let i = *prog
            .get(pc)
            .ok_or_else(|| format!("pc {pc} is outside the {}-insn program", prog.len()))?;
        let k = i.k as usize;
        let load = |at: usize, n: usize| pkt.get(at..at.checked_add(n)?);
        match i.code {
            LD_W_ABS => match load(k, 4) {
                Some(b) => a = u32::from_be_bytes([b[0], b[1], b[2], b[3]]),
                None => return Ok(0),
            },
            LD_H_ABS => match load(k, 2) {
                Some(b) => a = u32::from(u16::from_be_bytes([b[0], b[1]])),
                None => return Ok(0),
            },
            LD_B_ABS => match load(k, 1) {
                Some(b) => a = u32::from(b[0]),
                None => return Ok(0),
            },
            LD_B_IND => match load(x as usize + k, 1) {
                Some(b) => a = u32::from(b[0]),
                None => return Ok(0),
            },
            LDX_B_MSH => match load(k, 1) {
                Some(b) => x = 4 * u32::from(b[0] & 0x0f),
                None => return Ok(0),
            },
            JA => pc += k,
            JEQ_K => pc += usize::from(if a == i.k { i.jt } else { i.jf }),
            JSET_K => pc += usize::from(if a & i.k != 0 { i.jt } else { i.jf }),
            RET_K => return Ok(i.k),
            c => return Err(format!("opcode {c:#x} at {pc} is not supported")),
        }
        pc += 1;
    }
    Err("program runs off its end".into())
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
