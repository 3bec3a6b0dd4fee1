//! VLAN tags to build and to match: a TPID and a TCI (PCP, DEI, VLAN id) per tag, in a stack
//! of fixed capacity, outermost first ([`VlanStack`]: no allocation, `Copy`, so a frame
//! template carries it for free on the hot paths), and the text form users give
//! (`ID[:PCP[:DEI]][@TPID]`, [`VlanStack::parse_specs`]).
//!
//! Two stacks are the same VLAN path when they have as many tags with, tag by tag, the same
//! TPID and VLAN id ([`VlanStack::same_vlans`]); the priority bits (PCP, DEI) are not part of
//! it: every bridge and host on the way may rewrite them (a Linux VLAN device answers with its
//! own `egress-qos-map`, PCP 0 by default).

use std::fmt;

use super::ether::{field, is_vlan_tpid, ETHERNET_HEADER_LEN, ETHERTYPE_QINQ, ETHERTYPE_VLAN};
use super::WireError;

/// Most tags a [`VlanStack`] holds (and a frame is built or read with as a `Repr`); the views
/// walk stacks of any depth.
pub const MAX_VLAN_TAGS: usize = 8;
/// Highest VLAN id a tag can carry (its 12-bit field). 4095 is reserved (IEEE 802.1Q 9.6)
/// but built as given, with a warning ([`VlanStack::warnings`]).
pub const MAX_VID: u16 = 4095;
/// The reserved VLAN id (IEEE 802.1Q 9.6): not for use in a tag, built when asked for.
pub const RESERVED_VID: u16 = 4095;

/// One VLAN tag: its TPID and tag control information.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Vlan {
    /// Tag protocol identifier: 0x8100 (802.1Q), 0x88a8 (802.1ad) or any value given.
    pub tpid: u16,
    /// Tag control information: PCP (3 bits), DEI (1), VLAN id (12).
    pub tci: u16,
}

impl Vlan {
    /// A tag with these fields; refuses a VLAN id over [`MAX_VID`], a PCP over 7 (what their
    /// fields cannot hold).
    pub fn new(tpid: u16, vid: u16, pcp: u8, dei: bool) -> Result<Vlan, WireError> {
        if vid > MAX_VID {
            return Err(WireError::Limit(format!(
                "VLAN ID {vid} is out of range 0..={MAX_VID} (a 12-bit field)"
            )));
        }
        if pcp > 7 {
            return Err(WireError::Limit(format!(
                "VLAN PCP {pcp} is out of range 0..=7 (a 3-bit field)"
            )));
        }
        Ok(Vlan {
            tpid,
            tci: u16::from(pcp) << 13 | u16::from(dei) << 12 | vid,
        })
    }

    /// An 802.1Q tag (TPID 0x8100) for `vid`, priority 0.
    pub fn dot1q(vid: u16) -> Result<Vlan, WireError> {
        Vlan::new(ETHERTYPE_VLAN, vid, 0, false)
    }

    /// An 802.1ad service tag (TPID 0x88a8) for `vid`, priority 0.
    pub fn dot1ad(vid: u16) -> Result<Vlan, WireError> {
        Vlan::new(ETHERTYPE_QINQ, vid, 0, false)
    }

    /// Priority code point.
    pub fn pcp(&self) -> u8 {
        (self.tci >> 13) as u8
    }

    /// Drop eligible indicator.
    pub fn dei(&self) -> bool {
        self.tci & 0x1000 != 0
    }

    /// VLAN id.
    pub fn vid(&self) -> u16 {
        self.tci & 0x0fff
    }

    /// Whether a tag read as (`tpid`, `tci`) is on the same VLAN: same TPID and VLAN id.
    pub fn same_vlan(&self, tpid: u16, tci: u16) -> bool {
        self.tpid == tpid && self.vid() == tci & 0x0fff
    }

    /// The TPID's name: `802.1Q`, `802.1ad`, or the number in hex.
    pub fn tpid_name(&self) -> String {
        match self.tpid {
            ETHERTYPE_VLAN => "802.1Q".into(),
            ETHERTYPE_QINQ => "802.1ad".into(),
            t => format!("0x{t:04x}"),
        }
    }
}

