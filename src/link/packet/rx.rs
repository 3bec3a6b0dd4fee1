//! What both receive paths do to a frame the kernel handed over, before returning it: keep or
//! drop it by direction (`sll_pkttype`), put back the VLAN tag the kernel moved into metadata
//! (`PACKET_AUXDATA` / the ring's `tp_vlan_tci`), and run the filter again on the restored
//! bytes when a tag was put back (the kernel ran it on the untagged frame).

use crate::link::bpf::{self, BpfInsn};

/// `PACKET_AUXDATA`: a `tpacket_auxdata` control message with every `recvmsg`.
pub(crate) const PACKET_AUXDATA: libc::c_int = 8;
/// `TP_STATUS_VLAN_VALID`: `tp_vlan_tci` holds the stripped tag.
pub(crate) const TP_STATUS_VLAN_VALID: u32 = 1 << 4;
/// `TP_STATUS_VLAN_TPID_VALID`: `tp_vlan_tpid` holds its TPID.
pub(crate) const TP_STATUS_VLAN_TPID_VALID: u32 = 1 << 6;
/// `PACKET_OUTGOING`: a frame this host sent.
pub(crate) const PACKET_OUTGOING: u8 = 4;
/// The 802.1Q TPID, assumed when the kernel does not say.
const TPID_8021Q: u16 = 0x8100;
/// Bytes of one VLAN tag.
pub(crate) const TAG_LEN: usize = 4;

/// Which frames a link returns, by the way they went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    /// Frames received only (what probes want: `PACKET_IGNORE_OUTGOING`).
    #[default]
    In,
    /// Frames sent by this host only.
    Out,
    /// Both, like tcpdump's default.
    InOut,
}

impl std::str::FromStr for Direction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "in" => Ok(Direction::In),
            "out" => Ok(Direction::Out),
            "inout" => Ok(Direction::InOut),
            _ => Err(format!("{s:?}: expected in, out or inout")),
        }
    }
}

impl std::fmt::Display for Direction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Direction::In => "in",
            Direction::Out => "out",
            Direction::InOut => "inout",
        })
    }
}

/// The tag the kernel stripped, from a ring header's or an auxdata message's fields.
pub(crate) fn stripped_tag(status: u32, tci: u16, tpid: u16) -> Option<(u16, u16)> {
    if status & TP_STATUS_VLAN_VALID == 0 && tci == 0 {
        return None;
    }
    let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 && tpid != 0 {
        tpid
    } else {
        TPID_8021Q
    };
    Some((tpid, tci))
}

/// Put a tag back into a frame that starts at `buf[start]` and is `len` bytes long, with at
/// least [`TAG_LEN`] free bytes before `start`: the MAC addresses move 4 bytes back and the
/// tag goes after them. Returns the frame's new start. Frames too short for a MAC header are
/// left as they are.
pub(crate) fn insert_tag(buf: &mut [u8], start: usize, len: usize, tag: (u16, u16)) -> usize {
    if len < 12 || start < TAG_LEN || start + len > buf.len() {
        return start;
    }
    buf.copy_within(start..start + 12, start - TAG_LEN);
    let s = start - TAG_LEN;
    buf[s + 12..s + 14].copy_from_slice(&tag.0.to_be_bytes());
    buf[s + 14..s + 16].copy_from_slice(&tag.1.to_be_bytes());
    s
}

/// The per-link rules for which frames come back to the caller.
#[derive(Debug, Clone, Default)]
pub(crate) struct RxPolicy {
    pub(crate) direction: Direction,
    pub(crate) loopback: bool,
    /// The filter as the caller gave it, run again on frames whose tag was put back.
    pub(crate) program: Option<Vec<BpfInsn>>,
}

impl RxPolicy {
    /// Whether a frame of this `sll_pkttype` is wanted. On `lo` every frame passes twice
    /// (outgoing, then host): like libpcap, `inout` keeps the incoming copy only.
    pub(crate) fn wants(&self, pkttype: u8) -> bool {
        let out = pkttype == PACKET_OUTGOING;
        match self.direction {
            Direction::In => !out,
            Direction::Out => out,
            Direction::InOut => !(out && self.loopback),
        }
    }

    /// Whether the filter accepts a frame whose tag was put back.
    pub(crate) fn accepts_retagged(&self, frame: &[u8]) -> bool {
        match &self.program {
            None => true,
            Some(p) => bpf::run(p, frame).unwrap_or(0) > 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_goes_back_after_the_macs() {
        let mut buf = vec![0u8; 4];
        buf.extend((1..=12).chain([0x08, 0x00, 0x45]));
        let s = insert_tag(&mut buf, 4, 15, (0x8100, 0x6064));
        assert_eq!(s, 0);
        assert_eq!(
            &buf[..19],
            &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x81, 0x00, 0x60, 0x64, 0x08, 0x00, 0x45]
        );
        // No room or a runt: unchanged.
        let mut b = vec![0u8; 20];
        assert_eq!(insert_tag(&mut b, 2, 15, (0x8100, 1)), 2);
        assert_eq!(insert_tag(&mut b, 4, 11, (0x8100, 1)), 4);
        assert_eq!(insert_tag(&mut b, 4, 17, (0x8100, 1)), 4);
    }

    #[test]
    fn stripped_tags_and_directions() {
        assert_eq!(stripped_tag(0, 0, 0), None);
        assert_eq!(stripped_tag(TP_STATUS_VLAN_VALID, 0, 0), Some((0x8100, 0)));
        assert_eq!(
            stripped_tag(
                TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
                100,
                0x88a8
            ),
            Some((0x88a8, 100))
        );
        let mut p = RxPolicy::default();
        assert!(p.wants(0) && !p.wants(PACKET_OUTGOING));
        p.direction = Direction::Out;
        assert!(!p.wants(0) && p.wants(PACKET_OUTGOING));
        p.direction = Direction::InOut;
        assert!(p.wants(0) && p.wants(PACKET_OUTGOING));
        p.loopback = true;
        assert!(p.wants(0) && !p.wants(PACKET_OUTGOING));
    }
}
