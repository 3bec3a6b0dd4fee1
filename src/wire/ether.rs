//! Ethernet II header with a stack of 802.1Q / 802.1ad VLAN tags: a borrowed view
//! ([`EthernetFrame`]) for reading and rewriting in place, and a [`EthernetRepr`] for building.

use pnet_packet::ethernet::EthernetPacket as PnetEthernet;

use super::vlan::{Vlan, VlanStack};
use super::{ser_mac, MacAddr, WireError};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType (TPID) of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType (TPID) of an 802.1ad service tag (the outer tag of QinQ).
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
/// The pre-standard QinQ TPID some switches still send.
pub const ETHERTYPE_QINQ_9100: u16 = 0x9100;
/// Length of an untagged Ethernet header.
pub const ETHERNET_HEADER_LEN: usize = field::PAYLOAD;
/// Minimum Ethernet frame length without the FCS; shorter frames are padded to it.
pub const ETHERNET_MIN_FRAME_LEN: usize = 60;

/// Byte ranges of the Ethernet header, and of one VLAN tag relative to where it starts.
pub mod field {
    use std::ops::Range;
    /// Destination MAC.
    pub const DST: Range<usize> = 0..6;
    /// Source MAC.
    pub const SRC: Range<usize> = 6..12;
    /// EtherType of an untagged frame, or the TPID of the first tag.
    pub const ETHERTYPE: Range<usize> = 12..14;
    /// Where the payload (or the first tag's TCI) starts in an untagged frame.
    pub const PAYLOAD: usize = 14;
    /// Length one VLAN tag adds (TPID + TCI).
    pub const TAG_LEN: usize = 4;
    /// Tag control information, relative to the end of the TPID before it.
    pub const TAG_TCI: Range<usize> = 0..2;
    /// The EtherType (or next TPID) after a tag, relative to the end of the TPID before it.
    pub const TAG_ETHERTYPE: Range<usize> = 2..4;
}

/// Whether `t` is a TPID that starts a VLAN tag (0x8100, 0x88a8, 0x9100).
pub fn is_vlan_tpid(t: u16) -> bool {
    matches!(t, ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_9100)
}

/// One VLAN tag of a frame's stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct VlanTag {
    /// Byte offset of the tag's TPID in the frame.
    pub offset: usize,
    /// Its TPID (0x8100, 0x88a8 or 0x9100).
    pub tpid: u16,
    /// Tag control information: PCP (3 bits), DEI (1), VLAN id (12).
    pub tci: u16,
}

impl VlanTag {
    /// The tag itself, without its place in the frame.
    pub fn vlan(&self) -> super::Vlan {
        super::Vlan {
            tpid: self.tpid,
            tci: self.tci,
        }
    }
    /// Priority code point.
    pub fn pcp(&self) -> u8 {
        self.vlan().pcp()
    }
    /// Drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.vlan().dei()
    }
    /// VLAN id.
    pub fn vid(&self) -> u16 {
        self.vlan().vid()
    }
}

/// The tags of a frame, outermost first. Stops (without panicking) where a tag is cut short.
#[derive(Debug, Clone)]
pub struct VlanTags<'a> {
    bytes: &'a [u8],
    /// Offset of the next EtherType/TPID field.
    at: usize,
}

impl Iterator for VlanTags<'_> {
    type Item = VlanTag;
    fn next(&mut self) -> Option<VlanTag> {
        let tpid = read16(self.bytes, self.at)?;
        if !is_vlan_tpid(tpid) {
            return None;
        }
        let body = self.at + 2;
        let tci = read16(self.bytes, body + field::TAG_TCI.start)?;
        read16(self.bytes, body + field::TAG_ETHERTYPE.start)?;
        let tag = VlanTag {
            offset: self.at,
            tpid,
            tci,
        };
        self.at += field::TAG_LEN;
        Some(tag)
    }
}

fn read16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