/// The text form [`VlanStack::parse_specs`] reads: `ID[:PCP[:DEI]]@TPID`, the priority left
/// out when zero.
impl fmt::Display for Vlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.vid())?;
        if self.dei() {
            write!(f, ":{}:1", self.pcp())?;
        } else if self.pcp() != 0 {
            write!(f, ":{}", self.pcp())?;
        }
        match self.tpid {
            ETHERTYPE_VLAN => f.write_str("@802.1q"),
            ETHERTYPE_QINQ => f.write_str("@802.1ad"),
            t => write!(f, "@0x{t:04x}"),
        }
    }
}

impl serde::Serialize for Vlan {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Vlan", 4)?;
        st.serialize_field("tpid", &self.tpid)?;
        st.serialize_field("vid", &self.vid())?;
        st.serialize_field("pcp", &self.pcp())?;
        st.serialize_field("dei", &self.dei())?;
        st.end()
    }
}

/// Up to [`MAX_VLAN_TAGS`] tags, outermost first, held inline.
#[derive(Clone, Copy)]
pub struct VlanStack {
    tags: [Vlan; MAX_VLAN_TAGS],
    len: u8,
}

impl VlanStack {
    /// No tags: an untagged frame.
    pub const EMPTY: VlanStack = VlanStack {
        tags: [Vlan { tpid: 0, tci: 0 }; MAX_VLAN_TAGS],
        len: 0,
    };

    /// No tags.
    pub const fn new() -> VlanStack {
        VlanStack::EMPTY
    }

    /// The stack of `tags`, outermost first; refuses more than [`MAX_VLAN_TAGS`].
    pub fn from_tags(tags: &[Vlan]) -> Result<VlanStack, WireError> {
        let mut s = VlanStack::EMPTY;
        for t in tags {
            s.push(*t)?;
        }
        Ok(s)
    }

    /// Add `tag` inside the ones already there; refuses a tag past [`MAX_VLAN_TAGS`].
    pub fn push(&mut self, tag: Vlan) -> Result<(), WireError> {
        let n = usize::from(self.len);
        if n == MAX_VLAN_TAGS {
            return Err(WireError::Limit(format!(
                "at most {MAX_VLAN_TAGS} VLAN tags fit a stack"
            )));
        }
        self.tags[n] = tag;
        self.len += 1;
        Ok(())
    }

    /// The tags, outermost first.
    pub fn as_slice(&self) -> &[Vlan] {
        &self.tags[..usize::from(self.len)]
    }

    /// What the standards reserve in these tags, one sentence each (built as given; a
    /// caller may show them as warnings): VLAN id 4095.
    pub fn warnings(&self) -> Vec<String> {
        self.as_slice()
            .iter()
            .filter(|t| t.vid() == RESERVED_VID)
            .map(|t| {
                format!(
                    "VLAN ID {RESERVED_VID} is reserved (IEEE 802.1Q); the tag {t} is built as given"
                )
            })
            .collect()
    }

    /// Bytes the tags add to an Ethernet header (4 each).
    pub fn header_bytes(&self) -> usize {
        field::TAG_LEN * usize::from(self.len)
    }

    /// Whether `other` is the same VLAN path: as many tags, each with the same TPID and VLAN
    /// id (priorities are not compared).
    pub fn same_vlans(&self, other: &VlanStack) -> bool {
        self.len == other.len
            && self
                .iter()
                .zip(other.iter())
                .all(|(a, b)| a.same_vlan(b.tpid, b.tci))
    }

    /// When `frame` (from its Ethernet header on) carries exactly this VLAN path — these tags
    /// by TPID and VLAN id, then an EtherType that starts no further tag — its header length
    /// (14 + 4 per tag). Works on the bytes, so a TPID of the user's own is matched too.
    pub fn header_len_in(&self, frame: &[u8]) -> Option<usize> {
        let mut at = field::ETHERTYPE.start;
        for t in self.iter() {
            let tpid = read16(frame, at)?;
            let tci = read16(frame, at + 2)?;
            if !t.same_vlan(tpid, tci) {
                return None;
            }
            at += field::TAG_LEN;
        }
        let ethertype = read16(frame, at)?;
        if is_vlan_tpid(ethertype) {
            return None;
        }
        Some(at + 2)
    }

