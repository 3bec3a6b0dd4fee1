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
//! GRO on the peer is not enough either: the peer's queue then takes the frames, but the veth
//! wakes the peer only when the peer has an XDP program, so the replies wait there (in the lab
//! they never reached the peer's stack). [`xdp_tx_delivers`] finds out before a request is at
//! stake: on a veth it asks rtnetlink whether the peer (in whichever namespace) has an XDP
//! program attached natively; on any interface it then runs a one-instruction `XDP_TX`
//! program over a few live frames (a local experimental EtherType addressed to the interface
//! itself, which the peer drops) as if they had arrived there, and checks that the transmit
//! counter took them. It changes no setting, here or on the peer.

use std::sync::atomic::Ordering;

use crate::link::ebpf::asm::{xdp, xdp_md, Alu, Asm, Cond, Insn, Reg, Size};
use crate::link::ebpf::asm::{R0, R1, R10, R2, R3, R4, R5, R6, R7, R8, R9};
use crate::link::ebpf::loader::{self, SharedMap};
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
    // Answer only while user space says the replies are delivered (the map's second word);
    // claim a reply (a count limit passes the rest up).
    a.ld_map_value(R1, map_fd, 0)
        .load(Size::DW, R4, R1, 8)
        .jmp_imm(Cond::Eq, R4, 0, "pass")
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

/// Frames [`xdp_tx_delivers`] sends.
const PROBE_FRAMES: u32 = 4;

/// Transmit packets counter of `iface` in our namespace.
fn tx_packets(iface: &str) -> u64 {
    crate::link::xdp::live::tx_packets(iface).unwrap_or(0)
}

/// The frame [`xdp_tx_delivers`] sends: from and to `mac` (so a peer that takes it drops it
/// as another host's), IEEE 802 local experimental EtherType, padded to the minimum.
pub fn probe_frame(mac: MacAddr) -> Vec<u8> {
    let m = [mac.0, mac.1, mac.2, mac.3, mac.4, mac.5];
    let mut f = Vec::with_capacity(60);
    f.extend_from_slice(&m);
    f.extend_from_slice(&m);
    f.extend_from_slice(&[0x88, 0xb5]);
    f.extend_from_slice(b"pktforge: does XDP_TX leave here?");
    f.resize(60, 0);
    f
}