/// A borrowed view of an Ethernet frame (header, tag stack, payload), in the style of smoltcp's
/// `Packet<T: AsRef<[u8]>>`. After [`new_checked`](Self::new_checked) every accessor is in
/// bounds; MAC and EtherType reads go through `pnet_packet`'s `EthernetPacket`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EthernetFrame<T: AsRef<[u8]>> {
    buffer: T,
    /// Header length including the tag stack.
    header_len: usize,
}

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Wrap `buffer` without checking it. The tag stack is walked within the bytes present;
    /// MAC and EtherType accessors panic when the buffer is under 14 bytes.
    pub fn new_unchecked(buffer: T) -> Self {
        let header_len = Self::walk(buffer.as_ref()).0;
        EthernetFrame { buffer, header_len }
    }

    /// Wrap `buffer`, refusing one shorter than the header with its whole tag stack.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let b = buffer.as_ref();
        if b.len() < ETHERNET_HEADER_LEN {
            return Err(WireError::truncated(
                "Ethernet",
                ETHERNET_HEADER_LEN,
                b.len(),
            ));
        }
        let (header_len, complete) = Self::walk(b);
        if !complete {
            return Err(WireError::truncated(
                "Ethernet 802.1Q",
                header_len + field::TAG_LEN,
                b.len(),
            ));
        }
        Ok(EthernetFrame { buffer, header_len })
    }

    /// (header length, whether the stack ended in a whole EtherType field).
    fn walk(b: &[u8]) -> (usize, bool) {
        let mut tags = VlanTags {
            bytes: b,
            at: field::ETHERTYPE.start,
        };
        for _ in tags.by_ref() {}
        let hl = tags.at + 2;
        // The walk stopped at a non-TPID EtherType (complete) or a cut tag.
        let complete = match read16(b, tags.at) {
            Some(t) => !is_vlan_tpid(t),
            None => false,
        };
        (hl, complete)
    }

    /// The underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The frame's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    fn pnet(&self) -> PnetEthernet<'_> {
        PnetEthernet::new(self.buffer.as_ref())
            .expect("EthernetFrame made with new_unchecked over fewer than 14 bytes")
    }

    /// Destination MAC.
    #[inline]
    pub fn dst(&self) -> MacAddr {
        self.pnet().get_destination()
    }

    /// Source MAC.
    #[inline]
    pub fn src(&self) -> MacAddr {
        self.pnet().get_source()
    }

    /// The EtherType field right after the MACs (a TPID when tagged).
    #[inline]
    pub fn outer_ethertype(&self) -> u16 {
        self.pnet().get_ethertype().0
    }

    /// The VLAN tags, outermost first.
    pub fn tags(&self) -> VlanTags<'_> {
        VlanTags {
            bytes: self.buffer.as_ref(),
            at: field::ETHERTYPE.start,
        }
    }

    /// How many VLAN tags the frame carries.
    pub fn tag_count(&self) -> usize {
        (self.header_len - ETHERNET_HEADER_LEN) / field::TAG_LEN
    }

    /// The EtherType after the tag stack (the payload's protocol).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read16(self.buffer.as_ref(), self.header_len - 2).unwrap_or(0)
    }

    /// Header length with the tag stack: 14 + 4 × tags.
    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The bytes after the header and its tags.
    #[inline]
    pub fn payload(&self) -> &[u8] {
        self.buffer.as_ref().get(self.header_len..).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    /// Set the destination MAC.
    pub fn set_dst(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[field::DST].copy_from_slice(&mac.octets());
    }

    /// Set the source MAC.
    pub fn set_src(&mut self, mac: MacAddr) {
        self.buffer.as_mut()[field::SRC].copy_from_slice(&mac.octets());
    }

    /// The bytes after the header and its tags, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len;
        self.buffer.as_mut().get_mut(hl..).unwrap_or(&mut [])
    }
}

/// An Ethernet II header with its VLAN tag stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct EthernetRepr {
    /// Destination MAC.
    #[serde(serialize_with = "ser_mac")]
    pub dst: MacAddr,
    /// Source MAC.
    #[serde(serialize_with = "ser_mac")]
    pub src: MacAddr,
    /// The VLAN tags, outermost first (empty: untagged), each with its own TPID.
    pub vlans: VlanStack,
    /// EtherType of the payload (the inner one when tagged).
    pub ethertype: u16,
}

impl EthernetRepr {
    /// An untagged header.
    pub fn new(dst: MacAddr, src: MacAddr, ethertype: u16) -> EthernetRepr {
        EthernetRepr {
            dst,
            src,
            vlans: VlanStack::EMPTY,
            ethertype,
        }
    }

