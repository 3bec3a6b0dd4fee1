//! The reflector's kernel half: an XDP program on the reflector's interface that answers plain
//! echo requests where they arrive (Ethernet and IP addresses swapped, TTL 64, type 8 → 0,
//! both checksums updated incrementally as RFC 1624 says, `XDP_TX`) and passes everything else
//! — ARP, IP options, fragments, other ICMP, martian sources, frames for other MACs — up to
//! the user-space responder ([`crate::reflect`]), which decides about them as before.
//!
//! The reflector answers untagged frames only. A VLAN tag that the NIC (or, on a veth, the
//! sender's VLAN offload) moved into packet metadata is not in the bytes an XDP program sees,
//! so the program asks the driver (`bpf_xdp_metadata_rx_vlan_tag`, a kfunc of dev-bound
//! programs) and passes every frame that had a tag, or whose driver cannot tell, up to user
//! space, where the restored tags are checked. Generic (skb) mode cannot call the driver's
//! kfuncs: the program is attached natively or not at all.
//!
//! The IP header checksum is verified; the ICMP checksum is not (that would need a loop over
//! the data): a corrupted request gets a reply whose checksum is wrong in the same way, which
//! the sender sees as corrupt. Replies are counted in an mmap'd map; with a count limit the
//! program stops answering (and passes requests up) once that many are claimed.
//!
//! `XDP_TX` on a veth fails silently unless the peer has GRO (NAPI) or an XDP program on: the
//! veth counts the failures in its `tx_dropped`, which [`XdpReflector::tx_failures`] reads.

use std::sync::atomic::Ordering;

use crate::link::bpf_asm::{xdp, xdp_md, Alu, Asm, Cond, Insn, Reg, Size};
use crate::link::bpf_asm::{R0, R1, R10, R2, R3, R4, R5, R6, R7, R8, R9};
use crate::link::ebpf::{self, SharedMap};
use crate::wire::MacAddr;
use std::net::Ipv4Addr;

/// What the program answers for.
#[derive(Debug, Clone, Copy)]
pub struct XdpReflectConfig {
    /// Our Ethernet address (only frames to it are answered).
    pub mac: MacAddr,
    /// Our IPv4 address.
    pub addr: Ipv4Addr,
    /// Its prefix length (its subnet broadcast is a martian source).
    pub prefix: u8,
    /// Stop answering after this many replies.
    pub limit: Option<u64>,
}

fn ne32(b: [u8; 4]) -> u64 {
    u64::from(u32::from_ne_bytes(b))
}

/// The kfunc that says whether the driver stripped a VLAN tag from the frame.
pub const RX_VLAN_TAG_KFUNC: &str = "bpf_xdp_metadata_rx_vlan_tag";
/// `-ENODATA` (what the kfunc returns for a frame without a tag), low 16 bits.
const ENODATA_LOW16: i32 = 0xffff & -61i32;

