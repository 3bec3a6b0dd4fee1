//! UDP and TCP SYN probes on the engine: traceroute's `-U` and `-T` methods and `probe`'s port
//! checks. Each probe's ports (and for TCP its initial sequence number) are remembered by
//! sequence number, so an answer or an ICMP error quoting the probe's first 8 bytes is matched
//! through them, never by arrival order.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::SystemTime;

use crate::event::Answer;
use crate::probe::engine::Probe;
use crate::wire::tcp::{flags, flags_text, quoted_tcp, TcpOption};
use crate::wire::udp::quoted_ports;
use crate::wire::{
    Ipv4Packet, Ipv4Repr, L4Repr, TcpPacket, TcpRepr, UdpPacket, UdpRepr, IP_PROTO_TCP,
    IP_PROTO_UDP,
};

/// How a probe's ports follow from its sequence number.
#[derive(Debug, Clone)]
pub enum PortPlan {
    /// One source port; the destination port is `base + seq - 1` (traceroute -U: 33434,
    /// 33435, ...), wrapping past 65535 to 1.
    RisingDst {
        /// Source port of every probe.
        sport: u16,
        /// Destination port of probe 1.
        base: u16,
    },
    /// The destination ports in turn (probe 1 → the first, ...); the source port is
    /// `sport_base + seq - 1` so probes to the same port stay apart.
    Cycle {
        /// First source port.
        sport_base: u16,
        /// Destination ports, cycled.
        ports: Vec<u16>,
    },
}

impl PortPlan {
    /// (source, destination) ports of probe `seq` (≥ 1).
    pub fn ports(&self, seq: u16) -> (u16, u16) {
        let i = seq.max(1) - 1;
        let wrap = |base: u16, i: u16| -> u16 {
            // Ports 1..=65535: skip 0 when wrapping.
            let v = (u32::from(base) - 1 + u32::from(i)) % 65535 + 1;
            v as u16
        };
        match self {
            PortPlan::RisingDst { sport, base } => (*sport, wrap(*base, i)),
            PortPlan::Cycle { sport_base, ports } => {
                let dport = ports[usize::from(i) % ports.len().max(1)];
                (wrap(*sport_base, i), dport)
            }
        }
    }
}

/// A source port base for this process: in the dynamic range 49152..=65535, from the pid.
pub fn default_sport() -> u16 {
    49152 + (std::process::id() % 8192) as u16 * 2
}

/// UDP probes with `data` as payload.
#[derive(Debug, Clone)]
pub struct UdpProbe {
    plan: PortPlan,
    data: Vec<u8>,
    dest: Ipv4Addr,
    sent: HashMap<(u16, u16), u16>,
}

impl UdpProbe {
    /// Probes to `dest` along `plan`, each carrying `data`.
    pub fn new(dest: Ipv4Addr, plan: PortPlan, data: Vec<u8>) -> Self {
        UdpProbe {
            plan,
            data,
            dest,
            sent: HashMap::new(),
        }
    }
    /// Bytes of each probe's IP payload.
    pub fn l4_len(&self) -> usize {
        8 + self.data.len()
    }
    /// The plan.
    pub fn plan(&self) -> &PortPlan {
        &self.plan
    }
}

impl Probe for UdpProbe {
    fn protocol(&self) -> u8 {
        IP_PROTO_UDP
    }
    fn payload(&mut self, seq: u16, _at: SystemTime) -> L4Repr {
        let (s, d) = self.plan.ports(seq);
        self.sent.insert((s, d), seq);
        L4Repr::Udp(UdpRepr::new(s, d, self.data.clone()))
    }
    fn answer(&self, ip: &Ipv4Packet<&[u8]>, _at: SystemTime) -> Option<(u16, Answer)> {
        if ip.protocol() != IP_PROTO_UDP || ip.src() != self.dest {
            return None;
        }
        let u = UdpPacket::new_checked(ip.payload()).ok()?;
        let seq = *self.sent.get(&(u.dst_port(), u.src_port()))?;
        Some((
            seq,
            Answer::Udp {
                port: u.src_port(),
                data_bytes: u.payload().len(),
            },
        ))
    }
    fn quoted(&self, protocol: u8, l4: &[u8]) -> Option<u16> {
        if protocol != IP_PROTO_UDP {
            return None;
        }
        self.sent.get(&quoted_ports(l4)?).copied()
    }
}

/// TCP SYN probes (traceroute -T, hping3 -S): MSS 1460, SACK-permitted, timestamps and window
/// scale like a Linux SYN unless other options are given.
#[derive(Debug, Clone)]
pub struct TcpSynProbe {
    plan: PortPlan,
    dest: Ipv4Addr,
    isn_base: u32,
    options: Vec<TcpOption>,
    /// (sport, dport) → (seq number of the probe, its ISN).
    sent: HashMap<(u16, u16), (u16, u32)>,
}