    /// Read the header from a view: the MACs, the tag stack and the inner EtherType. A stack
    /// deeper than [`MAX_VLAN_TAGS`](super::MAX_VLAN_TAGS) is refused (`Limit`); the view itself walks any depth.
    pub fn parse<T: AsRef<[u8]>>(frame: &EthernetFrame<T>) -> Result<EthernetRepr, WireError> {
        let mut vlans = VlanStack::EMPTY;
        for t in frame.tags() {
            vlans.push(Vlan {
                tpid: t.tpid,
                tci: t.tci,
            })?;
        }
        Ok(EthernetRepr {
            dst: frame.dst(),
            src: frame.src(),
            vlans,
            ethertype: frame.ethertype(),
        })
    }

    /// Parse the Ethernet header at the start of `bytes`; returns it and the header length
    /// (14, 18 with one tag, 22 with two...).
    pub fn parse_bytes(bytes: &[u8]) -> Result<(EthernetRepr, usize), WireError> {
        let frame = EthernetFrame::new_checked(bytes)?;
        Ok((EthernetRepr::parse(&frame)?, frame.header_len()))
    }

    /// Header length: 14, plus 4 per VLAN tag.
    pub fn header_len(&self) -> usize {
        self.vlans.ethernet_header_len()
    }

    /// Write the header into the start of `buf`; returns its length. `Truncated` when `buf`
    /// is shorter than [`header_len`](Self::header_len).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let need = self.header_len();
        if buf.len() < need {
            return Err(WireError::truncated(
                "Ethernet output buffer",
                need,
                buf.len(),
            ));
        }
        buf[field::DST].copy_from_slice(&self.dst.octets());
        buf[field::SRC].copy_from_slice(&self.src.octets());
        let at = field::ETHERTYPE.start + self.vlans.emit(&mut buf[field::ETHERTYPE.start..])?;
        buf[at..at + 2].copy_from_slice(&self.ethertype.to_be_bytes());
        Ok(need)
    }
}

pub(crate) fn mac_at(b: &[u8], at: usize) -> MacAddr {
    MacAddr::new(b[at], b[at + 1], b[at + 2], b[at + 3], b[at + 4], b[at + 5])
}