    /// Write the tags (TPID, TCI each) at the start of `buf`; returns the bytes written.
    /// `Truncated` when `buf` is shorter than [`header_bytes`](Self::header_bytes).
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize, WireError> {
        let need = self.header_bytes();
        if buf.len() < need {
            return Err(WireError::truncated(
                "VLAN tag output buffer",
                need,
                buf.len(),
            ));
        }
        for (i, t) in self.iter().enumerate() {
            let at = i * field::TAG_LEN;
            buf[at..at + 2].copy_from_slice(&t.tpid.to_be_bytes());
            buf[at + 2..at + 4].copy_from_slice(&t.tci.to_be_bytes());
        }
        Ok(need)
    }

    /// The Ethernet header length with these tags (14 + 4 each).
    pub fn ethernet_header_len(&self) -> usize {
        ETHERNET_HEADER_LEN + self.header_bytes()
    }

    /// Read the text form, one tag per element, outermost first: `ID[:PCP[:DEI]][@TPID]`
    /// with ID 0..=4095 (4095 reserved, built with a warning), PCP 0..=7, DEI 0 or 1, and TPID `q` / `802.1q` (0x8100), `ad` /
    /// `802.1ad` (0x88a8) or a number in hex (`0x9100`). A tag without a TPID gets 802.1Q when
    /// it is the only or the innermost one, 802.1ad when it is an outer one (QinQ).
    pub fn parse_specs<S: AsRef<str>>(specs: &[S]) -> Result<VlanStack, WireError> {
        if specs.len() > MAX_VLAN_TAGS {
            return Err(WireError::Limit(format!(
                "{} VLAN tags given: at most {MAX_VLAN_TAGS} fit a stack",
                specs.len()
            )));
        }
        let mut s = VlanStack::EMPTY;
        let last = specs.len().saturating_sub(1);
        for (i, spec) in specs.iter().enumerate() {
            let default = if i == last {
                ETHERTYPE_VLAN
            } else {
                ETHERTYPE_QINQ
            };
            s.push(parse_spec(spec.as_ref(), default)?)?;
        }
        Ok(s)
    }
}

/// One `ID[:PCP[:DEI]][@TPID]`, with `default_tpid` when none is given.
fn parse_spec(spec: &str, default_tpid: u16) -> Result<Vlan, WireError> {
    let bad = WireError::Invalid;
    let (fields, tpid) = match spec.trim().split_once('@') {
        Some((f, t)) => (f, parse_tpid(t).map_err(bad)?),
        None => (spec.trim(), default_tpid),
    };
    let parts: Vec<&str> = fields.split(':').collect();
    if parts.len() > 3 {
        return Err(bad(format!(
            "VLAN tag {spec:?} is not ID[:PCP[:DEI]][@TPID]"
        )));
    }
    let num = |p: &str, what: &str| -> Result<u32, WireError> {
        p.trim()
            .parse::<u32>()
            .map_err(|_| bad(format!("the {what} {p:?} is not a number")))
    };
    let vid = num(parts[0], "VLAN ID")?;
    let pcp = parts
        .get(1)
        .map(|p| num(p, "PCP"))
        .transpose()?
        .unwrap_or(0);
    let dei = parts
        .get(2)
        .map(|p| num(p, "DEI"))
        .transpose()?
        .unwrap_or(0);
    if vid > u32::from(MAX_VID) {
        return Err(WireError::Limit(format!(
            "VLAN ID {vid} is out of range 0..={MAX_VID} (a 12-bit field)"
        )));
    }
    if pcp > 7 {
        return Err(WireError::Limit(format!(
            "VLAN PCP {pcp} is out of range 0..=7 (a 3-bit field)"
        )));
    }
    if dei > 1 {
        return Err(WireError::Limit(format!(
            "VLAN DEI {dei} is out of range 0..=1 (a 1-bit field)"
        )));
    }
    Vlan::new(tpid, vid as u16, pcp as u8, dei == 1)
}

