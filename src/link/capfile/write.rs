//! Capture files written: classic pcap or pcapng ([`PcapWriter`], nanosecond timestamps and
//! original lengths kept, pcapng blocks by `pcap-file`).

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

use pcap_file::pcapng::blocks::enhanced_packet::{EnhancedPacketBlock, EnhancedPacketOption};
use pcap_file::pcapng::blocks::interface_description::{
    InterfaceDescriptionBlock, InterfaceDescriptionOption,
};
use pcap_file::pcapng::blocks::section_header::{SectionHeaderBlock, SectionHeaderOption};
use pcap_file::pcapng::PcapNgWriter;
use pcap_file::DataLink;

use super::LINKTYPE_ETHERNET;
use crate::{Error, Result};

/// Magic of a microsecond-resolution file (as read in the file's own byte order).
pub const MAGIC_USEC: u32 = 0xa1b2_c3d4;
/// Magic of a nanosecond-resolution file.
pub const MAGIC_NSEC: u32 = 0xa1b2_3c4d;
/// Largest frame stored whole; longer frames are cut (their original length is kept).
pub const SNAPLEN: u32 = 262_144;

/// Which file format a writer produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PcapFormat {
    /// pcapng when the file name ends in `.pcapng`, classic pcap otherwise.
    #[default]
    ByName,
    /// Classic pcap (nanosecond magic, one link type per file).
    Pcap,
    /// pcapng: a section header, an interface description per link type (`if_tsresol` 9:
    /// nanoseconds), an enhanced packet block per frame.
    PcapNg,
}

impl PcapFormat {
    /// The format a file at `path` gets: `ByName` decided by the name's extension.
    pub fn resolve(self, path: &Path) -> PcapFormat {
        match self {
            PcapFormat::ByName => {
                let ng = path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("pcapng"));
                if ng {
                    PcapFormat::PcapNg
                } else {
                    PcapFormat::Pcap
                }
            }
            f => f,
        }
    }
}

/// One frame to write: when, its bytes, how long it was on the wire, its link type and, when
/// known, which way it went.
#[derive(Debug, Clone, Copy)]
pub struct Packet<'a> {
    /// When it was captured or sent.
    pub timestamp: SystemTime,
    /// The bytes kept (cut to [`SNAPLEN`] when longer).
    pub data: &'a [u8],
    /// Its length on the wire (at least `data.len()`).
    pub wire_len: usize,
    /// Its link type (1 Ethernet, 113 Linux SLL, 276 SLL2).
    pub linktype: u32,
    /// Sent by this host (true) or received (false); pcapng records it as `epb_flags`.
    pub outgoing: Option<bool>,
}

enum Out {
    Pcap(BufWriter<File>),
    PcapNg(Box<PcapNgWriter<BufWriter<File>>>),
}

/// Writes frames to a classic pcap or a pcapng file, nanosecond timestamps and original lengths
/// kept (little-endian pcap; pcapng in the host's byte order).
pub struct PcapWriter {
    out: Out,
    path: String,
    /// pcap: the file's one link type. pcapng: the link type of each interface described.
    linktypes: Vec<u32>,
    if_name: Option<String>,
}

impl PcapWriter {
    /// Create (truncate) `path` for Ethernet frames, pcapng if its name ends in `.pcapng`.
    pub fn create(path: impl AsRef<Path>) -> Result<Self> {
        Self::create_as(path, PcapFormat::ByName, LINKTYPE_ETHERNET, None)
    }

    /// Create (truncate) `path` in `format` for frames of `linktype`; `iface` names the
    /// interface in a pcapng file (`if_name`).
    pub fn create_as(
        path: impl AsRef<Path>,
        format: PcapFormat,
        linktype: u32,
        iface: Option<&str>,
    ) -> Result<Self> {
        let path = path.as_ref();
        let p = path.display().to_string();
        let f = File::create(path).map_err(|e| Error::io(format!("creating {p}"), e))?;
        let out = BufWriter::new(f);
        let out = match format.resolve(path) {
            PcapFormat::PcapNg => {
                let shb = SectionHeaderBlock {
                    endianness: pcap_file::Endianness::native(),
                    options: vec![SectionHeaderOption::UserApplication(
                        format!("pktforge {}", env!("CARGO_PKG_VERSION")).into(),
                    )],
                    ..SectionHeaderBlock::default()
                };
                Out::PcapNg(Box::new(
                    PcapNgWriter::with_section_header(out, shb).map_err(|e| ng_error(&p, e))?,
                ))
            }
            _ => Out::Pcap(out),
        };
        let mut w = PcapWriter {
            out,
            path: p,
            linktypes: Vec::new(),
            if_name: iface.map(str::to_string),
        };
        match w.out {
            Out::Pcap(_) => {
                let mut h = Vec::with_capacity(24);
                h.extend_from_slice(&MAGIC_NSEC.to_le_bytes());
                h.extend_from_slice(&2u16.to_le_bytes());
                h.extend_from_slice(&4u16.to_le_bytes());
                h.extend_from_slice(&0i32.to_le_bytes()); // thiszone
                h.extend_from_slice(&0u32.to_le_bytes()); // sigfigs
                h.extend_from_slice(&SNAPLEN.to_le_bytes());
                h.extend_from_slice(&linktype.to_le_bytes());
                w.put(&h)?;
                w.linktypes.push(linktype);
            }
            Out::PcapNg(_) => {
                w.interface(linktype)?;
            }
        }
        Ok(w)
    }

