//! Two namespaces joined by a veth pair, and a Linux host on a VLAN behind it.
//!
//! ```text
//!   ns "a": va 192.0.2.2/24  ──(veth, tagged frames)──  ns "b": vb 192.0.2.1/24
//! ```
//! This kernel is built without 802.1Q (`CONFIG_VLAN_8021Q` is not set: `ip link add ... type
//! vlan` fails with "Unknown device type"), so b's VLAN port is made from the kernel's own VLAN
//! code driven by two tc programs on `vb` (tcx, attached with `BPF_LINK_CREATE`): on ingress,
//! a frame is taken only when its tag stack is exactly b's (TPID and VLAN id per tag, outermost
//! first); each tag is removed with `bpf_skb_vlan_pop` and the untagged frame goes to b's IP
//! stack; anything else (untagged, another VLAN, a deeper or shallower stack) is dropped, as a
//! VLAN device ignores it. On egress every frame b sends gets the stack back with
//! `bpf_skb_vlan_push` (innermost first). So b's kernel answers ARP and echo on its VLAN only,
//! exactly as a host behind `vb.100` (or a QinQ `vb.200.20`) would.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use pktforge::link::ebpf::asm::{Alu, Asm, Cond, Insn, Size, R0, R1, R2, R3, R6};

/// `bpf_skb_vlan_push(skb, __be16 proto, u16 tci)`.
const SKB_VLAN_PUSH: i32 = 18;
/// `bpf_skb_vlan_pop(skb)`.
const SKB_VLAN_POP: i32 = 19;
/// `struct __sk_buff` fields.
const SKB_VLAN_PRESENT: i16 = 20;
const SKB_VLAN_TCI: i16 = 24;
const SKB_VLAN_PROTO: i16 = 28;
/// tcx verdicts.
const TCX_PASS: i32 = 0;
const TCX_DROP: i32 = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;
const BPF_PROG_TYPE_SCHED_CLS: u32 = 3;
const BPF_TCX_INGRESS: u32 = 46;
const BPF_TCX_EGRESS: u32 = 47;

/// The namespaces and, when b is on a VLAN, the attached programs (detached on drop).
pub struct VlanPeer {
    pub a: String,
    pub b: String,
    _links: Vec<OwnedFd>,
}

static N: AtomicU32 = AtomicU32::new(0);

impl VlanPeer {
    /// a and b joined by a veth pair; b's port takes and sends frames tagged with `stack`
    /// ((TPID, VLAN id), outermost first; empty: an ordinary untagged port).
    pub fn new(stack: &[(u16, u16)]) -> VlanPeer {
        let base = format!(
            "pfv{}x{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let (a, b) = (format!("{base}a"), format!("{base}b"));
        let mut peer = VlanPeer {
            a: a.clone(),
            b: b.clone(),
            _links: Vec::new(),
        };
        for ns in [&a, &b] {
            run("ip", &["netns", "add", ns]);
            // No IPv6 chatter: every frame on the link is one a test or a kernel answer sent.
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.all.disable_ipv6=1",
                ],
            );
            run(
                "ip",
                &[
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.default.disable_ipv6=1",
                ],
            );
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        run(
            "ip",
            &[
                "-n", &a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", &b,
            ],
        );
        run(
            "ip",
            &["-n", &a, "addr", "add", "192.0.2.2/24", "dev", "va"],
        );
        run(
            "ip",
            &["-n", &b, "addr", "add", "192.0.2.1/24", "dev", "vb"],
        );
        run("ip", &["-n", &a, "link", "set", "va", "up"]);
        run("ip", &["-n", &b, "link", "set", "vb", "up"]);
        if !stack.is_empty() {
            let stack = stack.to_vec();
            let path = format!("/var/run/netns/{b}");
            // Programs attach by interface index in the calling thread's namespace.
            let links = std::thread::spawn(move || {
                enter(&path);
                let ifindex = ifindex("vb");
                vec![
                    attach(&ingress(&stack), ifindex, BPF_TCX_INGRESS),
                    attach(&egress(&stack), ifindex, BPF_TCX_EGRESS),
                ]
            })
            .join()
            .expect("attaching the VLAN programs");
            peer._links = links;
        }
        peer
    }

    /// The MAC of `dev` in namespace `ns`.
    pub fn mac(ns: &str, dev: &str) -> String {
        let out = exec(ns, "cat", &[&format!("/sys/class/net/{dev}/address")]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// a's MAC (on `va`).
    pub fn a_mac(&self) -> String {
        VlanPeer::mac(&self.a, "va")
    }

    /// b's MAC (on `vb`).
    pub fn b_mac(&self) -> String {
        VlanPeer::mac(&self.b, "vb")
    }
}

impl Drop for VlanPeer {
    fn drop(&mut self) {
        self._links.clear();
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip").args(["netns", "del", ns]).output();
        }
    }
}

/// Run `program args` in namespace `ns`.
pub fn exec(ns: &str, program: &str, args: &[&str]) -> Output {
    Command::new("ip")
        .args(["netns", "exec", ns, program])
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program} in {ns}: {e}"))
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn enter(path: &str) {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("open {path}: {e}"));
    // SAFETY: a valid netns fd; affects only this (fresh) thread.
    let rc = unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(rc, 0, "setns {path}: {}", std::io::Error::last_os_error());
}