/// `q`, `802.1q`, `ad`, `802.1ad` or a hex number.
fn parse_tpid(t: &str) -> Result<u16, String> {
    let t = t.trim().to_ascii_lowercase();
    match t.as_str() {
        "q" | "802.1q" | "dot1q" => Ok(ETHERTYPE_VLAN),
        "ad" | "802.1ad" | "dot1ad" | "qinq" => Ok(ETHERTYPE_QINQ),
        _ => match t.strip_prefix("0x") {
            Some(h) if !h.is_empty() && h.len() <= 4 => {
                u16::from_str_radix(h, 16).map_err(|_| format!("TPID {t:?} is not a hex number"))
            }
            _ => Err(format!(
                "unknown TPID {t:?}: expected q (802.1Q, 0x8100), ad (802.1ad, 0x88a8) or \
                 a 16-bit hex number such as 0x9100"
            )),
        },
    }
}

fn read16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

impl Default for VlanStack {
    fn default() -> Self {
        VlanStack::EMPTY
    }
}

impl std::ops::Deref for VlanStack {
    type Target = [Vlan];
    fn deref(&self) -> &[Vlan] {
        self.as_slice()
    }
}

impl PartialEq for VlanStack {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for VlanStack {}

impl std::hash::Hash for VlanStack {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_slice().hash(h)
    }
}

impl fmt::Debug for VlanStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// `ID[:PCP[:DEI]]@TPID` per tag, outermost first, joined by commas; empty when untagged.
impl fmt::Display for VlanStack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for VlanStack {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(specs: &[&str]) -> VlanStack {
        VlanStack::parse_specs(specs).unwrap()
    }

    fn err(specs: &[&str]) -> String {
        VlanStack::parse_specs(specs).unwrap_err().to_string()
    }