    /// The format being written.
    pub fn format(&self) -> PcapFormat {
        match self.out {
            Out::Pcap(_) => PcapFormat::Pcap,
            Out::PcapNg(_) => PcapFormat::PcapNg,
        }
    }

    fn put(&mut self, b: &[u8]) -> Result<()> {
        let r = match &mut self.out {
            Out::Pcap(o) => o.write_all(b),
            Out::PcapNg(o) => o.get_mut().write_all(b),
        };
        r.map_err(|e| Error::io(format!("writing {}", self.path), e))
    }

    /// The pcapng interface for `linktype`, described (an IDB written) on first use.
    fn interface(&mut self, linktype: u32) -> Result<u32> {
        if let Some(i) = self.linktypes.iter().position(|&l| l == linktype) {
            return Ok(i as u32);
        }
        let Out::PcapNg(w) = &mut self.out else {
            return Err(Error::Invalid(format!(
                "{}: a pcap file holds frames of one link type ({}), this one is {linktype}: \
                 write pcapng for several",
                self.path,
                self.linktypes.first().copied().unwrap_or(LINKTYPE_ETHERNET)
            )));
        };
        let mut options = vec![InterfaceDescriptionOption::IfTsResol(9)];
        if let Some(n) = &self.if_name {
            options.insert(0, InterfaceDescriptionOption::IfName(n.clone().into()));
        }
        let idb = InterfaceDescriptionBlock {
            linktype: DataLink::from(linktype),
            snaplen: SNAPLEN,
            options,
        };
        w.write_pcapng_block(idb)
            .map_err(|e| ng_error(&self.path, e))?;
        self.linktypes.push(linktype);
        Ok(self.linktypes.len() as u32 - 1)
    }

    /// Append one Ethernet frame received (or sent) at `ts`.
    pub fn write(&mut self, ts: SystemTime, frame: &[u8]) -> Result<()> {
        self.write_cut(ts, frame, frame.len())
    }

    /// Append an Ethernet frame that was `wire_len` bytes long on the wire, of which `frame`
    /// was kept (the record's original length says how much was cut).
    pub fn write_cut(&mut self, ts: SystemTime, frame: &[u8], wire_len: usize) -> Result<()> {
        self.write_packet(&Packet {
            timestamp: ts,
            data: frame,
            wire_len,
            linktype: LINKTYPE_ETHERNET,
            outgoing: None,
        })
    }

    /// Append one frame of any link type. A classic pcap file refuses a link type other than
    /// the one it was created for.
    pub fn write_packet(&mut self, p: &Packet<'_>) -> Result<()> {
        let d = p
            .timestamp
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let kept = p.data.len().min(SNAPLEN as usize);
        let orig = u32::try_from(p.wire_len.max(p.data.len())).unwrap_or(u32::MAX);
        let data = &p.data[..kept];
        let interface_id = self.interface(p.linktype)?;
        let path = &self.path;
        match &mut self.out {
            Out::Pcap(o) => {
                let secs = u32::try_from(d.as_secs()).map_err(|_| {
                    Error::Invalid(format!(
                        "timestamp {}s does not fit a pcap file",
                        d.as_secs()
                    ))
                })?;
                let mut h = [0u8; 16];
                h[0..4].copy_from_slice(&secs.to_le_bytes());
                h[4..8].copy_from_slice(&d.subsec_nanos().to_le_bytes());
                h[8..12].copy_from_slice(&(kept as u32).to_le_bytes());
                h[12..16].copy_from_slice(&orig.to_le_bytes());
                o.write_all(&h)
                    .and_then(|()| o.write_all(data))
                    .map_err(|e| Error::io(format!("writing {path}"), e))
            }
            Out::PcapNg(w) => {
                let options = match p.outgoing {
                    // epb_flags bits 0-1: 01 inbound, 10 outbound.
                    Some(out) => vec![EnhancedPacketOption::Flags(if out { 2 } else { 1 })],
                    None => Vec::new(),
                };
                let epb = EnhancedPacketBlock {
                    interface_id,
                    // pcap-file writes the timestamp in nanoseconds: the unit if_tsresol 9
                    // declares.
                    timestamp: d,
                    original_len: orig,
                    data: Cow::Borrowed(data),
                    options,
                };
                w.write_pcapng_block(epb)
                    .map(|_| ())
                    .map_err(|e| ng_error(path, e))
            }
        }
    }

    /// Push buffered records to the file.
    pub fn flush(&mut self) -> Result<()> {
        let r = match &mut self.out {
            Out::Pcap(o) => o.flush(),
            Out::PcapNg(o) => o.get_mut().flush(),
        };
        r.map_err(|e| Error::io(format!("flushing {}", self.path), e))
    }
}

fn ng_error(path: &str, e: pcap_file::PcapError) -> Error {
    match e {
        pcap_file::PcapError::IoError(e) => Error::io(format!("writing {path}"), e),
        e => Error::Invalid(format!("writing {path}: {e}")),
    }
}

impl Drop for PcapWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
