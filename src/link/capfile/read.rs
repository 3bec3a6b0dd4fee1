//! Reading: [`CaptureFile`], pcap and pcapng through a bounded buffer.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::{Duration, SystemTime};

use pcap_file::pcapng::{Block, PcapNgParser};
use pcap_file::{DataLink, PcapError};

use super::{to_ethernet, Record, LINKTYPE_ETHERNET};
use crate::{Error, Result};

/// Bytes read from the file at a time: the most memory a read asks for beyond the record
/// being parsed.
pub const CHUNK: usize = 1 << 20;
/// The largest record accepted; a larger length field is taken as corruption.
pub const MAX_RECORD: usize = 16 << 20;

/// A classic pcap file's header, as libpcap reads it.
#[derive(Clone, Copy)]
struct Classic {
    big_endian: bool,
    nanos: bool,
    /// The snapshot length records are cut to (libpcap's: the header's, or 262144 when that
    /// is 0 or larger).
    snaplen: u32,
}

/// libpcap's largest record (`max_snaplen_for_dlt`, 256 KiB for most link types).
const MAX_SNAPLEN: u32 = 262_144;

enum Format {
    Pcap(Classic),
    PcapNg(Box<PcapNgParser>),
}

impl Classic {
    fn u32_at(&self, b: &[u8], at: usize) -> u32 {
        let x = [b[at], b[at + 1], b[at + 2], b[at + 3]];
        if self.big_endian {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        }
    }

    /// The next record of `src` and the bytes it takes, as libpcap reads it: a record longer
    /// than the snapshot length is cut to it; an original length below the captured one is
    /// kept; fractional seconds out of range carry into the seconds.
    fn record(&self, src: &[u8], linktype: u32) -> std::result::Result<(usize, Record), PcapError> {
        if src.len() < 16 {
            return Err(PcapError::IncompleteBuffer);
        }
        let secs = self.u32_at(src, 0);
        let frac = self.u32_at(src, 4);
        let caplen = self.u32_at(src, 8);
        let orig = self.u32_at(src, 12);
        if caplen > MAX_SNAPLEN.max(self.snaplen) {
            return Err(PcapError::InvalidField(
                "captured length larger than libpcap's 262144-byte maximum",
            ));
        }
        let total = 16 + caplen as usize;
        if src.len() < total {
            return Err(PcapError::IncompleteBuffer);
        }
        let keep = caplen.min(self.snaplen) as usize;
        let nanos = if self.nanos {
            u64::from(frac)
        } else {
            u64::from(frac) * 1000
        };
        let ts = Duration::from_secs(u64::from(secs)) + Duration::from_nanos(nanos);
        Ok((
            total,
            Record {
                timestamp: SystemTime::UNIX_EPOCH + ts,
                data: src[16..16 + keep].to_vec(),
                wire_len: (orig as usize).max(keep),
                linktype,
            },
        ))
    }
}

/// A capture file read record by record.
pub struct CaptureFile<R: Read = File> {
    name: String,
    input: R,
    buf: Vec<u8>,
    /// Where the unparsed bytes start in `buf`, and `buf[0]`'s offset in the file.
    start: usize,
    base: u64,
    eof: bool,
    format: Format,
    pcap_linktype: u32,
    /// Where the last record returned starts in the file.
    last_at: u64,
    /// The iterator returned an error: it ends there.
    failed: bool,
}

impl CaptureFile<File> {
    /// Open `path` (pcap or pcapng, told by its magic number); `-` is standard input (as
    /// `tcpdump -r -`), read as a stream like any file.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let p = path.as_ref();
        if p == Path::new("-") {
            let f = File::open("/dev/stdin").map_err(|e| Error::io("opening standard input", e))?;
            return CaptureFile::new(f, "standard input");
        }
        let name = p.display().to_string();
        if p.is_dir() {
            return Err(Error::CaptureFile {
                file: name,
                offset: None,
                what: "is a directory, not a capture file".into(),
            });
        }
        let f = File::open(p).map_err(|e| Error::io(format!("opening {name}"), e))?;
        CaptureFile::new(f, name)
    }
}

fn linktype(d: DataLink) -> u32 {
    u32::from(d)
}