    #[test]
    fn text_form_and_defaults() {
        let s = stack(&["100:3"]);
        assert_eq!(s.len(), 1);
        assert_eq!(
            (s[0].tpid, s[0].vid(), s[0].pcp(), s[0].dei()),
            (0x8100, 100, 3, false)
        );
        // QinQ: the outer tag defaults to 802.1ad, the innermost to 802.1Q.
        let s = stack(&["200", "20:5:1"]);
        assert_eq!((s[0].tpid, s[0].tci), (0x88a8, 200));
        assert_eq!((s[1].tpid, s[1].tci), (0x8100, 0xb000 | 20));
        // Three deep: every outer tag 802.1ad.
        let s = stack(&["1", "2", "3"]);
        let tpids: Vec<u16> = s.iter().map(|t| t.tpid).collect();
        assert_eq!(tpids, [0x88a8, 0x88a8, 0x8100]);
        // TPIDs by name or number, any case.
        let s = stack(&[
            "7@q",
            "8@AD",
            "9@0x9100",
            "10:1@802.1Q",
            "11@802.1ad",
            "0@0x0",
        ]);
        let tpids: Vec<u16> = s.iter().map(|t| t.tpid).collect();
        assert_eq!(tpids, [0x8100, 0x88a8, 0x9100, 0x8100, 0x88a8, 0]);
        assert_eq!(s[3].pcp(), 1);
        // Display gives back what parses to the same stack.
        let s = stack(&["200:1", "20:5:1", "4094@0x9100"]);
        assert_eq!(s.to_string(), "200:1@802.1ad,20:5:1@802.1ad,4094@0x9100");
        let again: Vec<String> = s.iter().map(|t| t.to_string()).collect();
        assert_eq!(VlanStack::parse_specs(&again).unwrap(), s);
        assert!(VlanStack::parse_specs::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn reserved_ids_are_built_with_a_warning() {
        let s = stack(&["4095"]);
        assert_eq!(s[0].vid(), 4095);
        let w = s.warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("VLAN ID 4095 is reserved"), "{w:?}");
        let mut b = [0u8; 4];
        s.emit(&mut b).unwrap();
        assert_eq!(b, [0x81, 0x00, 0x0f, 0xff]);
        // 0 (a priority tag) is ordinary: no warning.
        assert!(stack(&["0:5"]).warnings().is_empty());
        assert!(stack(&["100", "4094"]).warnings().is_empty());
    }

    #[test]
    fn bad_text_names_the_limit() {
        assert!(err(&["4096"]).contains("VLAN ID 4096 is out of range 0..=4095"));
        assert!(err(&["1:8"]).contains("VLAN PCP 8 is out of range 0..=7"));
        assert!(err(&["1:0:2"]).contains("VLAN DEI 2 is out of range 0..=1"));
        assert!(err(&["1@foo"]).contains("unknown TPID \"foo\""));
        assert!(err(&["1@0x12345"]).contains("unknown TPID"));
        assert!(err(&["1@0xzz"]).contains("not a hex number"));
        assert!(err(&["x"]).contains("the VLAN ID \"x\" is not a number"));
        assert!(err(&["-1"]).contains("not a number"));
        assert!(err(&[""]).contains("not a number"));
        assert!(err(&["1:2:3:4"]).contains("VLAN tag \"1:2:3:4\" is not ID[:PCP[:DEI]][@TPID]"));
        let nine = ["1"; 9];
        assert!(err(&nine).contains("9 VLAN tags given: at most 8"));
        let mut s = stack(&["1"; 8]);
        assert!(s.push(Vlan::dot1q(1).unwrap()).is_err());
        assert!(Vlan::new(0x8100, 4096, 0, false).is_err());
        assert!(Vlan::new(0x8100, 1, 8, false).is_err());
    }

    #[test]
    fn same_vlan_ignores_priority_and_matches_bytes_exactly() {
        let ours = stack(&["200", "20"]);
        let theirs = stack(&["200:7:1", "20:3"]);
        assert!(ours.same_vlans(&theirs));
        assert!(!ours.same_vlans(&stack(&["200", "21"])));
        assert!(!ours.same_vlans(&stack(&["200@q", "20"])));
        assert!(!ours.same_vlans(&stack(&["200"])));
        assert!(!ours.same_vlans(&VlanStack::EMPTY));
        assert!(VlanStack::EMPTY.same_vlans(&VlanStack::new()));

        let mut frame = vec![0u8; 12];
        frame.extend([
            0x88, 0xa8, 0xe0, 200, 0x81, 0x00, 0x00, 20, 0x08, 0x00, 0x45,
        ]);
        assert_eq!(ours.header_len_in(&frame), Some(22));
        assert_eq!(theirs.header_len_in(&frame), Some(22));
        // A shorter stack of ours sees a further tag where its EtherType should be.
        assert_eq!(stack(&["200"]).header_len_in(&frame), None);
        assert_eq!(VlanStack::EMPTY.header_len_in(&frame), None);
        assert_eq!(stack(&["200", "21"]).header_len_in(&frame), None);
        assert_eq!(stack(&["200", "20", "2"]).header_len_in(&frame), None);
        // Cut anywhere: never a match, never a panic.
        for n in 0..22 {
            assert_eq!(ours.header_len_in(&frame[..n]), None, "{n}");
        }
        // Untagged.
        let mut plain = vec![0u8; 12];
        plain.extend([0x08, 0x00]);
        assert_eq!(VlanStack::EMPTY.header_len_in(&plain), Some(14));
        assert_eq!(stack(&["1"]).header_len_in(&plain), None);
        // A TPID of the user's own is matched on the bytes.
        let odd = stack(&["5@0x9200"]);
        let mut f = vec![0u8; 12];
        f.extend([0x92, 0x00, 0x00, 5, 0x08, 0x06]);
        assert_eq!(odd.header_len_in(&f), Some(18));
    }

    #[test]
    fn emit_and_serialize() {
        let s = stack(&["200:1", "20"]);
        let mut b = [0u8; 8];
        assert_eq!(s.emit(&mut b), Ok(8));
        assert_eq!(b, [0x88, 0xa8, 0x20, 200, 0x81, 0x00, 0, 20]);
        assert!(s.emit(&mut b[..7]).is_err());
        assert_eq!(s.ethernet_header_len(), 22);
        let j = serde_json::to_string(&s).unwrap();
        assert_eq!(
            j,
            r#"[{"tpid":34984,"vid":200,"pcp":1,"dei":false},{"tpid":33024,"vid":20,"pcp":0,"dei":false}]"#
        );
        assert_eq!(s[0].tpid_name(), "802.1ad");
        assert_eq!(stack(&["1@0x9100"])[0].tpid_name(), "0x9100");
        // Unused slots never make two equal stacks differ.
        let mut a = stack(&["1", "2"]);
        a.len = 1;
        assert_eq!(a, stack(&["1@ad"]));
    }
}