/// The echo-answering program; with `vlan_kfunc` (the BTF id of [`RX_VLAN_TAG_KFUNC`]) it
/// first passes every frame the driver says had a VLAN tag, or cannot say about.
pub fn echo_program(
    cfg: &XdpReflectConfig,
    map_fd: i32,
    vlan_kfunc: Option<u32>,
) -> Result<Vec<Insn>, String> {
    let m = cfg.mac;
    let mac_lo = ne32([m.0, m.1, m.2, m.3]);
    let mac_hi = i32::from(u16::from_ne_bytes([m.4, m.5]));
    let ip = ne32(cfg.addr.octets());
    let host_bits = if cfg.prefix >= 31 {
        0
    } else {
        u32::MAX >> cfg.prefix
    };
    let bcast = ne32((u32::from(cfg.addr) | host_bits).to_be_bytes());
    let ne16 = |b: [u8; 2]| i32::from(u16::from_ne_bytes(b));
    let mut a = Asm::new();
    a.mov(R6, R1);
    if let Some(id) = vlan_kfunc {
        let id = i32::try_from(id).map_err(|_| format!("BTF id {id} out of range"))?;
        // int bpf_xdp_metadata_rx_vlan_tag(ctx, __be16 *proto, u16 *tci): 0 when tagged,
        // -ENODATA when not, another error when the driver cannot tell.
        a.mov_imm(R4, 0)
            .store(Size::DW, R10, -8, R4)
            .mov(R1, R6)
            .mov(R2, R10)
            .alu_imm(Alu::Add, R2, -8)
            .mov(R3, R10)
            .alu_imm(Alu::Add, R3, -4)
            .call_kfunc(id)
            .alu_imm(Alu::And, R0, 0xffff)
            .jmp_imm(Cond::Ne, R0, ENODATA_LOW16, "pass");
    }
    a.load(Size::W, R2, R6, xdp_md::DATA)
        .load(Size::W, R3, R6, xdp_md::DATA_END)
        .mov(R4, R2)
        .alu_imm(Alu::Add, R4, 42)
        .jmp_reg(Cond::Gt, R4, R3, "pass")
        // To our MAC, from a unicast one, IPv4 with a 20-byte header, not a fragment, ICMP.
        .load(Size::W, R4, R2, 0)
        .ld_imm64(R5, mac_lo)
        .jmp_reg(Cond::Ne, R4, R5, "pass")
        .load(Size::H, R4, R2, 4)
        .jmp_imm(Cond::Ne, R4, mac_hi, "pass")
        .load(Size::B, R4, R2, 6)
        .jmp_imm(Cond::Set, R4, 1, "pass")
        .load(Size::H, R4, R2, 12)
        .jmp_imm(Cond::Ne, R4, ne16([0x08, 0x00]), "pass")
        .load(Size::B, R4, R2, 14)
        .jmp_imm(Cond::Ne, R4, 0x45, "pass")
        .load(Size::H, R4, R2, 20)
        .jmp_imm(Cond::Set, R4, ne16([0x3f, 0xff]), "pass")
        .load(Size::B, R4, R2, 23)
        .jmp_imm(Cond::Ne, R4, 1, "pass")
        // To our address, from one that can be answered.
        .load(Size::W, R4, R2, 30)
        .ld_imm64(R5, ip)
        .jmp_reg(Cond::Ne, R4, R5, "pass")
        .load(Size::W, R7, R2, 26)
        .jmp_reg(Cond::Eq, R7, R5, "pass")
        .jmp_imm(Cond::Eq, R7, 0, "pass")
        .ld_imm64(R5, u64::from(u32::MAX))
        .jmp_reg(Cond::Eq, R7, R5, "pass")
        .ld_imm64(R5, bcast)
        .jmp_reg(Cond::Eq, R7, R5, "pass")
        .load(Size::B, R4, R2, 26)
        .jmp_imm(Cond::Eq, R4, 127, "pass")
        .alu_imm(Alu::And, R4, 0xf0)
        .jmp_imm(Cond::Eq, R4, 0xe0, "pass")
        // An echo request (type 8, code 0) whose IP length fits the frame.
        .load(Size::H, R4, R2, 34)
        .jmp_imm(Cond::Ne, R4, ne16([8, 0]), "pass")
        .load(Size::H, R4, R2, 16)
        .to_be(R4, 16)
        .alu_imm(Alu::And, R4, 0xffff)
        .jmp_imm(Cond::Lt, R4, 28, "pass")
        .alu_imm(Alu::Add, R4, 14)
        .alu_reg(Alu::Add, R4, R2)
        .jmp_reg(Cond::Gt, R4, R3, "pass")
        // IP header checksum: the ten words sum to 0xffff.
        .mov_imm(R8, 0);
    for off in (14..34).step_by(2) {
        a.load(Size::H, R4, R2, off).alu_reg(Alu::Add, R8, R4);
    }
    fold(&mut a, R8, R4);
    a.jmp_imm(Cond::Ne, R8, 0xffff, "pass");
    // Claim a reply (a count limit passes the rest up).
    a.ld_map_value(R1, map_fd, 0)
        .mov_imm(R4, 1)
        .atomic_fetch_add(R1, 0, R4)
        .ld_imm64(R5, cfg.limit.unwrap_or(u64::MAX))
        .jmp_reg(Cond::Ge, R4, R5, "pass")
        // Swap the Ethernet addresses.
        .load(Size::W, R4, R2, 0)
        .load(Size::H, R5, R2, 4)
        .load(Size::W, R8, R2, 6)
        .load(Size::H, R9, R2, 10)
        .store(Size::W, R2, 0, R8)
        .store(Size::H, R2, 4, R9)
        .store(Size::W, R2, 6, R4)
        .store(Size::H, R2, 10, R5)
        // Swap the IP addresses (the header sum does not change).
        .load(Size::W, R4, R2, 30)
        .store(Size::W, R2, 26, R4)
        .store(Size::W, R2, 30, R7)
        // TTL 64: HC' = ~(~HC + ~m + m').
        .load(Size::H, R4, R2, 22)
        .load(Size::H, R5, R2, 24)
        .alu_imm(Alu::Xor, R5, 0xffff)
        .alu_imm(Alu::Xor, R4, 0xffff)
        .alu_reg(Alu::Add, R5, R4)
        .alu_imm(Alu::Add, R5, ne16([64, 1]));
    fold(&mut a, R5, R4);
    a.alu_imm(Alu::Xor, R5, 0xffff)
        .store(Size::H, R2, 24, R5)
        .mov_imm(R4, ne16([64, 1]))
        .store(Size::H, R2, 22, R4)
        // Type 8 → 0 (code stays 0).
        .load(Size::H, R5, R2, 36)
        .alu_imm(Alu::Xor, R5, 0xffff)
        .alu_imm(Alu::Add, R5, 0xffff ^ ne16([8, 0]));
    fold(&mut a, R5, R4);
    a.alu_imm(Alu::Xor, R5, 0xffff)
        .store(Size::H, R2, 36, R5)
        .mov_imm(R4, 0)
        .store(Size::H, R2, 34, R4)
        .mov_imm(R0, xdp::TX)
        .exit()
        .label("pass")
        .mov_imm(R0, xdp::PASS)
        .exit();
    a.finish()
}