impl<R: Read> CaptureFile<R> {
    /// Read the file header from `input`; `name` is used in errors.
    pub fn new(input: R, name: impl Into<String>) -> Result<Self> {
        let mut f = CaptureFile {
            name: name.into(),
            input,
            buf: Vec::with_capacity(CHUNK),
            start: 0,
            base: 0,
            eof: false,
            // Replaced below once the header is read.
            format: Format::Pcap(Classic {
                big_endian: false,
                nanos: false,
                snaplen: MAX_SNAPLEN,
            }),
            pcap_linktype: 1,
            last_at: 0,
            failed: false,
        };
        while f.buf.len() < 24 && f.fill()? {}
        let magic = f.buf.get(..4).map(|m| [m[0], m[1], m[2], m[3]]);
        match magic {
            Some([0x0a, 0x0d, 0x0d, 0x0a]) => {
                let (rem, p) = loop {
                    match PcapNgParser::new(&f.buf) {
                        Ok((rem, p)) => break (rem.len(), p),
                        Err(PcapError::InvalidField(_)) if plain_block(&f.buf, true).is_some() => {
                            // Options pcap-file refuses but libpcap reads (no end-of-options
                            // marker, codes it does not know): parse the block without them.
                            let (len, plain) = plain_block(&f.buf, true).unwrap_or_default();
                            match PcapNgParser::new(&plain) {
                                Ok((_, p)) => break (f.buf.len() - len, p),
                                Err(e) => {
                                    return Err(f.bad(0, &format!("bad pcapng section header: {e}")))
                                }
                            }
                        }
                        Err(PcapError::IncompleteBuffer) if !f.eof && f.buf.len() < MAX_RECORD => {
                            f.fill()?;
                        }
                        Err(e) => return Err(f.bad(0, &format!("bad pcapng section header: {e}"))),
                    }
                };
                f.start = f.buf.len() - rem;
                f.format = Format::PcapNg(Box::new(p));
            }
            Some(m)
                if matches!(
                    u32::from_le_bytes(m),
                    0xa1b2_c3d4 | 0xd4c3_b2a1 | 0xa1b2_3c4d | 0x4d3c_b2a1
                ) =>
            {
                if f.buf.len() < 24 {
                    return Err(f.bad(0, "ends inside the 24-byte pcap file header"));
                }
                let le = u32::from_le_bytes(m);
                let c = Classic {
                    big_endian: matches!(le, 0xd4c3_b2a1 | 0x4d3c_b2a1),
                    nanos: matches!(le, 0xa1b2_3c4d | 0x4d3c_b2a1),
                    snaplen: MAX_SNAPLEN,
                };
                let snaplen = c.u32_at(&f.buf, 16);
                let c = Classic {
                    snaplen: if snaplen == 0 || snaplen > MAX_SNAPLEN {
                        MAX_SNAPLEN
                    } else {
                        snaplen
                    },
                    ..c
                };
                // libpcap keeps the link type's low 16 bits; the upper ones carry the FCS
                // length and a class.
                f.pcap_linktype = c.u32_at(&f.buf, 20) & 0xffff;
                f.format = Format::Pcap(c);
                f.start = 24;
                check_linktype(f.pcap_linktype).map_err(|m| f.bad(20, &m))?;
            }
            Some(m) => {
                return Err(f.bad(
                    0,
                    &format!(
                        "not a pcap or pcapng file (magic {:02x}{:02x}{:02x}{:02x})",
                        m[0], m[1], m[2], m[3]
                    ),
                ))
            }
            None if f.buf.is_empty() => return Err(f.bad(0, "is empty")),
            None => return Err(f.bad(0, "too short for a capture file header")),
        }
        Ok(f)
    }

    /// The link type of a pcap file (pcapng: of its first interface, 1 before one is seen).
    pub fn linktype(&self) -> u32 {
        match &self.format {
            Format::Pcap(_) => self.pcap_linktype,
            Format::PcapNg(p) => p.interfaces().first().map_or(1, |i| linktype(i.linktype)),
        }
    }

    fn bad(&self, offset: u64, what: &str) -> Error {
        Error::CaptureFile {
            file: self.name.clone(),
            offset: Some(offset),
            what: what.to_string(),
        }
    }