impl TcpSynProbe {
    /// SYNs to `dest` along `plan` with `options`.
    pub fn new(dest: Ipv4Addr, plan: PortPlan, options: Vec<TcpOption>) -> Self {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        TcpSynProbe {
            plan,
            dest,
            isn_base: (t.subsec_nanos() ^ std::process::id().rotate_left(16)) | 1,
            options,
            sent: HashMap::new(),
        }
    }
    /// The options Linux puts on a SYN: mss 1460, sackOK, TS, nop, wscale 7.
    pub fn linux_options(at: SystemTime) -> Vec<TcpOption> {
        let ms = at
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis() as u32;
        vec![
            TcpOption::Mss(1460),
            TcpOption::SackPermitted,
            TcpOption::Timestamps {
                tsval: ms,
                tsecr: 0,
            },
            TcpOption::Nop,
            TcpOption::WindowScale(7),
        ]
    }
    /// Bytes of each probe's IP payload; `Limit` when the options are over 40 bytes.
    pub fn l4_len(&self) -> crate::Result<usize> {
        let mut r = TcpRepr::new(0, 0, flags::SYN);
        r.options = self.options.clone();
        Ok(r.header_len()?)
    }
    /// The plan.
    pub fn plan(&self) -> &PortPlan {
        &self.plan
    }
    fn isn(&self, seq: u16) -> u32 {
        self.isn_base
            .wrapping_add(u32::from(seq).wrapping_mul(0x0101_0101))
    }
}

impl Probe for TcpSynProbe {
    fn protocol(&self) -> u8 {
        IP_PROTO_TCP
    }
    fn payload(&mut self, seq: u16, _at: SystemTime) -> L4Repr {
        let (s, d) = self.plan.ports(seq);
        let isn = self.isn(seq);
        self.sent.insert((s, d), (seq, isn));
        let mut t = TcpRepr::new(s, d, flags::SYN);
        t.seq = isn;
        t.options = self.options.clone();
        L4Repr::Tcp(t)
    }
    fn adjust_ip(&mut self, _seq: u16, _ip: &mut Ipv4Repr) {}
    fn answer(&self, ip: &Ipv4Packet<&[u8]>, _at: SystemTime) -> Option<(u16, Answer)> {
        if ip.protocol() != IP_PROTO_TCP || ip.src() != self.dest {
            return None;
        }
        let t = TcpPacket::new_checked(ip.payload()).ok()?;
        let &(seq, isn) = self.sent.get(&(t.dst_port(), t.src_port()))?;
        // A SYN-ACK or an RST-ACK acknowledges our SYN: ack = ISN + 1 (RFC 9293 3.10.7.3).
        if !t.has(flags::ACK) || t.ack() != isn.wrapping_add(1) {
            return None;
        }
        if !(t.has(flags::SYN) || t.has(flags::RST)) {
            return None;
        }
        let mss = t.option_list().iter().find_map(|o| match o {
            TcpOption::Mss(m) => Some(*m),
            _ => None,
        });
        Some((
            seq,
            Answer::Tcp {
                port: t.src_port(),
                flags: flags_text(t.flags()),
                seq: t.seq(),
                ack: t.ack(),
                window: t.window(),
                mss,
            },
        ))
    }
    fn quoted(&self, protocol: u8, l4: &[u8]) -> Option<u16> {
        if protocol != IP_PROTO_TCP {
            return None;
        }
        let (s, d, sn) = quoted_tcp(l4)?;
        let &(seq, isn) = self.sent.get(&(s, d))?;
        (sn == isn).then_some(seq)
    }
}

/// Whether a TCP answer's flags mean the port is open (SYN-ACK) rather than closed (RST).
pub fn tcp_open(flags_text: &str) -> bool {
    flags_text.contains('S') && !flags_text.contains('R')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_plans_follow_traceroute_and_wrap_past_65535() {
        let p = PortPlan::RisingDst {
            sport: 5000,
            base: 33434,
        };
        assert_eq!(p.ports(1), (5000, 33434));
        assert_eq!(p.ports(3), (5000, 33436));
        let p = PortPlan::RisingDst {
            sport: 5000,
            base: 65535,
        };
        assert_eq!(p.ports(2), (5000, 1));
        let p = PortPlan::Cycle {
            sport_base: 60000,
            ports: vec![80, 81],
        };
        assert_eq!(p.ports(1), (60000, 80));
        assert_eq!(p.ports(2), (60001, 81));
        assert_eq!(p.ports(3), (60002, 80));
    }
}
