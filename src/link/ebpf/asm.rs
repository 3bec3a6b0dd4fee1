//! A small eBPF assembler: instructions encoded as the kernel's `struct bpf_insn`, forward and
//! backward jumps to named labels, 64-bit immediates and map-value pointers. Enough to write
//! the XDP programs of `xdp_live` and `reflect::xdp` in Rust, so no C
//! toolchain is needed on the machine that runs them.

/// One eBPF instruction, laid out as `struct bpf_insn` (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    /// Opcode.
    pub code: u8,
    /// Destination register in the low nibble, source register in the high nibble.
    pub regs: u8,
    /// Signed offset (jumps, memory accesses).
    pub off: i16,
    /// Signed immediate.
    pub imm: i32,
}

/// A register, r0..=r10 (r10 is the read-only frame pointer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reg(pub u8);

/// Return value and scratch.
pub const R0: Reg = Reg(0);
/// First argument (the context on entry).
pub const R1: Reg = Reg(1);
/// Argument 2.
pub const R2: Reg = Reg(2);
/// Argument 3.
pub const R3: Reg = Reg(3);
/// Argument 4.
pub const R4: Reg = Reg(4);
/// Argument 5.
pub const R5: Reg = Reg(5);
/// Callee-saved.
pub const R6: Reg = Reg(6);
/// Callee-saved.
pub const R7: Reg = Reg(7);
/// Callee-saved.
pub const R8: Reg = Reg(8);
/// Callee-saved.
pub const R9: Reg = Reg(9);
/// Frame pointer (read only).
pub const R10: Reg = Reg(10);

// Instruction classes.
const LD: u8 = 0x00;
const LDX: u8 = 0x01;
const STX: u8 = 0x03;
const ALU: u8 = 0x04;
const JMP: u8 = 0x05;
const ALU64: u8 = 0x07;
// Sizes and modes.
const DW: u8 = 0x18;
const IMM: u8 = 0x00;
const MEM: u8 = 0x60;
// Source operand.
const K: u8 = 0x00;
const X: u8 = 0x08;
/// `BPF_PSEUDO_MAP_VALUE`: a 64-bit immediate holding (map fd, offset) becomes a pointer into
/// the map's (array) value.
const PSEUDO_MAP_VALUE: u8 = 2;

/// Width of a memory access.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// 1 byte.
    B = 0x10,
    /// 2 bytes.
    H = 0x08,
    /// 4 bytes.
    W = 0x00,
    /// 8 bytes.
    DW = 0x18,
}

/// An ALU operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alu {
    /// dst += src
    Add = 0x00,
    /// dst -= src
    Sub = 0x10,
    /// dst |= src
    Or = 0x40,
    /// dst &= src
    And = 0x50,
    /// dst <<= src
    Lsh = 0x60,
    /// dst >>= src (logical)
    Rsh = 0x70,
    /// dst ^= src
    Xor = 0xa0,
    /// dst = src
    Mov = 0xb0,
}

/// A jump condition (unsigned unless named otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cond {
    /// ==
    Eq = 0x10,
    /// >
    Gt = 0x20,
    /// >=
    Ge = 0x30,
    /// & != 0
    Set = 0x40,
    /// !=
    Ne = 0x50,
    /// <
    Lt = 0xa0,
    /// <=
    Le = 0xb0,
}

/// Kernel helper function numbers used here.
pub mod helper {
    /// `u64 bpf_ktime_get_ns(void)`: CLOCK_MONOTONIC.
    pub const KTIME_GET_NS: i32 = 5;
    /// `long bpf_redirect(u32 ifindex, u64 flags)`: XDP_REDIRECT out of `ifindex`.
    pub const REDIRECT: i32 = 23;
}

/// XDP verdicts.
pub mod xdp {
    /// Drop the frame.
    pub const DROP: i32 = 1;
    /// Hand the frame to the stack.
    pub const PASS: i32 = 2;
    /// Send the frame back out of the interface it came in on.
    pub const TX: i32 = 3;
}

/// Field offsets of `struct xdp_md`, the XDP program's context.
pub mod xdp_md {
    /// Start of the frame.
    pub const DATA: i16 = 0;
    /// End of the frame.
    pub const DATA_END: i16 = 4;
    /// Start of the metadata before the frame.
    pub const DATA_META: i16 = 8;
    /// The interface the frame arrived on.
    pub const INGRESS_IFINDEX: i16 = 12;
}