    /// Read more of the file into the buffer, dropping what was parsed. False at the end.
    fn fill(&mut self) -> Result<bool> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.base += self.start as u64;
            self.start = 0;
        }
        let old = self.buf.len();
        self.buf.resize(old + CHUNK, 0);
        let n = loop {
            match self.input.read(&mut self.buf[old..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.buf.truncate(old);
                    return Err(Error::io(format!("reading {}", self.name), e));
                }
            }
        };
        self.buf.truncate(old + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(n > 0)
    }

    /// The name the file is known by in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The byte offset in the file where the last record returned starts.
    pub fn record_offset(&self) -> u64 {
        self.last_at
    }

    /// An error about the last record returned, naming the file and its offset.
    pub fn record_error(&self, what: &str) -> Error {
        self.bad(self.last_at, what)
    }

    /// The next record as Ethernet (Linux cooked frames converted), None at a clean end of
    /// file.
    pub fn next_record(&mut self) -> Result<Option<Record>> {
        let Some(mut rec) = self.next_raw()? else {
            return Ok(None);
        };
        if rec.linktype != LINKTYPE_ETHERNET {
            let cooked = rec.data.len();
            rec.data = to_ethernet(rec.linktype, &rec.data).map_err(|m| self.record_error(&m))?;
            let shrunk = cooked.saturating_sub(rec.data.len());
            rec.wire_len = rec.data.len().max(rec.wire_len.saturating_sub(shrunk));
        }
        Ok(Some(rec))
    }

    /// The next record as the file holds it (Linux cooked frames left cooked), None at a
    /// clean end of file. [`Record::ethernet`] converts it.
    pub fn next_raw(&mut self) -> Result<Option<Record>> {
        loop {
            let at = self.base + self.start as u64;
            let src = &self.buf[self.start..];
            let parsed: std::result::Result<(usize, Option<Record>), PcapError> =
                match &mut self.format {
                    Format::Pcap(c) => c
                        .record(src, self.pcap_linktype)
                        .map(|(used, r)| (used, Some(r))),
                    Format::PcapNg(p) => match p.next_block(src) {
                        Ok((rem, block)) => {
                            let used = src.len() - rem.len();
                            ng_record(p, block, used).map_err(PcapError::InvalidField)
                        }
                        Err(PcapError::InvalidField(m)) => {
                            let big = p.section().endianness == pcap_file::Endianness::Big;
                            match plain_block(src, big) {
                                Some((used, plain)) => match p.next_block(&plain) {
                                    Ok((_, block)) => {
                                        ng_record(p, block, used).map_err(PcapError::InvalidField)
                                    }
                                    Err(e) => Err(e),
                                },
                                None => Err(PcapError::InvalidField(m)),
                            }
                        }
                        Err(e) => Err(e),
                    },
                };
            match parsed {
                Ok((used, rec)) => {
                    self.start += used;
                    let Some(rec) = rec else { continue };
                    if rec.data.len() > MAX_RECORD {
                        return Err(self.bad(at, "record larger than 16 MiB"));
                    }
                    check_linktype(rec.linktype).map_err(|m| self.bad(at, &m))?;
                    self.last_at = at;
                    return Ok(Some(rec));
                }
                Err(PcapError::IncompleteBuffer) => {
                    let left = self.buf.len() - self.start;
                    if self.eof {
                        if left == 0 {
                            return Ok(None);
                        }
                        return Err(self.bad(
                            at,
                            &format!("ends in the middle of a record ({left} bytes of it)"),
                        ));
                    }
                    if left > MAX_RECORD + CHUNK {
                        return Err(self.bad(at, "record larger than 16 MiB"));
                    }
                    self.fill()?;
                }
                Err(PcapError::InvalidField(m)) if m.starts_with("unknown block") => {
                    return Err(self.bad(at, m));
                }
                Err(e) => return Err(self.bad(at, &format!("bad record: {e}"))),
            }
        }
    }
}

/// The frame a pcapng block carries, if any (`used`: the block's length).
fn ng_record(
    p: &PcapNgParser,
    block: Block<'_>,
    used: usize,
) -> std::result::Result<(usize, Option<Record>), &'static str> {
    match block {
        Block::EnhancedPacket(epb) => {
            let iface = p
                .packet_interface(&epb)
                .ok_or("packet of an interface never described")?;
            let ts = scale(epb.timestamp.as_nanos(), tsresol(iface));
            Ok((
                used,
                Some(Record {
                    timestamp: SystemTime::UNIX_EPOCH + ts,
                    wire_len: epb.original_len as usize,
                    data: epb.data.into_owned(),
                    linktype: linktype(iface.linktype),
                }),
            ))
        }
        Block::SimplePacket(spb) => {
            let iface = p
                .interfaces()
                .first()
                .ok_or("packet before any interface")?;
            Ok((
                used,
                Some(Record {
                    timestamp: SystemTime::UNIX_EPOCH,
                    wire_len: spb.original_len as usize,
                    data: spb.data.into_owned(),
                    linktype: linktype(iface.linktype),
                }),
            ))
        }
        Block::Packet(pb) => {
            let iface = p
                .interfaces()
                .get(usize::from(pb.interface_id))
                .ok_or("packet of an interface never described")?;
            Ok((
                used,
                Some(Record {
                    timestamp: SystemTime::UNIX_EPOCH
                        + scale(u128::from(pb.timestamp), tsresol(iface)),
                    wire_len: pb.original_len as usize,
                    data: pb.data.into_owned(),
                    linktype: linktype(iface.linktype),
                }),
            ))
        }
        // libpcap skips the blocks it does not know.
        Block::Unknown(_) => Ok((used, None)),
        _ => Ok((used, None)),
    }
}