/// Whether frames an XDP program sends back with `XDP_TX` on `iface` (`ifindex`, Ethernet
/// address `mac`) leave it: a few live frames of [`probe_frame`] are sent so and the
/// interface's transmit counter must take them all. `Err` says why not (on a veth: what the
/// peer needs), or why it could not be found out.
pub fn xdp_tx_delivers(iface: &str, ifindex: u32, mac: MacAddr) -> Result<(), String> {
    veth_peer_takes_xdp(iface, ifindex)?;
    let mut a = Asm::new();
    a.mov_imm(R0, xdp::TX).exit();
    let prog = loader::load_xdp(&a.finish()?, "pf_refl_probe")
        .map_err(|e| format!("loading an XDP_TX probe: {e}"))?;
    let before = tx_packets(iface);
    loader::run_live(
        &prog,
        &probe_frame(mac),
        0,
        ifindex,
        0,
        PROBE_FRAMES,
        PROBE_FRAMES,
    )
    .map_err(|e| format!("sending XDP_TX probe frames on {iface}: {e}"))?;
    // A peer's NAPI poll may still run on another CPU: give it a moment.
    let until = std::time::Instant::now() + std::time::Duration::from_millis(200);
    let mut sent = 0;
    while std::time::Instant::now() < until {
        sent = tx_packets(iface).saturating_sub(before);
        if sent >= u64::from(PROBE_FRAMES) {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    Err(format!(
        "XDP_TX on {iface} does not deliver ({sent} of {PROBE_FRAMES} probe frames left it): on a \
         veth pair the peer takes XDP frames only with GRO on (`ethtool -K PEER gro on` in the \
         peer's namespace) or an XDP program attached to it"
    ))
}

/// What rtnetlink says about a link (the parts [`veth_peer_takes_xdp`] needs).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct LinkFacts {
    /// `IFLA_INFO_KIND` ("veth", "bridge", ...).
    pub kind: Option<String>,
    /// `IFLA_LINK`: on a veth, the peer's ifindex.
    pub link: Option<u32>,
    /// `IFLA_LINK_NETNSID`: the peer's namespace, as our namespace numbers it.
    pub link_netnsid: Option<i32>,
    /// An XDP program is attached in native (driver) mode.
    pub xdp_native: bool,
}

const IFLA_LINK: u16 = 5;
const IFLA_LINKINFO: u16 = 18;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_LINK_NETNSID: u16 = 37;
const IFLA_XDP: u16 = 43;
const IFLA_XDP_ATTACHED: u16 = 2;
const IFLA_XDP_DRV_PROG_ID: u16 = 5;
const IFLA_TARGET_NETNSID: u16 = 46;
const XDP_ATTACHED_DRV: u8 = 1;
const RTM_NEWLINK: u16 = 16;
const RTM_GETLINK: u16 = 18;
const NLMSG_ERROR: u16 = 2;

/// The attributes in `b` (type without the nested/byte-order flags, payload).
fn attrs(mut b: &[u8]) -> Vec<(u16, &[u8])> {
    let mut out = Vec::new();
    while b.len() >= 4 {
        let len = usize::from(u16::from_ne_bytes([b[0], b[1]]));
        let ty = u16::from_ne_bytes([b[2], b[3]]) & 0x3fff;
        if len < 4 || len > b.len() {
            break;
        }
        out.push((ty, &b[4..len]));
        b = &b[((len + 3) & !3).min(b.len())..];
    }
    out
}

/// Parse an `RTM_NEWLINK` message's attributes (after the `ifinfomsg`).
pub(crate) fn parse_link(attributes: &[u8]) -> LinkFacts {
    let mut f = LinkFacts::default();
    let u32_of = |p: &[u8]| {
        p.get(..4)
            .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
    };
    for (ty, p) in attrs(attributes) {
        match ty {
            IFLA_LINK => f.link = u32_of(p),
            IFLA_LINK_NETNSID => f.link_netnsid = u32_of(p).map(|v| v as i32),
            IFLA_LINKINFO => {
                for (t, k) in attrs(p) {
                    if t == IFLA_INFO_KIND {
                        let k = k.split(|c| *c == 0).next().unwrap_or(&[]);
                        f.kind = Some(String::from_utf8_lossy(k).into_owned());
                    }
                }
            }
            IFLA_XDP => {
                for (t, v) in attrs(p) {
                    match t {
                        IFLA_XDP_ATTACHED => f.xdp_native |= v.first() == Some(&XDP_ATTACHED_DRV),
                        IFLA_XDP_DRV_PROG_ID => f.xdp_native |= u32_of(v).unwrap_or(0) != 0,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    f
}

/// `RTM_GETLINK` for `ifindex`, in the namespace our namespace numbers `netnsid` (ours when
/// `None`).
pub(crate) fn link_facts(ifindex: u32, netnsid: Option<i32>) -> std::io::Result<LinkFacts> {
    use std::io;
    // SAFETY: plain socket call; the descriptor is owned by `fd` below.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::NETLINK_ROUTE,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = crate::link::sys::Fd(raw);
    let mut msg = Vec::with_capacity(40);
    msg.extend_from_slice(&0u32.to_ne_bytes()); // length, below
    msg.extend_from_slice(&RTM_GETLINK.to_ne_bytes());
    msg.extend_from_slice(&(libc::NLM_F_REQUEST as u16).to_ne_bytes());
    msg.extend_from_slice(&1u32.to_ne_bytes()); // sequence
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port: the kernel
                                                // struct ifinfomsg: family, pad, type, index, flags, change.
    msg.extend_from_slice(&[0, 0, 0, 0]);
    msg.extend_from_slice(&ifindex.to_ne_bytes());
    msg.extend_from_slice(&[0; 8]);
    if let Some(id) = netnsid {
        msg.extend_from_slice(&8u16.to_ne_bytes());
        msg.extend_from_slice(&IFLA_TARGET_NETNSID.to_ne_bytes());
        msg.extend_from_slice(&id.to_ne_bytes());
    }
    let len = msg.len() as u32;
    msg[..4].copy_from_slice(&len.to_ne_bytes());
    // SAFETY: a valid buffer of msg.len() bytes; the kernel is the default destination.
    if unsafe { libc::send(fd.0, msg.as_ptr().cast(), msg.len(), 0) } < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = vec![0u8; 1 << 16];
    // SAFETY: writes at most buf.len() bytes into buf.
    let n = unsafe { libc::recv(fd.0, buf.as_mut_ptr().cast(), buf.len(), 0) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let b = &buf[..n as usize];
    let bad = || io::Error::new(io::ErrorKind::InvalidData, "short rtnetlink answer");
    let mlen = b.get(..4).ok_or_else(bad)?;
    let mlen = (u32::from_ne_bytes([mlen[0], mlen[1], mlen[2], mlen[3]]) as usize).min(b.len());
    match u16::from_ne_bytes([b[4], b[5]]) {
        NLMSG_ERROR => {
            let e = b.get(16..20).ok_or_else(bad)?;
            let code = i32::from_ne_bytes([e[0], e[1], e[2], e[3]]);
            Err(io::Error::from_raw_os_error(-code))
        }
        RTM_NEWLINK if mlen >= 32 => Ok(parse_link(&b[32..mlen])),
        _ => Err(bad()),
    }
}

/// On a veth, whether its peer takes the frames an XDP program sends back: only while the
/// peer has an XDP program attached natively. `Ok` for any other kind of interface.
pub fn veth_peer_takes_xdp(iface: &str, ifindex: u32) -> Result<(), String> {
    let me =
        link_facts(ifindex, None).map_err(|e| format!("asking rtnetlink about {iface}: {e}"))?;
    if me.kind.as_deref() != Some("veth") {
        return Ok(());
    }
    let peer = me
        .link
        .ok_or_else(|| format!("{iface} is a veth without a peer: XDP_TX would go nowhere"))?;
    let p = link_facts(peer, me.link_netnsid).map_err(|e| {
        format!("asking rtnetlink about the peer of the veth {iface} (ifindex {peer}): {e}")
    })?;
    if p.xdp_native {
        return Ok(());
    }
    let there = if me.link_netnsid.is_some() {
        " in another namespace"
    } else {
        ""
    };
    Err(format!(
        "XDP_TX replies on the veth {iface} reach its peer (ifindex {peer}{there}) only while \
         the peer has an XDP program attached in native (driver) mode, and it has none (GRO on \
         the peer is not enough: the replies wait in its queue); attach one to the peer or \
         answer in user space"
    ))
}

impl XdpReflector {
    /// Load the program bound to `iface` (`ifindex`) and attach it natively, passing every
    /// request up until [`XdpReflector::set_answering`] says otherwise. Refused where
    /// the program could not tell VLAN-tagged frames (stripped into metadata) from untagged
    /// ones: no kfunc in the kernel's BTF, or no native XDP on the device (generic mode runs
    /// on skbs and has no driver to ask).
    pub fn attach(iface: &str, ifindex: u32, cfg: &XdpReflectConfig) -> Result<Self, String> {
        let map =
            SharedMap::new(16, "pf_refl_count").map_err(|e| format!("creating a map: {e}"))?;
        let kfunc =
            crate::link::ebpf::btf::vmlinux_func_id(RX_VLAN_TAG_KFUNC).ok_or_else(|| {
                format!(
                    "the kernel's BTF has no {RX_VLAN_TAG_KFUNC}: an XDP program could not tell \
                 VLAN-tagged requests (tags stripped into metadata) from untagged ones"
                )
            })?;
        let insns = echo_program(cfg, map.fd(), Some(kfunc))?;
        let prog =
            loader::load_xdp_dev_bound(&insns, "pf_reflect", ifindex).map_err(|e| e.to_string())?;
        let link = loader::attach_xdp(&prog, ifindex, loader::XDP_FLAGS_DRV_MODE).map_err(|e| {
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

    /// Answer echo requests in the kernel (`true`) or pass them all up to user space.
    pub fn set_answering(&self, on: bool) {
        self.map.word(8).store(u64::from(on), Ordering::Relaxed);
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