/// A program under construction.
#[derive(Debug, Default)]
pub struct Asm {
    insns: Vec<Insn>,
    labels: Vec<(String, usize)>,
    /// (instruction index, label) of jumps waiting for their target.
    fixups: Vec<(usize, String)>,
}

impl Asm {
    /// An empty program.
    pub fn new() -> Asm {
        Asm::default()
    }

    fn push(&mut self, code: u8, dst: Reg, src: Reg, off: i16, imm: i32) -> &mut Self {
        self.insns.push(Insn {
            code,
            regs: (src.0 << 4) | (dst.0 & 0x0f),
            off,
            imm,
        });
        self
    }

    /// 64-bit `dst op= imm`.
    pub fn alu_imm(&mut self, op: Alu, dst: Reg, imm: i32) -> &mut Self {
        self.push(ALU64 | op as u8 | K, dst, Reg(0), 0, imm)
    }

    /// 64-bit `dst op= src`.
    pub fn alu_reg(&mut self, op: Alu, dst: Reg, src: Reg) -> &mut Self {
        self.push(ALU64 | op as u8 | X, dst, src, 0, 0)
    }

    /// `dst = src` (64-bit).
    pub fn mov(&mut self, dst: Reg, src: Reg) -> &mut Self {
        self.alu_reg(Alu::Mov, dst, src)
    }

    /// `dst = imm` (sign-extended to 64 bits).
    pub fn mov_imm(&mut self, dst: Reg, imm: i32) -> &mut Self {
        self.alu_imm(Alu::Mov, dst, imm)
    }

    /// `dst = imm` with a full 64-bit immediate (two instruction slots).
    pub fn ld_imm64(&mut self, dst: Reg, imm: u64) -> &mut Self {
        self.push(LD | DW | IMM, dst, Reg(0), 0, imm as u32 as i32);
        self.push(0, Reg(0), Reg(0), 0, (imm >> 32) as u32 as i32)
    }

    /// `dst = &value_of(map)[offset]` for an array map with one element.
    pub fn ld_map_value(&mut self, dst: Reg, map_fd: i32, offset: u32) -> &mut Self {
        self.push(LD | DW | IMM, dst, Reg(PSEUDO_MAP_VALUE), 0, map_fd);
        self.push(0, Reg(0), Reg(0), 0, offset as i32)
    }

    /// `dst = *(size *)(src + off)`.
    pub fn load(&mut self, size: Size, dst: Reg, src: Reg, off: i16) -> &mut Self {
        self.push(LDX | MEM | size as u8, dst, src, off, 0)
    }

    /// `*(size *)(dst + off) = src`.
    pub fn store(&mut self, size: Size, dst: Reg, off: i16, src: Reg) -> &mut Self {
        self.push(STX | MEM | size as u8, dst, src, off, 0)
    }

    /// `src = atomic_fetch_add((u64 *)(dst + off), src)`: add, and get the old value back.
    pub fn atomic_fetch_add(&mut self, dst: Reg, off: i16, src: Reg) -> &mut Self {
        self.push(STX | 0xc0 | DW, dst, src, off, 0x01)
    }

    /// Swap the low `bits` (16, 32 or 64) of `dst` to big-endian (a byte swap on
    /// little-endian hosts; the rest of the register is cleared).
    pub fn to_be(&mut self, dst: Reg, bits: i32) -> &mut Self {
        self.push(ALU | 0xd0 | 0x08, dst, Reg(0), 0, bits)
    }

    /// Call kernel helper `n` (arguments in r1..r5, result in r0; r1..r5 are clobbered).
    pub fn call(&mut self, n: i32) -> &mut Self {
        self.push(JMP | 0x80, Reg(0), Reg(0), 0, n)
    }

    /// Call the kernel function whose BTF id (in vmlinux's BTF) is `btf_id` (a kfunc:
    /// `BPF_PSEUDO_KFUNC_CALL`; arguments and clobbers as for a helper).
    pub fn call_kfunc(&mut self, btf_id: i32) -> &mut Self {
        self.push(JMP | 0x80, Reg(0), Reg(2), 0, btf_id)
    }

    /// Return r0.
    pub fn exit(&mut self) -> &mut Self {
        self.push(JMP | 0x90, Reg(0), Reg(0), 0, 0)
    }

    /// Place `name` at the next instruction.
    pub fn label(&mut self, name: &str) -> &mut Self {
        self.labels.push((name.to_string(), self.insns.len()));
        self
    }

    /// Jump to `label` unconditionally.
    pub fn ja(&mut self, label: &str) -> &mut Self {
        self.fixups.push((self.insns.len(), label.to_string()));
        self.push(JMP, Reg(0), Reg(0), 0, 0)
    }