/// A copy of the pcapng block at the start of `src` with its options dropped (an interface's
/// `if_tsresol` kept), and the length of the original; None when the block is not all in
/// `src` or is not one whose fixed part is known. `big`: the section's byte order (a section
/// header tells its own).
fn plain_block(src: &[u8], big: bool) -> Option<(usize, Vec<u8>)> {
    let word = |b: &[u8], at: usize, big: bool| -> Option<u32> {
        let x: [u8; 4] = b.get(at..at + 4)?.try_into().ok()?;
        Some(if big {
            u32::from_be_bytes(x)
        } else {
            u32::from_le_bytes(x)
        })
    };
    let kind = word(src, 0, false)?;
    let big = if kind == 0x0a0d_0d0a {
        word(src, 8, true)? == 0x1a2b_3c4d
    } else {
        big
    };
    let kind = word(src, 0, big)?;
    let len = word(src, 4, big)? as usize;
    if len < 12 || !len.is_multiple_of(4) || src.len() < len {
        return None;
    }
    let fixed = match kind {
        0x0a0d_0d0a => 24,
        1 => 16,
        5 => 20,
        6 => {
            let cap = word(src, 20, big)? as usize;
            28 + cap.checked_add(3)? / 4 * 4
        }
        _ => return None,
    };
    let body_end = len - 4;
    if fixed > body_end {
        return None;
    }
    let mut out = src[..fixed].to_vec();
    let put = |v: &mut Vec<u8>, x: u16| {
        v.extend_from_slice(&if big {
            x.to_be_bytes()
        } else {
            x.to_le_bytes()
        })
    };
    if kind == 1 {
        // Keep if_tsresol (code 9, one byte): it scales every timestamp.
        let mut at = fixed;
        while at + 4 <= body_end {
            let h = |i: usize| {
                let x = [src[i], src[i + 1]];
                if big {
                    u16::from_be_bytes(x)
                } else {
                    u16::from_le_bytes(x)
                }
            };
            let (code, olen) = (h(at), usize::from(h(at + 2)));
            if code == 0 {
                break;
            }
            if code == 9 && olen == 1 && at + 5 <= body_end {
                put(&mut out, 9);
                put(&mut out, 1);
                out.extend_from_slice(&[src[at + 4], 0, 0, 0]);
            }
            at += 4 + olen.div_ceil(4) * 4;
        }
        if out.len() > fixed {
            out.extend_from_slice(&[0; 4]);
        }
    }
    let total = out.len() as u32 + 4;
    let t = if big {
        total.to_be_bytes()
    } else {
        total.to_le_bytes()
    };
    out[4..8].copy_from_slice(&t);
    out.extend_from_slice(&t);
    Some((len, out))
}

/// An interface's `if_tsresol` (default 6: microseconds).
fn tsresol(i: &pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionBlock) -> u8 {
    use pcap_file::pcapng::blocks::interface_description::InterfaceDescriptionOption as O;
    i.options
        .iter()
        .find_map(|o| match o {
            O::IfTsResol(r) => Some(*r),
            _ => None,
        })
        .unwrap_or(6)
}

/// pcap-file hands an EPB's raw timestamp units over as nanoseconds: scale them by the
/// interface's resolution (10^-n s, or 2^-n s when the top bit is set).
fn scale(units: u128, res: u8) -> Duration {
    let units = units as u64;
    if res & 0x80 != 0 {
        let n = u32::from(res & 0x7f).min(63);
        let secs = units >> n;
        let frac = units & ((1u64 << n) - 1);
        Duration::new(secs, ((u128::from(frac) * 1_000_000_000) >> n) as u32)
    } else {
        let per_sec = 10u64.checked_pow(u32::from(res)).unwrap_or(u64::MAX).max(1);
        let secs = units / per_sec;
        let frac = units % per_sec;
        Duration::new(
            secs,
            (u128::from(frac) * 1_000_000_000 / u128::from(per_sec)) as u32,
        )
    }
}

/// Every link type is read (as libpcap does); [`Record::ethernet`] refuses the ones that
/// cannot be seen as Ethernet.
fn check_linktype(_: u32) -> std::result::Result<(), String> {
    Ok(())
}

impl<R: Read> Iterator for CaptureFile<R> {
    type Item = Result<Record>;
    /// The next record as [`next_record`](CaptureFile::next_record) reads it; after an
    /// error, None.
    fn next(&mut self) -> Option<Result<Record>> {
        if self.failed {
            return None;
        }
        let r = self.next_record().transpose();
        self.failed = matches!(r, Some(Err(_)));
        r
    }
}

#[cfg(test)]
#[path = "read_tests.rs"]
mod tests;
