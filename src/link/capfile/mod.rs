//! Reading capture files as Wireshark and tcpdump write them: pcap (µs or ns, either byte
//! order) and pcapng, with Ethernet, Linux cooked (SLL, `tcpdump -i any`) or SLL2 frames.
//! Parsing is `pcap-file`'s; this reader streams the file through a bounded buffer (memory
//! constant in the file's length) and names the file and the byte offset in every error.
//! Linux cooked frames are turned into Ethernet frames (source MAC from the cooked header,
//! destination unknown: 00:00:00:00:00:00).
//!
//! Writing: [`PcapWriter`], classic pcap or pcapng, nanosecond timestamps and original lengths
//! kept. The link-type numbers are defined here once, for every user.

use std::borrow::Cow;
use std::time::SystemTime;

mod read;
mod write;

pub use read::{CaptureFile, CHUNK, MAX_RECORD};
pub use write::{Packet, PcapFormat, PcapWriter, MAGIC_NSEC, MAGIC_USEC, SNAPLEN};

/// `LINKTYPE_ETHERNET`.
pub const LINKTYPE_ETHERNET: u32 = 1;
/// `LINKTYPE_LINUX_SLL`.
pub const LINKTYPE_LINUX_SLL: u32 = 113;
/// `LINKTYPE_LINUX_SLL2`.
pub const LINKTYPE_LINUX_SLL2: u32 = 276;

/// One frame of a capture file, as Ethernet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// When it was captured (to the file's resolution: ns kept).
    pub timestamp: SystemTime,
    /// The frame from its Ethernet header on.
    pub data: Vec<u8>,
    /// Its length on the wire (more than `data.len()` when the capture cut it).
    pub wire_len: usize,
    /// The link type the file stored it with (1 Ethernet, 113 SLL, 276 SLL2).
    pub linktype: u32,
}

impl Record {
    /// The frame as Ethernet (borrowed when it is already) and its wire length as Ethernet;
    /// Err says why a Linux cooked header cannot be converted.
    pub fn ethernet(&self) -> std::result::Result<(Cow<'_, [u8]>, usize), String> {
        if self.linktype == LINKTYPE_ETHERNET {
            return Ok((Cow::Borrowed(&self.data), self.wire_len));
        }
        let eth = to_ethernet(self.linktype, &self.data)?;
        let shrunk = self.data.len().saturating_sub(eth.len());
        let wire = eth.len().max(self.wire_len.saturating_sub(shrunk));
        Ok((Cow::Owned(eth), wire))
    }
}

/// A Linux cooked frame as Ethernet: source MAC from the cooked header (when it is 6 bytes),
/// destination 00:00:00:00:00:00, the cooked protocol as EtherType.
pub(super) fn to_ethernet(linktype: u32, data: &[u8]) -> std::result::Result<Vec<u8>, String> {
    let (hdr, proto, halen, addr) = match linktype {
        LINKTYPE_LINUX_SLL => {
            if data.len() < 16 {
                return Err(format!(
                    "SLL frame of {} bytes, its header takes 16",
                    data.len()
                ));
            }
            (
                16,
                [data[14], data[15]],
                usize::from(u16::from_be_bytes([data[4], data[5]])),
                6,
            )
        }
        LINKTYPE_LINUX_SLL2 => {
            if data.len() < 20 {
                return Err(format!(
                    "SLL2 frame of {} bytes, its header takes 20",
                    data.len()
                ));
            }
            (20, [data[0], data[1]], usize::from(data[11]), 12)
        }
        l => {
            return Err(format!(
                "link type {l} is not Ethernet (1) or Linux cooked (113, 276)"
            ))
        }
    };
    let mut out = Vec::with_capacity(data.len() - hdr + 14);
    out.extend_from_slice(&[0; 6]);
    if halen == 6 {
        out.extend_from_slice(&data[addr..addr + 6]);
    } else {
        out.extend_from_slice(&[0; 6]);
    }
    out.extend_from_slice(&proto);
    out.extend_from_slice(&data[hdr..]);
    Ok(out)
}