/// Fold `r` to 16 bits (one's complement), twice; `t` is scratch.
fn fold(a: &mut Asm, r: Reg, t: Reg) {
    for _ in 0..2 {
        a.mov(t, r)
            .alu_imm(Alu::Rsh, t, 16)
            .alu_imm(Alu::And, r, 0xffff)
            .alu_reg(Alu::Add, r, t);
    }
}

/// The attached program; detached when dropped.
pub struct XdpReflector {
    map: SharedMap,
    _prog: crate::link::sys::Fd,
    _link: crate::link::sys::Fd,
    iface: String,
    limit: Option<u64>,
    /// Whether it runs in the driver (native) or on skbs (generic).
    pub native: bool,
    drops_at_start: u64,
}

/// `tx_dropped` of `iface` in our namespace.
fn tx_dropped(iface: &str) -> u64 {
    let Ok(text) = std::fs::read_to_string("/proc/net/dev") else {
        return 0;
    };
    text.lines()
        .find_map(|l| {
            let (name, rest) = l.split_once(':')?;
            (name.trim() == iface).then(|| rest.split_whitespace().nth(11)?.parse().ok())?
        })
        .unwrap_or(0)
}

impl XdpReflector {
    /// Load the program bound to `iface` (`ifindex`) and attach it natively. Refused where
    /// the program could not tell VLAN-tagged frames (stripped into metadata) from untagged
    /// ones: no kfunc in the kernel's BTF, or no native XDP on the device (generic mode runs
    /// on skbs and has no driver to ask).
    pub fn attach(iface: &str, ifindex: u32, cfg: &XdpReflectConfig) -> Result<Self, String> {
        let map = SharedMap::new(8, "pf_refl_count").map_err(|e| format!("creating a map: {e}"))?;
        let kfunc = crate::link::btf::vmlinux_func_id(RX_VLAN_TAG_KFUNC).ok_or_else(|| {
            format!(
                "the kernel's BTF has no {RX_VLAN_TAG_KFUNC}: an XDP program could not tell \
                 VLAN-tagged requests (tags stripped into metadata) from untagged ones"
            )
        })?;
        let insns = echo_program(cfg, map.fd(), Some(kfunc))?;
        let prog =
            ebpf::load_xdp_dev_bound(&insns, "pf_reflect", ifindex).map_err(|e| e.to_string())?;
        let link = ebpf::attach_xdp(&prog, ifindex, ebpf::XDP_FLAGS_DRV_MODE).map_err(|e| {
            format!(
                "attaching XDP natively to {iface}: {e} (generic XDP cannot see the VLAN tags \
                 a device strips, so it is not used)"
            )
        })?;
        let native = true;
        Ok(XdpReflector {
            map,
            _prog: prog,
            _link: link,
            iface: iface.to_string(),
            limit: cfg.limit,
            native,
            drops_at_start: tx_dropped(iface),
        })
    }

    /// Echo replies handed to `XDP_TX` so far.
    pub fn replies(&self) -> u64 {
        let claimed = self.map.word(0).load(Ordering::Relaxed);
        self.limit.map_or(claimed, |l| claimed.min(l))
    }

    /// Frames the interface failed to transmit since we attached (on veth: `XDP_TX`
    /// refused because the peer takes no XDP frames).
    pub fn tx_failures(&self) -> u64 {
        tx_dropped(&self.iface).saturating_sub(self.drops_at_start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_echo_program_assembles() {
        let cfg = XdpReflectConfig {
            mac: MacAddr::new(2, 0, 0, 0, 0, 9),
            addr: "203.0.113.9".parse().unwrap(),
            prefix: 24,
            limit: Some(5),
        };
        let p = echo_program(&cfg, 3, None).unwrap();
        assert!(p.len() > 60 && p.len() < 200, "{}", p.len());
        let q = echo_program(&cfg, 3, Some(1234)).unwrap();
        assert_eq!(q.len(), p.len() + 10);
        assert_eq!((q[8].code, q[8].regs, q[8].imm), (0x85, 0x20, 1234));
    }
}
