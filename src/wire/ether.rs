//! Ethernet II header, with an optional 802.1Q VLAN tag.

use super::{be16, ser_mac, MacAddr, WireError};

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType (TPID) of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// Length of an untagged Ethernet header.
pub const ETHERNET_HEADER_LEN: usize = 14;
/// Minimum Ethernet frame length without the FCS; shorter frames are padded to it.
pub const ETHERNET_MIN_FRAME_LEN: usize = 60;

/// An Ethernet II header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct EthernetRepr {
    /// Destination MAC.
    #[serde(serialize_with = "ser_mac")]
    pub dst: MacAddr,
    /// Source MAC.
    #[serde(serialize_with = "ser_mac")]
    pub src: MacAddr,
    /// 802.1Q tag control information (PCP, DEI, VLAN id), if the frame is tagged.
    pub vlan: Option<u16>,
    /// EtherType of the payload (the inner one when tagged).
    pub ethertype: u16,
}

impl EthernetRepr {
    /// Parse an Ethernet header; returns it and its length (14, or 18 when VLAN-tagged).
    pub fn parse(bytes: &[u8]) -> Result<(EthernetRepr, usize), WireError> {
        if bytes.len() < ETHERNET_HEADER_LEN {
            return Err(WireError::truncated(
                "Ethernet",
                ETHERNET_HEADER_LEN,
                bytes.len(),
            ));
        }
        let dst = mac_at(bytes, 0);
        let src = mac_at(bytes, 6);
        let ethertype = be16(bytes, 12);
        if ethertype != ETHERTYPE_VLAN {
            let repr = EthernetRepr {
                dst,
                src,
                vlan: None,
                ethertype,
            };
            return Ok((repr, ETHERNET_HEADER_LEN));
        }
        if bytes.len() < 18 {
            return Err(WireError::truncated("Ethernet 802.1Q", 18, bytes.len()));
        }
        let repr = EthernetRepr {
            dst,
            src,
            vlan: Some(be16(bytes, 14)),
            ethertype: be16(bytes, 16),
        };
        Ok((repr, 18))
    }

    /// Header length: 14, or 18 with a VLAN tag.
    pub fn header_len(&self) -> usize {
        if self.vlan.is_some() {
            18
        } else {
            ETHERNET_HEADER_LEN
        }
    }

    /// Write the header into the start of `buf`.
    ///
    /// # Panics
    /// If `buf` is shorter than [`header_len`](Self::header_len) (a caller bug; the frame
    /// builders in [`super::frame`] always size the buffer).
    pub fn emit(&self, buf: &mut [u8]) {
        let need = self.header_len();
        assert!(
            buf.len() >= need,
            "Ethernet emit buffer {} < {need}",
            buf.len()
        );
        buf[0..6].copy_from_slice(&self.dst.octets());
        buf[6..12].copy_from_slice(&self.src.octets());
        match self.vlan {
            Some(tci) => {
                buf[12..14].copy_from_slice(&ETHERTYPE_VLAN.to_be_bytes());
                buf[14..16].copy_from_slice(&tci.to_be_bytes());
                buf[16..18].copy_from_slice(&self.ethertype.to_be_bytes());
            }
            None => buf[12..14].copy_from_slice(&self.ethertype.to_be_bytes()),
        }
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
        let (e, n) = EthernetRepr::parse(&b).unwrap();
        assert_eq!(n, 14);
        assert_eq!(e.dst, MacAddr::new(0x5a, 0x7f, 0x53, 0x3d, 0x69, 0xe5));
        assert_eq!(e.src, MacAddr::new(0x72, 0xb6, 0xfa, 0x7b, 0x54, 0xa8));
        assert_eq!(e.vlan, None);
        assert_eq!(e.ethertype, ETHERTYPE_IPV4);
        let mut out = [0u8; 14];
        e.emit(&mut out);
        assert_eq!(&out[..], &b[..14]);
    }

    #[test]
    fn vlan_round_trip() {
        let e = EthernetRepr {
            dst: MacAddr::broadcast(),
            src: MacAddr::new(2, 0, 0, 0, 0, 1),
            vlan: Some(0x2064),
            ethertype: ETHERTYPE_ARP,
        };
        let mut out = [0u8; 18];
        e.emit(&mut out);
        assert_eq!(&out[12..18], &hex("8100 2064 0806")[..]);
        assert_eq!(EthernetRepr::parse(&out).unwrap(), (e, 18));
        assert!(matches!(
            EthernetRepr::parse(&out[..16]),
            Err(WireError::Truncated { needed: 18, .. })
        ));
        assert!(matches!(
            EthernetRepr::parse(&out[..13]),
            Err(WireError::Truncated {
                needed: 14,
                got: 13,
                ..
            })
        ));
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