    /// `if dst cond imm goto label`.
    pub fn jmp_imm(&mut self, cond: Cond, dst: Reg, imm: i32, label: &str) -> &mut Self {
        self.fixups.push((self.insns.len(), label.to_string()));
        self.push(JMP | cond as u8 | K, dst, Reg(0), 0, imm)
    }

    /// `if dst cond src goto label`.
    pub fn jmp_reg(&mut self, cond: Cond, dst: Reg, src: Reg, label: &str) -> &mut Self {
        self.fixups.push((self.insns.len(), label.to_string()));
        self.push(JMP | cond as u8 | X, dst, src, 0, 0)
    }

    /// The finished program, every jump resolved; an unknown or duplicate label, or a jump
    /// further than an `i16` offset, is an error.
    pub fn finish(&self) -> Result<Vec<Insn>, String> {
        let mut out = self.insns.clone();
        for (i, (name, _)) in self.labels.iter().enumerate() {
            if self.labels[..i].iter().any(|(n, _)| n == name) {
                return Err(format!("label {name:?} defined twice"));
            }
        }
        for (at, name) in &self.fixups {
            let target = self
                .labels
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, t)| *t)
                .ok_or_else(|| format!("jump to undefined label {name:?}"))?;
            let off = target as i64 - (*at as i64 + 1);
            out[*at].off =
                i16::try_from(off).map_err(|_| format!("jump to {name:?} is too far"))?;
        }
        Ok(out)
    }
}

/// The one's complement sum of `bytes` read as 16-bit words in the host's byte order
/// (a trailing odd byte padded with zero), folded to 16 bits. On a little-endian host this is
/// the byte-swap of the Internet checksum sum: XDP programs here add little-endian words,
/// store the folded complement with a native 16-bit store, and so produce the checksum in
/// network order (RFC 1071's byte-order independence).
pub fn native_sum(bytes: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for w in bytes.chunks(2) {
        let hi = w.get(1).copied().unwrap_or(0);
        s += u64::from(u16::from_ne_bytes([w[0], hi]));
    }
    while s >> 16 != 0 {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_the_kernel_headers() {
        let mut a = Asm::new();
        a.mov_imm(R0, 2).exit();
        let p = a.finish().unwrap();
        // mov64 r0, 2 = b7 00 0000 02000000 ; exit = 95 00 0000 00000000
        assert_eq!(
            p[0],
            Insn {
                code: 0xb7,
                regs: 0,
                off: 0,
                imm: 2
            }
        );
        assert_eq!(p[1].code, 0x95);
        let mut a = Asm::new();
        a.load(Size::W, R2, R1, 8)
            .store(Size::H, R3, 6, R5)
            .to_be(R5, 16);
        let p = a.finish().unwrap();
        assert_eq!((p[0].code, p[0].regs, p[0].off), (0x61, 0x12, 8));
        assert_eq!((p[1].code, p[1].regs, p[1].off), (0x6b, 0x53, 6));
        assert_eq!((p[2].code, p[2].imm), (0xdc, 16));
    }

    #[test]
    fn jumps_resolve_both_ways_and_bad_labels_are_errors() {
        let mut a = Asm::new();
        a.label("top")
            .jmp_imm(Cond::Eq, R1, 0, "out")
            .ja("top")
            .label("out")
            .exit();
        let p = a.finish().unwrap();
        assert_eq!(p[0].off, 1);
        assert_eq!(p[1].off, -2);
        let mut b = Asm::new();
        b.ja("nowhere");
        assert!(b.finish().unwrap_err().contains("nowhere"));
        let mut c = Asm::new();
        c.label("x").label("x");
        assert!(c.finish().unwrap_err().contains("twice"));
    }

    #[test]
    fn ld_imm64_takes_two_slots() {
        let mut a = Asm::new();
        a.ld_imm64(R1, 0x1122_3344_5566_7788);
        let p = a.finish().unwrap();
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].imm as u32, 0x5566_7788);
        assert_eq!(p[1].imm as u32, 0x1122_3344);
    }

    #[test]
    fn native_sum_is_the_swapped_internet_sum() {
        let data: Vec<u8> = (0..37u8).map(|i| i.wrapping_mul(37)).collect();
        let inet = !crate::wire::checksum(&data);
        let native = native_sum(&data);
        if cfg!(target_endian = "little") {
            assert_eq!(native, inet.swap_bytes());
        } else {
            assert_eq!(native, inet);
        }
    }
}