fn ifindex(name: &str) -> u32 {
    let c = std::ffi::CString::new(name).unwrap();
    // SAFETY: a NUL-terminated name.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    assert_ne!(i, 0, "no interface {name}");
    i
}

/// A TPID as the kernel keeps it (`__be16`) read into a register.
fn be16(tpid: u16) -> i32 {
    i32::from(u16::from_ne_bytes(tpid.to_be_bytes()))
}

/// Take a frame only with exactly `stack`, every tag removed.
fn ingress(stack: &[(u16, u16)]) -> Vec<Insn> {
    let mut a = Asm::new();
    a.mov(R6, R1);
    for &(tpid, vid) in stack {
        a.load(Size::W, R2, R6, SKB_VLAN_PRESENT)
            .jmp_imm(Cond::Eq, R2, 0, "drop")
            .load(Size::W, R2, R6, SKB_VLAN_PROTO)
            .jmp_imm(Cond::Ne, R2, be16(tpid), "drop")
            .load(Size::W, R2, R6, SKB_VLAN_TCI)
            .alu_imm(Alu::And, R2, 0x0fff)
            .jmp_imm(Cond::Ne, R2, i32::from(vid), "drop")
            .mov(R1, R6)
            .call(SKB_VLAN_POP)
            .jmp_imm(Cond::Ne, R0, 0, "drop");
    }
    // A deeper stack still has a tag here.
    a.load(Size::W, R2, R6, SKB_VLAN_PRESENT)
        .jmp_imm(Cond::Ne, R2, 0, "drop")
        .mov_imm(R0, TCX_PASS)
        .exit()
        .label("drop")
        .mov_imm(R0, TCX_DROP)
        .exit();
    a.finish().expect("ingress program assembles")
}

/// Put `stack` on every frame sent.
fn egress(stack: &[(u16, u16)]) -> Vec<Insn> {
    let mut a = Asm::new();
    a.mov(R6, R1);
    for &(tpid, vid) in stack.iter().rev() {
        a.mov(R1, R6)
            .mov_imm(R2, be16(tpid))
            .mov_imm(R3, i32::from(vid))
            .call(SKB_VLAN_PUSH)
            .jmp_imm(Cond::Ne, R0, 0, "drop");
    }
    a.mov_imm(R0, TCX_PASS)
        .exit()
        .label("drop")
        .mov_imm(R0, TCX_DROP)
        .exit();
    a.finish().expect("egress program assembles")
}

fn sys_bpf(cmd: libc::c_long, attr: &mut [u8]) -> std::io::Result<i32> {
    // SAFETY: attr is a zeroed, correctly laid out bpf_attr of its length.
    let r = unsafe { libc::syscall(libc::SYS_bpf, cmd, attr.as_mut_ptr(), attr.len()) };
    if r < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(r as i32)
    }
}

/// Load `prog` as a tc program and attach it to `ifindex` at `attach_type` (a tcx link).
fn attach(prog: &[Insn], ifindex: u32, attach_type: u32) -> OwnedFd {
    let license = b"GPL\0";
    let mut log = vec![0u8; 1 << 16];
    let mut attr = [0u8; 128];
    attr[0..4].copy_from_slice(&BPF_PROG_TYPE_SCHED_CLS.to_ne_bytes());
    attr[4..8].copy_from_slice(&(prog.len() as u32).to_ne_bytes());
    attr[8..16].copy_from_slice(&(prog.as_ptr() as u64).to_ne_bytes());
    attr[16..24].copy_from_slice(&(license.as_ptr() as u64).to_ne_bytes());
    attr[24..28].copy_from_slice(&1u32.to_ne_bytes());
    attr[28..32].copy_from_slice(&(log.len() as u32).to_ne_bytes());
    attr[32..40].copy_from_slice(&(log.as_mut_ptr() as u64).to_ne_bytes());
    let prog_fd = match sys_bpf(BPF_PROG_LOAD, &mut attr) {
        Ok(fd) => unsafe { OwnedFd::from_raw_fd(fd) },
        Err(e) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            panic!(
                "loading the VLAN tc program: {e}: {}",
                String::from_utf8_lossy(&log[..end])
            );
        }
    };
    let mut attr = [0u8; 64];
    attr[0..4].copy_from_slice(&(prog_fd.as_raw_fd() as u32).to_ne_bytes());
    attr[4..8].copy_from_slice(&ifindex.to_ne_bytes());
    attr[8..12].copy_from_slice(&attach_type.to_ne_bytes());
    let link = sys_bpf(BPF_LINK_CREATE, &mut attr)
        .unwrap_or_else(|e| panic!("attaching the VLAN tc program (tcx): {e}"));
    // SAFETY: a new fd the kernel just returned.
    unsafe { OwnedFd::from_raw_fd(link) }
}