/// Parse a MAC address written `aa:bb:cc:dd:ee:ff` or `aa-bb-cc-dd-ee-ff` (one or two hex
/// digits per octet, one separator kind throughout).
pub fn parse_mac(s: &str) -> Result<MacAddr, WireError> {
    let t = s.trim();
    let sep = if t.contains(':') { ':' } else { '-' };
    if t.contains(':') && t.contains('-') {
        return Err(WireError::Invalid(format!(
            "MAC address {s:?} mixes ':' and '-' separators"
        )));
    }
    let parts: Vec<&str> = t.split(sep).collect();
    if parts.len() != 6 {
        return Err(WireError::Invalid(format!(
            "MAC address must have 6 octets, got {} (in {s:?})",
            parts.len()
        )));
    }
    let mut o = [0u8; 6];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || p.len() > 2 || !p.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(WireError::Invalid(format!(
                "MAC address octet {} {p:?} is not 1-2 hex digits (in {s:?})",
                i + 1
            )));
        }
        o[i] = u8::from_str_radix(p, 16)
            .map_err(|e| WireError::Invalid(format!("MAC address octet {p:?}: {e}")))?;
    }
    Ok(MacAddr::new(o[0], o[1], o[2], o[3], o[4], o[5]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::testutil::hex;

    #[test]
    fn parse_captured_header() {
        // Captured on a veth: echo reply to 5a:7f:53:3d:69:e5 (host a) from 72:b6:fa:7b:54:a8 (r1).
        let b = hex("5a7f533d69e5 72b6fa7b54a8 0800 4f00");
        let (e, n) = EthernetRepr::parse_bytes(&b).unwrap();
        assert_eq!(n, 14);
        assert_eq!(e.dst, MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5));
        assert_eq!(e.src, MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8));
        assert!(e.vlans.is_empty());
        assert_eq!(e.ethertype, ETHERTYPE_IPV4);
        let mut out = [0u8; 14];
        e.emit(&mut out).unwrap();
        assert_eq!(&out[..], &b[..14]);
    }

    #[test]
    fn vlan_round_trip() {
        let e = EthernetRepr {
            dst: MacAddr::broadcast(),
            src: MacAddr::new(2, 0, 0, 0, 0, 1),
            vlans: VlanStack::from_tags(&[Vlan::new(0x8100, 100, 1, false).unwrap()]).unwrap(),
            ethertype: ETHERTYPE_ARP,
        };
        let mut out = [0u8; 18];
        e.emit(&mut out).unwrap();
        assert_eq!(&out[12..18], &hex("8100 2064 0806")[..]);
        assert_eq!(EthernetRepr::parse_bytes(&out).unwrap(), (e, 18));
        assert!(matches!(
            EthernetRepr::parse_bytes(&out[..16]),
            Err(WireError::Truncated { needed: 18, .. })
        ));
        assert!(matches!(
            EthernetRepr::parse_bytes(&out[..13]),
            Err(WireError::Truncated {
                needed: 14,
                got: 13,
                ..
            })
        ));
        assert!(e.emit(&mut [0u8; 17]).is_err());
    }

    #[test]
    fn stacks_round_trip_with_every_tpid_kept() {
        // QinQ as Linux sends it (802.1ad outer, 802.1Q inner), a pre-standard 0x9100 outer
        // tag, and the deepest stack a Repr holds.
        for specs in [
            &["200:3", "20:5:1"][..],
            &["300@0x9100", "30"],
            &["1", "2", "3", "4", "5", "6", "7", "4094:7:1"],
        ] {
            let e = EthernetRepr {
                vlans: VlanStack::parse_specs(specs).unwrap(),
                ..EthernetRepr::new(MacAddr::broadcast(), MacAddr::zero(), ETHERTYPE_IPV4)
            };
            let n = 14 + 4 * specs.len();
            assert_eq!(e.header_len(), n);
            let mut out = vec![0u8; n + 1];
            assert_eq!(e.emit(&mut out), Ok(n));
            let view = EthernetFrame::new_checked(&out[..]).unwrap();
            assert_eq!(view.tag_count(), specs.len());
            assert_eq!(view.ethertype(), ETHERTYPE_IPV4);
            let tags: Vec<(u16, u16)> = view.tags().map(|t| (t.tpid, t.tci)).collect();
            let want: Vec<(u16, u16)> = e.vlans.iter().map(|t| (t.tpid, t.tci)).collect();
            assert_eq!(tags, want);
            assert_eq!(EthernetRepr::parse_bytes(&out).unwrap(), (e, n));
            assert_eq!(e.vlans.header_len_in(&out), Some(n));
        }
        // QinQ bytes as tcpdump shows them: vlan 200, p 3, ethertype 802.1Q, vlan 20, p 5.
        let e = EthernetRepr {
            vlans: VlanStack::parse_specs(&["200:3", "20:5:1"]).unwrap(),
            ..EthernetRepr::new(MacAddr::zero(), MacAddr::zero(), ETHERTYPE_IPV4)
        };
        let mut out = [0u8; 22];
        e.emit(&mut out).unwrap();
        assert_eq!(&out[12..], &hex("88a8 60c8 8100 b014 0800")[..]);
        // Nine tags: the view walks them, a Repr refuses them naming the limit.
        let mut deep = vec![0u8; 12];
        for _ in 0..9 {
            deep.extend(hex("8100 0001"));
        }
        deep.extend(hex("0800"));
        assert_eq!(
            EthernetFrame::new_checked(&deep[..]).unwrap().tag_count(),
            9
        );
        let err = EthernetRepr::parse_bytes(&deep).unwrap_err().to_string();
        assert!(err.contains("at most 8 VLAN tags"), "{err}");
    }

    #[test]
    fn mac_text() {
        let m = MacAddr::new(0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff);
        assert_eq!(parse_mac("aa:bb:cc:dd:ee:ff").unwrap(), m);
        assert_eq!(parse_mac("AA-BB-CC-DD-EE-FF").unwrap(), m);
        assert_eq!(
            parse_mac("2:0:0:0:0:1").unwrap(),
            MacAddr::new(2, 0, 0, 0, 0, 1)
        );
        let e = parse_mac("aa:bb:cc:dd:ee:ff:00").unwrap_err().to_string();
        assert!(e.contains("MAC address must have 6 octets, got 7"), "{e}");
        let e = parse_mac("aa:bb:cc:dd:ee").unwrap_err().to_string();
        assert!(e.contains("must have 6 octets, got 5"), "{e}");
        let e = parse_mac("aa:bb:cc:dd:ee:zz").unwrap_err().to_string();
        assert!(e.contains("octet 6 \"zz\""), "{e}");
        assert!(parse_mac("aa:bb:cc:dd:ee:fff").is_err());
        assert!(parse_mac("aa:bb:cc-dd:ee:ff").is_err());
        assert!(parse_mac("").is_err());
        assert!(parse_mac("aa:bb:cc:dd:ee:+f").is_err());
    }
}
